import type { z } from 'zod';
import type { AuditReport } from '../../../application/verify-audit.js';
import { formatChangeId } from '../../../domain/change.js';
import type { ChangeLogSummary } from '../../../domain/change-log.js';
import { changeOwners, ciConclusion, countedApprovals, selfApprovals } from '../../../domain/github.js';
import { type ChangeState, retroState, stageProgress } from '../../../domain/lifecycle.js';
import type { ChangeView, SummaryResponse } from './schemas.js';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** A change as the API shows it. */
export function presentChange(
  s: ChangeState,
  extra: { permalink: string | null; head: { seq: number; hash: string } },
  now: Date,
): z.infer<typeof ChangeView> {
  return {
    id: formatChangeId(s.number),
    number: s.number,
    title: s.request.title,
    type: s.type,
    typeName: s.typeName,
    status: s.status,
    requester: s.requester,
    risk: s.request.risk,
    systems: s.request.systems,
    emergency: s.emergency,
    submittedAt: s.submittedAt.toISOString(),
    approvedAt: iso(s.approvedAt),
    deployedAt: iso(s.deployedAt),
    plannedStart: iso(s.request.plannedStart),
    plannedEnd: iso(s.request.plannedEnd),
    stages: stageProgress(s).map((p) => ({
      key: p.key,
      name: p.name,
      step: p.step,
      status: p.status,
      decidedBy: p.decision?.by ?? null,
      decidedAt: iso(p.decision?.at),
      note: p.decision?.note ?? '',
      approvals: p.decisions
        .filter((d) => d.outcome === 'approved')
        .map((d) => ({ by: d.by, onBehalfOf: d.onBehalfOf ?? null, at: d.at.toISOString(), note: d.note })),
      approvalsNeeded: p.needed,
      missingRoles: p.missingRoles,
      opensAfterDeploymentTo: p.after?.deployedTo ?? null,
    })),
    deployments: s.deployments.map((d) => ({
      environment: d.environment,
      status: d.status,
      at: d.at.toISOString(),
      by: d.by,
      commit: d.commit,
      pipelineUrl: d.pipelineUrl,
      production: d.production,
      unauthorised: d.unauthorised,
      reasons: d.reasons,
    })),
    verification: s.verification ? { ...s.verification, at: s.verification.at.toISOString() } : null,
    retrospective: {
      status: retroState(s, now),
      dueAt: iso(s.retro.dueAt),
      submittedAt: iso(s.retro.submittedAt),
    },
    freezeExceptions: s.exceptions.map((x) => ({ ...x, at: x.at.toISOString() })),
    commit: s.request.commit,
    fields: s.request.fields,
    links: { pr: s.request.links.pr, ticket: s.request.links.ticket, slack: extra.permalink },
    pullRequests: (s.pullRequests ?? []).map((p) => {
      const review = (r: { by: string; commit: string; at: Date }) => ({
        by: r.by,
        commit: r.commit,
        at: r.at.toISOString(),
      });
      return {
        url: p.url,
        repo: p.repo,
        number: p.number,
        author: p.author,
        headSha: p.headSha,
        merged: p.merged,
        mergeCommit: p.mergeCommit,
        mergedBy: p.mergedBy,
        approvals: countedApprovals(p, changeOwners(s)).map(review),
        selfApprovals: selfApprovals(p, changeOwners(s)).map(review),
        ci: ciConclusion(p),
      };
    }),
    policyVersion: s.policyHash,
    audit: extra.head,
  };
}

export function presentSummary(
  s: ChangeLogSummary,
  scope: 'all' | 'involved' | 'own',
): z.infer<typeof SummaryResponse> {
  const items = (list: ChangeLogSummary['approvals']['items']) =>
    list.map((i) => ({ ...i, at: i.at.toISOString() }));
  const top = (t: ChangeLogSummary['approvals']) => ({ total: t.total, items: items(t.items) });
  return {
    ...s,
    period: { from: s.period.from.toISOString(), to: s.period.to.toISOString(), label: s.period.label },
    scope,
    byOutcome: Object.fromEntries(Object.entries(s.byOutcome).map(([k, v]) => [k, v ?? 0])),
    approvals: top(s.approvals),
    freezeDeployments: top(s.freezeDeployments),
    emergencies: { ...s.emergencies, items: items(s.emergencies.items) },
    rollbacks: top(s.rollbacks),
    neverVerified: top(s.neverVerified),
    unauthorised: top(s.unauthorised),
  };
}

/** The verification report as the API answers it. */
export function presentAuditReport(r: AuditReport) {
  return {
    intact: r.intact,
    checkedChanges: r.checkedChanges,
    checkedEvents: r.checkedEvents,
    ledgerSize: r.ledgerSize,
    checkpoints: r.checkpoints,
    latestCheckpoint: r.latestCheckpoint,
    witness: r.witness,
    findings: r.findings.map((f) => ({ ...f, change: f.change === null ? null : formatChangeId(f.change) })),
    findingsOmitted: r.findingsOmitted,
    unledgered: r.unledgered,
    keys: r.keys,
    verifiedAt: r.verifiedAt.toISOString(),
  };
}
