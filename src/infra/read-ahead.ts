/**
 * The items of `keys`, loaded `size` keys at a time, in order: the next batch is loaded while the
 * caller works through the current one. A batch loaded ahead is marked handled when it starts, so a
 * caller that stops early, or is still busy when the load fails (a database closed at shutdown),
 * never leaves an unhandled rejection behind; a caller that reaches a failed batch gets its error.
 */
export async function* readAhead<K, T>(
  keys: readonly K[],
  size: number,
  load: (batch: K[]) => Promise<T[]>,
): AsyncGenerator<T> {
  const start = (i: number) => {
    const p = load(keys.slice(i, i + size));
    p.catch(() => undefined);
    return p;
  };
  let next = keys.length > 0 ? start(0) : null;
  for (let i = 0; next; i += size) {
    const items = await next;
    next = i + size < keys.length ? start(i + size) : null;
    yield* items;
  }
}
