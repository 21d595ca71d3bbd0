import { setImmediate as breathe, setTimeout as sleepFor } from 'node:timers/promises';

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
  /** Lets the process's timers and I/O run before the work goes on. */
  breathe(): Promise<void>;
}

const processTime: PacerTime = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, { signal }),
  breathe: async () => {
    await breathe();
  },
};

/**
 * The longest a stretch of paced work holds the event loop. Work over a cursor's buffered batch
 * goes on in promise callbacks without ever letting a timer or a socket through: a 100 ms stretch
 * held Slack's pacing timers that long (tokens lost past the bucket's burst, measured as a tenth
 * of the reminders' throughput while the daily verification ran).
 */
const BREATHE_EVERY_MS = 10;

/**
 * Keeps background work to a share of the time: after each stretch of work (at least `sliceMs` of
 * wall time since the last pause) it pauses so that the work takes `share` of the time, leaving the
 * rest to what people wait for (clicks, commands, reminders at Slack's pace); within a stretch it
 * lets the event loop through every BREATHE_EVERY_MS. A share of 1 never pauses (the command
 * line's full speed, or work wanted done soon) but breathes all the same. A pause ends early when
 * `signal` aborts (it then throws, as `throwIfAborted` does).
 */
export class Pacer {
  private since: number;
  private breathed: number;

  constructor(
    private readonly share: number,
    private readonly signal?: AbortSignal,
    private readonly sliceMs = 100,
    private readonly time: PacerTime = processTime,
  ) {
    if (!(share > 0 && share <= 1)) throw new RangeError(`a pacer's share is in (0, 1], not ${share}`);
    this.since = time.now();
    this.breathed = this.since;
  }

  /** Call between units of work: returns at once, after a breath, or after the pause the share asks for. */
  async step(): Promise<void> {
    this.signal?.throwIfAborted();
    const now = this.time.now();
    const worked = now - this.since;
    if (this.share < 1 && worked >= this.sliceMs) {
      await this.time.sleep((worked * (1 - this.share)) / this.share, this.signal);
      this.since = this.breathed = this.time.now();
    } else if (now - this.breathed >= BREATHE_EVERY_MS) {
      await this.time.breathe();
      this.breathed = this.time.now();
    }
  }
}
