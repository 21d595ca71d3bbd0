import { ChangeLogAccumulator, type ChangeLogSummary } from '../domain/change-log.js';
import type { Period } from '../domain/period.js';
import type { ReadDeps } from './ports.js';
import { rollupSummary } from './rollups.js';
import { type ScopeKind, type Viewer, visibility } from './visibility.js';

/**
 * `/change-log`, the monthly report and the API summary. A viewer who sees every change is answered
 * from the per-day rollups (the cost depends on the period's length, not on the history); anyone
 * else, or when the rollups are not built yet, by one pass over the changes with activity in the
 * period that the viewer may see, through the pure accumulator. Records are streamed, never all
 * loaded. Both give the same figures (test/unit/rollup.test.ts).
 */
export async function buildChangeLog(
  deps: ReadDeps,
  viewer: Viewer,
  period: Period,
): Promise<{ summary: ChangeLogSummary; scope: ScopeKind; source: 'rollups' | 'scan' }> {
  const scope = await visibility(deps, viewer);
  if (scope.kind === 'all') {
    const summary = await rollupSummary(deps, period);
    if (summary) return { summary, scope: scope.kind, source: 'rollups' };
  }
  const acc = new ChangeLogAccumulator(period, deps.policy.policy, deps.clock.now());
  for await (const record of deps.changes.inPeriod(period, scope))
    acc.add(record.state!, record.slack?.permalink ?? null);
  return { summary: acc.result(), scope: scope.kind, source: 'scan' };
}
