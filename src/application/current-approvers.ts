import type { PlannedStage } from '../domain/change.js';
import { type ChangeState, openStageList, stageApprovals } from '../domain/lifecycle.js';
import { approversOf, isInRoles, type Membership, type Policy, usersInRoles } from '../domain/policy.js';
import { missingRoles } from '../domain/stages.js';

export interface OpenStageApprovers {
  index: number;
  stage: PlannedStage;
  since: Date;
  approvers: string[];
}

/**
 * The people each open stage of a pending change waits on: its named approvers (or, for an
 * "anyone" stage, the suggested reviewers and, for hotfixes, the named approver), without the
 * requester, without who already decided the stage, without who signed another stage when one
 * person may sign one stage, and for `eachOf` stages only members of the roles still to sign.
 */
export function approversByStage(
  state: ChangeState,
  policy: Policy,
  membership: Membership,
): OpenStageApprovers[] {
  const signed = policy.separationOfDuties.oneStagePerPerson
    ? new Set(state.decisions.map((d) => d.by))
    : new Set<string>();
  return openStageList(state).map(({ index, stage, since }) => {
    const named = approversOf(policy, membership, stage.approvers);
    const candidates = stage.approvers.anyone
      ? state.request.suggestedReviewers
      : state.request.emergencyApprover && named.includes(state.request.emergencyApprover)
        ? [state.request.emergencyApprover]
        : named;
    const decided = new Set(state.decisions.filter((d) => d.stageIndex === index).map((d) => d.by));
    const missing = stage.approvers.eachOf.length ? missingRoles(stage, stageApprovals(state, index)) : null;
    const approvers = [...new Set(candidates)].filter(
      (u) =>
        u !== state.requester &&
        !signed.has(u) &&
        !decided.has(u) &&
        (missing === null || isInRoles(policy, membership, u, missing)),
    );
    return { index, stage, since, approvers };
  });
}

/** Who reviews the change's retrospective while that review is theirs (never the requester). */
export function pendingRetroReviewers(state: ChangeState, policy: Policy, membership: Membership): string[] {
  if (state.retroReview.status !== 'pending') return [];
  return usersInRoles(policy, membership, state.retroReview.reviewers).filter((u) => u !== state.requester);
}

/**
 * Everyone a change waits on now: the approvers of its open stages, or the reviewers of its
 * retrospective while that review is theirs (so it shows in their App Home and they may see it).
 */
export function currentApprovers(state: ChangeState, policy: Policy, membership: Membership): string[] {
  const reviewers = pendingRetroReviewers(state, policy, membership);
  return [
    ...new Set([...approversByStage(state, policy, membership).flatMap((s) => s.approvers), ...reviewers]),
  ];
}
