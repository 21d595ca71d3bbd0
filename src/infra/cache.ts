/**
 * A value read again once older than `maxAgeMs` (counted from the start of its read), one read at a
 * time: callers arriving during a read share it.
 */
export class RefreshedValue<T> {
  private held: { at: number; value: T } | null = null;
  private reading: Promise<T> | null = null;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    if (this.held && this.clock() - this.held.at < this.maxAgeMs) return Promise.resolve(this.held.value);
    this.reading ??= (async () => {
      const at = this.clock();
      const value = await this.read();
      this.held = { at, value };
      return value;
    })().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  /** The value last read, whatever its age (null before the first read). */
  get current(): T | null {
    return this.held?.value ?? null;
  }
}

/**
 * A map with a size bound and a time to live: the least recently used entry goes first when full, and
 * an entry older than its time to live is gone. Keeps caches keyed by what outsiders send (user ids)
 * from growing without limit.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly clock: () => number = Date.now,
  ) {}

  get(key: K): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.until <= this.clock()) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used last.
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.value;
  }

  /** The value even when it has expired (a stale answer beats none when the source is down). */
  stale(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: K, value: V, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, until: this.clock() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
