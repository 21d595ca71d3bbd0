import { formatInZone } from '../../../domain/time.js';
import type { SlackContext } from '../context.js';
import { failureText } from '../copy.js';
import { delegateCommand } from '../delegate-command.js';
import { ACTIONS, DELEGATE_BLOCKS, VIEWS } from '../ids.js';
import { openView } from '../modal-helpers.js';
import { readValue, stateValuesSchema } from '../request-form.js';
import { delegateModal } from '../views/modals.js';
import type { SlackRoutes } from './routes.js';

/** Delegation from App Home: the same rules as `/change delegate` (application/delegations.ts). */
export function registerDelegation(routes: SlackRoutes, ctx: SlackContext): void {
  routes.action(ACTIONS.delegate, async ({ ack, body }) => {
    await ack();
    const today = formatInZone(ctx.deps.clock.now(), ctx.deps.policy.policy.timezone, 'YYYY-MM-DD');
    await openView(ctx.sender, (body as { trigger_id: string }).trigger_id, delegateModal(today));
  });

  routes.action(ACTIONS.delegateCancel, async ({ ack, body }) => {
    await ack();
    const user = body.user.id;
    ctx.work.submit(async () => {
      try {
        const { reply } = await delegateCommand(ctx.deps, ctx.sender, user, {
          kind: 'delegate',
          action: 'cancel',
        });
        await ctx.sender.call('chat.postMessage', { channel: user, text: reply.text });
        await ctx.home.publish(user);
      } catch (err) {
        ctx.logger.error('could not end a delegation', { userId: user, err });
      }
    });
  });

  routes.view(VIEWS.delegate, async ({ ack, body, view }) => {
    const values = stateValuesSchema.safeParse(view.state?.values ?? {});
    const to = values.success ? readValue(values.data, DELEGATE_BLOCKS.to)?.selected_user : null;
    const until = values.success ? readValue(values.data, DELEGATE_BLOCKS.until)?.selected_date : null;
    const from = values.success ? readValue(values.data, DELEGATE_BLOCKS.from)?.selected_date : null;
    if (!to)
      return ack({ response_action: 'errors', errors: { [DELEGATE_BLOCKS.to]: 'Choose your delegate.' } });
    if (!until) return ack({ response_action: 'errors', errors: { [DELEGATE_BLOCKS.until]: 'Until when?' } });
    const user = body.user.id;
    try {
      const { ok, reply } = await delegateCommand(ctx.deps, ctx.sender, user, {
        kind: 'delegate',
        action: 'set',
        to,
        until,
        from: from ?? null,
      });
      if (ok) {
        await ack();
        await ctx.sender.call('chat.postMessage', { channel: user, text: reply.text }).catch(() => undefined);
        await ctx.home.publish(user).catch(() => undefined);
      } else await ack({ response_action: 'errors', errors: { [DELEGATE_BLOCKS.to]: reply.text } });
    } catch (err) {
      ctx.logger.error('could not set a delegation', { userId: user, err });
      await ack({ response_action: 'errors', errors: { [DELEGATE_BLOCKS.to]: failureText(err) } });
    }
  });
}
