/**
 * Groups writes that arrive close together into one database call. Each `add` resolves when the
 * batch holding it was written (with the write's result for that item, if it gives one) or rejects
 * with the batch's error, so a caller still knows its write is durable; under load, hundreds of
 * writes cost one round trip instead of hundreds. Writes wait at most `waitMs` for company.
 */
export class WriteBatcher<T, R = void> {
  private items: { item: T; done: (err: unknown, result?: R) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    /** Writes the items; may resolve to one result (an R) per item, in their order. */
    private readonly write: (items: T[]) => Promise<unknown>,
    private readonly waitMs: number,
    private readonly maxItems = 500,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.items.push({
        item,
        done: (err, result) => (err === undefined ? resolve(result as R) : reject(err)),
      });
      if (this.items.length >= this.maxItems) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.waitMs);
    });
  }

  private async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.items;
    this.items = [];
    if (batch.length === 0) return;
    try {
      const out = await this.write(batch.map((b) => b.item));
      const results = Array.isArray(out) ? (out as R[]) : undefined;
      for (const [i, b] of batch.entries()) b.done(undefined, results ? results[i] : undefined);
    } catch (err) {
      for (const b of batch) b.done(err ?? new Error('batched write failed'));
    }
  }
}
