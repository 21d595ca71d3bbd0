import type { ChangeRecord, Page, ReadDeps } from './ports.js';
import { visibility } from './visibility.js';

export type ListScope = 'mine' | 'pending' | 'open';

/**
 * `mine`: changes I raised; `pending`: changes waiting for my decision; `open`: everything not
 * finished that I may see (the one visibility rule).
 */
export async function listChanges(
  deps: ReadDeps,
  userId: string,
  scope: ListScope,
  limit = 20,
): Promise<Page<ChangeRecord>> {
  if (scope === 'mine') return deps.changes.raisedBy(userId, limit, false);
  const seen = await visibility(deps, { kind: 'user', userId });
  return scope === 'pending' ? deps.changes.pendingFor(userId, limit, seen) : deps.changes.open(seen, limit);
}
