import { BoundedCache } from '../../infra/cache.js';

export interface ThrottleOptions {
  /** Clicks and commands of one person waiting or running at once. */
  maxInFlight: number;
  /** Refused outcomes one person may have per minute before their clicks are set aside. */
  refusalsPerMinute: number;
  /** How often a person is told to slow down (once per this many ms at most). */
  tellEveryMs: number;
}

const DEFAULTS: ThrottleOptions = { maxInFlight: 10, refusalsPerMinute: 10, tellEveryMs: 30_000 };

interface UserState {
  inFlight: number;
  /** Refusal allowance left, refilled at refusalsPerMinute. */
  allowance: number;
  refilledAt: number;
  toldAt: number;
}

export type Admission = 'ok' | 'busy' | 'cooling';

/**
 * One person cannot starve the others: each may have only a few clicks waiting or running, and a
 * person whose clicks keep being refused has them set aside (without any database work) until their
 * allowance refills. An eligible approver's click therefore never queues behind someone's flood.
 * Per process: with several replicas each holds its own allowance.
 */
export class ClickThrottle {
  private readonly users = new BoundedCache<string, UserState>(10_000);
  private readonly opts: ThrottleOptions;

  constructor(
    opts: Partial<ThrottleOptions> = {},
    private readonly clock: () => number = Date.now,
  ) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  private state(userId: string): UserState {
    const now = this.clock();
    const s = this.users.get(userId) ?? {
      inFlight: 0,
      allowance: this.opts.refusalsPerMinute,
      refilledAt: now,
      toldAt: 0,
    };
    const refill = ((now - s.refilledAt) / 60_000) * this.opts.refusalsPerMinute;
    s.allowance = Math.min(this.opts.refusalsPerMinute, s.allowance + refill);
    s.refilledAt = now;
    this.users.set(userId, s, 10 * 60_000);
    return s;
  }

  /** Whether a click may be queued now; when 'ok', call `finished` once its work is done. */
  admit(userId: string): Admission {
    const s = this.state(userId);
    if (s.allowance < 1) return 'cooling';
    if (s.inFlight >= this.opts.maxInFlight) return 'busy';
    s.inFlight++;
    return 'ok';
  }

  finished(userId: string, refused: boolean): void {
    const s = this.state(userId);
    s.inFlight = Math.max(0, s.inFlight - 1);
    if (refused) s.allowance = Math.max(0, s.allowance - 1);
  }

  /** True at most once per `tellEveryMs` per person: whether to tell them their click was set aside. */
  shouldTell(userId: string): boolean {
    const s = this.state(userId);
    const now = this.clock();
    if (now - s.toldAt < this.opts.tellEveryMs) return false;
    s.toldAt = now;
    return true;
  }
}

export const SET_ASIDE: Record<Exclude<Admission, 'ok'>, string> = {
  busy: '⏳ Changegate is still working on your previous clicks; this one was not taken. Wait for their answers, then try again.',
  cooling:
    '⏳ Several of your recent clicks were refused, so Changegate is not taking more from you for a minute. Nothing was recorded for this one.',
};
