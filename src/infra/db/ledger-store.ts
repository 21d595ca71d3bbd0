import type {
  AuditSigner,
  CheckpointRecord,
  LedgerStore,
  Logger,
  WitnessRef,
} from '../../application/ports.js';
import { eventContentHash } from '../../domain/audit.js';
import {
  type CheckpointBody,
  entryBytes,
  type LedgerLeaf,
  type StoredLedgerEntry,
} from '../../domain/ledger.js';
import type { StoredChangeEvent } from '../../domain/lifecycle.js';
import { insertOnce, isDuplicateKey, retryTransient } from './connection.js';
import { type AuditCheckpointDoc, type AuditEntryDoc, eventId, ledgerId, type Models } from './models.js';

const MAX_BATCH = 200;
/** How long the writer waits for more entries before a write that is not full. */
const GATHER_MS = 100;

function toEntry(d: AuditEntryDoc): StoredLedgerEntry {
  return {
    position: Number(d._id),
    index: d.index,
    changeNumber: d.changeNumber,
    seq: d.seq,
    eventHash: d.eventHash,
    contentHash: d.contentHash,
    keyId: d.keyId,
    sig: d.sig,
  };
}

function toCheckpoint(d: AuditCheckpointDoc): CheckpointRecord {
  return {
    checkpoint: {
      body: d.body as unknown as CheckpointBody,
      sig: d.sig,
      ...(d.rotationSig ? { rotationSig: d.rotationSig } : {}),
    },
    frontier: JSON.parse(d.frontier) as CheckpointRecord['frontier'],
    witness: d.witness ?? null,
  };
}

/** The positions of a bulk insert's documents that hit a duplicate key; throws on any other error. */
function duplicatePositions(err: unknown): number[] {
  const e = err as { writeErrors?: unknown };
  const list = (Array.isArray(e.writeErrors) ? e.writeErrors : e.writeErrors ? [e.writeErrors] : []) as {
    code?: number;
    index?: number;
    err?: { code?: number; index?: number };
  }[];
  if (list.length === 0) {
    if (isDuplicateKey(err)) return [0];
    throw err;
  }
  return list.map((w) => {
    const code = w.code ?? w.err?.code;
    const index = w.index ?? w.err?.index;
    if (code !== 11000 || index === undefined) throw err;
    return index;
  });
}

const sameEvent = (d: AuditEntryDoc | null, e: StoredChangeEvent) =>
  !!d && d.changeNumber === e.changeNumber && d.seq === e.seq && d.eventHash === e.hash;

/**
 * The audit ledger in MongoDB (or FerretDB). An index is claimed by inserting the entry under it
 * (`_id` is unique and atomic on both); one writer per process hands out indexes in order, and a
 * clash with another process moves on past the indexes taken. Writes that arrive while one is in
 * flight share the next batch. A write that keeps failing is kept for a retry (flush, the
 * checkpoint job) and, after a crash, the start-up catch-up ledgers the event: the event's own seal
 * shows it was the app's.
 */
export class MongoLedgerStore implements LedgerStore {
  private next: number | null = null;
  private queue: { event: StoredChangeEvent; done: () => void }[] = [];
  private failed: StoredChangeEvent[] = [];
  private running: Promise<void> | null = null;
  /** Indexes a failed write may have left empty: only these may be closed with a filler. */
  private readonly given: Set<number> = new Set();

  constructor(
    private readonly m: Models,
    private readonly signer: AuditSigner | null,
    private readonly logger: Logger,
  ) {}

  ledger(events: readonly StoredChangeEvent[]): Promise<void> {
    if (!this.signer) return Promise.reject(new Error('no audit key: this process cannot write the ledger'));
    if (events.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let left = events.length;
      for (const event of events)
        this.queue.push({
          event,
          done: () => {
            if (--left === 0) resolve();
          },
        });
      this.kick();
    });
  }

  async flush(): Promise<void> {
    if (this.failed.length > 0) {
      const retry = this.failed;
      this.failed = [];
      void this.ledger(retry);
    }
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // Entries are off the decision path: waiting a little gathers a burst's entries into few
      // writes (each write is a transaction the database serialises with the decisions' own).
      if (this.queue.length < MAX_BATCH) await new Promise((r) => setTimeout(r, GATHER_MS));
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.write(batch.map((b) => b.event));
      } catch (err) {
        this.next = null;
        this.failed.push(...batch.map((b) => b.event));
        this.logger.error('could not write audit ledger entries; they are retried', {
          component: 'ledger',
          events: batch.length,
          err,
        });
      }
      for (const b of batch) b.done();
    }
  }

  private entryDoc(index: number, leaf: Omit<LedgerLeaf, 'index'>): AuditEntryDoc {
    const full: LedgerLeaf = { index, ...leaf };
    return {
      _id: ledgerId(index),
      ...full,
      keyId: this.signer!.keyId,
      sig: this.signer!.sign(entryBytes(full)),
    };
  }

  private async write(events: StoredChangeEvent[]): Promise<void> {
    let todo = events;
    for (let round = 0; todo.length > 0; round++) {
      if (round >= 50) throw new Error('could not claim ledger indexes after 50 rounds');
      this.next ??= (await this.top()) + 1;
      const first = this.next;
      const claimed = (from: number, n: number) => {
        for (let i = from; i < from + n && this.given.size < 100_000; i++) this.given.add(i);
      };
      const docs = todo.map((e, k) =>
        this.entryDoc(first + k, {
          changeNumber: e.changeNumber,
          seq: e.seq,
          eventHash: e.hash,
          contentHash: eventContentHash(e),
        }),
      );
      let clashes: number[] = [];
      try {
        await retryTransient(() => this.m.AuditEntry.insertMany(docs, { ordered: false, lean: true }));
      } catch (err) {
        try {
          clashes = duplicatePositions(err);
        } catch (failure) {
          claimed(first, docs.length); // some of these may be written, some not: holes to close
          throw failure;
        }
      }
      this.next = first + docs.length;
      const again: StoredChangeEvent[] = [];
      const clashed = new Set(clashes);
      for (const k of clashed) {
        // A retried insert that had gone through, or an index another process took.
        const existing = await this.m.AuditEntry.findById(docs[k]!._id).lean<AuditEntryDoc>();
        if (!sameEvent(existing, todo[k]!)) again.push(todo[k]!);
      }
      if (again.length > 0) this.next = (await this.top()) + 1;
      todo = again;
    }
    // Where each event went is mapped by the next checkpoint (mapEntries), off this path.
  }

  private async exists(index: number): Promise<boolean> {
    return (await this.m.AuditEntry.exists({ _id: ledgerId(index) })) !== null;
  }

  /**
   * The highest index in use (-1: none), by `_id` lookups (the only lookup FerretDB pushes down):
   * doubling from the last checkpoint's size, then halving. A hole near the top can make it answer
   * low; the insert then clashes and moves on.
   */
  private async top(): Promise<number> {
    const latest = await this.latestCheckpoint();
    let lo = (latest?.checkpoint.body.treeSize ?? 0) - 1;
    if (lo >= 0 && !(await this.exists(lo))) lo = -1;
    let step = 1;
    while (await this.exists(lo + step)) {
      lo += step;
      step *= 2;
    }
    let hi = lo + step; // absent
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.exists(mid)) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  async entryAt(index: number): Promise<StoredLedgerEntry | null> {
    const d = await this.m.AuditEntry.findById(ledgerId(index)).lean<AuditEntryDoc>();
    return d ? toEntry(d) : null;
  }

  /** By `_id` lookups (pushed down on FerretDB, unlike a range), 50 at a time. */
  async entriesFrom(from: number, limit: number): Promise<StoredLedgerEntry[]> {
    const out: StoredLedgerEntry[] = [];
    for (let i = from; out.length < limit; ) {
      const n = Math.min(50, limit - out.length);
      const got = await Promise.all(Array.from({ length: n }, (_, k) => this.entryAt(i + k)));
      for (const e of got) {
        if (!e) return out;
        out.push(e);
      }
      i += n;
    }
    return out;
  }

  abandoned(): number[] {
    return [...this.given].sort((a, b) => a - b);
  }

  async nextPresent(from: number, window: number): Promise<number | null> {
    for (let i = from + 1; i <= from + window; i++) if (await this.exists(i)) return i;
    return null;
  }

  async fill(leaf: LedgerLeaf): Promise<boolean> {
    if (!this.signer) throw new Error('no audit key: this process cannot write the ledger');
    const { index, ...rest } = leaf;
    this.given.delete(index);
    try {
      await retryTransient(() => this.m.AuditEntry.create(this.entryDoc(index, rest)));
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async *allEntries(): AsyncIterable<StoredLedgerEntry> {
    const cursor = this.m.AuditEntry.find({})
      .sort({ _id: 1 })
      .lean<AuditEntryDoc[]>()
      .cursor({ batchSize: 2000 });
    for await (const d of cursor as AsyncIterable<AuditEntryDoc>) yield toEntry(d);
  }

  async *entriesByChange(): AsyncIterable<StoredLedgerEntry> {
    const cursor = this.m.AuditEntry.find({ changeNumber: { $gt: 0 } })
      .sort({ changeNumber: 1, seq: 1 })
      .lean<AuditEntryDoc[]>()
      .cursor({ batchSize: 2000 });
    for await (const d of cursor as AsyncIterable<AuditEntryDoc>) yield toEntry(d);
  }

  async mapEntries(entries: readonly StoredLedgerEntry[]): Promise<void> {
    const docs = entries
      .filter((e) => e.changeNumber > 0)
      .map((e) => ({ _id: eventId(e.changeNumber, e.seq), index: e.position }));
    for (let i = 0; i < docs.length; i += 1000) {
      try {
        await retryTransient(() =>
          this.m.AuditEventIndex.insertMany(docs.slice(i, i + 1000), { ordered: false, lean: true }),
        );
      } catch (err) {
        duplicatePositions(err); // mapped before: an event ledgered twice keeps its first place
      }
    }
  }

  async indexOf(changeNumber: number, seq: number): Promise<number | null> {
    const d = await this.m.AuditEventIndex.findById(eventId(changeNumber, seq)).lean<{ index: number }>();
    return d?.index ?? null;
  }

  async latestCheckpoint(): Promise<CheckpointRecord | null> {
    const d = await this.m.AuditCheckpoint.findOne({}).sort({ _id: -1 }).lean<AuditCheckpointDoc>();
    return d ? toCheckpoint(d) : null;
  }

  async *checkpoints(): AsyncIterable<CheckpointRecord> {
    const cursor = this.m.AuditCheckpoint.find({})
      .sort({ _id: 1 })
      .lean<AuditCheckpointDoc[]>()
      .cursor({ batchSize: 500 });
    for await (const d of cursor as AsyncIterable<AuditCheckpointDoc>) yield toCheckpoint(d);
  }

  async addCheckpoint(
    record: CheckpointRecord,
    nodes: { height: number; index: number; hash: string }[],
  ): Promise<'added' | 'taken'> {
    // The nodes first: a checkpoint is only ever stored with the nodes its proofs need.
    for (let i = 0; i < nodes.length; i += 1000) {
      const docs = nodes.slice(i, i + 1000).map((n) => ({ _id: `${n.height}:${n.index}`, hash: n.hash }));
      try {
        await retryTransient(() => this.m.AuditNode.insertMany(docs, { ordered: false, lean: true }));
      } catch (err) {
        duplicatePositions(err); // stored by an earlier attempt
      }
    }
    const c = record.checkpoint;
    try {
      await retryTransient(() =>
        this.m.AuditCheckpoint.create({
          _id: ledgerId(c.body.number),
          number: c.body.number,
          body: c.body as unknown as Record<string, unknown>,
          sig: c.sig,
          rotationSig: c.rotationSig ?? null,
          frontier: JSON.stringify(record.frontier),
          witness: record.witness,
          createdAt: new Date(c.body.time),
        }),
      );
      return 'added';
    } catch (err) {
      if (isDuplicateKey(err)) return 'taken';
      throw err;
    }
  }

  async setWitness(number: number, ref: WitnessRef): Promise<void> {
    await retryTransient(() =>
      this.m.AuditCheckpoint.updateOne({ _id: ledgerId(number) }, { $set: { witness: ref } }),
    );
  }

  async unwitnessed(limit: number): Promise<CheckpointRecord[]> {
    const docs = await this.m.AuditCheckpoint.find({ witness: null })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<AuditCheckpointDoc[]>();
    return docs.map(toCheckpoint);
  }

  async node(height: number, index: number): Promise<string | null> {
    const d = await this.m.AuditNode.findById(`${height}:${index}`).lean<{ hash: string }>();
    return d?.hash ?? null;
  }

  async migration(): Promise<{ at: Date; events: number } | null> {
    const d = await this.m.AuditMeta.findById('migration:ledger-v1').lean<{ at: Date; events: number }>();
    return d ? { at: d.at, events: d.events } : null;
  }

  async recordMigration(info: { at: Date; events: number }): Promise<void> {
    await insertOnce(this.m.AuditMeta, { _id: 'migration:ledger-v1', ...info });
  }
}
