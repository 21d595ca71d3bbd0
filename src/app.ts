import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { App } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { Connection } from 'mongoose';
import { apiRouter } from './adapters/http/api/router.js';
import { healthRoutes } from './adapters/http/health.routes.js';
import { createHttpApp, finishHttpApp, listen, type RunningHttpServer } from './adapters/http/server.js';
import { registerJobs } from './adapters/jobs/register.js';
import { createBoltApp } from './adapters/slack/bolt-app.js';
import { SlackChangeNotifier } from './adapters/slack/change-notifier.js';
import { ClickThrottle, type ThrottleOptions } from './adapters/slack/click-throttle.js';
import type { SlackContext, SlackExtensions } from './adapters/slack/context.js';
import { HomePublisher } from './adapters/slack/home-publisher.js';
import { registerSlackListeners } from './adapters/slack/register.js';
import { SlackReminderNotifier } from './adapters/slack/reminder-notifier.js';
import { SlackReportNotifier } from './adapters/slack/report-notifier.js';
import { tokenCommands } from './adapters/slack/token-commands.js';
import { buildHome } from './application/build-home.js';
import { chasePendingApprovals } from './application/chase-pending-approvals.js';
import { chaseRetrospectives } from './application/chase-retrospectives.js';
import { chaseVerifications } from './application/chase-verifications.js';
import { type EffectsSweep, retryPendingEffects } from './application/effects.js';
import type { Deps } from './application/ports.js';
import { postMonthlyReport, type ReportDeps } from './application/post-monthly-report.js';
import { remindUpcomingWindows } from './application/remind-upcoming-windows.js';
import type { SweepResult } from './application/reminder-sweep.js';
import { repairInterruptedSubmissions } from './application/repair-changes.js';
import { sendDigests } from './application/send-digests.js';
import type { AppConfig } from './config/env.js';
import type { LoadedPolicy } from './config/policy.js';
import { type Clock, systemClock } from './domain/time.js';
import { ChangeRepository } from './infra/db/change-repository.js';
import {
  closeDatabase,
  connectDatabase,
  type DbInfo,
  databaseInfo,
  pingDatabase,
} from './infra/db/connection.js';
import { DeliveryLedger } from './infra/db/delivery-ledger.js';
import { MongoEffectsOutbox } from './infra/db/effects-outbox.js';
import { IdempotencyStore } from './infra/db/idempotency.js';
import { createModels, ensureIndexes, type Models } from './infra/db/models.js';
import { InFlight } from './infra/inflight.js';
import { type Logger, toBoltLogger } from './infra/logger.js';
import { Scheduler } from './infra/scheduler.js';
import { SlackDirectory } from './infra/slack/directory.js';
import { type BotIdentity, SlackIdentity } from './infra/slack/identity.js';
import { type MethodLimit, SlackApiError, SlackSender } from './infra/slack/sender.js';
import { ArrivalRate, WorkQueue } from './infra/work-queue.js';

export interface StartOptions {
  config: AppConfig;
  logger: Logger;
  policy: LoadedPolicy;
  mongoUri: string;
  /** Database name (tests use one per worker and file); default: the one in the URI, or "changegate". */
  dbName?: string;
  clock?: Clock;
  slack?: {
    webApiRetries?: number;
    rateScale?: number;
    limits?: Record<string, MethodLimit>;
    workConcurrency?: number;
    throttle?: Partial<ThrottleOptions>;
    /** How long a Web API call may take before it fails (default 10 s). */
    timeoutMs?: number;
  };
  scheduler?: { enabled?: boolean; processEvery?: string | number; name?: string };
  reminders?: { interval?: string; leaseMs?: number; concurrency?: number };
  /** Interrupted or unannounced submissions are repaired once this old (default 60 s). */
  repair?: { afterMs?: number; interval?: string };
}

export interface ReminderRunner {
  approvals(): Promise<SweepResult>;
  windows(): Promise<SweepResult>;
  verifications(): Promise<SweepResult>;
  retrospectives(): Promise<SweepResult>;
  digests(): Promise<SweepResult>;
  monthlyReport(): ReturnType<typeof postMonthlyReport>;
  all(): Promise<SweepResult>;
}

export interface Changegate {
  port: number;
  url: string;
  http: RunningHttpServer;
  bolt: App;
  deps: Deps;
  slack: SlackContext;
  models: Models;
  conn: Connection;
  db: DbInfo;
  scheduler: Scheduler;
  sender: SlackSender;
  identity: SlackIdentity;
  bot: BotIdentity | null;
  idempotency: IdempotencyStore;
  inflight: InFlight;
  /** The reminder sweeps, callable directly (the scheduled jobs call the same functions). */
  reminders: ReminderRunner;
  /** The retry of Slack effects that failed, callable directly (the scheduled job calls it too). */
  retryEffects(): Promise<EffectsSweep>;
  stop(): Promise<void>;
}

function databaseInUri(uri: string): boolean {
  const path = uri.replace(/^mongodb(\+srv)?:\/\/[^/]*/, '').split('?')[0] ?? '';
  return path.replace(/^\//, '').length > 0;
}

export class SlackAuthError extends Error {
  readonly code = 'SLACK_AUTH_REJECTED';
}

const FATAL_AUTH = new Set([
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
  'not_allowed_token_type',
]);

/** auth.test at start-up: a rejected token stops the start; an unreachable Slack only warns (it is retried later). */
async function checkSlackIdentity(identity: SlackIdentity, logger: Logger): Promise<BotIdentity | null> {
  try {
    const me = await Promise.race([
      identity.get(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('auth.test timed out after 5 s')), 5_000).unref(),
      ),
    ]);
    logger.info('connected to Slack', { component: 'slack', team: me.teamId, botUserId: me.botUserId });
    return me;
  } catch (err) {
    if (err instanceof SlackApiError && FATAL_AUTH.has(err.slackError)) {
      throw new SlackAuthError(
        `Slack rejected SLACK_BOT_TOKEN (${err.slackError}). Copy the Bot User OAuth Token again from "OAuth & Permissions".`,
      );
    }
    logger.warn(
      'Slack is not reachable right now; Changegate starts anyway and retries on the next request',
      { component: 'slack', err: (err as Error).message },
    );
    return null;
  }
}

/**
 * The composition root: configuration → database → Slack app + HTTP routes → scheduler.
 * `main.ts` calls it for `npm start`; the integration tests call it to run the real app in-process.
 */
export async function startChangegate(opts: StartOptions): Promise<Changegate> {
  const { config, logger, policy } = opts;
  const clock = opts.clock ?? systemClock;

  const conn = await connectDatabase(opts.mongoUri, logger);
  const dbName = opts.dbName ?? (databaseInUri(opts.mongoUri) ? undefined : 'changegate');
  const db = dbName ? conn.useDb(dbName, { useCache: true }) : conn;
  const models = createModels(db);
  await ensureIndexes(Object.values(models));
  const info = await databaseInfo(db);
  logger.info('database ready', {
    component: 'db',
    flavor: info.flavor,
    version: info.version,
    database: db.name,
  });
  await models.PolicyVersion.updateOne(
    { _id: policy.hash },
    { $setOnInsert: { source: policy.source, yaml: policy.yaml, firstSeenAt: clock.now() } },
    { upsert: true },
  );

  const http = createHttpApp();
  const inflight = new InFlight();
  const scheduler = new Scheduler(db.db!, logger, {
    processEvery: opts.scheduler?.processEvery ?? config.scheduler.interval,
    name: opts.scheduler?.name ?? `changegate-${process.pid}`,
  });
  http.use(healthRoutes({ database: () => pingDatabase(db), scheduler: () => scheduler.isRunning() }));

  const clientOptions: WebClientOptions = {
    ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
    // Reuse connections to Slack: without keep-alive every call pays a TCP (and TLS) handshake.
    agent: keepAliveAgent(config.slack.apiUrl ?? 'https://slack.com/api/'),
    retryConfig: { retries: opts.slack?.webApiRetries ?? 0 }, // the sender retries what is safe to retry
    // Every call ends: a hung Slack fails the call after this long instead of holding its caller.
    timeout: opts.slack?.timeoutMs ?? 10_000,
    rejectRateLimitedCalls: true, // the sender paces calls and honours Retry-After itself
    logger: toBoltLogger(logger, 'slack-web-api'),
  };
  const sender = new SlackSender(new WebClient(config.slack.botToken, clientOptions), logger, {
    interactiveClient: new WebClient(config.slack.botToken, {
      ...clientOptions,
      agent: keepAliveAgent(config.slack.apiUrl ?? 'https://slack.com/api/'),
      // views.open and friends race a 3-second trigger id: waiting longer is pointless.
      timeout: Math.min(opts.slack?.timeoutMs ?? 10_000, 5_000),
    }),
    rateScale: opts.slack?.rateScale,
    limits: opts.slack?.limits,
  });
  const identity = new SlackIdentity(sender);
  const arrivals = new ArrivalRate();
  const { app: bolt, socketReceiver } = createBoltApp({
    config,
    logger,
    http,
    inflight,
    arrivals,
    clientOptions,
    identity,
  });
  const directory = new SlackDirectory(sender, policy.policy, logger, identity);
  const changes = new ChangeRepository(models, info.flavor);
  const idempotency = new IdempotencyStore(models, clock);

  // The notifier needs App Home, and App Home needs the use-case deps: close the loop lazily.
  const depsRef: { current: Deps | null } = { current: null };
  const home = new HomePublisher((userId) => buildHome(depsRef.current!, userId), sender, models, logger);
  const notifier = new SlackChangeNotifier(sender, changes, policy, clock, logger, home);
  const deps: Deps = {
    clock,
    logger,
    policy,
    changes,
    directory,
    notifier,
    effects: new MongoEffectsOutbox(models),
    background: inflight,
  };
  depsRef.current = deps;
  http.use('/api/v1', apiRouter(deps));

  const extensions: SlackExtensions = { token: tokenCommands(deps) };
  const work = new WorkQueue(opts.slack?.workConcurrency ?? 4, {
    busy: arrivals.busy,
    inflight,
    onError: (err) => logger.error('post-ack work failed', { err }),
  });
  const slack: SlackContext = {
    deps,
    sender,
    directory,
    home,
    idempotency,
    logger,
    extensions,
    work,
    throttle: new ClickThrottle(opts.slack?.throttle),
  };
  registerSlackListeners(bolt, slack);
  const shutdown = new AbortController();
  const reminderDeps: ReportDeps = {
    ...deps,
    reminders: new SlackReminderNotifier(deps, sender),
    reports: new SlackReportNotifier(sender),
    deliveries: new DeliveryLedger(models, opts.reminders?.leaseMs ?? 5 * 60_000),
    // Enough reminders prepared ahead to keep Slack's rate limit busy for 3 s of database slowness.
    concurrency:
      opts.reminders?.concurrency ?? Math.max(16, Math.ceil(sender.perSecond('chat.postMessage') * 3)),
    stopping: shutdown.signal,
  };
  registerJobs(scheduler, {
    deps,
    reminders: reminderDeps,
    idempotency,
    logger,
    reminderInterval: opts.reminders?.interval ?? '1 minute',
    repair: { afterMs: opts.repair?.afterMs ?? 60_000, interval: opts.repair?.interval ?? '5 minutes' },
  });
  const reminders = {
    approvals: () => chasePendingApprovals(reminderDeps),
    windows: () => remindUpcomingWindows(reminderDeps),
    verifications: () => chaseVerifications(reminderDeps),
    retrospectives: () => chaseRetrospectives(reminderDeps),
    digests: () => sendDigests(reminderDeps),
    monthlyReport: () => postMonthlyReport(reminderDeps),
    all: async () => {
      const results = [
        await chasePendingApprovals(reminderDeps),
        await remindUpcomingWindows(reminderDeps),
        await chaseVerifications(reminderDeps),
        await chaseRetrospectives(reminderDeps),
        await sendDigests(reminderDeps),
      ];
      return results.reduce((a, r) => ({
        examined: a.examined + r.examined,
        due: a.due + r.due,
        sent: a.sent + r.sent,
        skipped: a.skipped + r.skipped,
        failed: a.failed + r.failed,
      }));
    },
  };
  finishHttpApp(http, logger);

  const me = await checkSlackIdentity(identity, logger);

  const server = await listen(http, config.port, config.host);
  if (socketReceiver) await bolt.start();
  if (opts.scheduler?.enabled ?? config.scheduler.enabled) await scheduler.start();
  // In the background, and not waited for at shutdown: on a large history the scan must delay
  // neither start-up nor stop, and the repair job repeats it.
  void repairInterruptedSubmissions(deps, opts.repair?.afterMs).catch((err) =>
    logger.warn('could not check for interrupted submissions', { err }),
  );

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      logger.info('shutting down: no new requests, finishing in-flight work');
      shutdown.abort(); // scheduled sweeps take nothing new from here on
      await server.close();
      if (socketReceiver)
        await bolt.stop().catch((err: unknown) => logger.warn('socket mode stop failed', { err }));
      const drained = await inflight.drain(15_000);
      if (!drained)
        logger.warn('some in-flight work did not finish within 15 s', { remaining: inflight.size });
      await scheduler.stop().catch((err) => logger.warn('scheduler stop failed', { err }));
      await closeDatabase(conn).catch((err) => logger.warn('database close failed', { err }));
      logger.info('stopped');
    })();
    return stopping;
  };

  return {
    port: server.port,
    url: `http://127.0.0.1:${server.port}`,
    http: server,
    bolt,
    deps,
    slack,
    models,
    conn: db,
    db: info,
    scheduler,
    sender,
    identity,
    bot: me,
    idempotency,
    inflight,
    reminders,
    retryEffects: () => retryPendingEffects(deps),
    stop,
  };
}

function keepAliveAgent(apiUrl: string): HttpAgent {
  const options = { keepAlive: true, maxSockets: 50 };
  return apiUrl.startsWith('http:') ? new HttpAgent(options) : new HttpsAgent(options);
}
