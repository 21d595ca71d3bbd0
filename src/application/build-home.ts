import type { Delegation } from '../domain/delegation.js';
import { HOUR_MS } from '../domain/time.js';
import { type SetupOverview, setupOverview } from './administer-policy.js';
import { delegationsOf } from './delegations.js';
import type { ChangeRecord, ReadDeps } from './ports.js';
import { visibility } from './visibility.js';

export interface HomeData {
  userId: string;
  pendingApprovals: ChangeRecord[];
  pendingTotal: number;
  myOpen: ChangeRecord[];
  myOpenTotal: number;
  overdue: ChangeRecord[];
  /** Reviews that are the person's to answer (post-implementation reviews due, review questions). */
  reviewsOwed: ChangeRecord[];
  /** The delegation the person gave (running or planned), and those they hold now. */
  delegation: { given: Delegation | null; held: Delegation[] };
  /** Setup: for admins, and for everyone while the first admin may still be claimed. */
  setup: SetupOverview | null;
  now: Date;
}

const LIST = 12;

/**
 * What App Home shows one person: changes waiting for their decision, their own open changes and
 * what each waits for, and the overdue items they may see (see domain/visibility.ts).
 */
export async function buildHome(deps: ReadDeps, userId: string): Promise<HomeData> {
  const now = deps.clock.now();
  const policy = deps.policy.policy;
  const staleDeploy = new Date(now.getTime() - policy.reminders.verification.escalateAfterHours * HOUR_MS);
  const scope = await visibility(deps, { kind: 'user', userId });
  const delegation = await delegationsOf(deps, userId);
  const [pendingOwn, mine, overdue, reviewsOwed, setup, ...forOthers] = await Promise.all([
    deps.changes.pendingFor(userId, LIST),
    deps.changes.raisedBy(userId, LIST, true),
    deps.changes.overdue(scope, now, staleDeploy, LIST),
    deps.changes.reviewsOwedBy(userId, now, LIST),
    setupOverview(deps, userId),
    // A delegate sees what waits on the approvers they stand in for (never changes they raised).
    ...delegation.held.map((d) => deps.changes.pendingFor(d.from, LIST)),
  ]);
  const seen = new Set(pendingOwn.items.map((r) => r.number));
  const delegated = forOthers
    .flatMap((p) => p.items)
    .filter((r) => r.state?.requester !== userId && !seen.has(r.number) && seen.add(r.number));
  const pending = {
    items: [...pendingOwn.items, ...delegated].slice(0, LIST),
    total: pendingOwn.total + delegated.length,
  };
  return {
    userId,
    pendingApprovals: pending.items,
    pendingTotal: pending.total,
    myOpen: mine.items,
    myOpenTotal: mine.total,
    overdue,
    reviewsOwed,
    delegation,
    setup: setup.admin || setup.claimable ? setup : null,
    now,
  };
}
