import type { ContextBlock, KnownBlock } from '@slack/types';
import { formatChangeId } from '../../../domain/change.js';
import { fieldEntries } from '../../../domain/fields.js';
import { changeOwners } from '../../../domain/github.js';
import type { StoredChangeEvent } from '../../../domain/lifecycle.js';
import { type ChangeState, retroState, stagingTested, waitingFor } from '../../../domain/lifecycle.js';
import { type Policy, securityFlagLabel } from '../../../domain/policy.js';
import { pullRequestLine, SLACK_FULL, STATUS_LABEL } from './change.message.js';
import { chunks, mention, mrkdwn, plain, slackDate, truncate, userText } from './text.js';

export interface Reply {
  text: string;
  blocks?: KnownBlock[];
}

export function helpMessage(): Reply {
  const lines = [
    '*Changegate*: change requests and approvals in Slack.',
    '`/change` open a new change request (`/change emergency` for a hotfix)',
    '`/change list [mine|pending|open]` your changes, what waits for you, or everything open',
    '`/change show CR-42` the full request and its audit trail',
    '`/change deployed CR-42 [environment] [commit]` record a deployment',
    '`/change verify CR-42` record the post-deployment verification',
    "`/change retro CR-42` write an emergency change's retrospective",
    '`/change cancel CR-42 [reason]` withdraw a change before deployment',
    '`/change github link <login>` your GitHub login (your approvals of your own changes’ PRs never count)',
    '`/change meeting CR-42` call an ad hoc board meeting for an urgent change (board members)',
    '`/change delegate @someone until 2026-12-24` let someone decide your approvals while you are away (`/change delegate cancel` ends it)',
    '`/change token create|list|revoke` pipeline tokens for the deploy gate (admins)',
    '`/change-log [7d|90d|2026-10|2026-Q3|CR-42]` audit summaries and evidence export',
  ];
  return { text: lines.join('\n'), blocks: [{ type: 'section', text: mrkdwn(lines.join('\n')) }] };
}

export function errorMessage(text: string): Reply {
  return { text, blocks: [{ type: 'section', text: mrkdwn(`⚠️ ${text}`) }] };
}

export function infoMessage(text: string): Reply {
  return { text, blocks: [{ type: 'section', text: mrkdwn(text) }] };
}

export function listMessage(
  title: string,
  items: { state: ChangeState; permalink: string | null }[],
  total: number,
  now: Date,
): Reply {
  const blocks: KnownBlock[] = [{ type: 'section', text: mrkdwn(`*${title}* (${total})`) }];
  if (items.length === 0)
    blocks.push({ type: 'context', elements: [mrkdwn('Nothing here.')] } as ContextBlock);
  for (const { state: s, permalink } of items.slice(0, 40)) {
    const id = formatChangeId(s.number);
    blocks.push({
      type: 'section',
      text: mrkdwn(
        `${permalink ? `<${permalink}|${id}>` : `*${id}*`} ${userText(s.request.title, 120)}\n${STATUS_LABEL[s.status]} · ${userText(s.typeName, 40)} · ${mention(s.requester)} · waiting for ${userText(waitingFor(s, now), 80)}`,
      ),
    });
  }
  if (total > items.length)
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`Showing ${items.length} of ${total}.`)],
    } as ContextBlock);
  return { text: `${title} (${total})`, blocks: blocks.slice(0, 50) };
}

const EVENT_LABEL: Record<string, string> = {
  board_deferred: 'Deferred to the next board meeting',
  submitted: 'Submitted',
  stage_approved: 'Approved',
  rejected: 'Rejected',
  approval_refused: 'Approval attempt refused',
  freeze_exception_granted: 'Freeze exception granted',
  cancelled: 'Cancelled',
  deployment_recorded: 'Deployment recorded',
  verified: 'Verification',
  retro_submitted: 'Retrospective submitted',
  retro_overdue: 'Retrospective overdue',
};

function eventDetail(e: StoredChangeEvent): string {
  switch (e.type) {
    case 'stage_approved':
      return `${userText(e.data.stageName, 80)}${e.data.comment ? `: ${userText(e.data.comment, 300)}` : ''}`;
    case 'rejected':
      return `${userText(e.data.stageName, 80)}: ${userText(e.data.reason, 300)}`;
    case 'approval_refused':
      return `${e.data.action} at ${userText(e.data.stage, 60)} (${e.data.code})`;
    case 'freeze_exception_granted':
      return `${userText(e.data.freeze, 80)}: ${userText(e.data.reason, 300)}`;
    case 'cancelled':
      return userText(e.data.reason, 300);
    case 'deployment_recorded':
      return `${e.data.status} · ${userText(e.data.environment, 40)}${e.data.commit ? ` · ${userText(e.data.commit, 40)}` : ''}${e.data.unauthorised ? ' · ⚠️ unauthorised' : ''}`;
    case 'verified':
      return `${e.data.outcome === 'ok' ? 'verified OK' : 'rolled back'}${e.data.issues ? `: ${userText(e.data.issues, 300)}` : ''}`;
    default:
      return '';
  }
}

/** `/change show CR-42`: every field in full and the audit trail in order. */
export function showMessage(
  s: ChangeState,
  events: StoredChangeEvent[],
  now: Date,
  permalink: string | null,
  policy: Policy,
): Reply {
  const id = formatChangeId(s.number);
  const r = s.request;
  const blocks: KnownBlock[] = [{ type: 'header', text: plain(`${id} · ${r.title}`, 150) }];
  blocks.push({
    type: 'section',
    text: mrkdwn(
      [
        `*Status:* ${STATUS_LABEL[s.status]} (waiting for ${userText(waitingFor(s, now), 80)})`,
        `*Type:* ${userText(s.typeName, 60)} · *Risk:* ${r.risk ?? '—'} · *Requester:* ${mention(s.requester)}`,
        `*Systems:* ${r.systems.length ? userText(r.systems.join(', '), 800) : '—'}`,
        `*Window:* ${r.plannedStart ? slackDate(r.plannedStart) : '—'}${r.plannedEnd ? ` → ${slackDate(r.plannedEnd)}` : ''}`,
        `*Staging tested:* ${stagingTested(s) ?? '—'} · *Security impact:* ${r.securityFlags.length ? r.securityFlags.map((f) => securityFlagLabel(policy, f)).join(', ') : 'none'}`,
        r.commit ? `*Approves commit:* \`${r.commit}\`` : '',
        `*Links:* ${[r.links.pr ? `<${r.links.pr}|PR>` : '', r.links.ticket ? `<${r.links.ticket}|ticket>` : ''].filter(Boolean).join(' · ') || '—'}${permalink ? ` · <${permalink}|thread>` : ''}`,
        ...(s.pullRequests ?? []).map((p) => `*Pull request:* ${pullRequestLine(p, changeOwners(s))}`),
        s.retroDueHours !== null
          ? `*Retrospective:* ${retroState(s, now).replace(/_/g, ' ')}${s.retro.dueAt ? `, due ${slackDate(s.retro.dueAt)}` : ''}`
          : '',
      ]
        .filter(Boolean)
        .join('\n'),
    ),
  });
  const fields: [string, string][] = [
    ['Description', r.description],
    ['Justification', r.justification],
    ['Impact analysis', r.impact],
    ['Test plan', r.testPlan],
    ['Test results', r.testResults],
    ['Rollback plan', r.rollbackPlan],
  ];
  const declared = fieldEntries(policy, r.fields, SLACK_FULL);
  if (declared.length)
    blocks.push({
      type: 'section',
      text: mrkdwn(truncate(declared.map((f) => `*${f.label}:* ${f.text}`).join('\n'), 3000)),
    });
  for (const [label, value] of fields) {
    if (!value) continue;
    const parts = chunks(value);
    for (const [i, part] of parts.entries()) {
      blocks.push({ type: 'section', text: mrkdwn(`${i === 0 ? `*${label}*\n` : ''}${part}`) });
    }
  }
  if (s.retro.answers) {
    const a = s.retro.answers;
    blocks.push({
      type: 'section',
      text: mrkdwn(
        `*Retrospective*\nWhat: ${userText(a.whatChanged, 500)}\nWhy: ${userText(a.why, 500)}\nApproval: ${userText(a.approval, 300)}\nRoot cause: ${userText(a.rootCause, 500)}\nPreventable: ${userText(a.preventable, 400)}\nFollow-ups: ${userText(a.followUps || '—', 400)}`,
      ),
    });
  }
  const trail = events.map(
    (e) =>
      `${e.seq}. ${slackDate(e.at)} ${EVENT_LABEL[e.type] ?? e.type} · ${e.actor.startsWith('U') || e.actor.startsWith('W') ? mention(e.actor) : userText(e.actor, 60)}${eventDetail(e) ? ` · ${eventDetail(e)}` : ''}`,
  );
  const room = 48 - blocks.length;
  const perBlock = Math.max(1, Math.ceil(trail.length / Math.max(1, room)));
  blocks.push({ type: 'section', text: mrkdwn('*Audit trail*') });
  for (let i = 0; i < trail.length && blocks.length < 49; i += perBlock) {
    blocks.push({
      type: 'context',
      elements: [mrkdwn(trail.slice(i, i + perBlock).join('\n'))],
    } as ContextBlock);
  }
  return { text: `${id}: ${userText(r.title, 150)}`, blocks: blocks.slice(0, 50) };
}
