import type { DelegationStore } from '../../application/ports.js';
import type { DelegationRecord } from '../../domain/delegation.js';
import { insertOnce, retryTransient } from './connection.js';
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

  append(r: DelegationRecord): Promise<boolean> {
    return insertOnce(this.m.DelegationLog, { _id: logRecordId(r.number), ...r });
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
