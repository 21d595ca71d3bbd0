import type { QueryFilter } from 'mongoose';
import { HOUR_MS } from '../domain/time.js';
import { docState } from '../infra/db/change-repository.js';
import type { ChangeDoc } from '../infra/db/models.js';
import { type ChangeListItem, OPEN_STATUSES } from './list-changes.js';
import type { Deps } from './ports.js';
import { visibility, visibilityFilter } from './visibility.js';

export interface HomeData {
  userId: string;
  pendingApprovals: ChangeListItem[];
  pendingTotal: number;
  myOpen: ChangeListItem[];
  myOpenTotal: number;
  overdue: ChangeListItem[];
  now: Date;
}

const LIST = 12;

/**
 * What App Home shows one person: changes waiting for their decision, their own open changes and
 * what each waits for, and overdue items (their own; everyone's for admins and security).
 */
export async function buildHome(deps: Deps, userId: string): Promise<HomeData> {
  const now = deps.clock.now();
  const policy = deps.policy.policy;
  const seen = await visibility(deps, { kind: 'user', userId });
  const staleDeploy = new Date(now.getTime() - policy.reminders.verification.escalateAfterHours * HOUR_MS);
  const mineFilter: QueryFilter<ChangeDoc> = {
    requester: userId,
    $or: [
      { status: { $in: [...OPEN_STATUSES] } },
      { emergency: true, retroDueAt: { $ne: null }, retroSubmittedAt: null },
    ],
  };
  // Overdue items the viewer may see: everyone's for the policy's see-all roles and admins, the
  // emergencies escalated to them for the CTO and security roles, otherwise their own and those they
  // take part in.
  const overdueFilter: QueryFilter<ChangeDoc> = {
    $and: [
      {
        $or: [
          { emergency: true, retroDueAt: { $lt: now }, retroSubmittedAt: null },
          { status: 'deployed', deployedAt: { $lt: staleDeploy } },
        ],
      },
      visibilityFilter(seen),
    ],
  };
  const pendingFilter: QueryFilter<ChangeDoc> = { status: 'pending_approval', currentApprovers: userId };
  const [pending, pendingTotal, mine, myOpenTotal, overdue] = await Promise.all([
    deps.changes.findDocs(pendingFilter, { limit: LIST, sort: { number: 1 } }),
    deps.changes.countDocs(pendingFilter),
    deps.changes.findDocs(mineFilter, { limit: LIST }),
    deps.changes.countDocs(mineFilter),
    deps.changes.findDocs(overdueFilter, { limit: LIST, sort: { number: 1 } }),
  ]);
  const items = (docs: typeof pending): ChangeListItem[] =>
    docs.flatMap((doc) => {
      const state = docState(doc);
      return state ? [{ doc, state }] : [];
    });
  return {
    userId,
    pendingApprovals: items(pending),
    pendingTotal,
    myOpen: items(mine),
    myOpenTotal,
    overdue: items(overdue),
    now,
  };
}
