import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { AuditReport } from '../../../application/verify-audit.js';
import { formatChangeId } from '../../../domain/change.js';
import type { ChangeLogSummary, LogItem, Percentiles, TopList } from '../../../domain/change-log.js';
import { fieldEntries } from '../../../domain/fields.js';
import type { Finding, FindingKind } from '../../../domain/ledger.js';
import type { ChangeState, StoredChangeEvent } from '../../../domain/lifecycle.js';
import type { Policy } from '../../../domain/policy.js';
import type { VisibilityScope } from '../../../domain/visibility.js';
import { SLACK_FULL, STATUS_LABEL } from './change.message.js';
import { mention, mrkdwn, plain, slackDate, truncate, userText } from './text.js';

const who = (w: string | null) =>
  !w ? '' : w.startsWith('pipeline:') ? ` · ${userText(w, 60)}` : ` · ${mention(w)}`;

function item(i: LogItem): string {
  const id = formatChangeId(i.number);
  return `• ${i.permalink ? `<${i.permalink}|${id}>` : `*${id}*`} ${userText(i.title, 60)}: ${userText(i.detail, 160)}${who(i.who)} · ${slackDate(i.at, '{date_short}')}`;
}

function list(title: string, top: TopList, empty: string): SectionBlock {
  const lines = top.items.map(item);
  const more =
    top.total > top.items.length ? `\n…and ${top.total - top.items.length} more in the export.` : '';
  return {
    type: 'section',
    text: mrkdwn(
      truncate(`*${title}* (${top.total})\n${lines.length ? lines.join('\n') : empty}${more}`, 3000),
    ),
  };
}

const hours = (p: Percentiles) =>
  p.n === 0 ? '—' : `median ${p.medianHours} h, p90 ${p.p90Hours} h (${p.n} change${p.n === 1 ? '' : 's'})`;

const KIND_TEXT: Record<FindingKind, string> = {
  edited: 'edited',
  inserted: 'inserted',
  deleted: 'deleted',
  reordered: 'reordered',
  truncated: 'truncated',
  change_removed: 'whole change removed',
  projection_mismatch: 'record differs from its events',
  checkpoint_invalid: 'checkpoint invalid',
  checkpoint_missing_in_database: 'checkpoint missing in the database',
  checkpoint_missing_in_slack: 'checkpoint missing in the audit channel',
  rollup_mismatch: 'change-log rollup differs from the events',
};

/** One finding in words: kind, then where (change, event, ledger index, checkpoint). */
export function findingText(f: Finding): string {
  return `${KIND_TEXT[f.kind]}: ${userText(f.detail, 300)}`;
}

export function auditLine(a: AuditReport): string {
  const cp = a.latestCheckpoint
    ? `, checkpoint #${a.latestCheckpoint.number} (${a.latestCheckpoint.treeSize} entries)`
    : '';
  const witness =
    a.witness === 'compared'
      ? ', matched with the audit channel'
      : a.witness === 'unreadable'
        ? ' (the audit channel could not be read)'
        : '';
  if (a.intact)
    return `🔒 Audit trail verified: ${a.checkedChanges} changes, ${a.checkedEvents} events, ${a.ledgerSize} ledger entries${cp}${witness}; nothing edited, inserted, deleted or reordered.`;
  const total = a.findings.length + a.findingsOmitted;
  const first = a.findings.slice(0, 5).map(findingText).join('; ');
  return `🚨 Audit trail: ${total} finding${total === 1 ? '' : 's'}: ${first}${total > 5 ? '; …' : ''}.`;
}

/** The alert a failed verification posts to the audit channel and the security roles. */
export function auditAlertText(a: AuditReport): string {
  const total = a.findings.length + a.findingsOmitted;
  const lines = a.findings.slice(0, 15).map((f) => `• ${findingText(f)}`);
  return [
    `🚨 *The audit trail failed verification* (${a.verifiedAt.toISOString()}): ${total} finding${total === 1 ? '' : 's'}. Someone may have changed Changegate's records behind its back; nothing may deploy on the changes named.`,
    ...lines,
    ...(total > lines.length
      ? [`…and ${total - lines.length} more: run \`npm run audit:verify\` for the full list.`]
      : []),
  ].join('\n');
}

/** What a viewer's changes are, in words (the same rule as everywhere, see domain/visibility.ts). */
export const SCOPE_TEXT: Record<VisibilityScope['kind'], string> = {
  all: 'all changes',
  involved:
    'only the changes you raised or take part in (the roles in the policy’s access.seeAllChanges see every change)',
  own: 'only the changes you raised',
};

/** The `/change-log` summary (and the monthly report), within Slack's 50-block limit. */
export function changeLogMessage(
  s: ChangeLogSummary,
  scope: VisibilityScope['kind'],
  audit?: AuditReport,
  title = 'Change log',
): { text: string; blocks: KnownBlock[] } {
  const rate = s.changeFailureRate === null ? '—' : `${(s.changeFailureRate * 100).toFixed(1)}%`;
  const e = s.emergencies;
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain(`${title} · ${s.period.label}`, 150) },
    {
      type: 'context',
      elements: [
        mrkdwn(
          `${slackDate(s.period.from, '{date_short}')} – ${slackDate(new Date(s.period.to.getTime() - 1), '{date_short}')} · ${
            SCOPE_TEXT[scope]
          }`,
        ),
      ],
    } as ContextBlock,
    {
      type: 'section',
      fields: [
        mrkdwn(`*Changes raised*\n${s.raised}`),
        mrkdwn(`*Deployment attempts (changes)*\n${s.deployed}`),
        mrkdwn(`*Change failure rate*\n${rate}`),
        mrkdwn(`*Rollbacks*\n${s.rollbacks.total}`),
        mrkdwn(`*Rejected*\n${s.rejections}`),
        mrkdwn(`*Unauthorised deployments*\n${s.unauthorised.total}`),
        mrkdwn(`*Security-impacting changes*\n${s.securityChanges}`),
        mrkdwn(`*Refused approval attempts*\n${s.refusedAttempts}`),
      ],
    },
    ...(s.counts.length
      ? [
          {
            type: 'section',
            fields: s.counts.slice(0, 10).map((c) => mrkdwn(`*${userText(c.label, 60)}*\n${c.count}`)),
          } as SectionBlock,
        ]
      : []),
    {
      type: 'section',
      text: mrkdwn(
        truncate(
          `*By type:* ${s.byType.map((t) => `${userText(t.name, 40)} ${t.count}`).join(' · ') || '—'}\n*By outcome:* ${
            Object.entries(s.byOutcome)
              .map(([k, v]) => `${STATUS_LABEL[k as keyof typeof STATUS_LABEL] ?? k} ${v}`)
              .join(' · ') || '—'
          }`,
          3000,
        ),
      ),
    },
    {
      type: 'section',
      text: mrkdwn(
        truncate(
          `*Lead time* request → approval: ${hours(s.leadTimeToApproval)}\nrequest → deployment: ${hours(s.leadTimeToDeploy)}\n*Approval wait per stage*\n${
            s.stageWait.map((w) => `• ${userText(w.stage, 60)}: ${hours(w.wait)}`).join('\n') || '—'
          }`,
          3000,
        ),
      ),
    },
    {
      type: 'section',
      text: mrkdwn(
        truncate(
          `*Emergency changes* (${e.total}): retrospective on time ${e.onTime} · late ${e.late} · overdue ${e.overdue} · pending ${e.pending} · review pending ${e.reviewPending}${s.postImplementation.answered + s.postImplementation.overdue ? `\n*Post-implementation reviews:* answered ${s.postImplementation.answered} · overdue ${s.postImplementation.overdue}` : ''}${
            e.items.length ? `\n${e.items.map(item).join('\n')}` : ''
          }`,
          3000,
        ),
      ),
    },
    list('Deployed during a freeze', s.freezeDeployments, 'None.'),
    list('Rollbacks', s.rollbacks, 'None.'),
    list('Deployments never verified', s.neverVerified, 'None.'),
    list('Unauthorised deployments', s.unauthorised, 'None.'),
    list('Approvals', s.approvals, 'None.'),
  ];
  if (audit) blocks.push({ type: 'section', text: mrkdwn(auditLine(audit)) });
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(
        'Evidence for every change: `/change-log export <period> csv` (or `json`). One change in full: `/change-log CR-42`.',
      ),
    ],
  } as ContextBlock);
  return { text: `${title} for ${s.period.label}: ${s.raised} raised, ${s.deployed} deployed`, blocks };
}

/** `/change-log CR-42`: the change's audit trail in order, with its hash chain. */
export function auditTrailMessage(
  s: ChangeState,
  events: StoredChangeEvent[],
  chainOk: boolean,
  permalink: string | null,
  policy: Policy,
): { text: string; blocks: KnownBlock[] } {
  const id = formatChangeId(s.number);
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain(`${id} · audit trail`, 150) },
    {
      type: 'section',
      text: mrkdwn(
        `${permalink ? `<${permalink}|${userText(s.request.title, 150)}>` : userText(s.request.title, 150)}\n${STATUS_LABEL[s.status]} · ${userText(s.typeName, 40)} · raised by ${mention(s.requester)} · policy ${s.policyHash}\n${
          chainOk ? '🔒 Hash chain intact.' : '🚨 The hash chain is broken: the stored history was altered.'
        }`,
      ),
    },
  ];
  const declared = fieldEntries(policy, s.request.fields, SLACK_FULL);
  if (declared.length)
    blocks.push({
      type: 'section',
      text: mrkdwn(truncate(declared.map((f) => `*${f.label}:* ${f.text}`).join('\n'), 3000)),
    });
  const lines = events.map((e) => {
    const actor = /^[UW][A-Z0-9]+$/.test(e.actor) ? mention(e.actor) : userText(e.actor, 60);
    return `${e.seq}. ${slackDate(e.at)} *${e.type.replace(/_/g, ' ')}* · ${actor} · \`${e.hash.slice(0, 12)}\``;
  });
  for (let i = 0; i < lines.length && blocks.length < 48; i += 20) {
    blocks.push({
      type: 'context',
      elements: [mrkdwn(truncate(lines.slice(i, i + 20).join('\n'), 3000))],
    } as ContextBlock);
  }
  return { text: `${id} audit trail`, blocks };
}
