import { ChangeLogAccumulator, type ChangeLogSummary } from '../domain/change-log.js';
import type { Period } from '../domain/period.js';
import { docState } from '../infra/db/change-repository.js';
import type { Deps } from './ports.js';
import { type ScopeKind, type Viewer, visibility, visibilityFilter } from './visibility.js';

/** The changes with any activity in the period, for the viewer: those raised before `to` and active since `from`. */
export async function periodFilter(deps: Deps, viewer: Viewer, period: Period) {
  const seen = await visibility(deps, viewer);
  return {
    scope: seen.kind,
    filter: {
      submittedAt: { $lt: period.to },
      lastEventAt: { $gte: period.from },
      ...visibilityFilter(seen),
    },
  };
}

/**
 * `/change-log`, the monthly report and the API summary: one pass over a cursor of the changes with
 * activity in the period, through the pure accumulator. Records are streamed, never all loaded.
 */
export async function buildChangeLog(
  deps: Deps,
  viewer: Viewer,
  period: Period,
): Promise<{ summary: ChangeLogSummary; scope: ScopeKind }> {
  const { scope, filter } = await periodFilter(deps, viewer, period);
  const acc = new ChangeLogAccumulator(period, deps.policy.policy, deps.clock.now());
  for await (const doc of deps.changes.cursor(filter, { batchSize: 1000 })) {
    const state = docState(doc);
    if (state) acc.add(state, doc.slack?.permalink ?? null);
  }
  return { summary: acc.result(), scope };
}
