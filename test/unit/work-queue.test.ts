import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InFlight } from '../../src/infra/inflight.js';
import { ArrivalRate, WorkQueue } from '../../src/infra/work-queue.js';

/** A task that records when it starts and finishes when the test says so. */
function gate(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return {
    work: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
    },
    finish,
  };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

describe('WorkQueue', () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date('2026-11-21T12:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  it('runs at most `concurrency` tasks at once, in the order they were queued', async () => {
    const log: string[] = [];
    const q = new WorkQueue(2);
    const [a, b, c] = ['a', 'b', 'c'].map((n) => gate(log, n));
    q.submit(a!.work);
    q.submit(b!.work);
    q.submit(c!.work);
    await flush();
    expect(log).toEqual(['start a', 'start b']);
    expect(q.depth).toBe(3);
    b!.finish();
    await flush();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    a!.finish();
    c!.finish();
    await flush();
    expect(q.depth).toBe(0);
  });

  it('holds queued work while requests are pouring in, and starts it when they stop', async () => {
    const log: string[] = [];
    let busy = true;
    const q = new WorkQueue(4, { busy: () => busy, maxDeferMs: 3_000 });
    const a = gate(log, 'a');
    q.submit(a.work);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(log).toEqual([]);
    busy = false;
    await vi.advanceTimersByTimeAsync(25);
    expect(log).toEqual(['start a']);
    a.finish();
  });

  it('never holds work longer than maxDeferMs, so sustained load delays it but cannot starve it', async () => {
    const log: string[] = [];
    const q = new WorkQueue(4, { busy: () => true, maxDeferMs: 3_000 });
    const a = gate(log, 'a');
    q.submit(a.work);
    await vi.advanceTimersByTimeAsync(1_000);
    const b = gate(log, 'b');
    q.submit(b.work);
    await vi.advanceTimersByTimeAsync(1_990);
    expect(log).toEqual([]);
    await vi.advanceTimersByTimeAsync(20);
    expect(log).toEqual(['start a']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(log).toEqual(['start a', 'start b']);
    a.finish();
    b.finish();
  });

  it('reports what submitted work throws and lets shutdown wait for queued work', async () => {
    const errors: unknown[] = [];
    const inflight = new InFlight();
    const q = new WorkQueue(1, { inflight, onError: (e) => errors.push(e) });
    const log: string[] = [];
    const a = gate(log, 'a');
    q.submit(a.work);
    q.submit(async () => {
      throw new Error('boom');
    });
    expect(inflight.size).toBe(2);
    const drained = inflight.drain(10_000);
    a.finish();
    await flush();
    await expect(drained).resolves.toBe(true);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain('boom');
  });
});

describe('ArrivalRate', () => {
  it('is busy only while `count` arrivals fall within the window', () => {
    const rate = new ArrivalRate(3, 100);
    rate.arrived(1_000);
    rate.arrived(1_010);
    expect(rate.busy(1_020)).toBe(false); // only two so far
    rate.arrived(1_050);
    expect(rate.busy(1_060)).toBe(true);
    expect(rate.busy(1_099)).toBe(true);
    expect(rate.busy(1_100)).toBe(false); // the oldest of the last three has left the window
    rate.arrived(1_105); // the last three: 1010, 1050, 1105
    expect(rate.busy(1_109)).toBe(true);
    expect(rate.busy(1_110)).toBe(false);
  });
});
