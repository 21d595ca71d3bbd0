import { isSingleSeat, type PlannedStage } from './change.js';

/**
 * How the planned stages of a change stand, from its decisions and deployments: which are approved
 * (their quorum met), which are open now (the earliest step not yet passed, prerequisites met), and
 * what a new approval would add. Pure: the lifecycle folds it into the state after every event.
 */

/** An approval as the stage rules see it: who, and for `eachOf` stages the roles they held then. */
export interface StageApproval {
  by: string;
  roles: readonly string[];
}

export interface OpenStage {
  index: number;
  /** When it opened (its step was reached or its prerequisite happened). */
  since: Date;
}

/** How many approvals the stage takes: one per `eachOf` role, else its quorum. */
export function approvalsNeeded(stage: PlannedStage): number {
  return stage.approvers.eachOf.length > 0 ? stage.approvers.eachOf.length : Math.max(1, stage.quorum);
}

/**
 * A largest assignment of distinct approvers to distinct roles (each approver to a role they held):
 * role → approver. Augmenting paths; the sets are small (a stage names a handful of roles).
 */
export function assignRoles(
  roles: readonly string[],
  approvals: readonly StageApproval[],
): Map<string, string> {
  const holder = new Map<string, number>(); // role -> index into approvals
  const tryAssign = (i: number, seen: Set<string>): boolean => {
    for (const role of approvals[i]!.roles) {
      if (!roles.includes(role) || seen.has(role)) continue;
      seen.add(role);
      const current = holder.get(role);
      if (current === undefined || tryAssign(current, seen)) {
        holder.set(role, i);
        return true;
      }
    }
    return false;
  };
  approvals.forEach((_, i) => {
    tryAssign(i, new Set());
  });
  return new Map([...holder].map(([role, i]) => [role, approvals[i]!.by]));
}

/** Distinct approvers who count towards the stage (for `eachOf`: the roles they fill). */
export function approvalsCounted(stage: PlannedStage, approvals: readonly StageApproval[]): number {
  if (stage.approvers.eachOf.length > 0) return assignRoles(stage.approvers.eachOf, approvals).size;
  return new Set(approvals.map((a) => a.by)).size;
}

export function stageSatisfied(stage: PlannedStage, approvals: readonly StageApproval[]): boolean {
  return approvalsCounted(stage, approvals) >= approvalsNeeded(stage);
}

/** Roles of an `eachOf` stage that no approval fills yet. */
export function missingRoles(stage: PlannedStage, approvals: readonly StageApproval[]): string[] {
  const assigned = assignRoles(stage.approvers.eachOf, approvals);
  return stage.approvers.eachOf.filter((r) => !assigned.has(r));
}

/** Whether one more approval (by someone holding `roles`) would count: it fills a role still open. */
export function approvalWouldCount(
  stage: PlannedStage,
  approvals: readonly StageApproval[],
  next: StageApproval,
): boolean {
  if (stage.approvers.eachOf.length === 0) return !approvals.some((a) => a.by === next.by);
  return approvalsCounted(stage, [...approvals, next]) > approvalsCounted(stage, approvals);
}

export function prerequisiteMet(stage: PlannedStage, reached: ReadonlySet<string>): boolean {
  return stage.after === null || reached.has(stage.after.deployedTo.toLowerCase());
}

/** The step the change waits on: the earliest with a stage not yet approved (null: all approved). */
export function currentStep(
  stages: readonly PlannedStage[],
  approvalsOf: (index: number) => readonly StageApproval[],
): number | null {
  let step: number | null = null;
  stages.forEach((stage, i) => {
    if (stageSatisfied(stage, approvalsOf(i))) return;
    if (step === null || stage.step < step) step = stage.step;
  });
  return step;
}

/**
 * The stages open now: not approved, in the current step, prerequisite met. A stage open before
 * keeps its opening time; a newly opened one opens `at`.
 */
export function openStages(
  stages: readonly PlannedStage[],
  approvalsOf: (index: number) => readonly StageApproval[],
  reached: ReadonlySet<string>,
  previous: readonly OpenStage[],
  at: Date,
): OpenStage[] {
  const step = currentStep(stages, approvalsOf);
  if (step === null) return [];
  const out: OpenStage[] = [];
  stages.forEach((stage, index) => {
    if (stage.step !== step || stageSatisfied(stage, approvalsOf(index))) return;
    if (!prerequisiteMet(stage, reached)) return;
    out.push({ index, since: previous.find((o) => o.index === index)?.since ?? at });
  });
  return out;
}

/** The slot of a decision: a single-seat stage's decision is the stage's; else one per approver. */
export function decisionSlot(stage: PlannedStage, index: number, actor: string): string {
  return isSingleSeat(stage) ? `stage:${index}` : `stage:${index}:${actor}`;
}

/**
 * Stages (and exceptions) whose quorum the people who can give it do not reach, once user groups are
 * resolved: such a stage can never be approved. Anyone-stages are not counted.
 */
export function quorumShortfalls(
  stages: Record<string, { name: string; quorum: number; approvers: PlannedStage['approvers'] }>,
  eligible: (approvers: PlannedStage['approvers']) => string[],
): { stage: string; name: string; needed: number; available: number }[] {
  const out: { stage: string; name: string; needed: number; available: number }[] = [];
  for (const [key, st] of Object.entries(stages)) {
    if (st.approvers.anyone) continue;
    const needed = st.approvers.eachOf.length > 0 ? st.approvers.eachOf.length : st.quorum;
    if (needed <= 1) continue;
    const available = new Set(eligible(st.approvers)).size;
    if (available > 0 && available < needed) out.push({ stage: key, name: st.name, needed, available });
  }
  return out;
}
