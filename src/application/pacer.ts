import { setTimeout as sleepFor } from 'node:timers/promises';

/**
 * The share of the time scheduled work that reads the whole history (the daily audit verification,
 * the monthly report's) takes: minutes at 200,000 changes, beside live traffic, so it pauses as
 * long as it works.
 */
export const BACKGROUND_SHARE = 0.5;

/** How a pacer reads time and waits (the process's own, but for tests). */
export interface PacerTime {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const processTime: PacerTime = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, { signal }),
};

/**
 * Keeps background work to a share of the time: after each stretch of work (at least `sliceMs` of
 * wall time since the last pause) it pauses so that the work takes `share` of the time, leaving the
 * rest to what people wait for (clicks, commands, reminders at Slack's pace). A share of 1 never
 * pauses. A pause ends early when `signal` aborts (it then throws, as `throwIfAborted` does).
 */
export class Pacer {
  private since: number;

  constructor(
    private readonly share: number,
    private readonly signal?: AbortSignal,
    private readonly sliceMs = 100,
    private readonly time: PacerTime = processTime,
  ) {
    if (!(share > 0 && share <= 1)) throw new RangeError(`a pacer's share is in (0, 1], not ${share}`);
    this.since = time.now();
  }

  /** Call between units of work: returns at once, or after the pause the share asks for. */
  async step(): Promise<void> {
    this.signal?.throwIfAborted();
    if (this.share === 1) return;
    const worked = this.time.now() - this.since;
    if (worked < this.sliceMs) return;
    await this.time.sleep((worked * (1 - this.share)) / this.share, this.signal);
    this.since = this.time.now();
  }
}
