import type { ChangeState } from './lifecycle.js';
import type { Standing } from './people.js';
import { escalationRoles, isInRoles, type Membership, type Policy } from './policy.js';

/**
 * Who sees which changes: one rule for `/change show` and `list`, App Home, `/change-log` and its
 * exports.
 * - System callers (the CLI, pipeline tokens) and the policy's `access.seeAllChanges` and admin
 *   roles see every change.
 * - Other full members see the changes they take part in: raised (or created the token that raised
 *   it), decided, deployed, verified, granted an exception to, cancelled, wrote the retrospective
 *   of, are named on (emergency approver, suggested reviewer), are asked to approve now (including
 *   a stage open to anyone), or, for emergency changes, are escalated to.
 * - Guests, and anyone whose account cannot be confirmed, see only the changes they raised.
 */
export type VisibilityScope =
  | { kind: 'all' }
  | { kind: 'involved'; userId: string; emergencies: boolean }
  | { kind: 'own'; userId: string };

export type Viewer = { kind: 'system' } | { kind: 'user'; userId: string; standing: Standing };

export function visibilityScope(policy: Policy, membership: Membership, viewer: Viewer): VisibilityScope {
  if (viewer.kind === 'system') return { kind: 'all' };
  const { userId } = viewer;
  if (viewer.standing !== 'member') return { kind: 'own', userId };
  if (isInRoles(policy, membership, userId, [...policy.access.seeAllChanges, ...policy.access.admins]))
    return { kind: 'all' };
  return {
    kind: 'involved',
    userId,
    emergencies: isInRoles(policy, membership, userId, escalationRoles(policy)),
  };
}

/** Everyone who takes part in a change (see VisibilityScope), except those asked to approve now. */
export function participantsOf(s: ChangeState): string[] {
  const people = new Set<string>([s.requester]);
  const add = (u: string | null | undefined) => {
    if (u) people.add(u);
  };
  add(s.raisedVia?.tokenCreator);
  add(s.request.emergencyApprover);
  for (const r of s.request.suggestedReviewers) add(r);
  for (const d of s.decisions) add(d.by);
  for (const d of s.deployments) add(d.by);
  add(s.deployedBy);
  add(s.verification?.by);
  for (const x of s.exceptions) add(x.by);
  add(s.cancellation?.by);
  add(s.retro.by);
  return [...people];
}

/** Whether an open stage of the change may be approved by any member (peer review). */
export function openToAnyone(s: ChangeState): boolean {
  if (s.status !== 'pending_approval') return false;
  return s.openStages.some((o) => s.stages[o.index]?.approvers.anyone === true);
}

/** Whether the scope lets its viewer see this change; `waitingOn` are the people asked to approve now. */
export function canSee(scope: VisibilityScope, s: ChangeState, waitingOn: readonly string[]): boolean {
  switch (scope.kind) {
    case 'all':
      return true;
    case 'own':
      return s.requester === scope.userId;
    case 'involved':
      return (
        participantsOf(s).includes(scope.userId) ||
        waitingOn.includes(scope.userId) ||
        openToAnyone(s) ||
        (scope.emergencies && s.emergency)
      );
  }
}
