import { type EvidenceRow, evidenceRow } from '../domain/change-log.js';
import type { Period } from '../domain/period.js';
import { docState } from '../infra/db/change-repository.js';
import { periodFilter } from './build-change-log.js';
import type { Deps } from './ports.js';
import type { ScopeKind, Viewer } from './visibility.js';

/** The evidence rows of the period for the viewer, streamed in change-number order. */
export async function evidenceRows(
  deps: Deps,
  viewer: Viewer,
  period: Period,
): Promise<{ scope: ScopeKind; rows: AsyncGenerator<EvidenceRow> }> {
  const { scope, filter } = await periodFilter(deps, viewer, period);
  const now = deps.clock.now();
  async function* rows() {
    for await (const doc of deps.changes.cursor(filter, { batchSize: 500 })) {
      const state = docState(doc);
      if (state) yield evidenceRow(state, doc.headHash, now);
    }
  }
  return { scope, rows: rows() };
}
