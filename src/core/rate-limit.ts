// Keeps a flood of identical warnings readable: a few per window, then a count of what was held back.

export class RateLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;
  private held = 0;

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
  ) {}

  /**
   * Whether a message may be shown at `now`. When a new window opens after messages were held
   * back, `heldBack` says how many, so the caller can report them in one line.
   */
  take(now: number): { allowed: boolean; heldBack: number } {
    let heldBack = 0;
    if (now - this.windowStart >= this.windowMs) {
      heldBack = this.held;
      this.held = 0;
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used < this.perWindow) {
      this.used += 1;
      return { allowed: true, heldBack };
    }
    this.held += 1;
    return { allowed: false, heldBack };
  }

  /** Messages held back and not yet reported; resets the count. */
  drain(): number {
    const held = this.held;
    this.held = 0;
    return held;
  }
}
