import type { QueryFilter } from 'mongoose';
import type { ChangeState, ChangeStatus } from '../domain/lifecycle.js';
import { docState } from '../infra/db/change-repository.js';
import type { ChangeDoc } from '../infra/db/models.js';
import type { Deps } from './ports.js';

export interface ChangeSearch {
  status?: ChangeStatus;
  type?: string;
  requester?: string;
  since?: Date;
  before?: number;
  limit: number;
}

/** Filtered, newest-first pages of changes for dashboards and scripts (`before` is the cursor). */
export async function searchChanges(
  deps: Deps,
  q: ChangeSearch,
): Promise<{ items: { doc: ChangeDoc; state: ChangeState }[]; nextBefore: number | null }> {
  const filter: QueryFilter<ChangeDoc> = {};
  if (q.status) filter.status = q.status;
  if (q.type) filter.type = q.type;
  if (q.requester) filter.requester = q.requester;
  if (q.since) filter.submittedAt = { $gte: q.since };
  if (q.before) filter.number = { $lt: q.before };
  const docs = await deps.changes.findDocs(filter, { limit: q.limit + 1, sort: { number: -1 } });
  const page = docs.slice(0, q.limit).flatMap((doc) => {
    const state = docState(doc);
    return state ? [{ doc, state }] : [];
  });
  return { items: page, nextBefore: docs.length > q.limit ? (page.at(-1)?.doc.number ?? null) : null };
}
