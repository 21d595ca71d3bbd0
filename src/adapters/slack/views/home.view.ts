import type { ActionsBlock, ContextBlock, HomeView, KnownBlock } from '@slack/types';
import type { SetupOverview } from '../../../application/administer-policy.js';
import { formatChangeId } from '../../../domain/change.js';
import type { Delegation } from '../../../domain/delegation.js';
import { type ChangeState, nextPir, retroState, waitingFor } from '../../../domain/lifecycle.js';
import { ACTIONS, VIEWS } from '../ids.js';
import { openStageActions, pirButton, reviewButtons } from './change.message.js';
import { setupBlocks } from './setup.view.js';
import { mention, mrkdwn, plain, slackDate, userText } from './text.js';

export interface HomeRow {
  state: ChangeState;
  permalink: string | null;
}

export interface HomeModel {
  pending: HomeRow[];
  pendingTotal: number;
  mine: HomeRow[];
  mineTotal: number;
  overdue: HomeRow[];
  /** Reviews that are the viewer's to answer (post-implementation reviews due, review questions). */
  reviewsOwed?: HomeRow[];
  /** The delegation the viewer gave, and those they hold. */
  delegation?: { given: Delegation | null; held: Delegation[] };
  /** The setup section (admins; everyone while the first admin may be claimed). */
  setup?: SetupOverview | null;
  now: Date;
}

function title(row: HomeRow): string {
  const id = formatChangeId(row.state.number);
  const label = `*${id}* ${userText(row.state.request.title, 120)}`;
  return row.permalink ? `<${row.permalink}|${id}> ${userText(row.state.request.title, 120)}` : label;
}

/** Who decides for the viewer while away, and for whom the viewer decides. */
function delegationBlocks(d: HomeModel['delegation']): KnownBlock[] {
  if (!d) return [];
  const lines = [
    ...d.held.map((x) => `🤝 You decide for ${mention(x.from)} until ${slackDate(x.until)}.`),
    d.given
      ? `🌴 ${mention(d.given.to)} decides for you from ${slackDate(d.given.start)} until ${slackDate(d.given.until)}.`
      : null,
  ].filter((l): l is string => l !== null);
  const button = d.given
    ? {
        type: 'button',
        text: plain('End my delegation'),
        action_id: ACTIONS.delegateCancel,
        value: d.given.id,
      }
    : { type: 'button', text: plain('Delegate while away'), action_id: ACTIONS.delegate, value: 'delegate' };
  return [
    ...(lines.length ? [{ type: 'context', elements: [mrkdwn(lines.join('\n'))] } as ContextBlock] : []),
    { type: 'actions', block_id: 'delegation', elements: [button] } as ActionsBlock,
  ];
}

/** App Home: what waits on me, my open changes and what each waits for, and overdue items. */
export function homeView(m: HomeModel): HomeView {
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain('Changegate') },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: plain('New change request'),
          action_id: ACTIONS.openNew,
          value: 'new',
          style: 'primary',
        },
      ],
    } as ActionsBlock,
    ...delegationBlocks(m.delegation),
    ...(m.setup ? setupBlocks(m.setup) : []),
    { type: 'header', text: plain(`Waiting for your approval (${m.pendingTotal})`) },
  ];
  if (m.pending.length === 0)
    blocks.push({ type: 'context', elements: [mrkdwn('Nothing is waiting for you.')] } as ContextBlock);
  for (const row of m.pending) {
    blocks.push({
      type: 'section',
      text: mrkdwn(
        `${title(row)}\n${userText(row.state.typeName, 60)} · from ${mention(row.state.requester)} · *${userText(waitingFor(row.state, row.state.updatedAt), 160)}* since ${slackDate(row.state.stageStartedAt ?? row.state.submittedAt)}`,
      ),
    });
    blocks.push(...openStageActions(row.state, 'home_decide'));
    const review = reviewButtons(
      row.state.number,
      row.state.retroReview.status === 'pending' ? 'pending' : 'not_required',
    );
    if (review.length)
      blocks.push({
        type: 'actions',
        block_id: `home_review:${row.state.number}`,
        elements: review,
      } as ActionsBlock);
  }
  if (m.pendingTotal > m.pending.length) {
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`…and ${m.pendingTotal - m.pending.length} more: \`/change list pending\``)],
    } as ContextBlock);
  }

  blocks.push({ type: 'divider' }, { type: 'header', text: plain(`Your open changes (${m.mineTotal})`) });
  if (m.mine.length === 0)
    blocks.push({
      type: 'context',
      elements: [mrkdwn('You have no open changes. Use `/change` to raise one.')],
    } as ContextBlock);
  for (const row of m.mine) {
    blocks.push({
      type: 'section',
      text: mrkdwn(`${title(row)}\nWaiting for: *${userText(waitingFor(row.state, m.now), 100)}*`),
    });
  }
  if (m.mineTotal > m.mine.length) {
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`…and ${m.mineTotal - m.mine.length} more: \`/change list mine\``)],
    } as ContextBlock);
  }

  const owed = m.reviewsOwed ?? [];
  if (owed.length > 0) {
    blocks.push({ type: 'divider' }, { type: 'header', text: plain(`Reviews you owe (${owed.length})`) });
    for (const row of owed) {
      const s = row.state;
      const next = nextPir(s);
      const questions = s.retroReview.status === 'questions';
      blocks.push({
        type: 'section',
        text: mrkdwn(
          `${title(row)}\n${questions ? 'The retrospective review sent back questions' : `*${userText(s.pir.checkpoints[next?.index ?? 0]?.name ?? '', 60)}* post-implementation review due ${slackDate(next?.dueAt ?? s.updatedAt)}`}`,
        ),
      });
      const buttons = questions
        ? reviewButtons(s.number, 'questions')
        : next
          ? [pirButton(s.number, next.index, s.pir.checkpoints[next.index]!.name)]
          : [];
      if (buttons.length)
        blocks.push({
          type: 'actions',
          block_id: `home_owed:${s.number}`,
          elements: buttons,
        } as ActionsBlock);
    }
  }

  blocks.push({ type: 'divider' }, { type: 'header', text: plain(`Overdue (${m.overdue.length})`) });
  if (m.overdue.length === 0)
    blocks.push({ type: 'context', elements: [mrkdwn('Nothing is overdue. 🎉')] } as ContextBlock);
  for (const row of m.overdue) {
    const s = row.state;
    const what =
      retroState(s, m.now) === 'overdue'
        ? `⚠️ Retrospective overdue since ${slackDate(s.retro.dueAt!)} (${mention(s.requester)})`
        : `⚠️ Deployed ${slackDate(s.deployedAt ?? s.updatedAt)} and not verified yet (${mention(s.requester)})`;
    blocks.push({ type: 'section', text: mrkdwn(`${title(row)}\n${what}`) });
  }
  return { type: 'home', callback_id: VIEWS.home, blocks: blocks.slice(0, 100) };
}
