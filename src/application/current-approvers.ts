import { type ChangeState, currentStage } from '../domain/lifecycle.js';
import { approversOf, type Membership, type Policy } from '../domain/policy.js';

/**
 * The people a pending change is waiting on: the current stage's named approvers (or, for an
 * "anyone" stage, the suggested reviewers and, for hotfixes, the named approver), without the
 * requester and without people who already signed an earlier stage when one person may sign one stage.
 */
export function currentApprovers(state: ChangeState, policy: Policy, membership: Membership): string[] {
  const stage = currentStage(state);
  if (!stage || state.status !== 'pending_approval') return [];
  const named = approversOf(policy, membership, stage.approvers);
  const candidates = stage.approvers.anyone
    ? state.request.suggestedReviewers
    : state.request.emergencyApprover && named.includes(state.request.emergencyApprover)
      ? [state.request.emergencyApprover]
      : named;
  const signed = policy.separationOfDuties.oneStagePerPerson
    ? new Set(state.decisions.map((d) => d.by))
    : new Set<string>();
  return [...new Set(candidates)].filter((u) => u !== state.requester && !signed.has(u));
}
