import type { PolicyStore } from '../../application/ports.js';
import type { PolicyOrigin, PolicyVersionRecord } from '../../domain/policy-admin.js';
import { insertOnce, isDuplicateKey, retryTransient } from './connection.js';
import { logRecordId, type Models, type PolicyHistoryDoc } from './models.js';

const FIRST_ADMIN = 'first_admin';
const SETUP_CODE = 'setup_code:';

function toRecord(d: PolicyHistoryDoc): PolicyVersionRecord {
  return {
    number: d.number,
    hash: d.hash,
    previousHash: d.previousHash ?? null,
    by: d.by,
    at: d.at,
    origin: d.origin as PolicyOrigin,
    note: d.note ?? '',
    diff: d.diff ?? '',
    added: d.added,
    removed: d.removed,
    prevRecordHash: d.prevRecordHash,
    recordHash: d.recordHash,
    seal: d.seal ?? null,
  };
}

/**
 * Policy texts by hash, the history of published versions (a version's number is its `_id`, so two
 * replicas publishing at once cannot both take it: an insert on a unique key is atomic on MongoDB
 * and FerretDB), the first admin (claimed once the same way) and setup codes.
 */
export class MongoPolicyStore implements PolicyStore {
  constructor(private readonly m: Models) {}

  async keepText(hash: string, source: string, yaml: string, at: Date): Promise<void> {
    await retryTransient(() =>
      this.m.PolicyVersion.updateOne(
        { _id: hash },
        { $setOnInsert: { source, yaml, firstSeenAt: at } },
        { upsert: true },
      ),
    ).catch((err) => {
      if (!isDuplicateKey(err)) throw err; // two replicas keeping the same text
    });
  }

  async text(hash: string): Promise<{ yaml: string; source: string } | null> {
    const d = await retryTransient(() => this.m.PolicyVersion.findById(hash).lean());
    return d ? { yaml: d.yaml, source: d.source } : null;
  }

  async head(): Promise<PolicyVersionRecord | null> {
    const d = await retryTransient(() =>
      this.m.PolicyHistory.findOne({}).sort({ _id: -1 }).lean<PolicyHistoryDoc>(),
    );
    return d ? toRecord(d) : null;
  }

  append(r: PolicyVersionRecord): Promise<boolean> {
    return insertOnce(this.m.PolicyHistory, { _id: logRecordId(r.number), ...r });
  }

  async recent(limit: number): Promise<PolicyVersionRecord[]> {
    const docs = await retryTransient(() =>
      this.m.PolicyHistory.find({}).sort({ _id: -1 }).limit(limit).lean<PolicyHistoryDoc[]>(),
    );
    return docs.map(toRecord);
  }

  async version(number: number): Promise<PolicyVersionRecord | null> {
    if (!Number.isSafeInteger(number) || number < 1) return null;
    const d = await retryTransient(() =>
      this.m.PolicyHistory.findById(logRecordId(number)).lean<PolicyHistoryDoc>(),
    );
    return d ? toRecord(d) : null;
  }

  async *all(): AsyncIterable<PolicyVersionRecord> {
    const cursor = this.m.PolicyHistory.find({}).sort({ _id: 1 }).lean<PolicyHistoryDoc[]>().cursor();
    try {
      for await (const d of cursor) yield toRecord(d as unknown as PolicyHistoryDoc);
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  async addSetupCode(codeHash: string, at: Date): Promise<void> {
    await retryTransient(() =>
      this.m.Setting.create({ _id: `${SETUP_CODE}${codeHash}`, value: 'unused', at }),
    );
  }

  async hasSetupCode(codeHash: string): Promise<boolean> {
    return (
      (await retryTransient(() => this.m.Setting.countDocuments({ _id: `${SETUP_CODE}${codeHash}` }))) > 0
    );
  }

  async clearSetupCodes(): Promise<void> {
    await retryTransient(() => this.m.Setting.deleteMany({ _id: { $regex: `^${SETUP_CODE}` } }));
  }

  claimFirstAdmin(userId: string, at: Date): Promise<boolean> {
    return insertOnce(this.m.Setting, { _id: FIRST_ADMIN, value: userId, at });
  }

  async firstAdmin(): Promise<string | null> {
    const d = await retryTransient(() => this.m.Setting.findById(FIRST_ADMIN).lean());
    return d?.value ?? null;
  }
}
