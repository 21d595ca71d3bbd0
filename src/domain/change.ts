import type { ApproverSpec, Policy, RiskLevel, SecurityFlag } from './policy.js';

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
  /** Emergency form: the CTO or security officer who approved (or is asked to approve) the hotfix. */
  emergencyApprover: string | null;
}

export interface PlannedStage {
  key: string;
  name: string;
  approvers: ApproverSpec;
  marksStagingTested: boolean;
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
 * The approval stages a request must pass, in order: the type's stages whose condition holds.
 * The plan is fixed at submission, so a later policy edit never changes an in-flight change.
 */
export function planStages(
  policy: Policy,
  request: Pick<ChangeRequest, 'type' | 'securityFlags' | 'risk' | 'emergencyApprover'>,
): PlannedStage[] {
  const type = policy.types[request.type];
  if (!type) return [];
  const plan: PlannedStage[] = [];
  for (const ts of type.stages) {
    const applies =
      ts.when === 'always' ||
      (ts.when === 'security_impact' && request.securityFlags.length > 0) ||
      (ts.when === 'high_risk' && request.risk === 'high');
    if (!applies) continue;
    const def = policy.stages[ts.stage];
    if (!def) continue;
    plan.push({
      key: ts.stage,
      name: def.name,
      approvers: def.approvers,
      marksStagingTested: def.marksStagingTested,
    });
  }
  return plan;
}
