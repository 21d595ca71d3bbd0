import type { BlockAction, ButtonAction } from '@slack/bolt';
import { z } from 'zod';
import { cancelChange } from '../../../application/cancel-change.js';
import { decideApproval } from '../../../application/decide-approval.js';
import type { CommandOutcome } from '../../../application/execute-command.js';
import { getChange } from '../../../application/get-change.js';
import type { ChangeRecord } from '../../../application/ports.js';
import { recordDeployment } from '../../../application/record-deployment.js';
import { reviewRetrospective } from '../../../application/review-retro.js';
import { formatChangeId } from '../../../domain/change.js';
import { exceptionOptions } from '../../../domain/lifecycle.js';
import { SET_ASIDE } from '../click-throttle.js';
import type { SlackContext } from '../context.js';
import { failureText, refusalText } from '../copy.js';
import { ACTIONS, REQUEST_BLOCKS } from '../ids.js';
import { loadingModal, openView, updateView } from '../modal-helpers.js';
import {
  blankRequestFormText,
  buildRequestModal,
  currentFormValues,
  stateValuesSchema,
} from '../request-form.js';
import {
  changeRequestModal,
  exceptionModal,
  messageModal,
  pirModal,
  rejectModal,
  reviewTextModal,
  verifyModal,
} from '../views/modals.js';
import { mrkdwn, truncate } from '../views/text.js';
import { openRetroModal } from './retro-flow.js';
import type { SlackRoutes } from './routes.js';

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

/** Who clicked where: the few fields post-ack work needs, copied out of Slack's payload. */
interface Click {
  userId: string;
  /** Set when the button was on a message (a channel post, a thread or a DM). */
  message: { channel: string; ts: string; threadTs: string | null } | null;
  actionTs: string;
}

function clickOf(body: ButtonBody | BlockAction): Click {
  const channel = body.channel?.id;
  const onMessage = body.container?.type === 'message' && channel;
  return {
    userId: body.user.id,
    message: onMessage
      ? { channel, ts: body.message?.ts ?? '', threadTs: body.container.thread_ts ?? null }
      : null,
    actionTs: body.actions[0]?.action_ts ?? '',
  };
}

/** Tells the clicking user something privately, where they clicked. */
async function tell(ctx: SlackContext, click: Click, text: string): Promise<void> {
  try {
    if (click.message) {
      await ctx.sender.call('chat.postEphemeral', {
        channel: click.message.channel,
        user: click.userId,
        text,
        ...(click.message.threadTs ? { thread_ts: click.message.threadTs } : {}),
      });
    } else {
      await ctx.sender.call('chat.postMessage', { channel: click.userId, text });
    }
  } catch (err) {
    ctx.logger.warn('could not tell the user', { userId: click.userId, err });
  }
}

/**
 * Runs a click's use case after the ack, through the work queue: a refusal or a failure is told to
 * the user where they clicked; `then` follows a success.
 */
function decideLater(
  ctx: SlackContext,
  click: Click,
  useCase: () => Promise<CommandOutcome>,
  then?: (done: Extract<CommandOutcome, { ok: true }>) => Promise<void>,
): void {
  const admitted = ctx.throttle.admit(click.userId);
  if (admitted !== 'ok') {
    if (ctx.throttle.shouldTell(click.userId)) void tell(ctx, click, SET_ASIDE[admitted]);
    return;
  }
  // The work slot is held for the use case only (the database); answering in Slack happens beside
  // it, so a slow Slack never holds the slots other people's clicks wait for.
  const beside = (p: Promise<unknown>) => ctx.deps.background.track(p);
  ctx.work.submit(async () => {
    let refused = false;
    try {
      const res = await useCase();
      if (!res.ok) {
        refused = true;
        beside(tell(ctx, click, refusalText(res.error)));
        return;
      }
      if (then)
        beside(then(res).catch((err: unknown) => ctx.logger.warn('after-click step failed', { err })));
    } catch (err) {
      ctx.logger.error('a button failed', { userId: click.userId, err });
      beside(tell(ctx, click, failureText(err)));
    } finally {
      ctx.throttle.finished(click.userId, refused);
    }
  });
}

/** Buttons on change messages, DMs and App Home. Each acks at once, then calls one use case. */
export function registerActions(routes: SlackRoutes, ctx: SlackContext): void {
  routes.action<ButtonBody>(ACTIONS.approve, async ({ ack, body, action }) => {
    await ack();
    const click = clickOf(body);
    const v = stageValue.safeParse(action.value);
    if (!v.success) return tell(ctx, click, 'That button is out of date; open the change again.');
    const { n, stage } = v.data;
    decideLater(
      ctx,
      click,
      () =>
        decideApproval(ctx.deps, {
          changeNumber: n,
          stageIndex: stage,
          actor: click.userId,
          decision: 'approve',
          note: '',
        }),
      (done) => replaceButtons(ctx, click, n, done.record),
    );
  });

  routes.action<ButtonBody>(ACTIONS.reject, async ({ ack, body, action }) => {
    await ack();
    const v = stageValue.safeParse(action.value);
    if (!v.success) return tell(ctx, clickOf(body), 'That button is out of date; open the change again.');
    await openView(ctx.sender, body.trigger_id, rejectModal(v.data.n, v.data.stage)).catch((err) =>
      ctx.logger.warn('could not open the reject modal', { err }),
    );
  });

  routes.action<ButtonBody>(ACTIONS.verifyOk, async ({ ack, body, action }) => {
    await ack();
    const n = changeValue.safeParse(action.value);
    if (n.success)
      await openView(ctx.sender, body.trigger_id, verifyModal(n.data, 'ok')).catch(() => undefined);
  });

  routes.action<ButtonBody>(ACTIONS.verifyRollback, async ({ ack, body, action }) => {
    await ack();
    const n = changeValue.safeParse(action.value);
    if (n.success)
      await openView(ctx.sender, body.trigger_id, verifyModal(n.data, 'rolled_back')).catch(() => undefined);
  });

  routes.action<ButtonBody>(ACTIONS.retro, async ({ ack, body, action }) => {
    await ack();
    const n = changeValue.safeParse(action.value);
    if (!n.success) return;
    const viewId = await openView(ctx.sender, body.trigger_id, loadingModal('Retrospective')).catch(
      () => null,
    );
    if (viewId) await openRetroModal(ctx, viewId, n.data);
  });

  routes.action<ButtonBody>(ACTIONS.grantException, async ({ ack, body, action }) => {
    await ack();
    const n = changeValue.safeParse(action.value);
    if (!n.success) return;
    const viewId = await openView(ctx.sender, body.trigger_id, loadingModal('Exception')).catch(() => null);
    if (!viewId) return;
    try {
      const loaded = await getChange(ctx.deps, n.data);
      const options = loaded
        ? exceptionOptions(loaded.state, ctx.deps.policy.policy, ctx.deps.clock.now())
        : [];
      await updateView(
        ctx.sender,
        viewId,
        options.length
          ? exceptionModal(n.data, options)
          : messageModal(
              'Exception',
              `${formatChangeId(n.data)} is not held up by a freeze or a maintenance window.`,
            ),
      );
    } catch (err) {
      await updateView(ctx.sender, viewId, messageModal('Exception', failureText(err))).catch(
        () => undefined,
      );
    }
  });

  routes.action<ButtonBody>(ACTIONS.reviewAccept, async ({ ack, body, action }) => {
    await ack();
    const n = changeValue.safeParse(action.value);
    if (!n.success) return;
    const click = clickOf(body);
    decideLater(ctx, click, () =>
      reviewRetrospective(ctx.deps, {
        changeNumber: n.data,
        actor: click.userId,
        outcome: 'accepted',
        note: '',
      }),
    );
  });

  for (const [actionId, kind] of [
    [ACTIONS.reviewQuestions, 'questions'],
    [ACTIONS.reviewAnswer, 'answer'],
  ] as const) {
    routes.action<ButtonBody>(actionId, async ({ ack, body, action }) => {
      await ack();
      const n = changeValue.safeParse(action.value);
      if (!n.success) return;
      const viewId = await openView(ctx.sender, body.trigger_id, loadingModal('Retrospective review')).catch(
        () => null,
      );
      if (!viewId) return;
      try {
        const loaded = await getChange(ctx.deps, n.data);
        const last = loaded?.state.retroReview.history.at(-1);
        const context =
          kind === 'answer' && last?.kind === 'questions' ? `Questions from the review:\n${last.text}` : '';
        await updateView(ctx.sender, viewId, reviewTextModal(n.data, kind, context));
      } catch (err) {
        await updateView(ctx.sender, viewId, messageModal('Retrospective review', failureText(err))).catch(
          () => undefined,
        );
      }
    });
  }

  routes.action<ButtonBody>(ACTIONS.pir, async ({ ack, body, action }) => {
    await ack();
    const v = stageValue.safeParse(action.value);
    if (!v.success) return;
    const viewId = await openView(ctx.sender, body.trigger_id, loadingModal('Post-implementation')).catch(
      () => null,
    );
    if (!viewId) return;
    try {
      const loaded = await getChange(ctx.deps, v.data.n);
      const cp = loaded?.state.pir.checkpoints[v.data.stage];
      await updateView(
        ctx.sender,
        viewId,
        cp
          ? pirModal(v.data.n, v.data.stage, cp.name, cp.questions)
          : messageModal('Post-implementation', `${formatChangeId(v.data.n)} has no such review.`),
      );
    } catch (err) {
      await updateView(ctx.sender, viewId, messageModal('Post-implementation', failureText(err))).catch(
        () => undefined,
      );
    }
  });

  routes.action<ButtonBody>(ACTIONS.recordDeployment, async ({ ack, body, action }) => {
    await ack();
    const n = changeValue.safeParse(action.value);
    if (!n.success) return;
    const click = clickOf(body);
    decideLater(ctx, click, () =>
      recordDeployment(ctx.deps, {
        changeNumber: n.data,
        actor: click.userId,
        environment: ctx.deps.policy.policy.productionEnvironments[0]!,
        status: 'succeeded',
        commit: null,
        pipelineUrl: null,
        source: 'slack',
        idempotencyKey: `slack:${click.userId}:${click.actionTs}`,
      }),
    );
  });

  routes.action<ButtonBody>(ACTIONS.cancel, async ({ ack, body, action }) => {
    await ack();
    const n = changeValue.safeParse(action.value);
    if (!n.success) return;
    const click = clickOf(body);
    decideLater(ctx, click, () =>
      cancelChange(ctx.deps, { changeNumber: n.data, actor: click.userId, reason: '' }),
    );
  });

  routes.action<ButtonBody>(ACTIONS.openNew, async ({ ack, body }) => {
    await ack();
    await openView(
      ctx.sender,
      body.trigger_id,
      blankRequestFormText(ctx.deps.policy.policy, null, null),
    ).catch((err) => ctx.logger.warn('could not open the request modal', { err }));
  });

  // The type select inside the request modal: rebuild the form for the chosen type, keeping what was typed.
  routes.action<BlockAction>({ actionId: 'value', blockId: REQUEST_BLOCKS.type }, async ({ ack, body }) => {
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
}

/** Approved from a DM or a reminder rather than on the change itself: replace the buttons there. */
async function replaceButtons(
  ctx: SlackContext,
  click: Click,
  changeNumber: number,
  doc: ChangeRecord | null,
) {
  if (!click.message?.ts || !doc?.slack || click.message.ts === doc.slack.ts) return;
  const text = `✅ You approved ${formatChangeId(changeNumber)}`;
  await ctx.sender
    .call('chat.update', {
      channel: click.message.channel,
      ts: click.message.ts,
      text: `${text}.`,
      blocks: [
        {
          type: 'section',
          text: mrkdwn(`${text}${doc.slack.permalink ? ` (<${doc.slack.permalink}|thread>)` : ''}.`),
        },
      ],
    })
    .catch(() => undefined);
}
