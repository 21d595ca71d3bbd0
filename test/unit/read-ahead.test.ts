import { describe, expect, it } from 'vitest';
import { readAhead } from '../../src/infra/read-ahead.js';

describe('readAhead', () => {
  it('gives every item in order, loading the next batch while the current one is read', async () => {
    const started: number[][] = [];
    const out: number[] = [];
    for await (const n of readAhead([1, 2, 3, 4, 5], 2, async (batch) => {
      started.push(batch);
      return batch.map((k) => k * 10);
    })) {
      out.push(n);
      if (n === 10)
        expect(started).toEqual([
          [1, 2],
          [3, 4],
        ]); // the second batch is on its way
    }
    expect(out).toEqual([10, 20, 30, 40, 50]);
    expect(started).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('a batch that fails after its caller stopped reading is no unhandled rejection; one it reaches throws', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const load = async (batch: number[]) => {
        if (batch[0] === 1) return batch;
        await new Promise((r) => setTimeout(r, 5));
        throw new Error('client was closed');
      };
      // The caller takes one item and is busy elsewhere (or gone) when the batch ahead fails.
      const abandoned = readAhead([1, 2, 3, 4], 2, load);
      expect((await abandoned.next()).value).toBe(1);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);

      const reading = readAhead([1, 2, 3, 4], 2, load);
      const got: number[] = [];
      await expect(
        (async () => {
          for await (const n of reading) got.push(n);
        })(),
      ).rejects.toThrow('client was closed');
      expect(got).toEqual([1, 2]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
