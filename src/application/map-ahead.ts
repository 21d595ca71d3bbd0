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
