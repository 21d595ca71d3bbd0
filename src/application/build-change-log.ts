import { ChangeLogAccumulator, type ChangeLogSummary } from '../domain/change-log.js';
import type { Period } from '../domain/period.js';
import type { ReadDeps } from './ports.js';
import { type ScopeKind, type Viewer, visibility } from './visibility.js';

/**
 * `/change-log`, the monthly report and the API summary: one pass over the changes with activity in
 * the period that the viewer may see, through the pure accumulator. Records are streamed, never all
 * loaded.
 */
export async function buildChangeLog(
  deps: ReadDeps,
  viewer: Viewer,
  period: Period,
): Promise<{ summary: ChangeLogSummary; scope: ScopeKind }> {
  const scope = await visibility(deps, viewer);
  const acc = new ChangeLogAccumulator(period, deps.policy.policy, deps.clock.now());
  for await (const record of deps.changes.inPeriod(period, scope))
    acc.add(record.state!, record.slack?.permalink ?? null);
  return { summary: acc.result(), scope: scope.kind };
}
