import { type EvidenceRow, evidenceRow } from '../domain/change-log.js';
import type { Period } from '../domain/period.js';
import type { ReadDeps } from './ports.js';
import { type ScopeKind, type Viewer, visibility } from './visibility.js';

/** The evidence rows of the period for the viewer, streamed in change-number order. */
export async function evidenceRows(
  deps: ReadDeps,
  viewer: Viewer,
  period: Period,
): Promise<{ scope: ScopeKind; rows: AsyncGenerator<EvidenceRow> }> {
  const scope = await visibility(deps, viewer);
  const now = deps.clock.now();
  async function* rows() {
    for await (const record of deps.changes.inPeriod(period, scope))
      yield evidenceRow(record.state!, record.head.hash, now);
  }
  return { scope: scope.kind, rows: rows() };
}
