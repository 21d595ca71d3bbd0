import { describe, expect, it } from 'vitest';
import { Pacer, type PacerTime } from '../../src/application/pacer.js';

/** A clock that moves only when told: work advances it, and so does each pause. */
function fakeTime() {
  let now = 0;
  const pauses: number[] = [];
  const breaths: number[] = [];
  const time: PacerTime = {
    now: () => now,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      pauses.push(ms);
      now += ms;
    },
    breathe: async () => {
      breaths.push(now);
    },
  };
  const work = (ms: number) => (now += ms);
  /** `times` units of work of `ms` each, the pacer asked between them. */
  const run = async (pacer: Pacer, times: number, ms: number) => {
    for (let i = 0; i < times; i++) {
      work(ms);
      await pacer.step();
    }
  };
  return { time, pauses, breaths, work, run, now: () => now };
}

describe('Pacer', () => {
  it('pauses after each stretch of work so that the work takes its share of the time', async () => {
    const t = fakeTime();
    await t.run(new Pacer(0.5, undefined, 100, t.time), 1000, 7);
    // 7,000 ms of work at a share of one half: as long again paused, in stretches of 100-106 ms.
    const paused = t.pauses.reduce((a, b) => a + b, 0);
    expect(paused).toBeGreaterThan(7000 - 110);
    expect(paused).toBeLessThanOrEqual(7000);
    expect(Math.max(...t.pauses)).toBeLessThan(107);
    expect(Math.min(...t.pauses)).toBeGreaterThanOrEqual(100);
  });

  it('works a quarter of the time at a share of 0.25', async () => {
    const t = fakeTime();
    await t.run(new Pacer(0.25, undefined, 50, t.time), 400, 5);
    expect(2000 / t.now()).toBeCloseTo(0.25, 2);
  });

  it('lets the event loop through every 10 ms of a stretch', async () => {
    const t = fakeTime();
    await t.run(new Pacer(0.5, undefined, 100, t.time), 40, 3);
    // Work of 3 ms a unit: a breath after every fourth (12 ms), none held longer; a pause at 102 ms.
    expect(t.pauses).toEqual([102]);
    expect(t.breaths.slice(0, 8)).toEqual([12, 24, 36, 48, 60, 72, 84, 96]);
    const gaps = t.breaths.slice(1).map((b, i) => b - t.breaths[i]!);
    expect(Math.max(...gaps.filter((g) => g < 100))).toBeLessThanOrEqual(12);
  });

  it('never pauses at a share of 1 (but breathes), nor before a stretch is complete', async () => {
    const t = fakeTime();
    await t.run(new Pacer(1, undefined, 100, t.time), 100, 50);
    expect(t.pauses).toEqual([]);
    expect(t.breaths).toHaveLength(100);
    const t2 = fakeTime();
    const short = new Pacer(0.5, undefined, 100, t2.time);
    t2.work(99);
    await short.step();
    expect(t2.pauses).toEqual([]);
  });

  it('throws once its signal aborts, paused or not', async () => {
    const t = fakeTime();
    const stop = new AbortController();
    const pacer = new Pacer(0.5, stop.signal, 100, t.time);
    t.work(10);
    await pacer.step();
    stop.abort();
    await expect(pacer.step()).rejects.toThrow();
  });

  it('refuses a share outside (0, 1]', () => {
    expect(() => new Pacer(0)).toThrow(RangeError);
    expect(() => new Pacer(1.5)).toThrow(RangeError);
    expect(() => new Pacer(Number.NaN)).toThrow(RangeError);
  });
});
