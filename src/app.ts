import type { App } from '@slack/bolt';
import type { Connection } from 'mongoose';
import { apiRouter } from './adapters/http/api/router.js';
import { githubRoutes } from './adapters/http/github.routes.js';
import { healthRoutes } from './adapters/http/health.routes.js';
import { createHttpApp, finishHttpApp, listen, type RunningHttpServer } from './adapters/http/server.js';
import { type ReminderRunner, registerJobs } from './adapters/jobs/register.js';
import { SlackAuditWitness } from './adapters/slack/audit-witness.js';
import { SlackBoardNotifier } from './adapters/slack/board-notifier.js';
import { SlackChangeNotifier } from './adapters/slack/change-notifier.js';
import type { ThrottleOptions } from './adapters/slack/click-throttle.js';
import type { SlackContext } from './adapters/slack/context.js';
import { HomePublisher } from './adapters/slack/home-publisher.js';
import { mountSlack } from './adapters/slack/register.js';
import { SlackReminderNotifier } from './adapters/slack/reminder-notifier.js';
import { SlackReportNotifier } from './adapters/slack/report-notifier.js';
import { connectSocketMode, type SocketModeLink } from './adapters/slack/socket-mode.js';
import { issueSetupCode } from './application/administer-policy.js';
import { catchUpLedger } from './application/audit-ledger.js';
import { buildHome } from './application/build-home.js';
import { DelegationBook } from './application/delegations.js';
import { type EffectsSweep, retryPendingEffects } from './application/effects.js';
import { type GithubGateDeps, settleGates } from './application/github-gates.js';
import { PolicyBook } from './application/policy-book.js';
import type { Deps, ReadDeps } from './application/ports.js';
import type { ReportDeps } from './application/post-monthly-report.js';
import { SweepMemo } from './application/reminder-sweep.js';
import { repairInterruptedSubmissions } from './application/repair-changes.js';
import { maintainRollups } from './application/rollups.js';
import type { AppConfig } from './config/env.js';
import { emptyRoleWarnings, type LoadedPolicy } from './config/policy.js';
import { approversOf } from './domain/policy.js';
import { hasAdmin } from './domain/policy-admin.js';
import { quorumShortfalls } from './domain/stages.js';
import { type Clock, systemClock } from './domain/time.js';
import { loadAuditKeys } from './infra/audit-key.js';
import type { DbInfo } from './infra/db/connection.js';
import type { IdempotencyStore } from './infra/db/idempotency.js';
import type { Models } from './infra/db/models.js';
import { type Database, ledgers, openDatabase } from './infra/db/open.js';
import { GithubClient } from './infra/github/client.js';
import { InFlight } from './infra/inflight.js';
import type { Logger } from './infra/logger.js';
import { Scheduler } from './infra/scheduler.js';
import { appConnectionOpener, createSlackApi } from './infra/slack/clients.js';
import { SlackDirectory } from './infra/slack/directory.js';
import { type BotIdentity, checkBotToken, type SlackIdentity } from './infra/slack/identity.js';
import type { MethodLimit, SlackSender } from './infra/slack/sender.js';

export { SlackAuthError } from './infra/slack/identity.js';
export type { ReminderRunner };

export interface StartOptions {
  config: AppConfig;
  logger: Logger;
  policy: LoadedPolicy;
  /**
   * `file` (default): `policy` is CHANGEGATE_POLICY's and wins; setup in Slack is read-only.
   * `database`: the latest version published in the database is in force (`policy` is where a new
   * database starts) and admins edit it from App Home.
   */
  policySource?: 'file' | 'database';
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
  /** How often pending change-log rollup differences are folded in (default 2 s). */
  rollups?: { everyMs?: number };
  /**
   * Interrupted or unannounced submissions are repaired once this old (default 60 s); a claim to
   * announce a change is taken over once `leaseMs` old (default 5 minutes).
   */
  repair?: { afterMs?: number; interval?: string; leaseMs?: number };
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
  /** The one-time setup code printed at start-up (null: an admin exists, or the file is in force). */
  setupCode: string | null;
  /** The one-time ledger migration started at start-up (resolved at once when it was done before). */
  ledgerCaughtUp: Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * A graceful stop: no new requests (HTTP, Socket Mode), sweeps take no further work, in-flight work
 * (decisions, Slack effects) finishes, then the scheduler and the database close.
 */
function gracefulStop(parts: {
  logger: Logger;
  stopping: AbortController;
  server: RunningHttpServer;
  door: { bolt: App; socketMode: boolean };
  inflight: InFlight;
  scheduler: Scheduler;
  db: Database;
}): () => Promise<void> {
  const { logger, server, door, inflight, scheduler, db } = parts;
  let stopped: Promise<void> | null = null;
  return () => {
    stopped ??= (async () => {
      logger.info('shutting down: no new requests, finishing in-flight work');
      parts.stopping.abort(); // scheduled sweeps take nothing new from here on
      await server.close();
      if (door.socketMode)
        // Bounded: a connection still being opened must not hold the stop.
        await Promise.race([
          door.bolt.stop().catch((err: unknown) => logger.warn('socket mode stop failed', { err })),
          new Promise((r) => setTimeout(r, 3_000).unref()),
        ]);
      if (!(await inflight.drain(15_000)))
        logger.warn('some in-flight work did not finish within 15 s', { remaining: inflight.size });
      await scheduler.stop().catch((err) => logger.warn('scheduler stop failed', { err }));
      await db.ledger.flush().catch((err) => logger.warn('ledger flush failed', { err }));
      await db.close().catch((err) => logger.warn('database close failed', { err }));
      logger.info('stopped');
    })();
    return stopped;
  };
}

/**
 * The composition root: database → Slack API → the application's dependencies → the doors (Slack,
 * HTTP API, health) → scheduled jobs → listening. `main.ts` calls it for `npm start`; the
 * integration tests call it to run the real app in-process.
 */
export async function startChangegate(opts: StartOptions): Promise<Changegate> {
  const { config, logger } = opts;
  const clock = opts.clock ?? systemClock;

  const audit = loadAuditKeys(config.audit, {
    production: config.production,
    dataDir: config.dataDir,
    logger,
  });
  const db = await openDatabase(opts.mongoUri, logger, opts.dbName, audit.signer, {
    announceLeaseMs: opts.repair?.leaseMs,
  });
  logger.info('database ready', {
    component: 'db',
    flavor: db.info.flavor,
    version: db.info.version,
    database: db.conn.name,
  });
  const policies = new PolicyBook({
    store: db.policies,
    clock,
    logger,
    signer: audit.signer,
    file: (opts.policySource ?? 'file') === 'file' ? opts.policy : null,
    initial: opts.policy,
    envAdmins: config.admins,
  });
  await policies.init();
  const policy = policies.live;
  logger.info('policy in force', {
    component: 'policy',
    source: policy.source,
    hash: policy.hash,
    version: policies.number,
    readOnly: policies.readOnly,
  });
  for (const w of emptyRoleWarnings(policy.policy)) logger.warn(`policy: ${w}`);
  const setupCode = await issueSetupCode(policies, db.policies, clock);
  if (setupCode)
    logger.warn(
      `No Changegate admin yet. Open Changegate's Home tab in Slack and enter this one-time setup code: ${setupCode} (or set CHANGEGATE_ADMINS).`,
      { component: 'setup' },
    );
  else if (!hasAdmin(policy.policy))
    logger.warn(
      `No Changegate admin: the policy file names nobody in an admin role. Add someone to it or set CHANGEGATE_ADMINS.`,
      { component: 'setup' },
    );
  const { idempotency, deliveries } = ledgers(db, clock, opts.reminders?.leaseMs ?? 5 * 60_000);

  const api = createSlackApi(
    { apiUrl: config.slack.apiUrl ?? null, botToken: config.slack.botToken, ...opts.slack },
    logger,
  );
  const inflight = new InFlight();
  const directory = new SlackDirectory(api.sender, policy, logger, api.identity);
  const reads: ReadDeps = {
    clock,
    logger,
    policy,
    policies,
    delegations: new DelegationBook(db.delegations, audit.signer),
    boards: db.boards,
    rollups: db.rollups,
    changes: db.changes,
    directory,
    ledger: db.ledger,
    audit,
  };
  const home = new HomePublisher((userId) => buildHome(reads, userId), api.sender, db.models, logger);
  const slackNotifier = new SlackChangeNotifier(
    api.sender,
    db.changes,
    policy,
    clock,
    logger,
    home,
    api.identity,
  );
  // GitHub deployment protection rules waiting on a change are answered after each of its events.
  let githubGates: GithubGateDeps | null = null;
  const deps: Deps = {
    ...reads,
    witness: new SlackAuditWitness(api.sender, policy, directory, api.identity, logger),
    tokens: db.tokens,
    githubUsers: db.githubUsers,
    githubLinks: db.githubLinks,
    notifier: {
      changed: async (change, progress) => {
        await slackNotifier.changed(change, progress);
        if (githubGates)
          await settleGates(githubGates, change.state).catch((err) =>
            logger.warn('could not settle GitHub deployment protection rules', { component: 'github', err }),
          );
      },
      postedRoots: () => slackNotifier.postedRoots(),
    },
    effects: db.effects,
    background: inflight,
  };

  if (config.github?.privateKey)
    githubGates = {
      deps,
      gh: new GithubClient(
        { appId: config.github.appId, privateKey: config.github.privateKey, apiUrl: config.github.apiUrl },
        logger,
      ),
      gates: db.githubGates,
      links: db.githubLinks,
    };

  const scheduler = new Scheduler(db.conn.db!, logger, {
    processEvery: opts.scheduler?.processEvery ?? config.scheduler.interval,
    name: opts.scheduler?.name ?? `changegate-${process.pid}`,
  });
  const http = createHttpApp();
  let socket: SocketModeLink | null = null;
  http.use(
    healthRoutes({
      database: db.ping,
      scheduler: () => scheduler.isRunning(),
      slack: () => (socket ? socket.state() === 'connected' : null),
    }),
  );
  const boards = new SlackBoardNotifier(api.sender, policy, logger);
  const slack = mountSlack({
    config,
    logger,
    http,
    inflight,
    deps,
    api,
    directory,
    home,
    boards,
    idempotency,
    workConcurrency: opts.slack?.workConcurrency,
    throttle: opts.slack?.throttle,
  });
  http.use('/api/v1', apiRouter(deps));
  if (config.github)
    http.use(
      githubRoutes({
        secret: config.github.webhookSecret,
        deps,
        links: db.githubLinks,
        idempotency,
        inflight,
        logger,
        gates: githubGates,
        gateStore: db.githubGates,
      }),
    );
  finishHttpApp(http, logger);

  const stopping = new AbortController();
  const reminderDeps: ReportDeps = {
    ...deps,
    reminders: new SlackReminderNotifier(deps, api.sender),
    reports: new SlackReportNotifier(api.sender),
    deliveries,
    memo: new SweepMemo(),
    // Enough reminders prepared ahead to keep Slack's rate limit busy for 3 s of database slowness.
    concurrency:
      opts.reminders?.concurrency ?? Math.max(16, Math.ceil(api.sender.perSecond('chat.postMessage') * 3)),
    stopping: stopping.signal,
  };
  const reminders = registerJobs(scheduler, {
    deps,
    reminders: reminderDeps,
    idempotency,
    logger,
    reminderInterval: opts.reminders?.interval ?? '1 minute',
    repair: { afterMs: opts.repair?.afterMs ?? 60_000, interval: opts.repair?.interval ?? '5 minutes' },
    checkpointInterval: config.audit.checkpointInterval,
    boards,
  });

  const bot = await checkBotToken(api.identity, logger);
  // With user groups resolved, a quorum the eligible people cannot reach is a stage that never passes.
  void deps.directory
    .membership()
    .then((membership) => {
      for (const q of quorumShortfalls(policy.policy.stages, (a) =>
        approversOf(policy.policy, membership, a),
      ))
        logger.warn(
          `policy: stage "${q.stage}" (${q.name}) needs ${q.needed} approvers but only ${q.available} people can approve it; it can never pass until more are added`,
        );
    })
    .catch(() => undefined);
  // A version another replica published is taken up within seconds.
  const policyRefresh = setInterval(() => {
    void policies.refresh().catch((err) => logger.warn('could not read the policy history', { err }));
  }, 5_000);
  policyRefresh.unref();
  stopping.signal.addEventListener('abort', () => clearInterval(policyRefresh));
  const server = await listen(http, config.port, config.host);
  if (slack.socketReceiver) {
    // In the background: the app serves (and stops) whether or not Slack lets it connect.
    socket = connectSocketMode(
      slack.bolt,
      slack.socketReceiver,
      config.slack.appToken!,
      appConnectionOpener(config.slack.apiUrl ?? null, config.slack.appToken!),
      logger,
      stopping.signal,
    );
  }
  if (opts.scheduler?.enabled ?? config.scheduler.enabled) await scheduler.start();
  // In the background: on a large history the scan must not delay start-up. A stop lets the item in
  // hand finish (it is tracked) and starts no next one; the repair job repeats the rest.
  inflight.track(
    repairInterruptedSubmissions(deps, opts.repair?.afterMs, stopping.signal).catch((err) => {
      if (!stopping.signal.aborted) logger.warn('could not check for interrupted submissions', { err });
    }),
  );
  // The change log's rollups: built when missing (a first start, a policy whose clock, counts or
  // freezes changed), then each event's difference folded in within seconds.
  let maintaining = false;
  const maintain = () => {
    if (maintaining || stopping.signal.aborted) return;
    maintaining = true;
    inflight
      .track(maintainRollups(deps, stopping.signal))
      .catch((err) => {
        if (!stopping.signal.aborted) logger.warn('could not maintain the change-log rollups', { err });
      })
      .finally(() => {
        maintaining = false;
      });
  };
  maintain();
  const rollupTimer = setInterval(maintain, opts.rollups?.everyMs ?? 2_000);
  rollupTimer.unref();
  stopping.signal.addEventListener('abort', () => clearInterval(rollupTimer));
  // On a database from before the ledger, the one-time migration, while the app serves. Shutdown
  // waits for it (stopped, it is simply repeated at the next start). Entries a crash left out are
  // found by the daily verification.
  const ledgerCaughtUp = (async () => {
    if (await db.ledger.migration()) return;
    await catchUpLedger(deps, stopping.signal);
  })().catch((err) => {
    if (stopping.signal.aborted) return; // stopped on purpose: the next start repeats it
    logger.error('could not migrate the audit ledger; it is retried at the next start', {
      component: 'ledger',
      err,
    });
  });
  inflight.track(ledgerCaughtUp);

  return {
    port: server.port,
    url: `http://127.0.0.1:${server.port}`,
    http: server,
    bolt: slack.bolt,
    deps,
    slack: slack.context,
    models: db.models,
    conn: db.conn,
    db: db.info,
    scheduler,
    sender: api.sender,
    identity: api.identity,
    bot,
    idempotency,
    inflight,
    reminders,
    retryEffects: () => retryPendingEffects(deps),
    ledgerCaughtUp,
    setupCode,
    stop: gracefulStop({
      logger,
      stopping,
      server,
      door: { bolt: slack.bolt, socketMode: slack.socketReceiver !== null },
      inflight,
      scheduler,
      db,
    }),
  };
}
