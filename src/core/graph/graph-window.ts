// The risk graph's sliding window: the latest N points, numbered in arrival order, older ones fading.
// No imports at run time: the server serves this compiled module to the page, which uses it too.

import type { GraphPoint } from "./graph-point.js";

/** A point as the graph holds it: `seq` is its 1-based arrival number since the server started. */
export type WindowPoint = GraphPoint & { seq: number };

/** What a page needs to draw the window as it is now (sent first on every connection). */
export type WindowSnapshot = { capacity: number; received: number; points: WindowPoint[] };

/** The faintest a point gets, so the oldest in a full window stays visible. */
export const minOpacity = 0.15;

export class GraphWindow {
  readonly capacity: number;
  private held: WindowPoint[] = [];
  private count = 0;

  /** Throws a RangeError when capacity is not a positive whole number (configuration is checked first). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`window must be >= 1: ${capacity}`);
    this.capacity = capacity;
  }

  static fromSnapshot(snapshot: WindowSnapshot): GraphWindow {
    const window = new GraphWindow(snapshot.capacity);
    for (const point of snapshot.points) window.accept(point);
    window.count = Math.max(window.count, snapshot.received);
    return window;
  }

  /** How many points arrived in all, including those the window has let go. */
  get received(): number {
    return this.count;
  }

  /** Oldest first. */
  get points(): readonly WindowPoint[] {
    return this.held;
  }

  /** Numbers a new point and keeps it, letting the oldest go beyond capacity. */
  add(point: GraphPoint): WindowPoint {
    const numbered = { ...point, seq: this.count + 1 };
    this.accept(numbered);
    return numbered;
  }

  /**
   * Keeps a point numbered elsewhere (the page receives the server's numbers). Returns false and
   * changes nothing for a point not newer than the newest held, e.g. one replayed by a reconnection.
   */
  accept(point: WindowPoint): boolean {
    const newest = this.held[this.held.length - 1];
    if (newest !== undefined && point.seq <= newest.seq) return false;
    this.held.push(point);
    if (this.held.length > this.capacity) this.held.splice(0, this.held.length - this.capacity);
    this.count = Math.max(this.count, point.seq);
    return true;
  }

  /**
   * 1 for the newest point, falling linearly with age to `minOpacity` for a point `capacity - 1`
   * arrivals old (the oldest a full window holds).
   */
  opacityOf(point: WindowPoint): number {
    if (this.capacity === 1) return 1;
    const age = Math.max(0, this.count - point.seq);
    return Math.max(minOpacity, 1 - ((1 - minOpacity) * age) / (this.capacity - 1));
  }

  snapshot(): WindowSnapshot {
    return { capacity: this.capacity, received: this.count, points: [...this.held] };
  }
}
