import type { ChangeState } from '../domain/lifecycle.js';
import { canSee, type VisibilityScope, visibilityScope } from '../domain/visibility.js';
import { currentApprovers } from './current-approvers.js';
import { standingOfUser } from './people.js';
import type { ReadDeps } from './ports.js';

/** Who is looking: a Slack user, or a system caller (CLI, a pipeline token with the right scope). */
export type Viewer = { kind: 'user'; userId: string } | { kind: 'system' };

export type ScopeKind = VisibilityScope['kind'];

/** The viewer's visibility under the policy (see domain/visibility.ts: one rule for every door). */
export async function visibility(deps: ReadDeps, viewer: Viewer): Promise<VisibilityScope> {
  const policy = deps.policy.policy;
  const membership = await deps.directory.membership();
  if (viewer.kind === 'system') return visibilityScope(policy, membership, viewer);
  const standing = await standingOfUser(deps, viewer.userId);
  return visibilityScope(policy, membership, { kind: 'user', userId: viewer.userId, standing });
}

/** Whether the viewer may see one change (the same rule, on a change already loaded). */
export async function mayView(deps: ReadDeps, viewer: Viewer, state: ChangeState): Promise<boolean> {
  const scope = await visibility(deps, viewer);
  if (scope.kind === 'all') return true;
  const membership = await deps.directory.membership();
  return canSee(scope, state, currentApprovers(state, deps.policy.policy, membership));
}
