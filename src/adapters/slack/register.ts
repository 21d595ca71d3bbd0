import type { App, SocketModeReceiver } from '@slack/bolt';
import type { Express } from 'express';
import type { BoardNotifier, Deps } from '../../application/ports.js';
import type { AppConfig } from '../../config/env.js';
import type { IdempotencyStore } from '../../infra/db/idempotency.js';
import type { InFlight } from '../../infra/inflight.js';
import type { Logger } from '../../infra/logger.js';
import type { SlackApi } from '../../infra/slack/clients.js';
import type { SlackDirectory } from '../../infra/slack/directory.js';
import { ArrivalRate, WorkQueue } from '../../infra/work-queue.js';
import { createBoltApp } from './bolt-app.js';
import { ClickThrottle, type ThrottleOptions } from './click-throttle.js';
import type { SlackContext } from './context.js';
import type { HomePublisher } from './home-publisher.js';
import { registerActions } from './listeners/actions.js';
import { registerBoards } from './listeners/boards.js';
import { registerChangeLog } from './listeners/change-log.js';
import { registerCommands } from './listeners/commands.js';
import { registerDelegation } from './listeners/delegation.js';
import { registerEvents } from './listeners/events.js';
import { SlackRoutes } from './listeners/routes.js';
import { registerSetup } from './listeners/setup.js';
import { registerViews } from './listeners/views.js';

/** Every Slack listener, grouped by surface. */
export function registerSlackListeners(app: App, ctx: SlackContext): void {
  registerCommands(app, ctx);
  const routes = new SlackRoutes();
  registerActions(routes, ctx);
  registerViews(routes, ctx);
  registerSetup(routes, ctx);
  registerDelegation(routes, ctx);
  registerBoards(routes, ctx);
  routes.register(app);
  registerEvents(app, ctx);
  registerChangeLog(app, ctx);
}

export interface SlackDoor {
  bolt: App;
  /** Set in Socket Mode, which connects out instead of taking requests on the HTTP server. */
  socketReceiver: SocketModeReceiver | null;
  context: SlackContext;
}

/**
 * The Slack door: the Bolt app on the HTTP server (or Socket Mode), the queue post-ack work runs in,
 * the per-person throttle, and every listener.
 */
export function mountSlack(opts: {
  config: AppConfig;
  logger: Logger;
  http: Express;
  inflight: InFlight;
  deps: Deps;
  api: SlackApi;
  directory: SlackDirectory;
  home: HomePublisher;
  boards: BoardNotifier;
  idempotency: IdempotencyStore;
  workConcurrency?: number;
  throttle?: Partial<ThrottleOptions>;
}): SlackDoor {
  const { logger, inflight } = opts;
  const arrivals = new ArrivalRate();
  const { app: bolt, socketReceiver } = createBoltApp({
    config: opts.config,
    logger,
    http: opts.http,
    inflight,
    arrivals,
    clientOptions: opts.api.clientOptions,
    identity: opts.api.identity,
  });
  const context: SlackContext = {
    deps: opts.deps,
    sender: opts.api.sender,
    directory: opts.directory,
    home: opts.home,
    boards: opts.boards,
    idempotency: opts.idempotency,
    logger,
    work: new WorkQueue(opts.workConcurrency ?? 4, {
      busy: arrivals.busy,
      inflight,
      onError: (err) => logger.error('post-ack work failed', { err }),
    }),
    throttle: new ClickThrottle(opts.throttle),
  };
  registerSlackListeners(bolt, context);
  return { bolt, socketReceiver, context };
}
