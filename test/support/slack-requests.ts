import { createHmac } from 'node:crypto';
import { stringify } from 'node:querystring';
import { FAKE_BOT, FAKE_TEAM, type FakeSlack } from './fake-slack/server.js';

/** Slack's request signature: v0=HMAC_SHA256(secret, "v0:" + ts + ":" + body). */
export function signSlack(secret: string, body: string, ts = Math.floor(Date.now() / 1000)) {
  return {
    'X-Slack-Request-Timestamp': String(ts),
    'X-Slack-Signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`,
  };
}

export interface SlackHttpResponse {
  status: number;
  text: string;
  json: Record<string, unknown> | null;
  ms: number;
}

export interface ViewInput {
  callbackId: string;
  values: Record<string, Record<string, Record<string, unknown>>>;
  privateMetadata?: string;
  blocks?: unknown[];
  viewId?: string;
  hash?: string;
}

let seq = 0;

/**
 * Sends correctly signed Slack requests (slash commands, button clicks, modal submissions, events)
 * to the app's /slack/events, exactly as Slack encodes them; trigger ids and response URLs are
 * issued by the fake Slack so their lifetimes are enforced.
 */
export class SlackRequests {
  constructor(
    private readonly baseUrl: string,
    private readonly secret: string,
    private readonly fake: FakeSlack,
  ) {}

  async raw(body: string, headers: Record<string, string>): Promise<SlackHttpResponse> {
    const started = performance.now();
    const res = await fetch(`${this.baseUrl}/slack/events`, { method: 'POST', headers, body });
    const text = await res.text();
    let json: Record<string, unknown> | null = null;
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    } catch {
      json = null;
    }
    return { status: res.status, text, json, ms: performance.now() - started };
  }

  /** A signed form request, ready to send (the benchmark's load generator sends them from another process). */
  buildForm(
    fields: Record<string, string>,
    extraHeaders: Record<string, string> = {},
  ): { body: string; headers: Record<string, string> } {
    const body = stringify(fields);
    return {
      body,
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...signSlack(this.secret, body),
        ...extraHeaders,
      },
    };
  }

  signedForm(
    fields: Record<string, string>,
    extraHeaders: Record<string, string> = {},
  ): Promise<SlackHttpResponse> {
    const r = this.buildForm(fields, extraHeaders);
    return this.raw(r.body, r.headers);
  }

  signedJson(obj: unknown, extraHeaders: Record<string, string> = {}): Promise<SlackHttpResponse> {
    const body = JSON.stringify(obj);
    return this.raw(body, {
      'Content-Type': 'application/json',
      ...signSlack(this.secret, body),
      ...extraHeaders,
    });
  }

  commandFields(command: string, text: string, opts: { user?: string; channel?: string } = {}) {
    return {
      token: 'gIkuvaNzQIHg97ATvDxqgjtO',
      team_id: FAKE_TEAM.id,
      team_domain: FAKE_TEAM.domain,
      channel_id: opts.channel ?? 'C0123CHG01',
      channel_name: 'change-requests',
      user_id: opts.user ?? 'U0123ALICE',
      user_name: (opts.user ?? 'U0123ALICE').toLowerCase(),
      command,
      text,
      api_app_id: FAKE_BOT.appId,
      is_enterprise_install: 'false',
      response_url: this.fake.issueResponseUrl(),
      trigger_id: this.fake.issueTrigger(),
    };
  }

  command(command: string, text: string, opts: { user?: string; channel?: string } = {}) {
    const fields = this.commandFields(command, text, opts);
    return this.signedForm(fields).then((r) => ({
      ...r,
      responseUrl: fields.response_url,
      triggerId: fields.trigger_id,
    }));
  }

  private interactive(payload: Record<string, unknown>) {
    return this.signedForm({ payload: JSON.stringify(payload) });
  }

  /** A signed button click, not sent. */
  buildClick(...args: Parameters<SlackRequests['clickPayload']>) {
    return this.buildForm({ payload: JSON.stringify(this.clickPayload(...args)) });
  }

  /** A button click on a message (channel or DM), or in a view (Home tab / modal) when `view` is given. */
  click(...args: Parameters<SlackRequests['clickPayload']>) {
    return this.interactive(this.clickPayload(...args));
  }

  clickPayload(
    actionId: string,
    value: string,
    opts: {
      user?: string;
      message?: { channel: string; ts: string };
      view?: {
        id: string;
        type?: 'home' | 'modal';
        state?: unknown;
        private_metadata?: string;
        hash?: string;
      };
      blockId?: string;
      /** The workspace the click comes from (default: the app's own). */
      team?: string;
    } = {},
  ): Record<string, unknown> {
    const user = opts.user ?? 'U0123BOB';
    const team = opts.team ?? FAKE_TEAM.id;
    const actionTs = `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;
    const base: Record<string, unknown> = {
      type: 'block_actions',
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: team },
      api_app_id: FAKE_BOT.appId,
      token: 'gIkuvaNzQIHg97ATvDxqgjtO',
      trigger_id: this.fake.issueTrigger(),
      team: { id: team, domain: team === FAKE_TEAM.id ? FAKE_TEAM.domain : 'elsewhere' },
      enterprise: null,
      is_enterprise_install: false,
      state: { values: {} },
      response_url: this.fake.issueResponseUrl(),
      actions: [
        {
          type: 'button',
          action_id: actionId,
          block_id: opts.blockId ?? 'actions',
          value,
          text: { type: 'plain_text', text: actionId, emoji: true },
          action_ts: actionTs,
        },
      ],
    };
    if (opts.view) {
      base.container = { type: 'view', view_id: opts.view.id };
      base.view = {
        id: opts.view.id,
        type: opts.view.type ?? 'home',
        state: opts.view.state ?? { values: {} },
        private_metadata: opts.view.private_metadata ?? '',
        hash: opts.view.hash ?? '1.x',
        callback_id: '',
        blocks: [],
      };
    } else {
      const m = opts.message ?? { channel: 'C0123CHG01', ts: '1.000001' };
      base.container = { type: 'message', message_ts: m.ts, channel_id: m.channel, is_ephemeral: false };
      base.channel = { id: m.channel, name: 'change-requests' };
      base.message = { type: 'message', user: FAKE_BOT.userId, bot_id: FAKE_BOT.botId, ts: m.ts, text: '' };
    }
    return base;
  }

  /** An option chosen in a static select of an actions block (App Home or a message). */
  choose(actionId: string, value: string, opts: Parameters<SlackRequests['clickPayload']>[2] = {}) {
    const payload = this.clickPayload(actionId, value, opts);
    const [action] = payload.actions as Record<string, unknown>[];
    payload.actions = [
      {
        type: 'static_select',
        action_id: actionId,
        block_id: action!.block_id,
        selected_option: { text: { type: 'plain_text', text: value }, value },
        action_ts: action!.action_ts,
      },
    ];
    return this.interactive(payload);
  }

  /** A select (e.g. the change type) changed inside a modal with dispatch_action. */
  selectInView(
    actionId: string,
    blockId: string,
    value: string,
    view: { id: string; hash: string; values: unknown; private_metadata?: string },
    user = 'U0123ALICE',
  ) {
    return this.interactive({
      type: 'block_actions',
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: FAKE_TEAM.id },
      api_app_id: FAKE_BOT.appId,
      trigger_id: this.fake.issueTrigger(),
      team: { id: FAKE_TEAM.id, domain: FAKE_TEAM.domain },
      container: { type: 'view', view_id: view.id },
      view: {
        id: view.id,
        type: 'modal',
        hash: view.hash,
        private_metadata: view.private_metadata ?? '',
        callback_id: 'change_request_modal',
        state: { values: view.values },
        blocks: [],
      },
      actions: [
        {
          type: 'static_select',
          action_id: actionId,
          block_id: blockId,
          selected_option: { text: { type: 'plain_text', text: value }, value },
          action_ts: '1.1',
        },
      ],
    });
  }

  submitView(input: ViewInput, user = 'U0123ALICE') {
    return this.interactive(this.viewSubmissionPayload(input, user));
  }

  /** A view_submission as Slack sends it; each opened modal has its own view id. */
  viewSubmissionPayload(input: ViewInput, user = 'U0123ALICE'): Record<string, unknown> {
    const viewId = input.viewId ?? `V0MODAL${String(++seq).padStart(4, '0')}`;
    return {
      type: 'view_submission',
      team: { id: FAKE_TEAM.id, domain: FAKE_TEAM.domain },
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: FAKE_TEAM.id },
      api_app_id: FAKE_BOT.appId,
      token: 'gIkuvaNzQIHg97ATvDxqgjtO',
      trigger_id: this.fake.issueTrigger(),
      view: {
        id: viewId,
        team_id: FAKE_TEAM.id,
        type: 'modal',
        callback_id: input.callbackId,
        blocks: input.blocks ?? Object.keys(input.values).map((block_id) => ({ type: 'input', block_id })),
        private_metadata: input.privateMetadata ?? '',
        hash: input.hash ?? '1719835300.Xy12AbCd',
        clear_on_close: false,
        notify_on_close: false,
        previous_view_id: null,
        root_view_id: viewId,
        app_id: FAKE_BOT.appId,
        external_id: '',
        app_installed_team_id: FAKE_TEAM.id,
        bot_id: FAKE_BOT.botId,
        state: { values: input.values },
      },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
  }

  event(event: Record<string, unknown>, opts: { eventId?: string; retryNum?: number } = {}) {
    const headers: Record<string, string> = {};
    if (opts.retryNum) {
      headers['X-Slack-Retry-Num'] = String(opts.retryNum);
      headers['X-Slack-Retry-Reason'] = 'http_timeout';
    }
    return this.signedJson(
      {
        token: 'gIkuvaNzQIHg97ATvDxqgjtO',
        team_id: FAKE_TEAM.id,
        api_app_id: FAKE_BOT.appId,
        type: 'event_callback',
        event_id: opts.eventId ?? `Ev${Date.now()}${++seq}`,
        event_time: Math.floor(Date.now() / 1000),
        event,
        authorizations: [
          {
            enterprise_id: null,
            team_id: FAKE_TEAM.id,
            user_id: FAKE_BOT.userId,
            is_bot: true,
            is_enterprise_install: false,
          },
        ],
        is_ext_shared_channel: false,
      },
      headers,
    );
  }

  homeOpened(user: string, opts: { eventId?: string; retryNum?: number } = {}) {
    return this.event(
      {
        type: 'app_home_opened',
        user,
        channel: `D${user.slice(1)}`,
        tab: 'home',
        event_ts: `${Date.now() / 1000}`,
      },
      opts,
    );
  }
}
