import { isInRoles } from '../domain/policy.js';
import type { Deps } from './ports.js';

export type Viewer = { kind: 'user'; userId: string } | { kind: 'system' };

/**
 * Who may see what in change logs and exports: the policy's `access.seeAllChanges` roles (auditors,
 * admins, leads) and system callers (CLI, pipeline tokens with the audit scope) see everything;
 * anyone else sees the changes they raised.
 */
export async function visibility(
  deps: Deps,
  viewer: Viewer,
): Promise<{ scope: 'all' } | { scope: 'own'; userId: string }> {
  if (viewer.kind === 'system') return { scope: 'all' };
  const policy = deps.policy.policy;
  const membership = await deps.directory.membership();
  return isInRoles(policy, membership, viewer.userId, policy.access.seeAllChanges)
    ? { scope: 'all' }
    : { scope: 'own', userId: viewer.userId };
}
