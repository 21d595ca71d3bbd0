import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { Logger } from '../logger.js';
import { toBoltLogger } from '../logger.js';
import { SlackIdentity } from './identity.js';
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

/** The Web API clients: one sender for every call (paced, retried where safe), and who the bot is. */
export interface SlackApi {
  sender: SlackSender;
  identity: SlackIdentity;
  /** For Bolt's own WebClient, so it talks to the same Slack the same way. */
  clientOptions: WebClientOptions;
}

function keepAliveAgent(apiUrl: string): HttpAgent {
  const options = { keepAlive: true, maxSockets: 50 };
  return apiUrl.startsWith('http:') ? new HttpAgent(options) : new HttpsAgent(options);
}

export function createSlackApi(opts: SlackApiOptions, logger: Logger): SlackApi {
  const base = opts.apiUrl ?? 'https://slack.com/api/';
  const timeout = opts.timeoutMs ?? 10_000;
  const clientOptions: WebClientOptions = {
    ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}),
    // Reuse connections to Slack: without keep-alive every call pays a TCP (and TLS) handshake.
    agent: keepAliveAgent(base),
    retryConfig: { retries: opts.webApiRetries ?? 0 }, // the sender retries what is safe to retry
    // Every call ends: a hung Slack fails the call after this long instead of holding its caller.
    timeout,
    rejectRateLimitedCalls: true, // the sender paces calls and honours Retry-After itself
    logger: toBoltLogger(logger, 'slack-web-api'),
  };
  const sender = new SlackSender(new WebClient(opts.botToken, clientOptions), logger, {
    interactiveClient: new WebClient(opts.botToken, {
      ...clientOptions,
      agent: keepAliveAgent(base),
      // views.open and friends race a 3-second trigger id: waiting longer is pointless.
      timeout: Math.min(timeout, 5_000),
    }),
    rateScale: opts.rateScale,
    limits: opts.limits,
  });
  return { sender, identity: new SlackIdentity(sender), clientOptions };
}
