import { describe, expect, it } from 'vitest';
import { mapAhead } from '../../src/application/map-ahead.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function* numbers(count: number, read: number[] = []) {
  try {
    for (let n = 1; n <= count; n++) {
      read.push(n);
      yield n;
    }
  } finally {
    read.push(-1); // closed
  }
}

describe('mapAhead', () => {
  it('yields the results in the source order while several items are worked on at once', async () => {
    let running = 0;
    let most = 0;
    const out: number[] = [];
    // Later items finish first: the order comes from the source, not from completion.
    for await (const r of mapAhead(numbers(20), 4, async (n) => {
      running++;
      most = Math.max(most, running);
      await sleep(((20 - n) % 7) * 2);
      running--;
      return n * 10;
    }))
      out.push(r);
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 10));
    expect(most).toBe(4);
  });

  it('stops reading the source when its caller stops, and a later failure is no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const read: number[] = [];
      const work = async (n: number) => {
        if (n === 1) return n;
        await sleep(5);
        throw new Error('client was closed');
      };
      for await (const n of mapAhead(numbers(100, read), 3, work)) if (n === 1) break;
      await sleep(30);
      expect(unhandled).toEqual([]);
      expect(read).toEqual([1, 2, 3, 4, -1]); // three in flight, one more after the first was taken

      const got: number[] = [];
      await expect(
        (async () => {
          for await (const n of mapAhead(numbers(100), 3, work)) got.push(n);
        })(),
      ).rejects.toThrow('client was closed');
      expect(got).toEqual([1]);
      await sleep(30);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
