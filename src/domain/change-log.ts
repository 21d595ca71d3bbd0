import { conditionHolds, formatChangeId } from './change.js';
import { blockingFreezes } from './freeze.js';
import { changeOwners, ciConclusion, countedApprovals, selfApprovals } from './github.js';
import {
  type ChangeState,
  type ChangeStatus,
  deploysTheChange,
  nextPir,
  pirDueAt,
  retroState,
  stagingTested,
} from './lifecycle.js';
import type { Period } from './period.js';
import type { Policy, ReportCount } from './policy.js';
import { HOUR_MS } from './time.js';

/**
 * The change log auditors ask for, computed in one pass over a stream of changes: each change is
 * added once and dropped, so a year of records is never held in memory. Only numbers for the
 * percentiles and a few "top" items are kept.
 */

export interface Percentiles {
  n: number;
  medianHours: number | null;
  p90Hours: number | null;
}

export interface LogItem {
  number: number;
  title: string;
  at: Date;
  detail: string;
  /** Who acted (a Slack user id or `pipeline:<name>`), when it matters. */
  who: string | null;
  permalink: string | null;
}

export interface TopList {
  total: number;
  items: LogItem[];
}

export interface ChangeLogSummary {
  period: Period;
  raised: number;
  byType: { type: string; name: string; count: number }[];
  byOutcome: Partial<Record<ChangeStatus, number>>;
  deployed: number;
  approvals: TopList;
  rejections: number;
  refusedAttempts: number;
  freezeDeployments: TopList;
  emergencies: {
    total: number;
    onTime: number;
    late: number;
    overdue: number;
    pending: number;
    /** Retrospectives waiting for their review (or for answers to it). */
    reviewPending: number;
    items: LogItem[];
  };
  rollbacks: TopList;
  failedDeployments: number;
  changeFailureRate: number | null;
  leadTimeToApproval: Percentiles;
  leadTimeToDeploy: Percentiles;
  stageWait: { stage: string; wait: Percentiles }[];
  neverVerified: TopList;
  unauthorised: TopList;
  securityChanges: number;
  /** The policy's report counts (reports.counts), in its order. */
  counts: { label: string; count: number }[];
  /** Post-implementation reviews answered in the period, and those overdue now (of changes verified in it). */
  postImplementation: { answered: number; overdue: number };
}

export const TOP = 8;

/** Most recent first; ties in a fixed order, so that every way of computing a list agrees. */
export function compareItems(
  a: Pick<LogItem, 'at' | 'number' | 'detail' | 'who'>,
  b: Pick<LogItem, 'at' | 'number' | 'detail' | 'who'>,
): number {
  return (
    b.at.getTime() - a.at.getTime() ||
    b.number - a.number ||
    (a.detail < b.detail ? -1 : a.detail > b.detail ? 1 : 0) ||
    ((a.who ?? '') < (b.who ?? '') ? -1 : (a.who ?? '') > (b.who ?? '') ? 1 : 0)
  );
}

function percentile(sorted: Float64Array, p: number): number {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx]!;
}

class Samples {
  private data = new Float64Array(256);
  private size = 0;
  add(v: number) {
    if (this.size === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.size++] = v;
  }
  result(): Percentiles {
    if (this.size === 0) return { n: 0, medianHours: null, p90Hours: null };
    const sorted = this.data.slice(0, this.size).sort();
    const round = (h: number) => Math.round(h * 100) / 100;
    return {
      n: this.size,
      medianHours: round(percentile(sorted, 0.5) / HOUR_MS),
      p90Hours: round(percentile(sorted, 0.9) / HOUR_MS),
    };
  }
}

/** Keeps the most recent `size` items and a total. */
class Top {
  total = 0;
  private items: LogItem[] = [];
  add(item: LogItem) {
    this.total++;
    this.items.push(item);
    if (this.items.length > TOP * 4) this.trim();
  }
  private trim() {
    this.items.sort(compareItems);
    this.items.length = Math.min(this.items.length, TOP);
  }
  result(): TopList {
    this.trim();
    return { total: this.total, items: [...this.items] };
  }
}

const within = (d: Date | null | undefined, p: Period) => !!d && d >= p.from && d < p.to;

export class ChangeLogAccumulator {
  private raised = 0;
  private readonly byType = new Map<string, Map<string, number>>();
  private readonly byOutcome: Partial<Record<ChangeStatus, number>> = {};
  private deployedChanges = 0;
  private failedChanges = 0;
  private failedDeployments = 0;
  private rejections = 0;
  private refused = 0;
  private securityChanges = 0;
  private readonly approvals = new Top();
  private readonly freezeDeployments = new Top();
  private readonly rollbacks = new Top();
  private readonly neverVerified = new Top();
  private readonly unauthorised = new Top();
  private readonly emergencyItems = new Top();
  private readonly emergency = { total: 0, onTime: 0, late: 0, overdue: 0, pending: 0, reviewPending: 0 };
  private readonly toApproval = new Samples();
  private readonly toDeploy = new Samples();
  private readonly stageWait = new Map<string, Samples>();
  private readonly counts: number[];
  private readonly pir = { answered: 0, overdue: 0 };

  constructor(
    private readonly period: Period,
    private readonly policy: Policy,
    private readonly now: Date,
  ) {
    this.counts = policy.reports.counts.map(() => 0);
  }

  /** Whether the count's event happened to the change in the period. */
  private happened(s: ChangeState, event: ReportCount['event']): boolean {
    const p = this.period;
    switch (event) {
      case 'raised':
        return within(s.submittedAt, p);
      case 'deployed':
        return s.deployments.some(
          (d) => d.production && d.status === 'succeeded' && deploysTheChange(d.reasons) && within(d.at, p),
        );
      case 'verified':
        return s.verification?.outcome === 'ok' && within(s.verification.at, p);
      case 'rolled_back':
        return s.verification?.outcome === 'rolled_back' && within(s.verification.at, p);
    }
  }

  add(s: ChangeState, permalink: string | null = null): void {
    const p = this.period;
    const item = (at: Date, detail: string, who: string | null = null): LogItem => ({
      number: s.number,
      title: s.request.title,
      at,
      detail,
      who,
      permalink,
    });

    for (const a of s.pir.answers) if (a && within(a.at, p)) this.pir.answered++;
    if (s.verification && within(s.verification.at, p)) {
      const next = nextPir(s);
      if (next && next.dueAt < this.now) this.pir.overdue++;
    }
    this.policy.reports.counts.forEach((c, i) => {
      const { types, emergency, ...condition } = c.when;
      if (types && !types.includes(s.type)) return;
      if (emergency !== undefined && emergency !== s.emergency) return;
      if (!conditionHolds(condition, s.request) || !this.happened(s, c.event)) return;
      this.counts[i]!++;
    });

    if (within(s.submittedAt, p)) {
      this.raised++;
      const names = this.byType.get(s.type) ?? new Map<string, number>();
      names.set(s.typeName, (names.get(s.typeName) ?? 0) + 1);
      this.byType.set(s.type, names);
      this.byOutcome[s.status] = (this.byOutcome[s.status] ?? 0) + 1;
      if (s.approvedAt) this.toApproval.add(s.approvedAt.getTime() - s.submittedAt.getTime());
      if (s.deployedAt) this.toDeploy.add(s.deployedAt.getTime() - s.submittedAt.getTime());
      if (s.request.securityFlags.length > 0) this.securityChanges++;
      this.refused += s.refusedAttempts;
      if (s.emergency) {
        this.emergency.total++;
        const r = retroState(s, this.now);
        if (r === 'on_time') this.emergency.onTime++;
        else if (r === 'late') this.emergency.late++;
        else if (r === 'overdue') this.emergency.overdue++;
        else this.emergency.pending++;
        if (s.retroReview.status === 'pending' || s.retroReview.status === 'questions')
          this.emergency.reviewPending++;
        if (r === 'late' || r === 'overdue') {
          this.emergencyItems.add(
            item(
              s.retro.dueAt ?? s.submittedAt,
              r === 'late' ? 'retrospective submitted late' : 'retrospective overdue',
              s.requester,
            ),
          );
        }
      }
    }

    let stageStart = s.submittedAt;
    for (const d of [...s.decisions].sort((a, b) => a.stageIndex - b.stageIndex)) {
      if (within(d.at, p)) {
        if (d.outcome === 'approved') {
          this.approvals.add(item(d.at, `${d.stageName} approved`, d.by));
          const w = this.stageWait.get(d.stageName) ?? new Samples();
          w.add(d.at.getTime() - stageStart.getTime());
          this.stageWait.set(d.stageName, w);
        } else {
          this.rejections++;
        }
      }
      stageStart = d.at;
    }

    const prod = s.deployments.filter((d) => d.production && within(d.at, p));
    const succeeded = prod.filter((d) => d.status === 'succeeded');
    const failed = prod.filter((d) => d.status === 'failed');
    this.failedDeployments += failed.length;
    for (const d of prod.filter((x) => x.unauthorised)) {
      this.unauthorised.add(
        item(d.at, `${d.environment}: ${d.reasons.join(', ').replace('not_approved', 'not approved')}`, d.by),
      );
    }
    if (succeeded.length > 0) {
      this.deployedChanges++;
      const rolledBack = s.verification?.outcome === 'rolled_back';
      if (rolledBack || failed.length > 0) this.failedChanges++;
      for (const d of succeeded) {
        for (const f of blockingFreezes(this.policy, s.type, d.at)) {
          const x = s.exceptions.find((e) => e.freeze === f.name);
          this.freezeDeployments.add(
            item(d.at, x ? `${f.name}: exception: ${x.reason}` : `${f.name}: no exception`, x?.by ?? null),
          );
        }
      }
      if (s.status === 'deployed')
        this.neverVerified.add(item(s.deployedAt ?? succeeded[0]!.at, 'not verified', s.deployedBy));
    } else if (failed.length > 0) {
      this.deployedChanges++;
      this.failedChanges++;
    }
    if (s.verification?.outcome === 'rolled_back' && within(s.verification.at, p)) {
      this.rollbacks.add(item(s.verification.at, s.verification.issues, s.verification.by));
    }
  }

  result(): ChangeLogSummary {
    return {
      period: this.period,
      raised: this.raised,
      // A type renamed between policy versions shows under the name most of its changes carry.
      byType: [...this.byType.entries()]
        .map(([type, names]) => {
          const [name] = [...names].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))[0]!;
          return { type, name, count: [...names.values()].reduce((t, n) => t + n, 0) };
        })
        .sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : 1)),
      byOutcome: this.byOutcome,
      deployed: this.deployedChanges,
      approvals: this.approvals.result(),
      rejections: this.rejections,
      refusedAttempts: this.refused,
      freezeDeployments: this.freezeDeployments.result(),
      emergencies: { ...this.emergency, items: this.emergencyItems.result().items },
      rollbacks: this.rollbacks.result(),
      failedDeployments: this.failedDeployments,
      changeFailureRate:
        this.deployedChanges === 0
          ? null
          : Math.round((this.failedChanges / this.deployedChanges) * 10_000) / 10_000,
      leadTimeToApproval: this.toApproval.result(),
      leadTimeToDeploy: this.toDeploy.result(),
      stageWait: [...this.stageWait.entries()]
        .map(([stage, w]) => ({ stage, wait: w.result() }))
        .sort((a, b) => (a.stage < b.stage ? -1 : 1)),
      neverVerified: this.neverVerified.result(),
      unauthorised: this.unauthorised.result(),
      securityChanges: this.securityChanges,
      counts: this.policy.reports.counts.map((c, i) => ({ label: c.label, count: this.counts[i]! })),
      postImplementation: { ...this.pir },
    };
  }
}

/** How the retrospective's review reads in the export, after the retrospective's own state. */
const REVIEW_TEXT: Record<ChangeState['retroReview']['status'], string> = {
  not_required: '',
  not_yet: '',
  pending: '; review pending',
  questions: '; review pending (sent back with questions)',
  accepted: '; review accepted',
};

/** One row of the evidence export: the seeds' change-log fields plus everything an auditor samples. */
export interface EvidenceRow {
  change: string;
  date: string;
  type: string;
  title: string;
  description: string;
  systems_affected: string;
  raised_by: string;
  reviewed_by: string;
  final_approval: string;
  staging_tested: string;
  deployed_to_production: string;
  post_deployment_verified: string;
  issues_encountered: string;
  status: string;
  risk: string;
  security_impact: string;
  freeze_exceptions: string;
  unauthorised_deployments: number;
  retrospective: string;
  links: string;
  commit: string;
  /** Each post-implementation review: answered (when, by whom), overdue or due (N/A: none planned). */
  post_implementation_reviews: string;
  /** Values of the policy's declared fields, by key (lists joined with "; "). */
  fields: Record<string, string>;
  decisions: {
    stage: string;
    outcome: string;
    by: string;
    on_behalf_of?: string;
    at: string;
    note: string;
  }[];
  /** The linked pull requests (URL, merged or open), or None. */
  pull_requests: string;
  /** Counted PR approvals: reviewer and the commit approved (never the PR's author), or None. */
  pr_approvals: string;
  /** Approvals by a PR's own author: recorded, never counted (None: there were none). */
  pr_self_approvals: string;
  /** CI on each PR's head commit: success, failure or pending (N/A: no PR). */
  pr_ci: string;
  /** Each merged PR's merge commit and who merged it (N/A: none merged). */
  pr_merge: string;
  event_chain_head: string;
  policy_version: string;
  /** `verified`, or why the change's events do not verify (the row then cannot be relied on). */
  integrity: string;
}

export function evidenceRow(
  s: ChangeState,
  headHash: string,
  now: Date,
  integrity = 'verified',
): EvidenceRow {
  const approved = s.decisions.filter((d) => d.outcome === 'approved');
  const last = s.stages.length - 1;
  const final = approved.find((d) => d.stageIndex === last);
  const reviews = approved.filter((d) => d.stageIndex !== last);
  const iso = (d: Date | null | undefined) => (d ? d.toISOString() : '');
  // Every column of the seeds' change log has a value on every row: N/A where it does not apply.
  const verified = s.verification
    ? s.verification.outcome === 'ok'
      ? 'Yes'
      : 'Rolled back'
    : s.deployedAt
      ? 'No'
      : 'N/A';
  const staging = stagingTested(s);
  const undecided = s.status === 'pending_approval' ? 'pending' : 'not given';
  return {
    change: formatChangeId(s.number),
    date: iso(s.submittedAt),
    type: s.typeName,
    title: s.request.title,
    description: or(s.request.description || s.request.justification, 'N/A'),
    systems_affected: or(s.request.systems.join('; '), 'N/A'),
    raised_by: s.requester,
    reviewed_by: or(
      reviews
        .map((d) => `${d.by}${d.onBehalfOf ? ` for ${d.onBehalfOf}` : ''} (${d.stageName}, ${iso(d.at)})`)
        .join('; '),
      s.stages.length <= 1 ? 'N/A' : undecided,
    ),
    final_approval:
      s.stages.length === 0
        ? 'pre-approved by policy'
        : final
          ? `${final.by} (${final.stageName}, ${iso(final.at)})`
          : undecided,
    staging_tested: staging === 'yes' ? 'Yes' : staging === 'no' ? 'No' : 'N/A',
    deployed_to_production: or(iso(s.deployedAt), 'No'),
    post_deployment_verified: verified,
    issues_encountered: s.verification ? or(s.verification.issues, 'None') : 'N/A',
    status: s.status,
    risk: s.request.risk ?? 'N/A',
    security_impact: or(s.request.securityFlags.join('; '), 'None'),
    freeze_exceptions: or(
      s.exceptions
        .map(
          (x) =>
            `${x.freeze}: ${x.approvedBy.join(' + ')} (${iso(x.at)}): ${x.reason}${x.risk ? `; risk: ${x.risk}` : ''}`,
        )
        .join('; '),
      'None',
    ),
    unauthorised_deployments: s.deployments.filter((d) => d.unauthorised).length,
    retrospective: `${retroState(s, now).replace(/_/g, ' ')}${REVIEW_TEXT[s.retroReview.status]}`,
    links: or([s.request.links.pr, s.request.links.ticket].filter(Boolean).join(' '), 'None'),
    commit: s.request.commit ?? 'N/A',
    post_implementation_reviews: or(
      s.pir.checkpoints
        .map((cp, i) => {
          const a = s.pir.answers[i];
          if (a) return `${cp.name}: answered by ${a.by} (${iso(a.at)})`;
          const due = pirDueAt(s, i);
          return `${cp.name}: ${due ? (due < now ? 'overdue' : `due ${iso(due)}`) : 'after verification'}`;
        })
        .join('; '),
      'N/A',
    ),
    fields: Object.fromEntries(
      Object.entries(s.request.fields).map(([k, v]) => [k, Array.isArray(v) ? v.join('; ') : v]),
    ),
    decisions: s.decisions.map((d) => ({
      stage: d.stageName,
      outcome: d.outcome,
      by: d.by,
      ...(d.onBehalfOf ? { on_behalf_of: d.onBehalfOf } : {}),
      at: iso(d.at),
      note: d.note,
    })),
    ...prEvidence(s),
    event_chain_head: headHash,
    policy_version: s.policyHash,
    integrity,
  };
}

/**
 * A cell safe to open in a spreadsheet: text starting with = + - @ (or a tab or carriage return) is
 * prefixed with an apostrophe so it is never evaluated as a formula (CSV/formula injection).
 */
export function neutraliseFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** A cell's text, or what an empty one says (N/A, None, No). */
const or = (text: string, none: string) => text || none;

/** The evidence columns of a change's pull requests (see domain/github.ts). */
function prEvidence(
  s: ChangeState,
): Pick<EvidenceRow, 'pull_requests' | 'pr_approvals' | 'pr_self_approvals' | 'pr_ci' | 'pr_merge'> {
  const prs = s.pullRequests ?? [];
  if (prs.length === 0)
    return {
      pull_requests: 'None',
      pr_approvals: 'None',
      pr_self_approvals: 'None',
      pr_ci: 'N/A',
      pr_merge: 'N/A',
    };
  const each = (f: (p: (typeof prs)[number]) => string[]) =>
    prs.flatMap((p) => f(p).map((x) => `${p.repo}#${p.number}: ${x}`)).join('; ');
  return {
    pull_requests: prs.map((p) => `${p.url} (${p.merged ? 'merged' : 'open'})`).join('; '),
    pr_approvals: or(
      each((p) => countedApprovals(p, changeOwners(s)).map((r) => `${r.by} at ${r.commit.slice(0, 12)}`)),
      'None',
    ),
    pr_self_approvals: or(
      each((p) =>
        selfApprovals(p, changeOwners(s)).map(
          (r) => `${r.by} (${r.byAuthor ? 'author' : 'requester'}) at ${r.commit.slice(0, 12)}`,
        ),
      ),
      'None',
    ),
    pr_ci: each((p) => [ciConclusion(p)]),
    pr_merge: or(
      each((p) => (p.merged && p.mergeCommit ? [`${p.mergeCommit} by ${p.mergedBy ?? '?'}`] : [])),
      'N/A',
    ),
  };
}
