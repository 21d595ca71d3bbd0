import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { Logger } from '../logger.js';
import { toBoltLogger } from '../logger.js';
import { slackTransport } from './http-transport.js';
import { SlackIdentity } from './identity.js';
import { jsonApiCaller } from './json-call.js';
import { type MethodLimit, SlackSender } from './sender.js';

export interface SlackApiOptions {
  /** Slack's Web API base URL (GovSlack, tests); default Slack's. */
  apiUrl: string | null;
  botToken: string;
  webApiRetries?: number;
  rateScale?: number;
  limits?: Record<string, MethodLimit>;
  /** How long a Web API call may take before it fails (default 10 s). */
  timeoutMs?: number;
}

/** Slack's own Web API (web-api's default). */
const SLACK_API_URL = 'https://slack.com/api/';

/** The Web API clients: one sender for every call (paced, retried where safe), and who the bot is. */
export interface SlackApi {
  sender: SlackSender;
  identity: SlackIdentity;
  /** For Bolt's own WebClient, so it talks to the same Slack the same way. */
  clientOptions: WebClientOptions;
}

/** apps.connections.open with the app-level token (Socket Mode), at SLACK_API_URL when set. */
export function appConnectionOpener(apiUrl: string | null, appToken: string, timeoutMs = 10_000) {
  const client = new WebClient(appToken, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    retryConfig: { retries: 0 },
    timeout: timeoutMs,
    rejectRateLimitedCalls: true,
  });
  return () => client.apps.connections.open({});
}

export function createSlackApi(opts: SlackApiOptions, logger: Logger): SlackApi {
  const timeout = opts.timeoutMs ?? 10_000;
  const clientOptions: WebClientOptions = {
    ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}),
    // Our transport instead of Node's fetch (http-transport.ts): the same calls for less CPU.
    fetch: slackTransport,
    retryConfig: { retries: opts.webApiRetries ?? 0 }, // the sender retries what is safe to retry
    // Every call ends: a hung Slack fails the call after this long instead of holding its caller.
    timeout,
    rejectRateLimitedCalls: true, // the sender paces calls and honours Retry-After itself
    logger: toBoltLogger(logger, 'slack-web-api'),
  };
  const sender = new SlackSender(new WebClient(opts.botToken, clientOptions), logger, {
    interactive: jsonApiCaller({
      apiUrl: opts.apiUrl ?? SLACK_API_URL,
      token: opts.botToken,
      // views.open and friends race a 3-second trigger id: waiting longer is pointless.
      timeoutMs: Math.min(timeout, 5_000),
    }),
    json: jsonApiCaller({ apiUrl: opts.apiUrl ?? SLACK_API_URL, token: opts.botToken, timeoutMs: timeout }),
    rateScale: opts.rateScale,
    limits: opts.limits,
    callTimeoutMs: timeout,
  });
  return { sender, identity: new SlackIdentity(sender), clientOptions };
}
