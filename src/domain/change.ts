import type { FieldValue } from './fields.js';
import type {
  ApproverSpec,
  Policy,
  Prerequisite,
  RiskLevel,
  SecurityFlag,
  StageCondition,
} from './policy.js';

export type StagingTested = 'yes' | 'no' | 'na';

/** What a requester submits (from the Slack modal or the pipeline API), already validated. */
export interface ChangeRequest {
  type: string;
  title: string;
  description: string;
  justification: string;
  systems: string[];
  risk: RiskLevel | null;
  impact: string;
  securityFlags: SecurityFlag[];
  testPlan: string;
  stagingTested: StagingTested | null;
  testResults: string;
  rollbackPlan: string;
  plannedStart: Date | null;
  plannedEnd: Date | null;
  links: { pr: string | null; ticket: string | null };
  /**
   * The commit (or artifact digest) the change is for, canonical (see domain/commit.ts). When set,
   * the change approves that one thing: deployments of anything else are refused or flagged.
   */
  commit: string | null;
  suggestedReviewers: string[];
  /** Values of the fields the policy declares (see domain/fields.ts), by key. */
  fields: Record<string, FieldValue>;
  /** Emergency form: the CTO or security officer who approved (or is asked to approve) the hotfix. */
  emergencyApprover: string | null;
}

export interface PlannedStage {
  key: string;
  name: string;
  approvers: ApproverSpec;
  marksStagingTested: boolean;
  /** Position in the path: stages of one step run in parallel, steps one after another. */
  step: number;
  /** Distinct approvers needed (ignored when `approvers.eachOf` names roles: one per role). */
  quorum: number;
  /** What must happen before the stage opens. */
  after: Prerequisite | null;
  /** Decided only at a meeting of this board. */
  board?: string;
}

/** A planned stage as recorded by any version (older records name no step, quorum or prerequisite). */
export function normalizePlannedStage(
  st: Omit<PlannedStage, 'step' | 'quorum' | 'after'> & Partial<PlannedStage>,
  index: number,
): PlannedStage {
  return {
    ...st,
    approvers: { ...st.approvers, eachOf: st.approvers.eachOf ?? [] },
    step: st.step ?? index,
    quorum: st.quorum ?? 1,
    after: st.after ?? null,
  };
}

/** Whether one approval decides the stage (a single seat): then its slot is the stage's. */
export function isSingleSeat(stage: PlannedStage): boolean {
  return stage.quorum <= 1 && stage.approvers.eachOf.length === 0;
}

/** Whether a request meets a stage's condition (every condition given holds). */
export function conditionHolds(
  when: StageCondition,
  request: Pick<ChangeRequest, 'securityFlags' | 'risk'> & { fields?: Record<string, unknown> },
): boolean {
  if (when.risk && !(request.risk !== null && when.risk.includes(request.risk))) return false;
  if (when.securityFlags) {
    const flags = request.securityFlags;
    const list = when.securityFlags;
    if (list === 'any' ? flags.length === 0 : !flags.some((f) => list.includes(f))) return false;
  }
  if (when.field) {
    const value = request.fields?.[when.field.key];
    const values = Array.isArray(value) ? value.map(String) : value == null ? [] : [String(value)];
    if (!values.some((v) => when.field!.in.includes(v))) return false;
  }
  return true;
}

export function formatChangeId(n: number): string {
  return `CR-${n}`;
}

/** Accepts `CR-42`, `cr-42`, `#42`, `42`. */
export function parseChangeId(text: string): number | null {
  const m = /^\s*(?:cr-?|#)?(\d{1,9})\s*$/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  return n > 0 ? n : null;
}

/**
 * The approval stages a request must pass: the type's stages whose condition holds, each with its
 * step (a step whose stages all fall away is dropped). The plan is fixed at submission, so a later
 * policy edit never changes an in-flight change.
 */
export function planStages(
  policy: Policy,
  request: Pick<ChangeRequest, 'type' | 'securityFlags' | 'risk' | 'emergencyApprover'> & {
    fields?: Record<string, unknown>;
  },
): PlannedStage[] {
  const type = policy.types[request.type];
  if (!type) return [];
  const plan: PlannedStage[] = [];
  let step = 0;
  for (const group of type.stages) {
    let stepApplies = false;
    for (const ts of group) {
      if (!conditionHolds(ts.when, request)) continue;
      const def = policy.stages[ts.stage];
      if (!def) continue;
      stepApplies = true;
      plan.push({
        key: ts.stage,
        name: def.name,
        approvers: def.approvers,
        marksStagingTested: def.marksStagingTested,
        step,
        quorum: def.quorum,
        after: def.after,
        ...(def.board ? { board: def.board } : {}),
      });
    }
    if (stepApplies) step += 1;
  }
  return plan;
}
