/**
 * Work done after Slack was acknowledged runs here, a bounded number at a time. Acks stay fast
 * under bursts of clicks (the event loop is not flooded by post-ack work), and the database sees a
 * bounded number of concurrent writers. Queued work waits in memory and is tracked for shutdown.
 */
export class WorkQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly concurrency: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  get depth(): number {
    return this.waiting.length + this.running;
  }
}
