// The open-loop schedule: when each offered event is due, independent of when earlier ones completed.

/**
 * How many of `total` events are due `elapsedMs` after the start at `rate` events/s: event i is due
 * at i · 1000 / rate ms, so event 0 is due at once. Never more than total, never negative.
 */
export function dueCount(elapsedMs: number, rate: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * rate) / 1000) + 1);
}

/** The intended send time of event `index` (ms on the same clock as `startMs`). */
export const intendedTime = (startMs: number, index: number, rate: number): number =>
  startMs + (index * 1000) / rate;
