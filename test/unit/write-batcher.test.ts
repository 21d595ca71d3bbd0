import { describe, expect, it } from 'vitest';
import { WriteBatcher } from '../../src/infra/db/batcher.js';

describe('WriteBatcher', () => {
  it('writes what arrives together in one call, and each add resolves once its batch is written', async () => {
    const calls: number[][] = [];
    const b = new WriteBatcher<number>(async (items) => {
      calls.push(items);
    }, 5);
    await Promise.all([b.add(1), b.add(2), b.add(3)]);
    await b.add(4);
    expect(calls).toEqual([[1, 2, 3], [4]]);
  });

  it('writes at once when the batch is full', async () => {
    const calls: number[][] = [];
    const b = new WriteBatcher<number>(
      async (items) => {
        calls.push(items);
      },
      10_000,
      2,
    );
    await Promise.all([b.add(1), b.add(2)]);
    expect(calls).toEqual([[1, 2]]);
  });

  it('rejects every add of a batch that failed, and the next batch starts afresh', async () => {
    let fail = true;
    const b = new WriteBatcher<number>(async () => {
      if (fail) throw new Error('database away');
    }, 1);
    const results = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(b.add(3)).resolves.toBeUndefined();
  });
});
