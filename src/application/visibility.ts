import type { QueryFilter } from 'mongoose';
import type { ChangeState } from '../domain/lifecycle.js';
import { canSee, type VisibilityScope, visibilityScope } from '../domain/visibility.js';
import type { ChangeDoc } from '../infra/db/models.js';
import { currentApprovers } from './current-approvers.js';
import { standingOfUser } from './people.js';
import type { Deps } from './ports.js';

/** Who is looking: a Slack user, or a system caller (CLI, a pipeline token with the right scope). */
export type Viewer = { kind: 'user'; userId: string } | { kind: 'system' };

export type ScopeKind = VisibilityScope['kind'];

/** The viewer's visibility under the policy (see domain/visibility.ts: one rule for every door). */
export async function visibility(deps: Deps, viewer: Viewer): Promise<VisibilityScope> {
  const policy = deps.policy.policy;
  const membership = await deps.directory.membership();
  if (viewer.kind === 'system') return visibilityScope(policy, membership, viewer);
  const standing = await standingOfUser(deps, viewer.userId);
  return visibilityScope(policy, membership, { kind: 'user', userId: viewer.userId, standing });
}

/** The same rule as a query on change records, to combine with any other filter. */
export function visibilityFilter(scope: VisibilityScope): QueryFilter<ChangeDoc> {
  switch (scope.kind) {
    case 'all':
      return {};
    case 'own':
      return { requester: scope.userId };
    case 'involved':
      return {
        $or: [
          { requester: scope.userId }, // records written before participants were kept
          { participants: scope.userId },
          { currentApprovers: scope.userId },
          { openToAnyone: true },
          ...(scope.emergencies ? [{ emergency: true }] : []),
        ],
      };
  }
}

/** Whether the viewer may see one change (the same rule, on a change already loaded). */
export async function mayView(deps: Deps, viewer: Viewer, state: ChangeState): Promise<boolean> {
  const scope = await visibility(deps, viewer);
  if (scope.kind === 'all') return true;
  const membership = await deps.directory.membership();
  return canSee(scope, state, currentApprovers(state, deps.policy.policy, membership));
}
