import { describe, expect, it } from 'vitest';
import { forEachAtOnce, mapAhead } from '../../src/application/map-ahead.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `body` with the process's unhandled rejections collected into the list it is given. */
async function watchingUnhandled(body: (unhandled: unknown[]) => Promise<void>) {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await body(unhandled);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
}

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
    await watchingUnhandled(async (unhandled) => {
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
    });
  });
});

describe('forEachAtOnce', () => {
  it('works on up to the given number of items at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await forEachAtOnce(numbers(20), 4, async (n) => {
      running++;
      most = Math.max(most, running);
      await sleep((n % 5) * 2);
      running--;
      done.push(n);
    });
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(most).toBe(4);
  });

  it('throws an item that fails while the source is being read, and leaves no unhandled rejection', async () => {
    await watchingUnhandled(async (unhandled) => {
      // The source is slow (a cursor waiting on the database); the first item fails meanwhile.
      async function* slow() {
        for (let n = 1; n <= 5; n++) {
          await sleep(20);
          yield n;
        }
      }
      const started: number[] = [];
      await expect(
        forEachAtOnce(slow(), 3, async (n) => {
          started.push(n);
          if (n === 1) throw new Error('client was closed');
          await sleep(5);
        }),
      ).rejects.toThrow('client was closed');
      await sleep(30);
      expect(unhandled).toEqual([]);
      expect(started).toEqual([1]); // nothing starts after the failure
    });
  });

  it('a stop ends the run quietly once the running items finish', async () => {
    const stop = new AbortController();
    const finished: number[] = [];
    await forEachAtOnce(
      numbers(100),
      2,
      async (n) => {
        if (n === 3) stop.abort();
        await sleep(5);
        finished.push(n);
      },
      stop.signal,
    );
    expect(finished.sort((a, b) => a - b)).toEqual([1, 2, 3]);
  });
});
