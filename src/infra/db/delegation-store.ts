import type { DelegationStore } from '../../application/ports.js';
import type { DelegationRecord } from '../../domain/delegation.js';
import { isDuplicateKey, retryTransient } from './connection.js';
import { type DelegationLogDoc, logRecordId, type Models } from './models.js';

function toRecord(d: DelegationLogDoc): DelegationRecord {
  const x = d.delegation;
  return {
    number: d.number,
    kind: d.kind as DelegationRecord['kind'],
    delegation: { id: x.id, from: x.from, to: x.to, start: new Date(x.start), until: new Date(x.until) },
    by: d.by,
    at: d.at,
    prevRecordHash: d.prevRecordHash,
    recordHash: d.recordHash,
    seal: d.seal ?? null,
  };
}

/** The delegation log: a record's number is its `_id`, so two writers cannot both take it. */
export class MongoDelegationStore implements DelegationStore {
  constructor(private readonly m: Models) {}

  async append(r: DelegationRecord): Promise<boolean> {
    try {
      await retryTransient(() => this.m.DelegationLog.create({ _id: logRecordId(r.number), ...r }));
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async after(number: number): Promise<DelegationRecord[]> {
    const docs = await retryTransient(() =>
      this.m.DelegationLog.find({ _id: { $gt: logRecordId(number) } })
        .sort({ _id: 1 })
        .lean<DelegationLogDoc[]>(),
    );
    return docs.map(toRecord);
  }
}
