import type { ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { decideApproval } from '../../../application/decide-approval.js';
import type { CommandOutcome } from '../../../application/execute-command.js';
import { grantFreezeException } from '../../../application/grant-freeze-exception.js';
import {
  answerPostImplementationReview,
  answerRetroReview,
  reviewRetrospective,
} from '../../../application/review-retro.js';
import { submitChange } from '../../../application/submit-change.js';
import { submitRetrospective } from '../../../application/submit-retro.js';
import { verifyDeployment } from '../../../application/verify-deployment.js';
import { formatChangeId } from '../../../domain/change.js';
import { ANSWER_MAX, retroProblems } from '../../../domain/lifecycle.js';
import { sanitizeMultiline } from '../../../domain/text.js';
import type { SlackContext } from '../context.js';
import { failureText, refusalText, STILL_SAVING } from '../copy.js';
import { DECISION_BLOCKS, REQUEST_BLOCKS, RETRO_BLOCKS, VIEWS } from '../ids.js';
import {
  parseRequestForm,
  readValue,
  type StateValues,
  stateValuesSchema,
  toBlockErrors,
} from '../request-form.js';
import type { SlackRoutes } from './routes.js';

const requestMeta = z
  .object({
    channelId: z
      .string()
      .regex(/^[CDG][A-Z0-9]{2,}$/)
      .nullable()
      .catch(null),
  })
  .catch({ channelId: null });
const decisionMeta = z.object({ n: z.number().int().positive(), stage: z.number().int().min(0).optional() });

/** Long enough to cover Slack's 5-minute replay window many times over. */
const SUBMISSION_KEY_TTL_MS = 24 * 3_600_000;

type Ack = (response?: { response_action: 'errors'; errors: Record<string, string> }) => Promise<void>;

function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return {};
  }
}

function blockIds(view: ViewSubmitAction['view']): Set<string> {
  return new Set(
    (view.blocks ?? [])
      .map((b) => (b as { block_id?: string }).block_id)
      .filter((b): b is string => Boolean(b)),
  );
}

const textOf = (values: StateValues, block: string) =>
  sanitizeMultiline(readValue(values, block)?.value ?? '');

/** The modal stays open with the message under `block` (an input block of the submitted view). */
const inline = (ack: Ack, block: string, message: string) =>
  ack({ response_action: 'errors', errors: { [block]: message.slice(0, 1900) } });

/** Decision modals: the outcome of a use case shown inline, or the modal closes on success. */
async function finish(
  ack: Ack,
  block: string,
  run: () => Promise<CommandOutcome>,
  ctx: SlackContext,
): Promise<void> {
  try {
    const res = await run();
    if (res.ok) return ack();
    return inline(ack, block, refusalText(res.error));
  } catch (err) {
    ctx.logger.error('modal submission failed', { err });
    return inline(ack, block, failureText(err));
  }
}

/** Modal submissions: parse with zod, errors inline (`response_action: errors`), nothing saved until valid. */
export function registerViews(routes: SlackRoutes, ctx: SlackContext): void {
  routes.view(VIEWS.request, async ({ ack, body, view }) => {
    const present = blockIds(view);
    const values = stateValuesSchema.safeParse(view.state?.values ?? {});
    if (!values.success)
      return inline(
        ack,
        REQUEST_BLOCKS.title,
        'This form could not be read. Please close it and run /change again.',
      );
    const policy = ctx.deps.policy.policy;
    const form = parseRequestForm(values.data, policy);
    if (form.issues.length > 0)
      return ack({ response_action: 'errors', errors: toBlockErrors(form.issues, present) });
    const meta = requestMeta.parse(parseJson(view.private_metadata));
    // One change per submitted modal: a replayed or double-sent submission of the same view records
    // nothing. It closes the modal once the first one's change is saved; before that (still being
    // saved, or stopped by a crash without giving the key back) it says so and the modal stays open.
    const submissionKey = `view-submission:${view.id}`;
    let claimed = false;
    let saved: { number: number; announce: () => Promise<void> } | null = null;
    try {
      claimed = await ctx.idempotency.claim(submissionKey, SUBMISSION_KEY_TTL_MS);
      if (!claimed) {
        const done = await ctx.idempotency.outcome(submissionKey);
        ctx.logger.warn('modal submitted again', { userId: body.user.id, viewId: view.id, saved: done });
        return done ? ack() : inline(ack, REQUEST_BLOCKS.title, STILL_SAVING);
      }
      const res = await submitChange(ctx.deps, {
        request: form.request,
        requester: body.user.id,
        source: 'slack',
        originChannel: meta.channelId,
      });
      if (!res.ok) {
        await ctx.idempotency.release(submissionKey);
        const issues = res.error.issues ?? [{ field: 'title' as const, message: res.error.message }];
        return ack({ response_action: 'errors', errors: toBlockErrors(issues, present) });
      }
      saved = res;
    } catch (err) {
      ctx.logger.error('submitting a change failed', { userId: body.user.id, err });
      // Answered first: with the database failing, the release may take as long again.
      await inline(ack, REQUEST_BLOCKS.title, failureText(err));
      if (claimed)
        await ctx.idempotency.release(submissionKey).catch((e: unknown) =>
          ctx.logger.warn(
            'could not release a failed submission; the same form sent again is told it is still being saved',
            {
              viewId: view.id,
              err: e,
            },
          ),
        );
      return;
    }
    await ack(); // the record is safe: close the modal, then tell Slack
    await Promise.all([
      ctx.idempotency
        .settle(submissionKey, formatChangeId(saved.number))
        .catch((err: unknown) =>
          ctx.logger.warn('could not settle a submission key', { viewId: view.id, err }),
        ),
      saved.announce(),
    ]);
  });

  routes.view(VIEWS.reject, async ({ ack, body, view }) => {
    const meta = decisionMeta.safeParse(parseJson(view.private_metadata));
    const values = stateValuesSchema.safeParse(view.state?.values ?? {});
    if (!meta.success || meta.data.stage === undefined || !values.success)
      return inline(ack, DECISION_BLOCKS.reason, 'This form is out of date; open the change again.');
    const reason = textOf(values.data, DECISION_BLOCKS.reason);
    if (!reason) return inline(ack, DECISION_BLOCKS.reason, 'Please give a reason.');
    const stage = meta.data.stage;
    await finish(
      ack,
      DECISION_BLOCKS.reason,
      () =>
        decideApproval(ctx.deps, {
          changeNumber: meta.data.n,
          stageIndex: stage,
          actor: body.user.id,
          decision: 'reject',
          note: reason,
        }),
      ctx,
    );
  });

  routes.view(VIEWS.exception, async ({ ack, body, view }) => {
    const meta = decisionMeta.safeParse(parseJson(view.private_metadata));
    const values = stateValuesSchema.safeParse(view.state?.values ?? {});
    if (!meta.success || !values.success)
      return inline(ack, DECISION_BLOCKS.reason, 'This form is out of date; open the change again.');
    const freeze = readValue(values.data, DECISION_BLOCKS.freeze)?.selected_option?.value ?? '';
    const reason = textOf(values.data, DECISION_BLOCKS.reason);
    const risk = textOf(values.data, DECISION_BLOCKS.risk);
    if (!freeze) return inline(ack, DECISION_BLOCKS.freeze, 'Choose the freeze or window.');
    if (!reason) return inline(ack, DECISION_BLOCKS.reason, 'An exception needs a reason.');
    if (!risk)
      return inline(
        ack,
        DECISION_BLOCKS.risk,
        'An exception needs a risk note: what could go wrong, and how it is contained.',
      );
    await finish(
      ack,
      DECISION_BLOCKS.reason,
      () =>
        grantFreezeException(ctx.deps, {
          changeNumber: meta.data.n,
          actor: body.user.id,
          freeze,
          reason,
          risk,
        }),
      ctx,
    );
  });

  routes.view(VIEWS.verify, async ({ ack, body, view }) => {
    const meta = decisionMeta.safeParse(parseJson(view.private_metadata));
    const values = stateValuesSchema.safeParse(view.state?.values ?? {});
    if (!meta.success || !values.success)
      return inline(ack, DECISION_BLOCKS.issues, 'This form is out of date; open the change again.');
    const outcome = readValue(values.data, DECISION_BLOCKS.outcome)?.selected_option?.value;
    if (outcome !== 'ok' && outcome !== 'rolled_back')
      return inline(ack, DECISION_BLOCKS.outcome, 'Choose verified or rolled back.');
    // What a rollback must say, and how long it may be, is the domain's rule (shown inline).
    const issues = textOf(values.data, DECISION_BLOCKS.issues);
    await finish(
      ack,
      DECISION_BLOCKS.issues,
      () => verifyDeployment(ctx.deps, { changeNumber: meta.data.n, actor: body.user.id, outcome, issues }),
      ctx,
    );
  });

  for (const [callbackId, kind] of [
    [VIEWS.reviewQuestions, 'questions'],
    [VIEWS.reviewAnswer, 'answer'],
  ] as const) {
    routes.view(callbackId, async ({ ack, body, view }) => {
      const meta = decisionMeta.safeParse(parseJson(view.private_metadata));
      const values = stateValuesSchema.safeParse(view.state?.values ?? {});
      if (!meta.success || !values.success)
        return inline(ack, DECISION_BLOCKS.reason, 'This form is out of date; open the change again.');
      const text = textOf(values.data, DECISION_BLOCKS.reason);
      const input = { changeNumber: meta.data.n, actor: body.user.id };
      await finish(
        ack,
        DECISION_BLOCKS.reason,
        () =>
          kind === 'questions'
            ? reviewRetrospective(ctx.deps, { ...input, outcome: 'questions', note: text })
            : answerRetroReview(ctx.deps, { ...input, answer: text }),
        ctx,
      );
    });
  }

  routes.view(VIEWS.pir, async ({ ack, body, view }) => {
    const meta = decisionMeta.safeParse(parseJson(view.private_metadata));
    const values = stateValuesSchema.safeParse(view.state?.values ?? {});
    if (!meta.success || !values.success || meta.data.stage === undefined)
      return inline(ack, 'pir_q_0', 'This form is out of date; open the change again.');
    const blocks = Object.keys(values.data)
      .filter((b) => /^pir_q_\d$/.test(b))
      .sort();
    const answers = blocks.map((b) => textOf(values.data, b));
    const empty = blocks.filter((_, k) => !answers[k]);
    if (empty.length)
      return ack({
        response_action: 'errors',
        errors: Object.fromEntries(empty.map((b) => [b, 'Required.'])),
      });
    await finish(
      ack,
      'pir_q_0',
      () =>
        answerPostImplementationReview(ctx.deps, {
          changeNumber: meta.data.n,
          actor: body.user.id,
          checkpoint: meta.data.stage!,
          answers,
        }),
      ctx,
    );
  });

  routes.view(VIEWS.retro, async ({ ack, body, view }) => {
    const meta = decisionMeta.safeParse(parseJson(view.private_metadata));
    const values = stateValuesSchema.safeParse(view.state?.values ?? {});
    if (!meta.success || !values.success)
      return inline(ack, RETRO_BLOCKS.rootCause, 'This form is out of date; open the change again.');
    const answers = {
      whatChanged: textOf(values.data, RETRO_BLOCKS.whatChanged),
      why: textOf(values.data, RETRO_BLOCKS.why),
      approval: textOf(values.data, RETRO_BLOCKS.approval),
      rootCause: textOf(values.data, RETRO_BLOCKS.rootCause),
      preventable: textOf(values.data, RETRO_BLOCKS.preventable),
      followUps: textOf(values.data, RETRO_BLOCKS.followUps),
    };
    // Which answers are required, and how long they may be, is the domain's rule.
    const errors: Record<string, string> = {};
    for (const p of retroProblems(answers))
      errors[RETRO_BLOCKS[p.field]] =
        p.problem === 'required' ? 'Required.' : `Keep this under ${ANSWER_MAX + 1} characters.`;
    if (Object.keys(errors).length) return ack({ response_action: 'errors', errors });
    await finish(
      ack,
      RETRO_BLOCKS.rootCause,
      () => submitRetrospective(ctx.deps, { changeNumber: meta.data.n, actor: body.user.id, answers }),
      ctx,
    );
  });
}
