import type { App } from '@slack/bolt';
import type { SlackContext } from './context.js';
import { registerActions } from './listeners/actions.js';
import { registerChangeLog } from './listeners/change-log.js';
import { registerCommands } from './listeners/commands.js';
import { registerEvents } from './listeners/events.js';
import { SlackRoutes } from './listeners/routes.js';
import { registerViews } from './listeners/views.js';

/** Every Slack listener, grouped by surface. */
export function registerSlackListeners(app: App, ctx: SlackContext): void {
  registerCommands(app, ctx);
  const routes = new SlackRoutes();
  registerActions(routes, ctx);
  registerViews(routes, ctx);
  routes.register(app);
  registerEvents(app, ctx);
  registerChangeLog(app, ctx);
}
