import type { QueryFilter } from 'mongoose';
import type { ChangeState } from '../domain/lifecycle.js';
import { docState } from '../infra/db/change-repository.js';
import type { ChangeDoc } from '../infra/db/models.js';
import type { Deps } from './ports.js';
import { visibility, visibilityFilter } from './visibility.js';

export type ListScope = 'mine' | 'pending' | 'open';

export const OPEN_STATUSES = ['pending_approval', 'approved', 'deployed'] as const;

export interface ChangeListItem {
  doc: ChangeDoc;
  state: ChangeState;
}

/**
 * `mine`: changes I raised; `pending`: changes waiting for my decision; `open`: everything not
 * finished that I may see (the one visibility rule).
 */
export async function listChanges(
  deps: Deps,
  userId: string,
  scope: ListScope,
  limit = 20,
): Promise<{ items: ChangeListItem[]; total: number }> {
  const seen = visibilityFilter(await visibility(deps, { kind: 'user', userId }));
  const filter: QueryFilter<ChangeDoc> =
    scope === 'mine'
      ? { requester: userId }
      : scope === 'pending'
        ? { status: 'pending_approval', currentApprovers: userId, ...seen }
        : { status: { $in: [...OPEN_STATUSES] }, ...seen };
  const [docs, total] = await Promise.all([
    deps.changes.findDocs(filter, { limit }),
    deps.changes.countDocs(filter),
  ]);
  return {
    items: docs.flatMap((doc) => {
      const state = docState(doc);
      return state ? [{ doc, state }] : [];
    }),
    total,
  };
}
