import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { BlockKitErrors, validateBlocks, validateView } from './block-kit.js';

/**
 * An in-process fake of the Slack Web API for the integration tests: it answers like Slack
 * (HTTP 200 with `ok:false` and Slack's error codes, `ts`, channel and view ids, `auth.test`), rejects
 * what Slack rejects (missing or wrong token, bad arguments, Block Kit over the limits), can enforce
 * rate limits with HTTP 429 + Retry-After, serves `response_url`s, and records every call.
 */

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  token: string | null;
  at: number;
  /** epochMs() when the call arrived. */
  receivedAt?: number;
  status: number;
  response: Record<string, unknown>;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[] | undefined;
  thread_ts: string | undefined;
  user: string;
  /** The app that posted it, when not this bot (another app's message). */
  from?: { botId: string; appId: string };
  updates: number;
  /** Message metadata (event_type, event_payload), as posted. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** When the fake received it (epochMs(), for latency measurements across processes). */
  receivedAt: number;
}

export interface ResponseUrlPost {
  id: string;
  body: Record<string, unknown>;
  at: number;
}

interface RateLimit {
  perWindow: number;
  windowMs: number;
  retryAfterSeconds: number;
}

const JSON_FIELDS = ['blocks', 'view', 'attachments', 'metadata', 'files'];
/**
 * The methods Slack reads a JSON body for (`json_input_supported` in its method reference); others
 * (users.info, usergroups.users.list, chat.getPermalink…) read only form or query arguments.
 */
const JSON_INPUT = new Set([
  'views.open',
  'views.push',
  'views.update',
  'views.publish',
  'chat.postMessage',
  'chat.update',
  'chat.postEphemeral',
  'conversations.open',
  'auth.test',
]);
/** Milliseconds since the epoch with sub-millisecond precision, comparable across processes. */
export const epochMs = () => performance.timeOrigin + performance.now();

export const FAKE_TEAM = { id: 'T0001ABCD', domain: 'acme', name: 'Acme' };

/** A person of the fake workspace (or, with another teamId, of a workspace connected to it). */
export interface FakeUser {
  tz: string;
  name: string;
  email: string;
  deleted?: boolean;
  /** `multi` is a multi-channel guest (is_restricted), `single` a single-channel one (is_ultra_restricted). */
  guest?: 'multi' | 'single';
  teamId?: string;
  bot?: boolean;
}
export const FAKE_BOT = { userId: 'U0BOTUSER', botId: 'B0123BOTID', appId: 'A0123APPID' };

export class FakeSlack {
  private server: Server | null = null;
  port = 0;
  readonly calls: RecordedCall[] = [];
  readonly messages = new Map<string, StoredMessage>();
  readonly ephemerals: RecordedCall[] = [];
  readonly homes = new Map<string, Record<string, unknown>>();
  readonly responsePosts: ResponseUrlPost[] = [];
  readonly uploads = new Map<
    string,
    { filename: string; bytes: Buffer | null; title?: string; channel?: string; comment?: string }
  >();
  readonly tokens = new Set(['xoxb-test-token']);
  readonly appTokens = new Set(['xapp-test-token']);
  readonly users = new Map<string, FakeUser>();
  readonly groups = new Map<string, string[]>();
  readonly unreachableChannels = new Set<string>();
  private readonly views = new Map<
    string,
    { view: Record<string, unknown>; hash: string; stack: string[] }
  >();
  private readonly triggers = new Map<string, { issuedAt: number; used: boolean }>();
  private readonly responseUrls = new Map<string, { issuedAt: number; uses: number }>();
  private readonly limits = new Map<string, RateLimit>();
  private readonly windows = new Map<string, number[]>();
  private readonly failures = new Map<string, { error: string; times: number }>();
  private readonly hung = new Set<string>();
  private releaseHung: (() => void)[] = [];
  private tsCounter = 0;
  private idCounter = 0;
  /** Artificial latency per call, in ms. */
  latencyMs = 0;
  /** How long a trigger id stays valid (Slack: 3 seconds). */
  triggerLifetimeMs = 3000;
  /** Requests received and not yet answered. */
  pending = 0;
  /** When the last message was stored (ms since epoch). */
  lastStoredAt = 0;

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: 'fatal_error', detail: String(err) }));
      });
    });
    // Like Slack's edge, keep idle connections open for a while. (A 1 s timeout made every Node
    // client open a new connection per call: Node's agent will not reuse a socket whose server
    // announces `Keep-Alive: timeout=1`.)
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.unhang();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = null;
  }

  /** Forget everything recorded (not the configuration). */
  clear(): void {
    this.calls.length = 0;
    this.ephemerals.length = 0;
    this.responsePosts.length = 0;
    this.messages.clear();
    this.homes.clear();
  }

  // ---- configuration -------------------------------------------------------------------------

  addUser(id: string, opts: Partial<FakeUser> = {}): this {
    const name = opts.name ?? id.toLowerCase();
    this.users.set(id, { tz: 'UTC', email: `${name}@acme.test`, ...opts, name });
    return this;
  }

  /** Changes a person (deactivates them, makes them a guest…), as a workspace admin would. */
  updateUser(id: string, patch: Partial<FakeUser>): this {
    const u = this.users.get(id);
    if (!u) throw new Error(`fake Slack: no user ${id}`);
    this.users.set(id, { ...u, ...patch });
    return this;
  }

  setGroup(id: string, members: string[]): this {
    this.groups.set(id, members);
    return this;
  }

  /** At most `perWindow` calls of `method` per `windowMs`; beyond that HTTP 429 with Retry-After. */
  setRateLimit(method: string, perWindow: number, windowMs = 60_000, retryAfterSeconds = 1): this {
    this.limits.set(method, { perWindow, windowMs, retryAfterSeconds });
    return this;
  }

  clearRateLimits(): this {
    this.limits.clear();
    this.windows.clear();
    return this;
  }

  /**
   * Calls of these methods are received and never answered (Slack hanging), until `unhang()`; then
   * the held calls are dropped without an answer, like a connection Slack never replied on.
   */
  hang(...methods: string[]): this {
    for (const m of methods) this.hung.add(m);
    return this;
  }

  unhang(): this {
    this.hung.clear();
    for (const release of this.releaseHung.splice(0)) release();
    return this;
  }

  /** Calls received for a hung method and held without an answer, so far. */
  heldCalls = 0;

  /** The next `times` calls of `method` answer `{ok:false, error}`. */
  failNext(method: string, error: string, times = 1): this {
    this.failures.set(method, { error, times });
    return this;
  }

  /** Accepts trigger ids another fake issued (a fake in its own process, for the benchmark). */
  acceptTriggers(ids: readonly string[]): void {
    for (const id of ids) this.triggers.set(id, { issuedAt: Date.now(), used: false });
  }

  /** A trigger id valid for 3 seconds and one use, as Slack issues with interactions. */
  issueTrigger(): string {
    const id = `${Date.now()}.${Math.floor(Math.random() * 1e10)}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { issuedAt: Date.now(), used: false });
    return id;
  }

  issueResponseUrl(): string {
    const id = randomBytes(12).toString('hex');
    this.responseUrls.set(id, { issuedAt: Date.now(), uses: 0 });
    return `http://127.0.0.1:${this.port}/response_url/${id}`;
  }

  /**
   * Stores a message as if the bot had posted it earlier (benchmark set-up), or, with `from`,
   * another app's bot.
   */
  injectMessage(
    channel: string,
    text: string,
    opts: { metadata?: StoredMessage['metadata']; from?: StoredMessage['from'] } = {},
  ): { channel: string; ts: string } {
    const ts = this.nextTs();
    this.messages.set(`${channel}:${ts}`, {
      channel,
      ts,
      text,
      blocks: undefined,
      thread_ts: undefined,
      user: opts.from ? 'U0OTHERBOT' : FAKE_BOT.userId,
      ...opts,
      updates: 0,
      receivedAt: epochMs(),
    });
    return { channel, ts };
  }

  // ---- queries -------------------------------------------------------------------------------

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && c.status === 200 && c.response.ok === true);
  }

  rejected(): RecordedCall[] {
    return this.calls.filter((c) => c.response.ok === false && c.status === 200);
  }

  posts(channel?: string): StoredMessage[] {
    return [...this.messages.values()]
      .filter((m) => (channel ? m.channel === channel : true))
      .sort((a, b) => (a.ts < b.ts ? -1 : 1));
  }

  threadReplies(channel: string, ts: string): StoredMessage[] {
    return this.posts(channel).filter((m) => m.thread_ts === ts);
  }

  /** DMs from the bot to a user (chat.postMessage with channel U… lands in D<user>). */
  dms(userId: string): StoredMessage[] {
    return this.posts(`D${userId.slice(1)}`);
  }

  async waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 5000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v) return v;
      if (Date.now() > until) throw new Error('fake Slack: condition not met in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  private send(
    res: ServerResponse,
    status: number,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.pending++;
    try {
      await this.handleRequest(req, res);
    } finally {
      this.pending--;
    }
  }

  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await this.readBody(req);
    if (this.latencyMs) {
      await new Promise((r) => setTimeout(r, this.latencyMs));
      // The client went away while "Slack" was still working on it: model it as never processed.
      if (req.socket.destroyed) return;
    }
    if (url.pathname.startsWith('/response_url/'))
      return this.handleResponseUrl(url.pathname.slice(14), raw, res);
    if (url.pathname.startsWith('/upload/')) {
      const file = this.uploads.get(url.pathname.slice(8));
      if (!file) return this.send(res, 404, { ok: false });
      file.bytes = raw;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`OK - ${raw.length}`);
      return;
    }
    if (!url.pathname.startsWith('/api/')) return this.send(res, 404, { ok: false, error: 'unknown_method' });
    const method = url.pathname.slice(5);
    if (this.hung.has(method)) {
      this.heldCalls++;
      await new Promise<void>((release) => this.releaseHung.push(release));
      req.socket.destroy();
      return;
    }
    const args = this.parseArgs(req, raw, url, method);
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ')
      ? auth.slice(7)
      : typeof args.token === 'string'
        ? args.token
        : null;
    delete args.token;

    const receivedAt = epochMs();
    const record = (
      status: number,
      response: Record<string, unknown>,
      headers: Record<string, string> = {},
    ) => {
      this.calls.push({ method, args, token, at: Date.now(), receivedAt, status, response });
      this.send(res, status, response, headers);
    };

    if (this.isRateLimited(method)) {
      const limit = this.limits.get(method)!;
      return record(
        429,
        { ok: false, error: 'ratelimited' },
        { 'retry-after': String(limit.retryAfterSeconds) },
      );
    }
    if (!token) return record(200, { ok: false, error: 'not_authed' });
    const valid = method === 'apps.connections.open' ? this.appTokens.has(token) : this.tokens.has(token);
    if (!valid)
      return record(200, {
        ok: false,
        error:
          method === 'apps.connections.open' && token.startsWith('xoxb-')
            ? 'not_allowed_token_type'
            : 'invalid_auth',
      });
    const failure = this.failures.get(method);
    if (failure && failure.times > 0) {
      failure.times--;
      return record(200, { ok: false, error: failure.error });
    }
    const handler = this.methods[method];
    if (!handler) return record(200, { ok: false, error: 'unknown_method' });
    return record(200, handler(args));
  }

  private parseArgs(req: IncomingMessage, raw: Buffer, url: URL, method: string): Record<string, unknown> {
    const type = String(req.headers['content-type'] ?? '');
    let args: Record<string, unknown> = Object.fromEntries(url.searchParams.entries());
    if (type.startsWith('application/json')) {
      if (!JSON_INPUT.has(method)) return args; // Slack does not read it: the arguments are missing
      try {
        args = { ...args, ...(JSON.parse(raw.toString('utf8')) as Record<string, unknown>) };
      } catch {
        args.__invalid = 'invalid_json';
      }
    } else if (raw.length > 0) {
      args = { ...args, ...(parseQuery(raw.toString('utf8')) as Record<string, unknown>) };
      for (const f of JSON_FIELDS) {
        if (typeof args[f] === 'string') {
          try {
            args[f] = JSON.parse(args[f] as string);
          } catch {
            args[`__bad_${f}`] = true;
          }
        }
      }
    }
    return args;
  }

  private isRateLimited(method: string): boolean {
    const limit = this.limits.get(method);
    if (!limit) return false;
    const now = Date.now();
    const hits = (this.windows.get(method) ?? []).filter((t) => t > now - limit.windowMs);
    if (hits.length >= limit.perWindow) {
      this.windows.set(method, hits);
      return true;
    }
    hits.push(now);
    this.windows.set(method, hits);
    return false;
  }

  private handleResponseUrl(id: string, raw: Buffer, res: ServerResponse) {
    const entry = this.responseUrls.get(id);
    if (!entry) return this.send(res, 404, { ok: false, error: 'invalid_url' });
    if (Date.now() - entry.issuedAt > 30 * 60_000)
      return this.send(res, 404, { ok: false, error: 'expired_url' });
    if (entry.uses >= 5) return this.send(res, 404, { ok: false, error: 'used_url' });
    entry.uses++;
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      return this.send(res, 400, { ok: false, error: 'invalid_payload' });
    }
    if (body.blocks !== undefined) {
      const e = new BlockKitErrors();
      validateBlocks(e, body.blocks, '/blocks', 'message');
      if (!e.ok) return this.send(res, 400, { ok: false, error: 'invalid_blocks', errors: e.messages });
    }
    this.responsePosts.push({ id, body, at: Date.now() });
    this.send(res, 200, { ok: true });
  }

  // ---- methods -------------------------------------------------------------------------------

  /** A user object as users.info returns it (the fields Slack documents, as Slack fills them). */
  private userObject(id: string, u: FakeUser): Record<string, unknown> {
    return {
      id,
      team_id: u.teamId ?? FAKE_TEAM.id,
      name: u.name,
      deleted: u.deleted === true,
      tz: u.tz,
      tz_label: u.tz,
      tz_offset: 0,
      is_bot: u.bot === true,
      is_app_user: false,
      is_restricted: u.guest !== undefined,
      is_ultra_restricted: u.guest === 'single',
      is_stranger: u.teamId !== undefined && u.teamId !== FAKE_TEAM.id,
      profile: { email: u.email, display_name: u.name, real_name: u.name },
    };
  }

  private nextTs(): string {
    this.tsCounter++;
    return `${Math.floor(Date.now() / 1000)}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  private nextId(prefix: string): string {
    this.idCounter++;
    return `${prefix}${String(this.idCounter).padStart(8, '0')}`;
  }

  /** chat.* content checks shared by postMessage, update and postEphemeral. */
  private checkContent(
    args: Record<string, unknown>,
    maxText: number | null,
  ): Record<string, unknown> | null {
    if (args.__bad_blocks) return { ok: false, error: 'invalid_blocks_format' };
    if (args.text === undefined && args.blocks === undefined && args.attachments === undefined)
      return { ok: false, error: 'no_text' };
    if (maxText !== null && typeof args.text === 'string' && Array.from(args.text).length > maxText) {
      return { ok: false, error: 'msg_too_long' };
    }
    if (args.blocks !== undefined) {
      const e = new BlockKitErrors();
      validateBlocks(e, args.blocks, '/blocks', 'message');
      if (!e.ok) {
        return {
          ok: false,
          error: 'invalid_blocks',
          errors: e.messages,
          response_metadata: { messages: e.messages.map((m) => `[ERROR] ${m}`) },
        };
      }
    }
    return null;
  }

  private resolveChannel(channel: unknown): string | Record<string, unknown> {
    if (typeof channel !== 'string' || !/^[CDGUW][A-Z0-9]{2,}$/.test(channel))
      return { ok: false, error: 'channel_not_found' };
    if (this.unreachableChannels.has(channel)) return { ok: false, error: 'not_in_channel' };
    return channel.startsWith('U') || channel.startsWith('W') ? `D${channel.slice(1)}` : channel;
  }

  private checkView(view: unknown): Record<string, unknown> | null {
    const e = validateView(view);
    if (e.ok) return null;
    if (e.messages.some((m) => m.startsWith('view_too_large'))) return { ok: false, error: 'view_too_large' };
    return {
      ok: false,
      error: 'invalid_arguments',
      response_metadata: { messages: e.messages.map((m) => `[ERROR] ${m}`) },
    };
  }

  private storeView(view: Record<string, unknown>, stackOf?: string): Record<string, unknown> {
    const id = this.nextId('V');
    const hash = `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`;
    const stack = stackOf ? [...(this.views.get(stackOf)?.stack ?? [stackOf]), id] : [id];
    const full = {
      id,
      team_id: FAKE_TEAM.id,
      state: { values: {} },
      hash,
      root_view_id: stack[0],
      previous_view_id: stack.length > 1 ? stack[stack.length - 2] : null,
      app_id: FAKE_BOT.appId,
      bot_id: FAKE_BOT.botId,
      ...view,
    };
    this.views.set(id, { view: full, hash, stack });
    return full;
  }

  private checkTrigger(trigger: unknown): Record<string, unknown> | null {
    if (typeof trigger !== 'string' || !/^\d+\.\d+\.[0-9a-f]+$/.test(trigger)) {
      return {
        ok: false,
        error: 'invalid_arguments',
        response_metadata: { messages: ['invalid `trigger_id`'] },
      };
    }
    const t = this.triggers.get(trigger);
    if (!t) return { ok: false, error: 'invalid_trigger_id' };
    if (t.used) return { ok: false, error: 'exchanged_trigger_id' };
    if (Date.now() - t.issuedAt > this.triggerLifetimeMs) return { ok: false, error: 'expired_trigger_id' };
    t.used = true;
    return null;
  }

  private readonly methods: Record<string, (a: Record<string, unknown>) => Record<string, unknown>> = {
    'auth.test': () => ({
      ok: true,
      url: `https://${FAKE_TEAM.domain}.slack.com/`,
      team: FAKE_TEAM.name,
      user: 'changegate',
      team_id: FAKE_TEAM.id,
      user_id: FAKE_BOT.userId,
      bot_id: FAKE_BOT.botId,
      app_id: FAKE_BOT.appId,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (a) => {
      const channel = this.resolveChannel(a.channel);
      if (typeof channel !== 'string') return channel;
      const bad = this.checkContent(a, null);
      if (bad) return bad;
      const metadata = a.metadata as StoredMessage['metadata'] | undefined;
      if (
        metadata !== undefined &&
        (typeof metadata !== 'object' ||
          typeof metadata.event_type !== 'string' ||
          !metadata.event_payload ||
          typeof metadata.event_payload !== 'object')
      )
        return { ok: false, error: 'invalid_metadata_format' };
      const ts = this.nextTs();
      const msg: StoredMessage = {
        channel,
        ts,
        text: String(a.text ?? ''),
        blocks: a.blocks as unknown[] | undefined,
        thread_ts: a.thread_ts as string | undefined,
        user: FAKE_BOT.userId,
        updates: 0,
        ...(metadata ? { metadata } : {}),
        receivedAt: epochMs(),
      };
      this.messages.set(`${channel}:${ts}`, msg);
      this.lastStoredAt = Date.now();
      return {
        ok: true,
        channel,
        ts,
        message: {
          type: 'message',
          user: FAKE_BOT.userId,
          bot_id: FAKE_BOT.botId,
          app_id: FAKE_BOT.appId,
          text: msg.text,
          blocks: msg.blocks,
          ts,
        },
      };
    },
    'chat.update': (a) => {
      if (typeof a.channel !== 'string' || typeof a.ts !== 'string')
        return { ok: false, error: 'invalid_arguments' };
      const msg = this.messages.get(`${a.channel}:${a.ts}`);
      if (!msg) return { ok: false, error: 'message_not_found' };
      const bad = this.checkContent(a, 4000);
      if (bad) return bad;
      msg.text = String(a.text ?? msg.text);
      if (a.blocks !== undefined) msg.blocks = a.blocks as unknown[];
      msg.updates++;
      return {
        ok: true,
        channel: a.channel,
        ts: a.ts,
        text: msg.text,
        message: { text: msg.text, blocks: msg.blocks },
      };
    },
    'chat.postEphemeral': (a) => {
      const channel = this.resolveChannel(a.channel);
      if (typeof channel !== 'string') return channel;
      if (typeof a.user !== 'string' || !/^[UW][A-Z0-9]{2,}$/.test(a.user))
        return { ok: false, error: 'user_not_in_channel' };
      const bad = this.checkContent(a, 4000);
      if (bad) return bad;
      this.ephemerals.push({
        method: 'chat.postEphemeral',
        args: { ...a },
        token: null,
        at: Date.now(),
        status: 200,
        response: { ok: true },
      });
      return { ok: true, message_ts: this.nextTs() };
    },
    'chat.getPermalink': (a) => {
      const msg = this.messages.get(`${String(a.channel)}:${String(a.message_ts)}`);
      if (!msg) return { ok: false, error: 'message_not_found' };
      return {
        ok: true,
        channel: msg.channel,
        permalink: `https://${FAKE_TEAM.domain}.slack.com/archives/${msg.channel}/p${msg.ts.replace('.', '')}`,
      };
    },
    // Top-level messages, newest first, paged by an opaque cursor; metadata only with include_all_metadata.
    'conversations.history': (a) => {
      const channel = this.resolveChannel(a.channel);
      if (typeof channel !== 'string') return channel;
      const limit = Math.min(999, Math.max(1, Number(a.limit ?? 100) || 100));
      const offset = a.cursor
        ? Number(Buffer.from(String(a.cursor), 'base64').toString('utf8').replace('offset:', ''))
        : 0;
      if (!Number.isInteger(offset) || offset < 0) return { ok: false, error: 'invalid_cursor' };
      const withMetadata = a.include_all_metadata === true || a.include_all_metadata === 'true';
      const all = [...this.messages.values()]
        .filter((m) => m.channel === channel && (!m.thread_ts || m.thread_ts === m.ts))
        .sort((x, y) => Number(y.ts) - Number(x.ts));
      const page = all.slice(offset, offset + limit).map((m) => ({
        type: 'message',
        user: m.user,
        bot_id: m.from?.botId ?? FAKE_BOT.botId,
        app_id: m.from?.appId ?? FAKE_BOT.appId,
        text: m.text,
        ts: m.ts,
        ...(m.metadata && withMetadata ? { metadata: m.metadata } : {}),
      }));
      const more = offset + limit < all.length;
      return {
        ok: true,
        messages: page,
        has_more: more,
        response_metadata: {
          next_cursor: more ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '',
        },
      };
    },
    'conversations.open': (a) => {
      const users = String(a.users ?? '')
        .split(',')
        .filter(Boolean);
      if (users.length === 0) return { ok: false, error: 'users_list_not_supplied' };
      if (users.length > 8) return { ok: false, error: 'too_many_users' };
      return { ok: true, channel: { id: `D${users[0]!.slice(1)}` } };
    },
    'views.open': (a) => {
      const bad = this.checkTrigger(a.trigger_id) ?? this.checkView(a.view);
      if (bad) return bad;
      return { ok: true, view: this.storeView(a.view as Record<string, unknown>) };
    },
    'views.push': (a) => {
      const bad = this.checkTrigger(a.trigger_id) ?? this.checkView(a.view);
      if (bad) return bad;
      const top = [...this.views.entries()].pop();
      if (top && top[1].stack.length >= 3) return { ok: false, error: 'push_limit_reached' };
      return { ok: true, view: this.storeView(a.view as Record<string, unknown>, top?.[0]) };
    },
    'views.update': (a) => {
      if ((a.view_id === undefined) === (a.external_id === undefined))
        return { ok: false, error: 'invalid_arguments' };
      const existing = this.views.get(String(a.view_id));
      if (!existing) return { ok: false, error: 'not_found' };
      if (a.hash !== undefined && a.hash !== existing.hash) return { ok: false, error: 'hash_conflict' };
      const bad = this.checkView(a.view);
      if (bad) return bad;
      const hash = `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`;
      existing.view = { ...existing.view, ...(a.view as Record<string, unknown>), hash };
      existing.hash = hash;
      return { ok: true, view: existing.view };
    },
    'views.publish': (a) => {
      if (typeof a.user_id !== 'string' || !/^[UW][A-Z0-9]{2,}$/.test(a.user_id)) {
        return {
          ok: false,
          error: 'invalid_arguments',
          response_metadata: { messages: ['[ERROR] invalid `user_id`'] },
        };
      }
      const bad = this.checkView(a.view);
      if (bad) return bad;
      if ((a.view as Record<string, unknown>).type !== 'home')
        return { ok: false, error: 'invalid_arguments' };
      const view = { id: this.nextId('V'), ...(a.view as Record<string, unknown>) };
      this.homes.set(a.user_id, view);
      return { ok: true, view };
    },
    'users.info': (a) => {
      const u = this.users.get(String(a.user));
      if (!u) return { ok: false, error: 'user_not_found' };
      return { ok: true, user: this.userObject(String(a.user), u) };
    },
    'users.lookupByEmail': (a) => {
      const email = String(a.email ?? '').toLowerCase();
      const hit = [...this.users.entries()].find(([, u]) => u.email.toLowerCase() === email);
      if (!hit) return { ok: false, error: 'users_not_found' };
      return { ok: true, user: this.userObject(hit[0], hit[1]) };
    },
    'usergroups.users.list': (a) => {
      const users = this.groups.get(String(a.usergroup));
      if (!users) return { ok: false, error: 'no_such_subteam' };
      return { ok: true, users };
    },
    // Like Slack: every group of the workspace, without members unless include_users is true.
    'usergroups.list': (a) => ({
      ok: true,
      usergroups: [...this.groups.entries()].map(([id, users]) => ({
        id,
        team_id: FAKE_TEAM.id,
        name: id,
        handle: id.toLowerCase(),
        date_delete: 0,
        ...(a.include_users === true || a.include_users === 'true' ? { users } : {}),
      })),
    }),
    'files.getUploadURLExternal': (a) => {
      if (typeof a.filename !== 'string' || !a.filename) return { ok: false, error: 'invalid_arguments' };
      if (!(Number(a.length) > 0)) return { ok: false, error: 'invalid_arguments' };
      const id = this.nextId('F');
      this.uploads.set(id, { filename: a.filename, bytes: null });
      return { ok: true, upload_url: `http://127.0.0.1:${this.port}/upload/${id}`, file_id: id };
    },
    'files.completeUploadExternal': (a) => {
      const files = a.files as { id: string; title?: string }[] | undefined;
      if (!Array.isArray(files) || files.length === 0) return { ok: false, error: 'invalid_arguments' };
      for (const f of files) {
        const u = this.uploads.get(f.id);
        if (!u?.bytes) return { ok: false, error: 'file_not_found' };
        u.title = f.title;
        u.channel = a.channel_id as string | undefined;
        u.comment = a.initial_comment as string | undefined;
      }
      return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title ?? '' })) };
    },
    'apps.connections.open': () => ({ ok: true, url: `ws://127.0.0.1:${this.port}/socket` }),
  };
}
