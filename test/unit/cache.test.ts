import { describe, expect, it } from 'vitest';
import { RefreshedValue } from '../../src/infra/cache.js';

describe('RefreshedValue', () => {
  it('reads once for the callers of a read, and again only once the value is older than its age', async () => {
    let now = 0;
    let reads = 0;
    const value = new RefreshedValue(
      async () => ++reads,
      1000,
      () => now,
    );
    expect(value.current).toBeNull();
    expect(await Promise.all([value.get(), value.get()])).toEqual([1, 1]);
    now = 999;
    expect(await value.get()).toBe(1);
    now = 1000;
    expect(await value.get()).toBe(2);
    expect(value.current).toBe(2);
  });

  it('a failed read fails its callers and is tried again by the next one', async () => {
    let fail = true;
    const value = new RefreshedValue(async () => {
      if (fail) throw new Error('down');
      return 'up';
    }, 1000);
    await expect(value.get()).rejects.toThrow('down');
    fail = false;
    expect(await value.get()).toBe('up');
  });
});
