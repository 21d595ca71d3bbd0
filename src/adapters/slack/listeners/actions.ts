import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { z } from 'zod';
import { cancelChange } from '../../../application/cancel-change.js';
import { decideApproval } from '../../../application/decide-approval.js';
import { getChange } from '../../../application/get-change.js';
import { recordDeployment } from '../../../application/record-deployment.js';
import { formatChangeId } from '../../../domain/change.js';
import { plannedInterval, unexcusedFreezes } from '../../../domain/lifecycle.js';
import type { SlackContext } from '../context.js';
import { failureText, refusalText } from '../copy.js';
import { ACTIONS } from '../ids.js';
import { loadingModal, openView, updateView } from '../modal-helpers.js';
import { buildRequestModal, currentFormValues, stateValuesSchema } from '../request-form.js';
import {
  changeRequestModal,
  exceptionModal,
  messageModal,
  rejectModal,
  verifyModal,
} from '../views/modals.js';
import { mrkdwn, truncate } from '../views/text.js';
import { openRetroModal } from './retro-flow.js';

const stageValue = z
  .string()
  .regex(/^\d{1,9}:\d{1,2}$/)
  .transform((v) => {
    const [n, s] = v.split(':').map(Number);
    return { n: n!, stage: s! };
  });
const changeValue = z
  .string()
  .regex(/^\d{1,9}$/)
  .transform(Number);

type ButtonBody = BlockAction<ButtonAction>;

/** Tells the clicking user something privately, where they clicked. */
async function tell(ctx: SlackContext, body: ButtonBody | BlockAction, text: string): Promise<void> {
  try {
    if (body.container?.type === 'message' && body.channel?.id) {
      await ctx.sender.call('chat.postEphemeral', {
        channel: body.channel.id,
        user: body.user.id,
        text,
        ...(body.container.thread_ts ? { thread_ts: body.container.thread_ts } : {}),
      });
    } else {
      await ctx.sender.call('chat.postMessage', { channel: body.user.id, text });
    }
  } catch (err) {
    ctx.logger.warn('could not tell the user', { userId: body.user.id, err });
  }
}

/** Buttons on change messages, DMs and App Home. Each acks at once, then calls one use case. */
export function registerActions(app: App, ctx: SlackContext): void {
  app.action<ButtonBody>(ACTIONS.approve, async ({ ack, body, action }) => {
    await ack();
    const v = stageValue.safeParse(action.value);
    if (!v.success) return tell(ctx, body, 'That button is out of date; open the change again.');
    try {
      // Bounded: a burst of clicks queues here instead of all hitting the database at once.
      const res = await ctx.work.run(() =>
        decideApproval(ctx.deps, {
          changeNumber: v.data.n,
          stageIndex: v.data.stage,
          actor: body.user.id,
          decision: 'approve',
          note: '',
        }),
      );
      if (!res.ok) return tell(ctx, body, refusalText(res.error));
      // Clicked in a DM or a reminder rather than on the change itself: replace the buttons there.
      if (body.container?.type === 'message' && body.message && res.state) {
        const doc = await ctx.deps.changes.findDoc(v.data.n);
        if (doc?.slack && body.message.ts !== doc.slack.ts && body.channel?.id) {
          await ctx.sender
            .call('chat.update', {
              channel: body.channel.id,
              ts: body.message.ts,
              text: `✅ You approved ${formatChangeId(v.data.n)}.`,
              blocks: [
                {
                  type: 'section',
                  text: mrkdwn(
                    `✅ You approved ${formatChangeId(v.data.n)}${doc.slack.permalink ? ` (<${doc.slack.permalink}|thread>)` : ''}.`,
                  ),
                },
              ],
            })
            .catch(() => undefined);
        }
      }
    } catch (err) {
      ctx.logger.error('approve failed', { changeId: v.data.n, userId: body.user.id, err });
      await tell(ctx, body, failureText(err));
    }
  });

  app.action<ButtonBody>(ACTIONS.reject, async ({ ack, body, action }) => {
    await ack();
    const v = stageValue.safeParse(action.value);
    if (!v.success) return tell(ctx, body, 'That button is out of date; open the change again.');
    await openView(ctx.sender, body.trigger_id, rejectModal(v.data.n, v.data.stage)).catch((err) =>
      ctx.logger.warn('could not open the reject modal', { err }),
    );
  });

  app.action<ButtonBody>(ACTIONS.verifyOk, async ({ ack, body, action }) => {
    await ack();
    const n = changeValue.safeParse(action.value);
    if (n.success)
      await openView(ctx.sender, body.trigger_id, verifyModal(n.data, 'ok')).catch(() => undefined);
  });

  app.action<ButtonBody>(ACTIONS.verifyRollback, async ({ ack, body, action }) => {
    await ack();
    const n = changeValue.safeParse(action.value);
    if (n.success)
      await openView(ctx.sender, body.trigger_id, verifyModal(n.data, 'rolled_back')).catch(() => undefined);
  });

  app.action<ButtonBody>(ACTIONS.retro, async ({ ack, body, action }) => {
    await ack();
    const n = changeValue.safeParse(action.value);
    if (!n.success) return;
    const viewId = await openView(ctx.sender, body.trigger_id, loadingModal('Retrospective')).catch(
      () => null,
    );
    if (viewId) await openRetroModal(ctx, viewId, n.data);
  });

  app.action<ButtonBody>(ACTIONS.grantException, async ({ ack, body, action }) => {
    await ack();
    const n = changeValue.safeParse(action.value);
    if (!n.success) return;
    const viewId = await openView(ctx.sender, body.trigger_id, loadingModal('Freeze exception')).catch(
      () => null,
    );
    if (!viewId) return;
    try {
      const loaded = await getChange(ctx.deps, n.data);
      const now = ctx.deps.clock.now();
      const policy = ctx.deps.policy.policy;
      const freezes = loaded
        ? [
            ...new Set(
              [
                ...unexcusedFreezes(loaded.state, policy, ...plannedInterval(loaded.state, now)),
                ...unexcusedFreezes(loaded.state, policy, now),
              ].map((f) => f.name),
            ),
          ]
        : [];
      await updateView(
        ctx.sender,
        viewId,
        freezes.length
          ? exceptionModal(n.data, freezes)
          : messageModal(
              'Freeze exception',
              `${formatChangeId(n.data)} is not blocked by any freeze right now.`,
            ),
      );
    } catch (err) {
      await updateView(ctx.sender, viewId, messageModal('Freeze exception', failureText(err))).catch(
        () => undefined,
      );
    }
  });

  app.action<ButtonBody>(ACTIONS.recordDeployment, async ({ ack, body, action }) => {
    await ack();
    const n = changeValue.safeParse(action.value);
    if (!n.success) return;
    try {
      const env = ctx.deps.policy.policy.productionEnvironments[0]!;
      const res = await ctx.work.run(() =>
        recordDeployment(ctx.deps, {
          changeNumber: n.data,
          actor: body.user.id,
          environment: env,
          status: 'succeeded',
          commit: null,
          pipelineUrl: null,
          source: 'slack',
          idempotencyKey: `slack:${body.user.id}:${body.actions[0]?.action_ts ?? ''}`,
        }),
      );
      if (!res.ok) await tell(ctx, body, refusalText(res.error));
    } catch (err) {
      await tell(ctx, body, failureText(err));
    }
  });

  app.action<ButtonBody>(ACTIONS.cancel, async ({ ack, body, action }) => {
    await ack();
    const n = changeValue.safeParse(action.value);
    if (!n.success) return;
    try {
      const res = await ctx.work.run(() =>
        cancelChange(ctx.deps, { changeNumber: n.data, actor: body.user.id, reason: '' }),
      );
      if (!res.ok) await tell(ctx, body, refusalText(res.error));
    } catch (err) {
      await tell(ctx, body, failureText(err));
    }
  });

  app.action<ButtonBody>(ACTIONS.openNew, async ({ ack, body }) => {
    await ack();
    await openView(
      ctx.sender,
      body.trigger_id,
      changeRequestModal(buildRequestModal(ctx.deps.policy.policy, null, null, {})),
    ).catch((err) => ctx.logger.warn('could not open the request modal', { err }));
  });

  // The type select inside the request modal: rebuild the form for the chosen type, keeping what was typed.
  app.action<BlockAction>({ action_id: 'value', block_id: 'type' }, async ({ ack, body }) => {
    await ack();
    const view = body.view;
    if (!view) return;
    const values = stateValuesSchema.safeParse(view.state?.values ?? {});
    if (!values.success) return;
    const initial = currentFormValues(values.data);
    const type = typeof initial.type === 'string' ? initial.type : null;
    let channelId: string | null = null;
    try {
      const meta = JSON.parse(view.private_metadata || '{}') as { channelId?: unknown };
      channelId = typeof meta.channelId === 'string' ? meta.channelId : null;
    } catch {
      channelId = null;
    }
    const next = changeRequestModal(buildRequestModal(ctx.deps.policy.policy, type, channelId, initial));
    await ctx.sender
      .call('views.update', { view_id: view.id, hash: view.hash, view: next })
      .catch((err) => ctx.logger.debug('type switch update skipped', { err: truncate(String(err), 200) }));
  });

  // Link buttons and anything else: acknowledge so Slack shows no error. (Bolt runs every matching
  // listener, so the known ids are excluded: a second ack would fail.)
  const known = [...Object.values(ACTIONS), 'value'].map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  app.action(new RegExp(`^(?!(?:${known.join('|')})$)`), async ({ ack }) => {
    await ack();
  });
}
