import type { ActionsBlock, Button, ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import { formatChangeId } from '../../../domain/change.js';
import { shortCommit } from '../../../domain/commit.js';
import { type FieldRender, fieldEntries } from '../../../domain/fields.js';
import {
  changeOwners,
  ciConclusion,
  countedApprovals,
  type PullRequestEvidence,
  selfApprovals,
} from '../../../domain/github.js';
import {
  type ChangeEvent,
  type ChangeState,
  type ChangeStatus,
  deploysTheChange,
  exceptionOptions,
  freezesBlockingDeployment,
  openStageList,
  type RetroReview,
  retroState,
  type StageStatus,
  stageProgress,
  waitingFor,
} from '../../../domain/lifecycle.js';
import { type Policy, securityFlagLabel } from '../../../domain/policy.js';
import { ACTIONS } from '../ids.js';
import { unauthorisedReasonText } from './reasons.js';
import { mention, mrkdwn, plain, slackDate, truncate, userText } from './text.js';

/** " (for @approver, as their delegate)" when a delegate decided. */
const forWhom = (onBehalfOf: string | undefined) =>
  onBehalfOf ? ` (for ${mention(onBehalfOf)}, as their delegate)` : '';

/**
 * The message that represents a change in the approvals channel (updated in place at every step),
 * the replies in its thread, and the DMs around it. Pure functions of a view model.
 */

export const STATUS_LABEL: Record<ChangeStatus, string> = {
  pending_approval: '⏳ Waiting for approval',
  approved: '✅ Approved: ready to deploy',
  rejected: '❌ Rejected',
  cancelled: '🚫 Cancelled',
  deployed: '🚀 Deployed: awaiting verification',
  verified: '✅ Deployed and verified',
  rolled_back: '↩️ Rolled back',
};

const RISK_LABEL = { low: '🟢 Low', medium: '🟠 Medium', high: '🔴 High' } as const;

export interface StageLine {
  index: number;
  name: string;
  state: StageStatus;
  by: string | null;
  at: Date | null;
  note: string;
  /** Everyone who approved the stage so far (quorum and `eachOf` stages). */
  approvedBy: string[];
  approvals: number;
  needed: number;
  missingRoles: string[];
  /** The environment a blocked stage waits for a deployment to. */
  after: string | null;
}

export interface ChangeMessageModel {
  number: number;
  title: string;
  typeName: string;
  emergency: boolean;
  status: ChangeStatus;
  requester: string;
  risk: keyof typeof RISK_LABEL | null;
  systems: string[];
  summary: string;
  plannedStart: Date | null;
  plannedEnd: Date | null;
  links: { pr: string | null; ticket: string | null };
  commit: string | null;
  securityFlags: string[];
  /** The policy's declared fields with a value, labelled. */
  fields: { label: string; text: string }[];
  stages: StageLine[];
  autoApproved: boolean;
  waitingOn: string[];
  frozen: string[];
  exceptions: { freeze: string; by: string; approvedBy: string[] }[];
  /** Whether the change can be granted an exception (a freeze or a maintenance window is in its way). */
  exceptionsAvailable: boolean;
  deployedAt: Date | null;
  deployedBy: string | null;
  unauthorisedDeployment: boolean;
  verification: { outcome: 'ok' | 'rolled_back'; by: string; issues: string } | null;
  retro: { state: ReturnType<typeof retroState>; dueAt: Date | null };
  retroReview: RetroReview['status'];
  cancellation: { by: string; reason: string } | null;
  /** Linked pull requests, one line each (see pullRequestLine). */
  pullRequests: string[];
  policyHash: string;
}

/** One linked PR: link, merge, counted approvals, self-approvals flagged, CI on the head commit. */
export function pullRequestLine(p: PullRequestEvidence, owners: readonly string[] = []): string {
  const approvals = countedApprovals(p, owners);
  const self = selfApprovals(p, owners);
  return [
    `🔗 <${p.url}|${userText(p.repo, 80)}#${p.number}>`,
    p.merged && p.mergeCommit
      ? `merged as \`${p.mergeCommit.slice(0, 12)}\`${p.mergedBy ? ` by ${userText(p.mergedBy, 40)}` : ''}`
      : 'open',
    approvals.length
      ? `approved by ${userText(approvals.map((r) => r.by).join(', '), 200)}`
      : 'no counted approval',
    ...(self.length
      ? [`⚠️ self-approved by ${userText(self.map((r) => r.by).join(', '), 80)} (not counted)`]
      : []),
    `CI ${ciConclusion(p)}`,
  ].join(' · ');
}

export function toMessageModel(
  state: ChangeState,
  policy: Policy,
  now: Date,
  waitingOn: string[],
): ChangeMessageModel {
  const frozenNow =
    state.status === 'pending_approval' || state.status === 'approved'
      ? freezesBlockingDeployment(state, policy, now)
      : [];
  const stages: StageLine[] = stageProgress(state).map((p) => ({
    index: p.index,
    name: p.name,
    state: p.status,
    by: p.decision?.by ?? null,
    at: p.decision?.at ?? null,
    note: p.decision?.note ?? '',
    approvedBy: p.decisions.filter((d) => d.outcome === 'approved').map((d) => d.by),
    approvals: p.approvals,
    needed: p.needed,
    missingRoles: p.missingRoles,
    after: p.after?.deployedTo ?? null,
  }));
  const req = state.request;
  return {
    number: state.number,
    title: req.title,
    typeName: state.typeName,
    emergency: state.emergency,
    status: state.status,
    requester: state.requester,
    risk: req.risk,
    systems: req.systems,
    summary: state.emergency ? req.justification : req.description,
    plannedStart: req.plannedStart,
    plannedEnd: req.plannedEnd,
    links: req.links,
    commit: req.commit,
    securityFlags: req.securityFlags.map((f) => securityFlagLabel(policy, f)),
    fields: fieldEntries(policy, req.fields, SLACK_SHORT),
    stages,
    autoApproved: state.stages.length === 0,
    waitingOn,
    frozen: frozenNow,
    exceptions: state.exceptions.map((x) => ({ freeze: x.freeze, by: x.by, approvedBy: x.approvedBy })),
    exceptionsAvailable: exceptionOptions(state, policy, now).length > 0,
    deployedAt: state.deployedAt,
    deployedBy: state.deployedBy,
    unauthorisedDeployment: state.deployments.some((d) => d.unauthorised),
    verification: state.verification,
    retro: { state: retroState(state, now), dueAt: state.retro.dueAt },
    retroReview: state.retroReview.status,
    cancellation: state.cancellation,
    pullRequests: (state.pullRequests ?? []).map((p) => pullRequestLine(p, changeOwners(state))),
    policyHash: state.policyHash,
  };
}

export function button(
  text: string,
  actionId: string,
  value: string,
  style?: 'primary' | 'danger',
  confirm?: { title: string; text: string; yes: string },
): Button {
  const b: Button = { type: 'button', text: plain(text, 75), action_id: actionId, value };
  if (style) b.style = style;
  if (confirm) {
    b.confirm = {
      title: plain(confirm.title, 100),
      text: plain(confirm.text, 300),
      confirm: plain(confirm.yes, 30),
      deny: plain('Not now', 30),
    };
  }
  return b;
}

export function changeActions(m: ChangeMessageModel): Button[] {
  const id = formatChangeId(m.number);
  const buttons: Button[] = [];
  if (m.frozen.length > 0 || m.exceptionsAvailable)
    buttons.push(button('Grant exception…', ACTIONS.grantException, String(m.number)));
  if (m.status === 'approved') {
    buttons.push(
      button('Record deployment', ACTIONS.recordDeployment, String(m.number), 'primary', {
        title: `Deployed ${id}?`,
        text: `Record that ${id} is now deployed to production. Verification follows.`,
        yes: 'Record deployment',
      }),
    );
  }
  if (m.status === 'deployed') {
    buttons.push(button('Verified OK…', ACTIONS.verifyOk, String(m.number), 'primary'));
    buttons.push(button('Rolled back…', ACTIONS.verifyRollback, String(m.number), 'danger'));
  }
  if (m.retro.state === 'pending' || m.retro.state === 'overdue') {
    buttons.push(
      button(
        'Write retrospective…',
        ACTIONS.retro,
        String(m.number),
        m.retro.state === 'overdue' ? 'danger' : undefined,
      ),
    );
  }
  buttons.push(...reviewButtons(m.number, m.retroReview));
  if (m.status === 'pending_approval' || m.status === 'approved') {
    buttons.push(
      button('Cancel', ACTIONS.cancel, String(m.number), undefined, {
        title: `Cancel ${id}?`,
        text: 'The change request will be closed as cancelled. Only the requester (or an admin) can do this.',
        yes: 'Cancel change',
      }),
    );
  }
  return buttons;
}

/** Approve and reject buttons for each open stage: one actions block per stage (action ids are per block). */
export function stageActionBlocks(m: ChangeMessageModel): ActionsBlock[] {
  if (m.status !== 'pending_approval') return [];
  return m.stages
    .filter((s) => s.state === 'current')
    .map((s) => stageActions('stage_actions', m.number, s.index, s.name));
}

/**
 * Decision buttons for a change's open stages, one actions block per stage; `prefix` keeps block
 * ids unique where several changes share a view.
 */
export function openStageActions(s: ChangeState, prefix: string): ActionsBlock[] {
  return openStageList(s).map((o) => stageActions(prefix, s.number, o.index, o.stage.name));
}

/** One stage's Approve / Reject buttons in their own actions block (action ids are unique per block). */
export function stageActions(
  prefix: string,
  changeNumber: number,
  index: number,
  name: string,
): ActionsBlock {
  return {
    type: 'actions',
    block_id: `${prefix}:${changeNumber}:${index}`,
    elements: decisionButtons(changeNumber, index, name),
  } as ActionsBlock;
}

/** "2 of 3 approvals" or the roles still to sign, for stages that take more than one approval. */
function quorumText(s: StageLine): string {
  if (s.needed <= 1) return '';
  if (s.missingRoles.length > 0 && s.state === 'current')
    return ` (${s.approvals} of ${s.needed}; still needs ${userText(s.missingRoles.join(', '), 200)})`;
  return ` (${s.approvals} of ${s.needed} approvals)`;
}

function stageLine(s: StageLine, waitingOn: string[]): string {
  switch (s.state) {
    case 'approved':
      return `✅ *${userText(s.name, 80)}* approved by ${(s.approvedBy.length ? s.approvedBy : [s.by!]).map(mention).join(', ')} ${slackDate(s.at!)}`;
    case 'rejected':
      return `❌ *${userText(s.name, 80)}* rejected by ${mention(s.by!)} ${slackDate(s.at!)}: ${userText(s.note, 300)}`;
    case 'current':
      return `⏳ *${userText(s.name, 80)}*${quorumText(s)}${s.approvedBy.length ? `, approved by ${s.approvedBy.map(mention).join(', ')};` : ''}${waitingOn.length ? ` waiting for ${waitingOn.slice(0, 8).map(mention).join(', ')}` : ' waiting for an approver'}`;
    case 'blocked':
      return `🔒 ${userText(s.name, 80)}${quorumText(s)}: opens once a deployment to ${userText(s.after ?? '', 40)} is recorded`;
    case 'waiting':
      return `▫️ ${userText(s.name, 80)}`;
    case 'skipped':
      return `➖ ${userText(s.name, 80)} (not reached)`;
  }
}

function windowText(start: Date | null, end: Date | null): string {
  if (!start) return 'not planned';
  return end ? `${slackDate(start)} → ${slackDate(end)}` : `from ${slackDate(start)}`;
}

/** The root message of a change: summary, stage, who decided, and the buttons for the next step. */
export function changeRootMessage(m: ChangeMessageModel): { text: string; blocks: KnownBlock[] } {
  const id = formatChangeId(m.number);
  const blocks: KnownBlock[] = [];
  blocks.push({ type: 'header', text: plain(`${m.emergency ? '🚨 ' : ''}${id} · ${m.title}`, 150) });
  const fields = [
    mrkdwn(`*Type*\n${userText(m.typeName, 100)}`),
    mrkdwn(`*Status*\n${STATUS_LABEL[m.status]}`),
    mrkdwn(`*Requester*\n${mention(m.requester)}`),
    mrkdwn(`*Risk*\n${m.risk ? RISK_LABEL[m.risk] : m.emergency ? '🚨 Emergency' : '—'}`),
    mrkdwn(`*Systems*\n${m.systems.length ? userText(m.systems.join(', '), 500) : '—'}`),
    mrkdwn(`*Window*\n${windowText(m.plannedStart, m.plannedEnd)}`),
  ];
  blocks.push({ type: 'section', fields } as SectionBlock);
  if (m.summary) blocks.push({ type: 'section', text: mrkdwn(userText(m.summary, 600)) });

  const context: string[] = [];
  if (m.links.pr) context.push(`<${m.links.pr}|Pull request>`);
  if (m.links.ticket) context.push(`<${m.links.ticket}|Ticket>`);
  if (m.commit) context.push(`Approves commit \`${shortCommit(m.commit)}\``);
  if (m.securityFlags.length) context.push(`🔐 Security impact: ${m.securityFlags.join(', ')}`);
  if (context.length)
    blocks.push({ type: 'context', elements: [mrkdwn(context.join('  ·  '))] } as ContextBlock);
  if (m.fields.length)
    blocks.push({
      type: 'context',
      elements: [mrkdwn(truncate(m.fields.map((f) => `*${f.label}:* ${f.text}`).join('  ·  '), 1500))],
    } as ContextBlock);

  const progress: string[] = m.autoApproved
    ? ['✅ Pre-approved standard change: recorded and approved by policy']
    : m.stages.map((s) => stageLine(s, m.waitingOn));
  for (const x of m.exceptions)
    progress.push(
      `🧊 Exception for *${userText(x.freeze, 80)}* granted by ${(x.approvedBy.length ? x.approvedBy : [x.by]).map(mention).join(', ')}`,
    );
  if (m.deployedAt) {
    progress.push(
      `🚀 Deployed ${slackDate(m.deployedAt)}${m.deployedBy && !m.deployedBy.startsWith('pipeline:') ? ` by ${mention(m.deployedBy)}` : m.deployedBy ? ` by ${userText(m.deployedBy, 80)}` : ''}`,
    );
  }
  if (m.unauthorisedDeployment) progress.push('⚠️ An *unauthorised* deployment was reported for this change');
  if (m.verification) {
    progress.push(
      m.verification.outcome === 'ok'
        ? `✅ Verified by ${mention(m.verification.by)}${m.verification.issues ? `: ${userText(m.verification.issues, 300)}` : ''}`
        : `↩️ Rolled back by ${mention(m.verification.by)}: ${userText(m.verification.issues, 300)}`,
    );
  }
  if (m.retro.state !== 'not_required' && m.retro.state !== 'not_due_yet') {
    const due = m.retro.dueAt ? slackDate(m.retro.dueAt) : '';
    const label = {
      pending: `📝 Retrospective due ${due}`,
      overdue: `⚠️ Retrospective *overdue* (was due ${due})`,
      on_time: '📝 Retrospective submitted on time',
      late: '📝 Retrospective submitted late',
    }[m.retro.state];
    progress.push(label);
  }
  progress.push(...m.pullRequests);
  if (m.cancellation) {
    progress.push(
      `🚫 Cancelled by ${mention(m.cancellation.by)}${m.cancellation.reason ? `: ${userText(m.cancellation.reason, 300)}` : ''}`,
    );
  }
  blocks.push({ type: 'section', text: mrkdwn(truncate(progress.join('\n'), 3000)) });
  if (m.frozen.length) {
    blocks.push({
      type: 'section',
      text: mrkdwn(
        `🧊 *Freeze:* ${userText(m.frozen.join(', '), 300)} blocks ${userText(m.typeName, 60)} changes. Deploying it needs an exception; approving does not.`,
      ),
    });
  }
  blocks.push(...stageActionBlocks(m));
  const actions = changeActions(m);
  if (actions.length)
    blocks.push({
      type: 'actions',
      block_id: `change_actions:${m.number}`,
      elements: actions,
    } as ActionsBlock);
  blocks.push({
    type: 'context',
    elements: [mrkdwn(`Full details: \`/change show ${id}\`  ·  policy ${m.policyHash}`)],
  } as ContextBlock);
  return { text: `${id}: ${userText(m.title, 150)} (${STATUS_LABEL[m.status]})`, blocks };
}

/** Declared field values in the channel message: short, escaped, people as mentions. */
const SLACK_SHORT: FieldRender = { person: mention, text: (s) => userText(s, 80) };
/** …and in full (`/change show`). */
export const SLACK_FULL: FieldRender = { person: mention, text: (s) => userText(s, 1500) };

/** The thread reply for one event. */
export function eventReply(state: ChangeState, e: ChangeEvent, waitingOn: string[]): { text: string } | null {
  const id = formatChangeId(state.number);
  const nextLine =
    state.status === 'pending_approval'
      ? `\nNext: *${userText(waitingFor(state, new Date()), 160)}*${waitingOn.length ? ` (${waitingOn.slice(0, 8).map(mention).join(', ')})` : ''}.`
      : '';
  switch (e.type) {
    case 'submitted': {
      const reviewers = state.request.suggestedReviewers.length
        ? `\nSuggested reviewers: ${state.request.suggestedReviewers.map(mention).join(', ')}.`
        : '';
      if (e.data.autoApproved) {
        return {
          text: `📋 ${mention(e.actor)} recorded ${id}, a pre-approved ${userText(state.typeName, 60)} change: approved by policy. Record the deployment when it is done.${reviewers}`,
        };
      }
      return { text: `📋 ${mention(e.actor)} submitted ${id} for approval.${nextLine}${reviewers}` };
    }
    case 'stage_approved':
      return {
        text: `✅ ${mention(e.actor)}${forWhom(e.data.onBehalfOf)} approved *${userText(e.data.stageName, 80)}*${e.data.comment ? `: ${userText(e.data.comment, 500)}` : '.'}${
          state.status === 'approved' ? `\n🎉 ${id} is fully approved and ready to deploy.` : nextLine
        }`,
      };
    case 'rejected':
      return {
        text: `❌ ${mention(e.actor)}${forWhom(e.data.onBehalfOf)} rejected ${id} at *${userText(e.data.stageName, 80)}*: ${userText(e.data.reason, 1500)}`,
      };
    case 'freeze_exception_granted':
      return {
        text: `🧊 ${mention(e.actor)} ${state.exceptions.some((x) => x.freeze === e.data.freeze) ? 'granted an exception' : 'approved an exception (more approvals needed)'} for *${userText(e.data.freeze, 80)}*: ${userText(e.data.reason, 1500)}${e.data.risk ? `\n*Risk:* ${userText(e.data.risk, 1000)}` : ''}`,
      };
    case 'cancelled':
      return {
        text: `🚫 ${mention(e.actor)} cancelled ${id}${e.data.reason ? `: ${userText(e.data.reason, 1500)}` : '.'}`,
      };
    case 'deployment_recorded': {
      const d = e.data;
      const who = e.actor.startsWith('pipeline:')
        ? `Pipeline *${userText(e.actor.slice(9), 80)}*`
        : mention(e.actor);
      const where = `*${userText(d.environment, 40)}*${d.commit ? ` (commit \`${userText(d.commit, 40)}\`)` : ''}${d.pipelineUrl ? ` <${d.pipelineUrl}|pipeline run>` : ''}`;
      const verb =
        d.status === 'started'
          ? 'started deploying to'
          : d.status === 'failed'
            ? 'reported a *failed* deployment to'
            : 'deployed to';
      const warn = d.unauthorised
        ? `\n⚠️ *Unauthorised deployment*: ${d.reasons.map((r) => unauthorisedReasonText(r, state.status)).join('; ')}.`
        : '';
      const after =
        d.production && d.status === 'succeeded' && deploysTheChange(d.reasons)
          ? `\nNext: post-deployment verification by ${mention(state.requester)}.${state.retro.dueAt ? ` Retrospective due ${slackDate(state.retro.dueAt)}.` : ''}`
          : // A deployment to staging may open a stage that waited for it.
            !d.production && d.status === 'succeeded'
            ? nextLine
            : '';
      return { text: `🚀 ${who} ${verb} ${where}.${warn}${after}` };
    }
    case 'verified':
      return {
        text:
          e.data.outcome === 'ok'
            ? `✅ ${mention(e.actor)} verified the deployment${e.data.issues ? `. Issues encountered: ${userText(e.data.issues, 1500)}` : ': no issues.'}`
            : `↩️ ${mention(e.actor)} rolled the change back: ${userText(e.data.issues, 1500)}`,
      };
    case 'retro_submitted':
      return {
        text: `📝 ${mention(e.actor)} submitted the retrospective.\n*Root cause:* ${userText(e.data.rootCause, 800)}\n*Could it have been prevented?* ${userText(e.data.preventable || '—', 500)}\n*Follow-ups:* ${userText(e.data.followUps || '—', 800)}${
          state.retroReview.status === 'pending'
            ? `\nNext: review by ${userText(state.retroReview.reviewers.join(' or '), 200)}.`
            : ''
        }`,
      };
    case 'retro_reviewed':
      return {
        text:
          e.data.outcome === 'accepted'
            ? `✅ ${mention(e.actor)} accepted the retrospective${e.data.note ? `: ${userText(e.data.note, 1000)}` : '.'}`
            : `❓ ${mention(e.actor)} sent the retrospective back with questions: ${userText(e.data.note, 1500)}\n${mention(state.requester)}, please answer.`,
      };
    case 'pir_answered':
      return {
        text: `📋 ${mention(e.actor)} completed the *${userText(e.data.name, 60)}* post-implementation review:\n${e.data.answers
          .map((a) => `• ${userText(a.question, 150)} ${userText(a.answer, 300)}`)
          .join('\n')}`.slice(0, 3500),
      };
    case 'retro_answered':
      return {
        text: `💬 ${mention(e.actor)} answered the review questions: ${userText(e.data.answer, 1500)}\nNext: review by ${userText(state.retroReview.reviewers.join(' or '), 200)}.`,
      };
    case 'retro_overdue':
      return {
        text: `⚠️ The retrospective for ${id} is overdue (it was due ${slackDate(new Date(e.data.dueAt))}). ${mention(state.requester)}, please write it now.`,
      };
    case 'board_deferred':
      return {
        text:
          e.actor === 'system'
            ? `🗓️ The board's meeting did not reach ${id}: it is on the agenda of the next one.`
            : `🗓️ ${mention(e.actor)} deferred ${id} (*${userText(e.data.stageName, 80)}*) to the board's next meeting: ${userText(e.data.reason, 1000)}`,
      };
    case 'pr_linked':
      return {
        text: `🔗 Pull request <${e.data.url}|${userText(e.data.repo, 80)}#${e.data.number}> (${userText(e.data.title, 150)}) by ${userText(e.data.author, 40)} is linked to ${id}.`,
      };
    case 'pr_head':
      return {
        text: `🔁 New commit \`${e.data.headSha.slice(0, 12)}\` on <${e.data.url}|the pull request>.`,
      };
    case 'pr_review':
      return e.data.state === 'approved' || e.data.state === 'changes_requested'
        ? {
            text: `${e.data.state === 'approved' ? '👍' : '✋'} ${userText(e.data.by, 40)} ${e.data.state === 'approved' ? 'approved' : 'requested changes on'} <${e.data.url}|the pull request> at \`${e.data.commit.slice(0, 12)}\`${e.data.byAuthor ? ' ⚠️ *the PR’s own author: not counted*' : ''}.`,
          }
        : null;
    case 'pr_checks':
      return e.data.conclusion === 'success'
        ? null
        : {
            text: `🧪 ${userText(e.data.name, 80)}: *${userText(e.data.conclusion, 30)}* on \`${e.data.sha.slice(0, 12)}\`.`,
          };
    case 'pr_unlinked':
      return { text: `⛓️‍💥 <${e.data.url}|The pull request> no longer names ${id}: it is unlinked.` };
    case 'pr_merged':
      return {
        text: `🔀 ${userText(e.data.mergedBy, 40)} merged <${e.data.url}|the pull request> as \`${e.data.mergeCommit.slice(0, 12)}\`.`,
      };
    case 'approval_refused':
      return null;
  }
}

/** The retrospective review's buttons: the reviewers' while it is pending, the requester's when sent back. */
export function reviewButtons(changeNumber: number, status: RetroReview['status']): Button[] {
  const n = String(changeNumber);
  if (status === 'pending')
    return [
      button('Accept retrospective', ACTIONS.reviewAccept, n, 'primary', {
        title: 'Accept the retrospective?',
        text: 'It is recorded as reviewed and accepted, with your name.',
        yes: 'Accept',
      }),
      button('Send back with questions…', ACTIONS.reviewQuestions, n),
    ];
  if (status === 'questions') return [button('Answer review questions…', ACTIONS.reviewAnswer, n, 'primary')];
  return [];
}

/** The button that opens post-implementation review `index` of a change. */
export function pirButton(changeNumber: number, index: number, name: string): Button {
  return button(`Answer ${truncate(name, 40)}…`, ACTIONS.pir, `${changeNumber}:${index}`, 'primary');
}

/** A DM with a link to the change's thread. */
export function directMessage(
  text: string,
  permalink: string | null,
  buttons: Button[] = [],
): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [{ type: 'section', text: mrkdwn(text) }];
  if (permalink)
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`<${permalink}|Open the change thread>`)],
    } as ContextBlock);
  if (buttons.length) blocks.push({ type: 'actions', elements: buttons } as ActionsBlock);
  return { text: truncate(text, 3000), blocks };
}

/** Approve / Reject buttons for a DM or App Home row (the same handlers as the channel buttons). */
export function decisionButtons(changeNumber: number, stageIndex: number, stageName: string): Button[] {
  return [
    button(`Approve ${truncate(stageName, 40)}`, ACTIONS.approve, `${changeNumber}:${stageIndex}`, 'primary'),
    button('Reject…', ACTIONS.reject, `${changeNumber}:${stageIndex}`, 'danger'),
  ];
}

export function retroButton(changeNumber: number): Button {
  return button('Write retrospective…', ACTIONS.retro, String(changeNumber), 'primary');
}

export function verifyButtons(changeNumber: number): Button[] {
  return [
    button('Verified OK…', ACTIONS.verifyOk, String(changeNumber), 'primary'),
    button('Rolled back…', ACTIONS.verifyRollback, String(changeNumber), 'danger'),
  ];
}

/**
 * What stakeholders hear about a change (the type's `announce` channels): a pre-deployment
 * announcement once it is approved, each production deployment's status, and a post-deployment
 * summary once verified. Null: nothing to announce for this event.
 */
export function stakeholderAnnouncement(
  state: ChangeState,
  e: ChangeEvent,
  permalink: string | null,
): { text: string } | null {
  const id = formatChangeId(state.number);
  const what = `${permalink ? `<${permalink}|${id}>` : `*${id}*`} “${userText(state.request.title, 150)}” (${userText(state.typeName, 60)})`;
  const systems = state.request.systems.length ? userText(state.request.systems.join(', '), 300) : '—';
  const window = windowText(state.request.plannedStart, state.request.plannedEnd);
  const approvers = [...new Set(state.decisions.filter((d) => d.outcome === 'approved').map((d) => d.by))];
  const approved =
    (e.type === 'stage_approved' && state.status === 'approved') ||
    (e.type === 'submitted' && e.data.autoApproved);
  if (approved) {
    return {
      text: `📣 *Upcoming deployment:* ${what}\n*Window:* ${window} · *Systems:* ${systems}\n*Approved by:* ${
        approvers.length ? approvers.map(mention).join(', ') : 'policy (pre-approved)'
      }`,
    };
  }
  if (e.type === 'deployment_recorded' && e.data.production) {
    const d = e.data;
    const status =
      d.status === 'started'
        ? 'started'
        : d.status === 'failed'
          ? '*failed*'
          : deploysTheChange(d.reasons)
            ? 'succeeded'
            : 'recorded';
    return {
      text: `🚀 *Deployment ${status}:* ${what} to *${userText(d.environment, 40)}*${d.commit ? ` (commit \`${userText(d.commit, 40)}\`)` : ''}${
        d.unauthorised
          ? `\n⚠️ Flagged: ${d.reasons.map((r) => unauthorisedReasonText(r, state.status)).join('; ')}.`
          : ''
      }`,
    };
  }
  if (e.type === 'verified') {
    const ok = e.data.outcome === 'ok';
    return {
      text: `${ok ? '✅' : '↩️'} *Post-deployment summary:* ${what}\n*Deployed:* ${
        state.deployedAt ? slackDate(state.deployedAt) : '—'
      }${state.deployedBy ? ` by ${mention(state.deployedBy)}` : ''} · *Systems:* ${systems}\n*Outcome:* ${
        ok ? 'verified' : 'rolled back'
      } by ${mention(e.actor)}${e.data.issues ? `. *Issues:* ${userText(e.data.issues, 1000)}` : ok ? ', no issues' : ''}`,
    };
  }
  return null;
}
