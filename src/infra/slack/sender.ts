import { ErrorCode, type WebAPICallResult, type WebClient } from '@slack/web-api';
import type { Logger } from '../logger.js';
import type { ApiCaller } from './json-call.js';

/**
 * Every outgoing Slack Web API call goes through here. Each method is paced by its rate-limit tier
 * (token buckets, chat.postMessage also per channel), HTTP 429 pauses that method for `Retry-After`
 * (and paces it a little slower for a while) and retries the same call (a 429 means Slack did not
 * process it, so nothing is doubled), and
 * idempotent reads/updates are retried on transient failures. Non-idempotent posts are never blindly
 * retried after an ambiguous failure.
 */

/** Calls per minute (Slack's documented minimums per workspace). */
export const TIER_PER_MINUTE = { 1: 1, 2: 20, 3: 50, 4: 100 } as const;

export interface MethodLimit {
  perMinute: number;
  burst: number;
  /** Extra per-channel pacing (chat.postMessage: about one message per second per channel). */
  perChannelPerSecond?: number;
}

export const DEFAULT_LIMITS: Record<string, MethodLimit> = {
  'chat.postMessage': { perMinute: 300, burst: 20, perChannelPerSecond: 1 },
  'chat.update': { perMinute: TIER_PER_MINUTE[3], burst: 10 },
  'chat.postEphemeral': { perMinute: TIER_PER_MINUTE[4], burst: 20 },
  'chat.getPermalink': { perMinute: 300, burst: 20 },
  'conversations.open': { perMinute: TIER_PER_MINUTE[3], burst: 10 },
  'views.publish': { perMinute: TIER_PER_MINUTE[4], burst: 20 },
  'views.update': { perMinute: TIER_PER_MINUTE[4], burst: 20 },
  'users.info': { perMinute: TIER_PER_MINUTE[4], burst: 20 },
  'usergroups.users.list': { perMinute: TIER_PER_MINUTE[2], burst: 5 },
  'files.getUploadURLExternal': { perMinute: TIER_PER_MINUTE[4], burst: 10 },
  'files.completeUploadExternal': { perMinute: TIER_PER_MINUTE[4], burst: 10 },
  'auth.test': { perMinute: 300, burst: 20 },
};

/** Methods bound to a 3-second trigger id: pacing them would only make them fail later. */
const UNPACED = new Set(['views.open', 'views.push']);
const IDEMPOTENT = new Set([
  'chat.update',
  'chat.getPermalink',
  'views.publish',
  'views.update',
  'users.info',
  'usergroups.users.list',
  'auth.test',
  'conversations.open',
]);

/** How much slower a bucket goes for each 429 Slack answered it lately (see TokenBucket.limited). */
const SLOWER_PER_429 = 0.02;
/** At most this many 429s count: the bucket never goes below 90% of its rate. */
const MAX_STRIKES = 5;
/** A 429 stops counting after this long without another. */
const STRIKE_FORGIVEN_MS = 60_000;

export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private pausedUntil = 0;
  private queue: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private strikes = 0;
  private struckAt = 0;

  constructor(
    private readonly ratePerMs: number,
    private readonly capacity: number,
  ) {
    this.tokens = capacity;
  }

  /**
   * Slack answered 429: nothing goes out for `ms` (its Retry-After), and the bucket goes 2% slower
   * for a while. A 429 means Slack counted more than its limit although the bucket kept to it: the
   * calls reached Slack closer together than they left (two requests held up on the way, then
   * arriving together). Each 429 silences the method for a whole second or more, so a pace a little
   * below the limit costs less than meeting the limit again; each quiet minute forgives one. The
   * 429s of calls already on their way when the first came (the bucket paused) are the same
   * overrun: they count once.
   */
  limited(ms: number): void {
    const now = Date.now();
    this.forgive(now);
    if (now >= this.pausedUntil) this.strikes = Math.min(MAX_STRIKES, this.strikes + 1);
    this.struckAt = now;
    this.pause(ms);
  }

  private pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
    this.tokens = 0;
  }

  /** Calls per second the bucket lets through now. */
  perSecond(now = Date.now()): number {
    this.forgive(now);
    return this.ratePerMs * (1 - SLOWER_PER_429 * this.strikes) * 1000;
  }

  private forgive(now: number) {
    if (this.strikes === 0) return;
    const quiet = Math.floor((now - this.struckAt) / STRIKE_FORGIVEN_MS);
    if (quiet <= 0) return;
    this.strikes = Math.max(0, this.strikes - quiet);
    this.struckAt += quiet * STRIKE_FORGIVEN_MS;
  }

  take(): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push(resolve);
      this.drain();
    });
  }

  get waiting(): number {
    return this.queue.length;
  }

  private refill(now: number) {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.perSecond(now)) / 1000);
    this.last = now;
  }

  private drain() {
    if (this.timer) return;
    const now = Date.now();
    if (now < this.pausedUntil) {
      this.last = this.pausedUntil;
      this.schedule(this.pausedUntil - now);
      return;
    }
    this.refill(now);
    while (this.queue.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.queue.shift()!();
    }
    if (this.queue.length > 0) this.schedule(Math.ceil(((1 - this.tokens) * 1000) / this.perSecond(now)));
  }

  private schedule(ms: number) {
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.drain();
      },
      Math.max(1, ms),
    );
  }
}

export interface SenderStats {
  calls: number;
  rateLimited: number;
  retries: number;
  failures: number;
}

/** Slack errors that repeating the same call can never fix (the message or channel is gone…). */
const PERMANENT_ERRORS = new Set([
  'message_not_found',
  'channel_not_found',
  'is_archived',
  'not_in_channel',
  'cant_update_message',
  'edit_window_closed',
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'no_text',
  'invalid_arguments',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
]);

export class SlackApiError extends Error {
  constructor(
    readonly method: string,
    readonly slackError: string,
    readonly data: unknown,
  ) {
    super(`Slack ${method} failed: ${slackError}`);
    this.name = 'SlackApiError';
  }

  /** True when retrying this call later cannot succeed. */
  get permanent(): boolean {
    return PERMANENT_ERRORS.has(this.slackError);
  }
}

/** A call not sent because its time ran out while it waited its turn (see SlackSender.call). */
export class SendDeadlineError extends Error {
  constructor(
    readonly method: string,
    readonly settleBy: number,
  ) {
    super(`Slack ${method} not sent: it had to be over by ${new Date(settleBy).toISOString()}`);
    this.name = 'SendDeadlineError';
  }
}

type ApiArgs = Record<string, unknown>;

/** Methods answering a user's click or command, with a trigger id that expires in 3 seconds. */
const INTERACTIVE = new Set(['views.open', 'views.push', 'views.update']);
/** The other methods Slack takes a JSON body for (`json_input_supported` in its method reference). */
const JSON_INPUT = new Set([
  'views.publish',
  'chat.postMessage',
  'chat.update',
  'chat.postEphemeral',
  'conversations.open',
]);

export class SlackSender {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly limits: Record<string, MethodLimit>;
  readonly stats: SenderStats = { calls: 0, rateLimited: 0, retries: 0, failures: 0 };
  private readonly log: Logger;
  private readonly interactive: ApiCaller;
  private readonly json: ApiCaller;
  private readonly callTimeoutMs: number;

  constructor(
    private readonly client: WebClient,
    logger: Logger,
    opts: {
      limits?: Record<string, MethodLimit>;
      rateScale?: number;
      /**
       * How the calls a user waits on with a 3-second trigger (views.open and friends) are made:
       * apart from the client, so they never queue behind a burst of notifications in it (the app
       * sends them as JSON, see jsonApiCaller). Default: through the client.
       */
      interactive?: ApiCaller;
      /**
       * How the other calls Slack takes as JSON (chat.postMessage, chat.update, views.publish…) are
       * made: the app sends them as JSON too, which costs less CPU than the client's form bodies.
       * Default: through the client.
       */
      json?: ApiCaller;
      /** How long a call may wait on Slack before its transport gives up (default 10 s). */
      callTimeoutMs?: number;
    } = {},
  ) {
    this.callTimeoutMs = opts.callTimeoutMs ?? 10_000;
    const viaClient: ApiCaller = (method, args) =>
      client.apiCall(method, wireArgs(args)) as Promise<WebAPICallResult>;
    this.interactive = opts.interactive ?? viaClient;
    this.json = opts.json ?? viaClient;
    this.log = logger.child({ component: 'slack-sender' });
    const scale = opts.rateScale ?? 1;
    this.limits = Object.fromEntries(
      Object.entries({ ...DEFAULT_LIMITS, ...opts.limits }).map(([m, l]) => [
        m,
        {
          perMinute: l.perMinute * scale,
          burst: Math.max(1, Math.round(l.burst * Math.sqrt(scale))),
          perChannelPerSecond: l.perChannelPerSecond ? l.perChannelPerSecond * scale : undefined,
        },
      ]),
    );
  }

  private bucket(key: string, perMinute: number, burst: number): TokenBucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = new TokenBucket(perMinute / 60_000, burst);
      this.buckets.set(key, b);
    }
    return b;
  }

  private async pace(method: string, args: ApiArgs): Promise<void> {
    if (UNPACED.has(method)) return;
    const limit = this.limitOf(method);
    await this.bucket(method, limit.perMinute, limit.burst).take();
    if (limit.perChannelPerSecond && typeof args.channel === 'string') {
      await this.bucket(`${method}:${args.channel}`, limit.perChannelPerSecond * 60, 3).take();
    }
  }

  /**
   * Calls a Web API method; resolves with Slack's body or rejects with SlackApiError / the transport
   * error. With `settleBy` (epoch ms) the call is over by then, answered or failed: an attempt is
   * not sent once it could still be waiting on Slack then (its timeout counted), however long it
   * waited behind the rate limits (or a 429's pause); the call rejects with SendDeadlineError.
   */
  async call<T extends object = WebAPICallResult>(
    method: string,
    args: ApiArgs,
    opts: { settleBy?: number } = {},
  ): Promise<T> {
    const maxAttempts = 8;
    for (let attempt = 1; ; attempt++) {
      await this.pace(method, args);
      if (opts.settleBy !== undefined && Date.now() + this.callTimeoutMs > opts.settleBy) {
        this.stats.failures++;
        throw new SendDeadlineError(method, opts.settleBy);
      }
      this.stats.calls++;
      try {
        const result = INTERACTIVE.has(method)
          ? await this.interactive(method, args)
          : JSON_INPUT.has(method)
            ? await this.json(method, args)
            : await this.client.apiCall(method, wireArgs(args));
        return result as unknown as T;
      } catch (err) {
        const e = err as {
          code?: string;
          retryAfter?: number;
          data?: { error?: string };
          original?: { code?: unknown; name?: string; cause?: { code?: string } };
        };
        if (e.code === ErrorCode.RateLimitedError) {
          this.stats.rateLimited++;
          const waitMs = Math.max(1, e.retryAfter ?? 1) * 1000;
          this.log.warn('rate limited by Slack; waiting', { method, retryAfterSeconds: waitMs / 1000 });
          this.rateLimited(method, args, waitMs);
          if (attempt < maxAttempts * 3) continue;
        }
        if (e.code === ErrorCode.PlatformError) {
          const slackError = e.data?.error ?? 'unknown_error';
          if (
            (slackError === 'ratelimited' ||
              slackError === 'fatal_error' ||
              slackError === 'service_unavailable') &&
            attempt < maxAttempts &&
            IDEMPOTENT.has(method)
          ) {
            this.stats.retries++;
            await sleep(backoff(attempt));
            continue;
          }
          this.stats.failures++;
          throw new SlackApiError(method, slackError, e.data);
        }
        // Transport failure: retry when the request never reached Slack or the method is idempotent.
        // web-api 8 calls through fetch: the socket's code is the cause of fetch's TypeError, and a
        // timeout is an AbortSignal's TimeoutError.
        const o = e.original;
        const cause =
          o?.name === 'TimeoutError' // (a DOMException: its numeric `code` is no socket error)
            ? 'ETIMEDOUT'
            : String(o?.cause?.code ?? (typeof o?.code === 'string' ? o.code : (err as Error).message));
        const neverSent = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(cause);
        // A call that timed out is tried once more at most: Slack hanging does not get better by
        // being waited on eight times.
        const timedOut = /ECONNABORTED|ETIMEDOUT|timeout/i.test(cause);
        if ((IDEMPOTENT.has(method) || neverSent) && attempt < (timedOut ? 2 : maxAttempts)) {
          this.stats.retries++;
          await sleep(backoff(attempt));
          continue;
        }
        this.stats.failures++;
        throw err;
      }
    }
  }

  /** A 429: the method (and its channel) wait `ms` and go a little slower for a while. */
  private rateLimited(method: string, args: ApiArgs, ms: number) {
    const limit = this.limitOf(method);
    this.bucket(method, limit.perMinute, limit.burst).limited(ms);
    if (limit.perChannelPerSecond && typeof args.channel === 'string') {
      this.bucket(`${method}:${args.channel}`, limit.perChannelPerSecond * 60, 3).limited(ms);
    }
  }

  /** The steady rate this sender allows for a method (calls per second). */
  perSecond(method: string): number {
    return this.limitOf(method).perMinute / 60;
  }

  /** A method's limit; methods not listed get Slack's tier 3. */
  private limitOf(method: string): MethodLimit {
    return this.limits[method] ?? { perMinute: TIER_PER_MINUTE[3], burst: 5 };
  }

  /** Requests queued behind the rate limits right now. */
  queued(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.waiting;
    return n;
  }
}

/**
 * The arguments as they go on the wire: web-api form-encodes every object argument (a view, blocks)
 * as its JSON text, so handing it the text is the same request. It also walks every argument
 * object to build a redacted debug line whether or not debug logging is on; given the text it has
 * nothing to walk (a modal's walk cost more than its request on a busy app).
 */
export function wireArgs(args: ApiArgs): ApiArgs {
  let out: ApiArgs | null = null;
  for (const key in args) {
    const value = args[key];
    if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) continue;
    if (!Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) continue;
    out ??= { ...args };
    out[key] = JSON.stringify(value);
  }
  return out ?? args;
}

function backoff(attempt: number): number {
  return Math.min(5_000, 100 * 2 ** (attempt - 1)) + Math.floor(Math.random() * 50);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
