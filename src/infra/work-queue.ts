import type { InFlight } from './inflight.js';

/**
 * Work done after Slack was acknowledged runs here, a bounded number at a time, so the database sees
 * a bounded number of concurrent writers. Queued work waits in memory, in arrival order, and is
 * tracked for shutdown.
 *
 * Acks come first: Slack retries (and the user sees an error) when an ack takes over 3 seconds, while
 * the work after an ack only decides how soon a thread reply appears. Node runs both on one thread,
 * so during a burst of Slack requests (see {@link ArrivalRate}) queued work does not start; it
 * starts when the burst is over, and never more than `maxDeferMs` after it was queued, so sustained
 * load delays work by at most that much instead of starving it.
 */
export class WorkQueue {
  private running = 0;
  private readonly waiting: { start: () => void; queuedAt: number }[] = [];
  private recheck: NodeJS.Timeout | null = null;
  private readonly maxDeferMs: number;
  private readonly busy: () => boolean;

  constructor(
    private readonly concurrency: number,
    private readonly options: {
      busy?: () => boolean;
      maxDeferMs?: number;
      /** Where submitted work is tracked, so shutdown waits for it. */
      inflight?: InFlight;
      /** Called with anything submitted work throws (work is expected to handle its own errors). */
      onError?: (err: unknown) => void;
    } = {},
  ) {
    this.busy = options.busy ?? (() => false);
    this.maxDeferMs = options.maxDeferMs ?? 3_000;
  }

  /**
   * Queues `work` without the caller waiting for it. A Slack listener acks, copies the few fields
   * the work needs and returns, so Bolt lets go of the request (body, HTTP objects) at once instead
   * of holding every queued request in memory until its work is done.
   */
  submit(work: () => Promise<void>): void {
    const done = this.run(work).catch((err: unknown) => this.options.onError?.(err));
    this.options.inflight?.track(done);
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    await new Promise<void>((start) => {
      this.waiting.push({ start, queuedAt: Date.now() });
      this.pump();
    });
    try {
      return await work();
    } finally {
      this.running--;
      this.pump();
    }
  }

  /** Work running or waiting. */
  get depth(): number {
    return this.waiting.length + this.running;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const head = this.waiting[0]!;
      const waitedMs = Date.now() - head.queuedAt;
      if (waitedMs < this.maxDeferMs && this.busy()) {
        this.recheckIn(Math.min(RECHECK_MS, this.maxDeferMs - waitedMs));
        return;
      }
      this.waiting.shift();
      this.running++;
      head.start();
    }
  }

  private recheckIn(ms: number): void {
    if (this.recheck) return;
    this.recheck = setTimeout(() => {
      this.recheck = null;
      this.pump();
    }, ms);
  }
}

const RECHECK_MS = 20;

/**
 * How many events (Slack requests) arrived recently: `busy()` is true while at least `count` arrived
 * within the last `windowMs`. Kept as a ring of the last `count` arrival times.
 */
export class ArrivalRate {
  private readonly times: number[];
  private next = 0;
  private seen = 0;

  constructor(
    private readonly count = 10,
    private readonly windowMs = 100,
  ) {
    this.times = new Array<number>(count).fill(0);
  }

  arrived(now = Date.now()): void {
    this.times[this.next] = now;
    this.next = (this.next + 1) % this.count;
    this.seen++;
  }

  /** At least `count` arrivals within the last `windowMs`. */
  busy = (now = Date.now()): boolean =>
    this.seen >= this.count && now - this.times[this.next]! < this.windowMs;
}
