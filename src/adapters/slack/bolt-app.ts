import { App, type Authorize, ExpressReceiver, SocketModeReceiver } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import type { Express } from 'express';
import type { AppConfig } from '../../config/env.js';
import type { InFlight } from '../../infra/inflight.js';
import { type Logger, toBoltLogger } from '../../infra/logger.js';
import type { SlackIdentity } from '../../infra/slack/identity.js';
import type { ArrivalRate } from '../../infra/work-queue.js';
import { rawBodyWithin, SLACK_BODY_LIMIT } from '../http/body.js';
import { UNEXPECTED } from './copy.js';

/**
 * Bolt middleware this app has no use for, left out of every request's path to its ack: no listener
 * reads conversation context, and the only event handled (app_home_opened) is never the bot's own.
 */
const LEAN = { convoStore: false, ignoreSelf: false } as const;

export interface BoltSetup {
  app: App;
  socketReceiver: SocketModeReceiver | null;
}

/**
 * The Bolt app. HTTP mode mounts Slack's request URL `/slack/events` on the app's own HTTP server
 * (next to /healthz, /readyz and /api/v1); Socket Mode connects out and needs no public URL. Every
 * WebClient it creates, Socket Mode's included, talks to SLACK_API_URL when set.
 */
export function createBoltApp(opts: {
  config: AppConfig;
  logger: Logger;
  http: Express;
  inflight: InFlight;
  /** Counts Slack requests, so post-ack work can give way to acks during a burst. */
  arrivals: ArrivalRate;
  clientOptions: WebClientOptions;
  identity: SlackIdentity;
}): BoltSetup {
  const { config, logger, clientOptions } = opts;
  const boltLogger = toBoltLogger(logger);
  const slackApiUrl = config.slack.apiUrl;
  const botToken = config.slack.botToken;
  // Our own authorize (instead of `token`): Bolt's built-in one caches a failed auth.test forever.
  const authorize: Authorize<boolean> = async () => {
    const me = await opts.identity.get();
    return { botToken, botId: me.botId, botUserId: me.botUserId, teamId: me.teamId };
  };

  let app: App;
  let socketReceiver: SocketModeReceiver | null = null;
  if (config.slack.socketMode) {
    socketReceiver = new SocketModeReceiver({
      appToken: config.slack.appToken!,
      logger: boltLogger,
      installerOptions: { clientOptions: slackApiUrl ? { slackApiUrl } : {} },
    });
    app = new App({ authorize, receiver: socketReceiver, logger: boltLogger, clientOptions, ...LEAN });
  } else {
    // The body is read within its limit before Bolt sees it (Bolt takes it from req.rawBody), so
    // the signature check and parsing only ever work on a small body.
    opts.http.use('/slack/events', rawBodyWithin(SLACK_BODY_LIMIT));
    const receiver = new ExpressReceiver({
      signingSecret: config.slack.signingSecret!,
      endpoints: '/slack/events',
      app: opts.http,
      logger: boltLogger,
      processBeforeResponse: false,
      processEventErrorHandler: async ({ error, response, logger: l }) => {
        l.error(`a Slack request failed: ${(error as Error).message}`);
        if (response.headersSent) return false;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ response_type: 'ephemeral', text: UNEXPECTED }));
        return true;
      },
    });
    app = new App({ authorize, receiver, logger: boltLogger, clientOptions, ...LEAN });
  }
  // Track each event's processing (which continues after ack) so shutdown can wait for it.
  app.use(async (args) => {
    opts.arrivals.arrived();
    const foreign = await foreignOrigin(args.body, opts.identity);
    if (foreign) {
      logger.warn('ignored a Slack request from outside this installation', { component: 'bolt', foreign });
      const ack = (args as { ack?: (r?: unknown) => Promise<void> }).ack;
      await ack?.(
        'command' in args
          ? {
              response_type: 'ephemeral',
              text: 'This Changegate serves another workspace; nothing was done.',
            }
          : undefined,
      );
      return;
    }
    await opts.inflight.track(args.next());
  });
  app.error(async (error) => {
    logger.error('unhandled error in a Slack listener', { component: 'bolt', err: error });
  });
  return { app, socketReceiver };
}

/**
 * Why a (correctly signed) request does not belong to this installation: another app, or a user or
 * workspace outside the one the app is installed in (a Slack Connect channel, another workspace of
 * the organisation). Null when it belongs, or when the app's own identity is not known yet (the
 * standing check on every decision still refuses outsiders then).
 */
async function foreignOrigin(body: unknown, identity: SlackIdentity): Promise<string | null> {
  const me = await identity.get().catch(() => null);
  if (!me) return null;
  const b = body as {
    api_app_id?: string;
    team_id?: string;
    team?: { id?: string } | null;
    enterprise_id?: string;
    enterprise?: { id?: string } | null;
    user?: { team_id?: string };
    user_team_id?: string;
  };
  if (me.appId && b.api_app_id && b.api_app_id !== me.appId) return `app ${b.api_app_id}`;
  const enterprise = b.enterprise?.id ?? b.enterprise_id ?? null;
  if (me.enterpriseId && enterprise === me.enterpriseId) return null;
  for (const team of [b.team_id, b.team?.id, b.user?.team_id, b.user_team_id])
    if (team && team !== me.teamId) return `workspace ${team}`;
  return null;
}
