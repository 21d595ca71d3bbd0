import { type ChainBreak, verifyChain } from '../domain/audit.js';
import type { StoredChangeEvent } from '../domain/lifecycle.js';
import type { ReadDeps } from './ports.js';

export interface AuditReport {
  checkedChanges: number;
  checkedEvents: number;
  broken: { change: number; break: ChainBreak }[];
  verifiedAt: Date;
}

/**
 * Re-verifies every change's event hash chain and reports the first broken link per change. Two
 * streams, both ordered by change number, are merged: all events (by change and sequence) and the
 * change records (for the head each claims). Nothing is held beyond one change's events.
 */
export async function verifyAudit(deps: ReadDeps): Promise<AuditReport> {
  const report: AuditReport = {
    checkedChanges: 0,
    checkedEvents: 0,
    broken: [],
    verifiedAt: deps.clock.now(),
  };
  const heads = deps.changes.heads()[Symbol.asyncIterator]();
  let next = await heads.next();

  /** The head the change record claims, after reporting records (with no events at all) passed on the way. */
  const headFor = async (n: number): Promise<{ seq: number; hash: string } | undefined> => {
    while (!next.done && next.value.number < n) {
      report.checkedChanges++;
      report.broken.push({
        change: next.value.number,
        break: { seq: 1, problem: 'sequence_gap', expected: 1 },
      });
      next = await heads.next();
    }
    if (!next.done && next.value.number === n) {
      const head = { seq: next.value.seq, hash: next.value.hash };
      next = await heads.next();
      return head;
    }
    return undefined;
  };

  let current: number | null = null;
  let batch: StoredChangeEvent[] = [];
  const flush = async () => {
    if (current === null) return;
    report.checkedChanges++;
    const found = verifyChain(batch, await headFor(current));
    if (found) report.broken.push({ change: current, break: found });
  };
  for await (const e of deps.changes.allEvents()) {
    if (e.changeNumber !== current) {
      await flush();
      current = e.changeNumber;
      batch = [];
    }
    batch.push(e);
    report.checkedEvents++;
  }
  await flush();
  await headFor(Number.MAX_SAFE_INTEGER); // change records after the last event
  return report;
}
