import { currentApprovers } from '../src/application/current-approvers.js';
import type { AuditSigner } from '../src/application/ports.js';
import type { LoadedPolicy } from '../src/config/policy.js';
import { eventContentHash, eventSealBytes } from '../src/domain/audit.js';
import { formatChangeId } from '../src/domain/change.js';
import { entryBytes, entryLeaf, type LedgerLeaf } from '../src/domain/ledger.js';
import type { MerkleFrontier } from '../src/domain/merkle.js';
import { projectionFields } from '../src/infra/db/change-repository.js';
import { eventId, ledgerId, type Models } from '../src/infra/db/models.js';
import {
  type GeneratedChange,
  type GeneratedEvent,
  generateHistories,
  type HistoryOptions,
} from '../test/support/histories.js';

/**
 * Writes generated change histories (test/support/histories.ts) as the app stores them, in batches
 * with insertMany.
 */

export interface SeedOptions extends HistoryOptions {
  batch?: number;
  /**
   * Written as the app writes them: each event sealed with the audit key and entered in the ledger
   * (entries and the event → index map); the tree's leaves go into `frontier` for a checkpoint.
   */
  audit?: { signer: AuditSigner; frontier: MerkleFrontier };
  onProgress?: (done: number) => void;
}

export async function seedHistory(
  models: Models,
  loaded: LoadedPolicy,
  opts: SeedOptions,
): Promise<{ changes: number; events: number }> {
  const policy = loaded.policy;
  const batchSize = opts.batch ?? 500;
  const histories = generateHistories(loaded, opts);
  let totalEvents = 0;
  for (let done = 0; done < opts.changes; ) {
    const events: GeneratedEvent[] = [];
    const docs: Record<string, unknown>[] = [];
    const n = Math.min(batchSize, opts.changes - done);
    for (let i = 0; i < n; i++) {
      const { events: changeEvents, state: st, membership } = histories.next().value as GeneratedChange;
      const last = changeEvents[changeEvents.length - 1]!;
      docs.push({
        _id: formatChangeId(st.number),
        originChannel: null,
        slack: null,
        ...projectionFields(st, { seq: last.seq, hash: last.hash }, currentApprovers(st, policy, membership)),
      });
      events.push(...changeEvents);
    }
    if (opts.audit) {
      const { signer, frontier } = opts.audit;
      const entries = events.map((e) => {
        (e as { seal?: unknown }).seal = { keyId: signer.keyId, sig: signer.sign(eventSealBytes(e)) };
        const leaf: LedgerLeaf = {
          index: frontier.size,
          changeNumber: e.changeNumber,
          seq: e.seq,
          eventHash: e.hash,
          contentHash: eventContentHash(e),
        };
        frontier.push(entryLeaf(leaf));
        return {
          _id: ledgerId(leaf.index),
          ...leaf,
          keyId: signer.keyId,
          sig: signer.sign(entryBytes(leaf)),
        };
      });
      await models.AuditEntry.insertMany(entries, { ordered: false, lean: true });
      await models.AuditEventIndex.insertMany(
        entries.map((x) => ({ _id: eventId(x.changeNumber, x.seq), index: x.index })),
        { ordered: false, lean: true },
      );
    }
    await models.ChangeEvent.insertMany(events, { ordered: false, lean: true });
    await models.Change.insertMany(docs, { ordered: false, lean: true });
    totalEvents += events.length;
    done += n;
    opts.onProgress?.(done);
  }
  return { changes: opts.changes, events: totalEvents };
}
