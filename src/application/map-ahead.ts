/**
 * `work` applied to each item of `source`, up to `ahead` items at once, the results yielded in the
 * source's order: a stream whose items each wait on the database (an export's changes) is not
 * paced by one round trip at a time. Each result started ahead is marked handled when it starts, so
 * a caller that stops early, or is still busy when a later item fails, never leaves an unhandled
 * rejection behind; a caller that reaches a failed item gets its error (and no item after it
 * starts). Stopping early stops reading the source.
 */
export async function* mapAhead<T, R>(
  source: AsyncIterable<T>,
  ahead: number,
  work: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const items = source[Symbol.asyncIterator]();
  const started: Promise<R>[] = [];
  let done = false;
  const fill = async () => {
    while (!done && started.length < Math.max(1, ahead)) {
      const next = await items.next();
      if (next.done) {
        done = true;
        return;
      }
      const p = work(next.value);
      p.catch(() => undefined);
      started.push(p);
    }
  };
  try {
    await fill();
    while (started.length > 0) {
      const result = await started.shift()!;
      await fill();
      yield result;
    }
  } finally {
    if (!done) await items.return?.();
  }
}

/**
 * `work` on each item of `source`, up to `concurrency` at once, for side effects only. The first
 * failure (of an item or of the source) ends the run: no further item starts, the ones running
 * finish, and the failure is thrown. A failure that happens while the source is being read (a
 * database closed at shutdown) is kept, never left as an unhandled rejection. A `stopping` signal
 * ends the run quietly after the running items.
 */
export async function forEachAtOnce<T>(
  source: AsyncIterable<T>,
  concurrency: number,
  work: (item: T) => Promise<void>,
  stopping?: AbortSignal,
): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure = null as { err: unknown } | null; // set by the items, out of the compiler's sight
  try {
    for await (const item of source) {
      if (stopping?.aborted || failure) break;
      const p: Promise<void> = work(item).then(
        () => void running.delete(p),
        (err: unknown) => {
          running.delete(p);
          failure ??= { err };
        },
      );
      running.add(p);
      if (running.size >= Math.max(1, concurrency)) await Promise.race(running);
    }
  } finally {
    // Whatever ended the run (a failed read, a failed item, a stop), no work is left running unwatched.
    await Promise.all(running);
  }
  if (failure) throw failure.err;
}
