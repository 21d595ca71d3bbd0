import type { App } from '@slack/bolt';
import type { SlackContext } from '../context.js';

const EVENT_KEY_TTL_MS = 24 * 3_600_000;

/**
 * Events API: App Home, and the directory events that keep who-may-approve current. Slack retries
 * an event it thinks failed; the event_id claim skips repeated App Home publishes, and the directory
 * events are safe to repeat (they only make the next look-up ask Slack).
 */
export function registerEvents(app: App, ctx: SlackContext): void {
  // Someone added to or removed from a user group: an approver removed loses the right at once.
  app.event('subteam_members_changed', async ({ event }) => {
    ctx.directory.groupChanged(event.subteam_id);
    ctx.logger.info('user group changed', { component: 'directory', groupId: event.subteam_id });
  });
  app.event('subteam_updated', async ({ event }) => {
    const group = event.subteam as { id?: string; users?: string[] };
    if (group.id) ctx.directory.groupUpdated(group.id, Array.isArray(group.users) ? group.users : null);
  });
  // A person deactivated, made a guest or otherwise changed: looked up again before their next decision.
  app.event('user_change', async ({ event }) => {
    const user = event.user as { id?: string };
    if (user.id) ctx.directory.personChanged(user.id);
  });

  app.event('app_home_opened', async ({ event, body }) => {
    if (event.tab !== 'home') return;
    const eventId = (body as { event_id?: string }).event_id;
    try {
      if (eventId && !(await ctx.idempotency.claim(`event:${eventId}`, EVENT_KEY_TTL_MS))) {
        ctx.logger.debug('skipping a repeated event', { eventId });
        return;
      }
      await ctx.home.opened(event.user, ctx.deps.clock.now());
    } catch (err) {
      ctx.logger.error('could not publish App Home', { userId: event.user, err });
      if (eventId) await ctx.idempotency.release(`event:${eventId}`).catch(() => undefined);
    }
  });
}
