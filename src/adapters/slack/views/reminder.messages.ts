import type { ActionsBlock, ContextBlock, KnownBlock } from '@slack/types';
import type { DigestItem } from '../../../application/reminder-sweep.js';
import { formatChangeId } from '../../../domain/change.js';
import { type ChangeState, openStageList, waitingFor } from '../../../domain/lifecycle.js';
import type { Reminder } from '../../../domain/reminders.js';
import {
  decisionButtons,
  openStageActions,
  pirButton,
  retroButton,
  reviewButtons,
  verifyButtons,
} from './change.message.js';
import { groupMention, mention, mrkdwn, plain, slackDate, truncate, userText } from './text.js';

/** One reminder is one message: a DM (`user`) or a reply in the change's thread (`user: null`). */
export interface ReminderMessage {
  user: string | null;
  text: string;
  blocks?: KnownBlock[];
}

const title = (s: ChangeState, permalink: string | null) =>
  `${permalink ? `<${permalink}|${formatChangeId(s.number)}>` : `*${formatChangeId(s.number)}*`} “${userText(s.request.title, 150)}”`;

function dm(user: string, text: string, buttons: ActionsBlock['elements'] = []): ReminderMessage {
  const blocks: KnownBlock[] = [{ type: 'section', text: mrkdwn(text) }];
  if (buttons.length) blocks.push({ type: 'actions', elements: buttons } as ActionsBlock);
  return { user, text: truncate(text, 3000), blocks };
}

const thread = (text: string): ReminderMessage => ({ user: null, text });

/** The words and buttons of one reminder; `groups` are the user groups of the stuck stage. */
export function reminderMessage(
  r: Reminder,
  s: ChangeState,
  ctx: { permalink: string | null; waitingOn: string[]; groups: string[] },
): ReminderMessage {
  const t = title(s, ctx.permalink);
  const id = formatChangeId(s.number);
  const open = openStageList(s);
  const stage = open.find((o) => o.index === r.stageIndex) ?? open[0];
  const stageName = userText(stage?.stage.name ?? waitingFor(s, s.updatedAt), 80);
  const since = slackDate(stage?.since ?? s.stageStartedAt ?? s.submittedAt);
  switch (r.kind) {
    case 'approval':
      return dm(
        r.recipient,
        `⏰ ${t} from ${mention(s.requester)} is waiting for your approval: *${stageName}*, since ${since}.${r.ordinal && r.ordinal > 1 ? ` (reminder ${r.ordinal})` : ''}`,
        stage ? decisionButtons(s.number, stage.index, stage.stage.name) : [],
      );
    case 'approval_escalation': {
      if (r.recipient === 'thread') {
        const who = [...ctx.groups.map(groupMention), ...ctx.waitingOn.slice(0, 8).map(mention)];
        return thread(
          `⏰ ${id} has been waiting for *${stageName}* since ${since}${
            who.length
              ? `. ${who.join(' ')}, can one of you decide?`
              : ', and nobody is named to decide it: any eligible person may approve.'
          }`,
        );
      }
      return dm(
        r.recipient,
        `⏰ ${t} is stuck at *${stageName}* since ${since}${
          ctx.waitingOn.length
            ? `: ${ctx.waitingOn.slice(0, 8).map(mention).join(', ')} were reminded and have not decided yet.`
            : '.'
        } I asked in the thread.`,
      );
    }
    case 'window_upcoming':
      return dm(
        r.recipient,
        s.status === 'approved'
          ? `🗓 The planned window for ${t} starts ${slackDate(s.request.plannedStart!)}. Record the deployment when it is done: \`/change deployed ${id}\`.`
          : `🗓 The planned window for ${t} starts ${slackDate(s.request.plannedStart!)}, but the change still waits for *${stageName}*.`,
      );
    case 'window_missed':
      return r.recipient === 'thread'
        ? thread(
            `⚠️ The planned window for ${id} ended ${slackDate(s.request.plannedEnd ?? s.request.plannedStart!)} and no deployment was recorded.`,
          )
        : dm(
            r.recipient,
            `⚠️ The window for ${t} is over and no deployment was recorded. If it was deployed, record it (\`/change deployed ${id}\`); if not, cancel it or raise it again with a new window.`,
          );
    case 'verification':
      return dm(
        r.recipient,
        `🔎 ${t} was deployed ${slackDate(s.deployedAt!)}. Please check production and record the verification.${r.ordinal && r.ordinal > 1 ? ` (reminder ${r.ordinal})` : ''}`,
        verifyButtons(s.number),
      );
    case 'verification_escalation': {
      const people = [
        ...new Set([
          s.requester,
          ...(s.deployedBy && !s.deployedBy.startsWith('pipeline:') ? [s.deployedBy] : []),
        ]),
      ];
      return thread(
        `⚠️ ${id} was deployed ${slackDate(s.deployedAt!)} and is still not verified. ${people.map(mention).join(' ')}, please verify it or record a rollback.`,
      );
    }
    case 'retro_due':
      return dm(
        r.recipient,
        `📝 The retrospective for emergency change ${t} is due ${slackDate(s.retro.dueAt!)}.`,
        [retroButton(s.number)],
      );
    case 'retro_escalation':
      return dm(
        r.recipient,
        `⚠️ The retrospective for emergency change ${t} by ${mention(s.requester)} is overdue since ${slackDate(s.retro.dueAt!)}.`,
      );
    case 'retro_review':
      return dm(
        r.recipient,
        `⏰ The retrospective of emergency change ${t} by ${mention(s.requester)} waits for your review since ${slackDate(s.retroReview.since ?? s.updatedAt)}.`,
        reviewButtons(s.number, 'pending'),
      );
    case 'pir': {
      const i = r.stageIndex ?? 0;
      const name = s.pir.checkpoints[i]?.name ?? 'post-implementation';
      return dm(
        r.recipient,
        `${r.ordinal && r.ordinal > 1 ? '⏰ Overdue: the' : '📋 The'} *${userText(name, 60)}* post-implementation review of ${t} is due: ${userText(
          (s.pir.checkpoints[i]?.questions ?? []).join(' · '),
          800,
        )}`,
        [pirButton(s.number, i, name)],
      );
    }
    case 'retro_review_answer':
      return dm(
        r.recipient,
        `⏰ The review of your retrospective for ${t} sent back questions on ${slackDate(s.retroReview.since ?? s.updatedAt)}; they wait for your answer.`,
        reviewButtons(s.number, 'questions'),
      );
  }
}

const DIGEST_LABEL: Record<string, string> = {
  approval: 'waits for your approval',
  verification: 'waits for your post-deployment verification',
  retro_due: 'needs its retrospective',
  window_upcoming: 'has a planned window coming up',
};

/** The morning digest: everything waiting on one person, with buttons, within Slack's block limit. */
export function digestMessage(items: DigestItem[]): { text: string; blocks: KnownBlock[] } {
  const shown = items.slice(0, 15);
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: plain(`Good morning: ${items.length} item${items.length === 1 ? '' : 's'} waiting on you`, 150),
    },
  ];
  for (const item of shown) {
    const s = item.state;
    blocks.push({
      type: 'section',
      text: mrkdwn(`${title(s, item.permalink)} ${DIGEST_LABEL[item.kind] ?? ''}`),
    });
    if (item.kind === 'approval') {
      blocks.push(...openStageActions(s, 'digest'));
      continue;
    }
    const buttons =
      item.kind === 'verification'
        ? verifyButtons(s.number)
        : item.kind === 'retro_due'
          ? [retroButton(s.number)]
          : [];
    if (buttons.length) blocks.push({ type: 'actions', elements: buttons } as ActionsBlock);
  }
  if (items.length > shown.length) {
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`…and ${items.length - shown.length} more in the Changegate Home tab.`)],
    } as ContextBlock);
  }
  return { text: `${items.length} Changegate item(s) waiting on you`, blocks };
}
