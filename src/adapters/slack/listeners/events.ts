import type { App } from '@slack/bolt';
import type { SlackContext } from '../context.js';

const EVENT_KEY_TTL_MS = 24 * 3_600_000;

/** Events API: App Home. Slack retries an event it thinks failed; the event_id claim skips repeats. */
export function registerEvents(app: App, ctx: SlackContext): void {
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
