import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenBucket } from '../../src/infra/slack/sender.js';

describe("the sender's token bucket after Slack answers 429", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  it('goes 2% slower per 429, at most 10%, and forgives one per quiet minute', () => {
    const bucket = new TokenBucket(60 / 1000, 1); // 60 a second
    expect(bucket.perSecond()).toBe(60);
    bucket.limited(1000);
    expect(bucket.perSecond()).toBeCloseTo(58.8);
    // 429s of calls already on their way while the bucket is paused: the same overrun.
    vi.setSystemTime(500);
    bucket.limited(1000);
    expect(bucket.perSecond()).toBeCloseTo(58.8);
    for (let i = 1; i <= 6; i++) {
      vi.setSystemTime(1500 + i * 1000); // each after the pause before it
      bucket.limited(1000);
    }
    expect(bucket.perSecond()).toBeCloseTo(54); // five strikes count
    vi.setSystemTime(67_499);
    expect(bucket.perSecond()).toBeCloseTo(54);
    vi.setSystemTime(67_500); // a quiet minute after the last
    expect(bucket.perSecond()).toBeCloseTo(55.2);
    vi.setSystemTime(157_500); // a minute and a half more: one more forgiven, the half counts on
    expect(bucket.perSecond()).toBeCloseTo(56.4);
    bucket.limited(1000); // a new 429 starts a new quiet minute
    vi.setSystemTime(217_499);
    expect(bucket.perSecond()).toBeCloseTo(55.2);
    vi.setSystemTime(457_500);
    expect(bucket.perSecond()).toBe(60);
  });

  it('sends nothing for Retry-After, then paces at the slower rate', async () => {
    const bucket = new TokenBucket(10 / 1000, 1); // 10 a second
    bucket.limited(1000);
    const released: number[] = [];
    const taken = Array.from({ length: 4 }, () => bucket.take().then(() => released.push(Date.now())));
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all(taken);
    expect(released[0]).toBeGreaterThanOrEqual(1000);
    // 9.8 a second: one every 102.04 ms, never the 100 ms of the full rate.
    for (let i = 1; i < released.length; i++)
      expect(released[i]! - released[i - 1]!).toBeGreaterThanOrEqual(102);
  });
});
