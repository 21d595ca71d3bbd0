/**
 * Groups writes that arrive close together into one database call. Each `add` resolves when the
 * batch holding it was written (or rejects with the batch's error), so a caller still knows its
 * write is durable; under load, hundreds of writes cost one round trip instead of hundreds. Writes
 * wait at most `waitMs` for company.
 */
export class WriteBatcher<T> {
  private items: { item: T; done: (err?: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly waitMs: number,
    private readonly maxItems = 500,
  ) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.items.push({ item, done: (err) => (err === undefined ? resolve() : reject(err)) });
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
      await this.write(batch.map((b) => b.item));
      for (const b of batch) b.done();
    } catch (err) {
      for (const b of batch) b.done(err ?? new Error('batched write failed'));
    }
  }
}
