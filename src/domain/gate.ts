import { formatChangeId } from './change.js';
import { sameCommit, shortCommit } from './commit.js';
import {
  blockingFreezes,
  type DeployScope,
  type FreezeOccurrence,
  maintenanceWindowsMissed,
} from './freeze.js';
import { changeOwners, ciConclusion, countedApprovals } from './github.js';
import { type ChangeState, reachedEnvironments, waitingFor } from './lifecycle.js';
import type { Policy } from './policy.js';

/**
 * The deployment gate: may this change deploy to this environment now, and of this commit? One rule
 * for every door: pipelines ask it before deploying (the API), and a deployment recorded from Slack
 * or reported by a pipeline is held against the same rule (refused in Slack, flagged from a
 * pipeline). Every reason that blocks has a stable code and a sentence.
 */
export const GATE_REASONS = [
  'not_approved',
  'rejected',
  'cancelled',
  'rolled_back',
  'already_deployed',
  'outside_window',
  'frozen',
  'unverified_previous_deployment',
  'commit_required',
  'commit_mismatch',
  'audit_trail_broken',
  'missing_prior_deployment',
  'outside_maintenance_window',
  'pr_not_merged',
  'pr_not_approved',
  'pr_checks_failed',
] as const;
export type GateReasonCode = (typeof GATE_REASONS)[number];

export interface GateReason {
  code: GateReasonCode;
  message: string;
}

export interface GateDecision {
  allowed: boolean;
  environment: string;
  production: boolean;
  reasons: GateReason[];
  message: string;
}

/** What is about to be deployed, and whether the change's recorded history is intact. */
export interface GateQuestion {
  environment: string;
  /** The commit (or artifact digest) about to be deployed, when the caller says. */
  commit: string | null;
  /** False when the change's event chain does not verify: the gate then fails closed. */
  chainIntact: boolean;
}

export function isProductionEnvironment(policy: Policy, environment: string): boolean {
  return policy.productionEnvironments.includes(environment.toLowerCase());
}

/**
 * Freezes that block this change over [from, to] and for which no exception was granted, in the
 * scope given (an environment, the change's systems; no environment: production).
 */
export function unexcusedFreezes(
  s: ChangeState,
  policy: Policy,
  from: Date,
  to: Date = from,
  scope: DeployScope = { systems: s.request.systems },
): FreezeOccurrence[] {
  return blockingFreezes(policy, s.type, from, to, scope).filter(
    (f) => !s.exceptions.some((x) => x.freeze === f.name),
  );
}

/** Whether `now` lies inside the change's planned window (a change without a window has no limit). */
function outsideWindow(s: ChangeState, now: Date): boolean {
  const start = s.request.plannedStart;
  const end = s.request.plannedEnd;
  return start !== null && (now < start || (end !== null && now > end));
}

/**
 * A finished change (deployed to production and verified) may deploy again only when its type
 * allows repeated deployments and it is still inside its planned window, which then must have an end.
 */
function mayRedeploy(s: ChangeState, policy: Policy, now: Date): boolean {
  const type = policy.types[s.type];
  if (type?.redeploy !== 'within_window') return false;
  const { plannedStart: start, plannedEnd: end } = s.request;
  return start !== null && end !== null && now >= start && now <= end;
}

/**
 * Environments a change must have reached before production: its type's `requireDeployedTo` and
 * whatever a planned stage waited for (in lower case, once each).
 */
export function priorEnvironments(s: ChangeState, policy: Policy): string[] {
  const envs = new Set<string>((policy.types[s.type]?.requireDeployedTo ?? []).map((e) => e.toLowerCase()));
  for (const st of s.stages) if (st.after) envs.add(st.after.deployedTo.toLowerCase());
  return [...envs];
}

/** Every reason the change may not deploy `q.commit` to `q.environment` now. */
export function deploymentBlockers(s: ChangeState, policy: Policy, now: Date, q: GateQuestion): GateReason[] {
  const id = formatChangeId(s.number);
  const production = isProductionEnvironment(policy, q.environment);
  const reasons: GateReason[] = [];
  const add = (code: GateReasonCode, message: string) => reasons.push({ code, message });

  if (!q.chainIntact)
    add(
      'audit_trail_broken',
      `The recorded history of ${id} does not verify, so nothing may deploy on it; ask your Changegate admin to run the audit verification.`,
    );
  if (s.status === 'rejected') add('rejected', `${id} was rejected.`);
  if (s.status === 'cancelled') add('cancelled', `${id} was cancelled.`);
  const bound = approvedCommits(s);
  if (bound.length > 0 && q.commit && !bound.some((c) => sameCommit(c, q.commit!)))
    add(
      'commit_mismatch',
      `${id} was approved for ${bound.map(shortCommit).join(' or ')}, not ${q.commit.slice(0, 80)}; raise a change for that commit.`,
    );
  // Freezes and maintenance windows constrain every environment they are scoped to.
  const scope = { environment: q.environment, systems: s.request.systems };
  const frozen = unexcusedFreezes(s, policy, now, now, scope);
  if (frozen.length > 0)
    add(
      'frozen',
      `${[...new Set(frozen.map((f) => f.name))].join(', ')} is in force for ${s.typeName} changes and ${id} has no exception.`,
    );
  const missed = maintenanceWindowsMissed(policy, s.type, now, scope);
  if (missed.length > 0 && !missed.some((w) => s.exceptions.some((x) => x.freeze === w.name)))
    add(
      'outside_maintenance_window',
      `${q.environment} deployments of ${s.typeName} changes happen only in ${missed
        .map((w) => `${w.name} (${w.days.join(', ')} ${w.start}–${w.end} ${w.timezone})`)
        .join(' or ')}; ${id} has no exception.`,
    );
  if (!production) return reasons;

  if (bound.length > 0 && !q.commit)
    add(
      'commit_mismatch',
      `${id} was approved for ${bound.map(shortCommit).join(' or ')}: say which commit you deploy (commit=…), and deploy that one.`,
    );
  if (bound.length === 0 && policy.types[s.type]?.requireCommit)
    add(
      'commit_required',
      `${s.typeName} changes must name the commit or artifact they approve before production; ${id} names none.`,
    );
  if (s.status === 'pending_approval')
    add('not_approved', `${id} is not approved yet: it waits for ${waitingFor(s, now)}.`);
  const prRule = policy.types[s.type]?.requirePullRequest;
  if (prRule) for (const r of pullRequestBlockers(s, prRule.approvals)) add(r.code, r.message);
  const reached = reachedEnvironments(s);
  const missing = priorEnvironments(s, policy).filter((env) => !reached.has(env));
  if (missing.length > 0)
    add(
      'missing_prior_deployment',
      `${id} must be deployed to ${missing.join(' and ')} successfully before production; no such deployment is recorded.`,
    );
  // A change deployed and verified, or rolled back, is finished: its number is no deploy pass.
  if (s.status === 'rolled_back') {
    add('rolled_back', `${id} was rolled back.`);
    add('already_deployed', `${id} is finished; raise a new change to deploy again.`);
  }
  if (s.status === 'verified' && !mayRedeploy(s, policy, now))
    add(
      'already_deployed',
      `${id} was deployed to production and verified; it is finished. Raise a new change to deploy again.`,
    );
  if (s.status === 'deployed')
    add('unverified_previous_deployment', `The previous deployment of ${id} is not verified yet.`);
  if (outsideWindow(s, now)) {
    const start = s.request.plannedStart!;
    const end = s.request.plannedEnd;
    add(
      'outside_window',
      `${id} is planned for ${start.toISOString()}${end ? ` to ${end.toISOString()}` : ' onwards'}; it is ${now.toISOString()} now.`,
    );
  }
  return reasons;
}

/**
 * The commits a change approves: the merge commits of its merged pull requests (the merged commit
 * is what was reviewed and tested), else the commit its request names.
 */
export function approvedCommits(s: ChangeState): string[] {
  const merged = (s.pullRequests ?? []).filter((p) => p.merged && p.mergeCommit).map((p) => p.mergeCommit!);
  if (merged.length > 0) return merged;
  return s.request.commit ? [s.request.commit] : [];
}

/** The type's pull-request rule: every linked PR merged, approved on its final commit by others, green. */
export function pullRequestBlockers(s: ChangeState, approvals: number): GateReason[] {
  const id = formatChangeId(s.number);
  const prs = s.pullRequests ?? [];
  if (prs.length === 0)
    return [
      {
        code: 'pr_not_merged',
        message: `${id} needs a merged pull request; none is linked (name ${id} in its title).`,
      },
    ];
  const out: GateReason[] = [];
  const name = (p: (typeof prs)[number]) => `${p.repo}#${p.number}`;
  const open = prs.filter((p) => !p.merged);
  if (open.length > 0)
    out.push({
      code: 'pr_not_merged',
      message: `${open.map(name).join(', ')} ${open.length === 1 ? 'is' : 'are'} not merged.`,
    });
  const short = prs.filter((p) => countedApprovals(p, changeOwners(s)).length < approvals);
  if (short.length > 0)
    out.push({
      code: 'pr_not_approved',
      message: `${short.map(name).join(', ')} ${short.length === 1 ? 'has' : 'have'} fewer than ${approvals} approval${approvals === 1 ? '' : 's'} on ${short.length === 1 ? 'its' : 'their'} final commit by someone other than the author and the change's requester.`,
    });
  const red = prs.filter((p) => ciConclusion(p) !== 'success');
  if (red.length > 0)
    out.push({
      code: 'pr_checks_failed',
      message: red
        .map((p) => `${name(p)}: checks ${ciConclusion(p)} on ${p.headSha.slice(0, 12)}`)
        .join('; '),
    });
  return out;
}

export function evaluateGate(s: ChangeState, policy: Policy, now: Date, q: GateQuestion): GateDecision {
  const id = formatChangeId(s.number);
  const reasons = deploymentBlockers(s, policy, now, q);
  const allowed = reasons.length === 0;
  const what = q.commit ? `${q.commit.slice(0, 80)} ` : '';
  return {
    allowed,
    environment: q.environment,
    production: isProductionEnvironment(policy, q.environment),
    reasons,
    message: allowed
      ? `${id} may deploy ${what}to ${q.environment} now.`
      : `${id} may not deploy ${what}to ${q.environment}: ${reasons.map((r) => r.message).join(' ')}`,
  };
}
