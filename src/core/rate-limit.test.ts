import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limit.js";

describe("RateLimiter", () => {
  it("lets a few through per window and counts the rest", () => {
    const limiter = new RateLimiter(2, 1000);
    expect(limiter.take(0)).toEqual({ allowed: true, heldBack: 0 });
    expect(limiter.take(10)).toEqual({ allowed: true, heldBack: 0 });
    expect(limiter.take(20)).toEqual({ allowed: false, heldBack: 0 });
    expect(limiter.take(30)).toEqual({ allowed: false, heldBack: 0 });
    expect(limiter.take(1000)).toEqual({ allowed: true, heldBack: 2 });
    expect(limiter.take(1001)).toEqual({ allowed: true, heldBack: 0 });
    expect(limiter.take(1002)).toEqual({ allowed: false, heldBack: 0 });
    expect(limiter.drain()).toBe(1);
    expect(limiter.drain()).toBe(0);
  });
});
