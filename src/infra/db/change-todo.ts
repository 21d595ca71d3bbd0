import { Query } from 'mingo';
import type { Model, QueryFilter } from 'mongoose';
import type { SkipChange } from '../../application/ports.js';
import { formatChangeId } from '../../domain/change.js';
import { OPEN_STATUSES } from '../../domain/lifecycle.js';
import { readAhead } from '../read-ahead.js';
import { isDuplicateKey, retryTransient } from './connection.js';
import { migrationDone, recordMigration } from './migrations.js';
import type { ChangeDoc, ChangeTodoDoc, Models } from './models.js';

/** An emergency change whose retrospective is still owed. */
export const RETRO_OWED: QueryFilter<ChangeDoc> = {
  emergency: true,
  retroDueAt: { $ne: null },
  retroSubmittedAt: null,
};

/**
 * A change record that may still have work for the sweeps and the repair: a submission not
 * completed, a change not closed, a retrospective owed or under review, a review due, an
 * announcement not posted. Every set a sweep or the repair looks for lies within it (tested in
 * test/integration/change-todo.test.ts).
 */
export const MAY_HAVE_WORK: QueryFilter<ChangeDoc> = {
  $or: [
    { seq: 0, status: 'submitting' },
    { status: { $in: [...OPEN_STATUSES] } },
    RETRO_OWED,
    { retroReview: { $in: ['pending', 'questions'] } },
    { pirDueAt: { $ne: null } },
    { unannounced: true },
  ],
};

/** The fields a query reads (its keys, within `$or`, `$and` and `$nor` too), as a projection. */
export function fieldsRead(filter: Record<string, unknown>): Record<string, 1> {
  const out: Record<string, 1> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (!key.startsWith('$')) out[key] = 1;
    else if (Array.isArray(value))
      for (const part of value) Object.assign(out, fieldsRead(part as Record<string, unknown>));
  }
  return out;
}

/** What a record needs for MAY_HAVE_WORK to be decided on it. */
export const WORK_FIELDS = fieldsRead(MAY_HAVE_WORK as Record<string, unknown>);

/** The fields the sweeps' queries read (candidateFilter in change-repository.ts), kept in the sweep view. */
const SWEEP_FIELDS = [
  'number',
  'seq',
  'status',
  'emergency',
  'retroDueAt',
  'retroSubmittedAt',
  'retroReview',
  'pirDueAt',
  'plannedStart',
] as const;

/**
 * The fields of a change record that the queries over the list read (the sweeps' candidateFilter,
 * the repair's, the unannounced; App Home's lists and who may see them), which a to-do entry
 * carries. `slack` is kept as whether there is one.
 */
const ENTRY_FIELDS = [
  ...SWEEP_FIELDS,
  'deployedAt',
  'unannounced',
  'createdAt',
  'requester',
  'currentApprovers',
  'participants',
  'openToAnyone',
] as const;

/** The `fields` of `doc` that are set. */
function pick(doc: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (doc[f] !== undefined) out[f] = doc[f];
  return out;
}

function entryFields(doc: Partial<ChangeDoc>): Record<string, unknown> {
  const out = pick(doc as Record<string, unknown>, ENTRY_FIELDS);
  if (doc.slack !== undefined) out.slack = doc.slack ? true : null;
  return out;
}

/** How old the sweep view may be before a sweep reads the list again (see sweepRecords). */
const SWEEP_VIEW_MS = 30_000;
const SWEEP_PROJECTION = Object.fromEntries(SWEEP_FIELDS.map((f) => [f, 1]));

type SweepEntry = Record<string, unknown> & { number: number; seq?: number };

/** An entry younger than this is never removed: its writer may be between its two writes. */
const GRACE_MS = 10 * 60_000;
/** How often a process checks every entry against its record. */
const TIDY_EVERY_MS = 60 * 60_000;
const LOOKUPS_AT_ONCE = 50;
/** Written once the list holds every change with work, with every field of ENTRY_FIELDS. */
export const TODO_FILLED = 'migration:change_todo:2';

/** A change record whose submission is in flight: its number claimed, or not announced yet. */
export const IN_FLIGHT: QueryFilter<ChangeDoc> = {
  $or: [{ seq: 0, status: 'submitting' }, { unannounced: true }],
};

/** A list of changes: the collection, the records it holds, the setting written once it was filled. */
export interface TodoKind {
  model(m: Models): Model<ChangeTodoDoc>;
  holds: QueryFilter<ChangeDoc>;
  filledKey: string;
}

/** The changes that may still have work: the sweeps, App Home's lists (`change_todo`). */
export const WITH_WORK: TodoKind = {
  model: (m) => m.ChangeTodo,
  holds: MAY_HAVE_WORK,
  filledKey: TODO_FILLED,
};

/**
 * The submissions in flight (`change_inflight`), which the repair at start-up and every few minutes
 * reads: a handful however much work is open. An entry is added when the number is claimed (the only
 * way into the list, but for the marking of old records); the repair checks each record it finds,
 * and the hourly check drops the entries of announced changes.
 */
export const IN_FLIGHT_LIST: TodoKind = {
  model: (m) => m.ChangeInflight,
  holds: IN_FLIGHT,
  filledKey: 'migration:change_inflight',
};

/**
 * The to-do list of changes that may still have work, for FerretDB: it narrows a query only by an
 * `_id` equality, so a sweep over `changes` by status reads every change ever recorded (and their
 * whole documents). Each entry carries the few fields the sweeps' queries and App Home's lists read,
 * so a sweep (or a list) runs its very query over this small list, then looks each match up by `_id`
 * and checks the record itself with the same query in memory (mingo evaluates MongoDB's query
 * language): an entry ahead of its record costs a lookup, never a wrong answer; one behind it (a
 * write lost to a crash) misses the change until the hourly check below.
 *
 * The list holds every change with work, kept so without conditional writes (FerretDB's are not
 * atomic): a writer adds the entry before it writes the record, unless there is one (a crash
 * between leaves an entry that still matches the record as it was), and writes the entry's fields
 * after (which also undoes a removal meanwhile). Once an hour each process checks every entry
 * against its record: it rewrites an entry that fell behind (a write lost to a crash, two writers
 * racing), and removes one whose record has no work and that is older than GRACE_MS, then reads the
 * record again and puts the entry back if the record moved. An installation that ran before the
 * list existed (or before one of its fields) gets it filled once, by one scan.
 */
export class ChangeTodoList {
  private readonly hasWork: Query;
  private readonly list: Model<ChangeTodoDoc>;
  private filling: Promise<void> | null = null;
  /** Queries waiting to be read together (see matching). */
  private asked:
    | { filter: QueryFilter<ChangeDoc>; resolve: (n: number[]) => void; reject: (e: unknown) => void }[]
    | null = null;
  private tidiedAt = Date.now();
  /**
   * The sweeps' view of the list (see sweepRecords), and the writes made while it is being read. Not
   * a RefreshedValue: the view must replace the old one in the same step as the writes made during
   * its read are applied to it, or a write between the two would be lost from it.
   */
  private sweepView: { at: number; entries: Map<number, SweepEntry> } | null = null;
  private sweepViewRead: Promise<Map<number, SweepEntry>> | null = null;
  private writtenDuringRead: Map<number, Record<string, unknown> | null> | null = null;

  constructor(
    private readonly m: Models,
    /** Which list: the changes with work (the default), or the submissions in flight. */
    private readonly kind: TodoKind = WITH_WORK,
  ) {
    this.hasWork = new Query(kind.holds as Record<string, unknown>);
    this.list = kind.model(m);
  }

  /** Whether a record (or the fields about to be written) may have work. */
  mayHaveWork(doc: Partial<ChangeDoc>): boolean {
    return this.hasWork.test(doc as Record<string, unknown>);
  }

  /** Writes the entry of a change from its record's fields (all, or those about to be written). */
  async write(changeNumber: number, fields: Partial<ChangeDoc>): Promise<void> {
    const set = { ...entryFields(fields), number: changeNumber, at: new Date() };
    this.seen(changeNumber, set);
    const unset = fields.unannounced === undefined && 'slack' in set ? { unannounced: 1 } : undefined;
    const update = unset ? { $set: set, $unset: unset } : { $set: set };
    try {
      await retryTransient(() =>
        this.list.updateOne({ _id: formatChangeId(changeNumber) }, update, { upsert: true }),
      );
    } catch (err) {
      if (!isDuplicateKey(err)) throw err; // two upserts raced: the other inserted it; write over it
      await retryTransient(() => this.list.updateOne({ _id: formatChangeId(changeNumber) }, update));
    }
  }

  /**
   * Adds the entry of a change unless it has one: a number being claimed, which another request may
   * own already (its entry, further along, must not be overwritten).
   */
  async add(changeNumber: number, fields: Partial<ChangeDoc>): Promise<void> {
    if (!this.sweepView?.entries.has(changeNumber)) this.seen(changeNumber, { ...entryFields(fields) });
    try {
      await retryTransient(() =>
        this.list.create({
          ...entryFields(fields),
          _id: formatChangeId(changeNumber),
          number: changeNumber,
          at: new Date(),
        }),
      );
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /** The records that match `filter` (a query within MAY_HAVE_WORK), by number. */
  async *records(filter: QueryFilter<ChangeDoc>): AsyncIterable<ChangeDoc> {
    const numbers = (await this.matching(filter)).sort((a, b) => a - b);
    yield* this.lookUp(numbers, filter, LOOKUPS_AT_ONCE);
  }

  /**
   * `records` for the periodic sweeps, which run each minute, each with its own query, and between
   * them would read the whole list several times a minute (FerretDB reads every entry for each):
   * their queries run over a view of the list, read at most SWEEP_VIEW_MS ago, holding the few fields
   * they read and kept current with this process's own writes. Another process's write shows at the
   * next read of the view (within SWEEP_VIEW_MS), as if the sweep had run that much later. Each
   * record found is read and checked with the query itself, as in `records`.
   */
  async *sweepRecords(filter: QueryFilter<ChangeDoc>, skip?: SkipChange): AsyncIterable<ChangeDoc> {
    const view = await this.currentSweepView();
    const query = new Query(filter as Record<string, unknown>);
    const numbers: number[] = [];
    for (const e of view.values())
      if (query.test(e) && !skip?.(e.number, e.seq ?? -1)) numbers.push(e.number); // no seq: never skipped
    yield* this.lookUp(
      numbers.sort((a, b) => a - b),
      filter,
      LOOKUPS_AT_ONCE,
    );
  }

  private async currentSweepView(): Promise<Map<number, SweepEntry>> {
    await this.fillOnce();
    if (Date.now() - this.tidiedAt > TIDY_EVERY_MS) await this.tidy();
    if (this.sweepView && Date.now() - this.sweepView.at < SWEEP_VIEW_MS) return this.sweepView.entries;
    this.sweepViewRead ??= this.readSweepView().finally(() => {
      this.sweepViewRead = null;
    });
    return this.sweepViewRead;
  }

  private async readSweepView(): Promise<Map<number, SweepEntry>> {
    const at = Date.now();
    this.writtenDuringRead = new Map();
    try {
      const found = await this.list.find({}, SWEEP_PROJECTION).lean<SweepEntry[]>();
      const entries = new Map(found.map((e) => [e.number, e]));
      // A write made while the list was read may be missing from what was read: applied again.
      for (const [n, fields] of this.writtenDuringRead) {
        if (fields === null) entries.delete(n);
        else entries.set(n, { ...entries.get(n), ...fields, number: n });
      }
      this.sweepView = { at, entries };
      return entries;
    } finally {
      this.writtenDuringRead = null;
    }
  }

  /** A write of this process (null: a removal), shown in the sweep view at once. */
  private seen(changeNumber: number, fields: Record<string, unknown> | null): void {
    const view = this.sweepView?.entries;
    const mine = fields === null ? null : pick(fields, SWEEP_FIELDS);
    if (view) {
      if (mine === null) view.delete(changeNumber);
      else view.set(changeNumber, { ...view.get(changeNumber), ...mine, number: changeNumber });
    }
    if (this.writtenDuringRead) {
      const earlier = this.writtenDuringRead.get(changeNumber);
      this.writtenDuringRead.set(changeNumber, mine === null ? null : { ...earlier, ...mine });
    }
  }

  /**
   * The first `limit` records that match `filter` (a query within MAY_HAVE_WORK) in order of number
   * (`order` 1: ascending, -1: descending), and how many entries match (an entry behind its record
   * after a crash counts as it reads until the hourly check mends it).
   */
  async page(
    filter: QueryFilter<ChangeDoc>,
    limit: number,
    order: 1 | -1,
  ): Promise<{ docs: ChangeDoc[]; total: number }> {
    const numbers = (await this.matching(filter)).sort((a, b) => order * (a - b));
    const docs: ChangeDoc[] = [];
    if (limit > 0)
      for await (const doc of this.lookUp(numbers, filter, Math.min(LOOKUPS_AT_ONCE, limit + 2))) {
        docs.push(doc);
        if (docs.length === limit) break;
      }
    return { docs, total: numbers.length };
  }

  /**
   * The numbers of the entries that match `filter`. Queries asked for at the same moment (App Home's
   * lists, built in parallel) are read in one: FerretDB reads every entry for each query, so one
   * read of the entries any of them wants, each query then applied to those in memory (mingo). Each
   * caller's read starts after its call.
   */
  private async matching(filter: QueryFilter<ChangeDoc>): Promise<number[]> {
    await this.fillOnce();
    if (Date.now() - this.tidiedAt > TIDY_EVERY_MS) await this.tidy();
    return new Promise<number[]>((resolve, reject) => {
      if (!this.asked) {
        this.asked = [];
        setImmediate(() => void this.readAsked());
      }
      this.asked.push({ filter, resolve, reject });
    });
  }

  private async readAsked(): Promise<void> {
    const asked = this.asked ?? [];
    this.asked = null;
    try {
      if (asked.length === 1) {
        const found = await this.list
          .find(asked[0]!.filter as QueryFilter<ChangeTodoDoc>, { number: 1 })
          .lean<{ number: number }[]>();
        asked[0]!.resolve(found.map((e) => e.number));
        return;
      }
      const entries = await this.list
        .find({ $or: asked.map((a) => a.filter) } as QueryFilter<ChangeTodoDoc>)
        .lean<ChangeTodoDoc[]>();
      for (const a of asked) {
        const query = new Query(a.filter as Record<string, unknown>);
        a.resolve(
          entries.filter((e) => query.test(e as unknown as Record<string, unknown>)).map((e) => e.number),
        );
      }
    } catch (err) {
      for (const a of asked) a.reject(err);
    }
  }

  /** The records of `numbers`, in that order, that match `filter`: looked up `batch` at a time. */
  private async *lookUp(
    numbers: number[],
    filter: QueryFilter<ChangeDoc>,
    batch: number,
  ): AsyncIterable<ChangeDoc> {
    const match = new Query(filter as Record<string, unknown>);
    for await (const doc of readAhead(numbers, batch, (ns) => Promise.all(ns.map((n) => this.record(n)))))
      if (doc && match.test(doc as unknown as Record<string, unknown>)) yield doc;
  }

  /**
   * Checks every entry against its record: rewrites one that fell behind, removes one whose record
   * has no work (once older than GRACE_MS). Returns how many entries remain.
   */
  async tidy(): Promise<number> {
    this.tidiedAt = Date.now();
    const entries = (await this.list.find({}).lean<ChangeTodoDoc[]>()).sort((a, b) => a.number - b.number);
    const old = Date.now() - GRACE_MS;
    let kept = 0;
    for (let i = 0; i < entries.length; i += LOOKUPS_AT_ONCE) {
      const batch = entries.slice(i, i + LOOKUPS_AT_ONCE);
      const docs = await Promise.all(batch.map((e) => this.record(e.number)));
      for (const [k, e] of batch.entries()) {
        const doc = docs[k];
        if (!doc || !this.mayHaveWork(doc)) {
          if (e.at.getTime() < old) await this.remove(e.number, doc?.seq ?? null);
          else kept++;
          continue;
        }
        kept++;
        const want = entryFields(doc);
        const has = e as unknown as Record<string, unknown>;
        const same = Object.entries(want).every(([f, v]) => String(v ?? null) === String(has[f] ?? null));
        if (!same || ('unannounced' in has && !('unannounced' in want))) await this.write(e.number, doc);
      }
    }
    return kept;
  }

  private record(changeNumber: number): Promise<ChangeDoc | null> {
    return this.m.Change.findById(formatChangeId(changeNumber)).lean<ChangeDoc>();
  }

  private async remove(changeNumber: number, seenSeq: number | null): Promise<void> {
    this.seen(changeNumber, null);
    await retryTransient(() => this.list.deleteOne({ _id: formatChangeId(changeNumber) }));
    const again = await this.record(changeNumber);
    if (again && (again.seq !== seenSeq || this.mayHaveWork(again))) await this.write(changeNumber, again);
  }

  /**
   * Writes the entry of every change with work (one scan), by plain inserts many at once: an entry
   * already there stands (a writer's is at least as fresh). `replace` first removes every entry, so
   * that all are written anew (an installation from before the list, or before one of its fields):
   * a writer meanwhile still adds its entry, or the scan finds its record. (FerretDB runs a batch of
   * upserts a statement at a time, each dearer the longer the batch: 186 of them took over a minute.)
   * Returns how many changes have work.
   */
  async fill(opts: { replace?: boolean } = {}): Promise<number> {
    if (opts.replace) await retryTransient(() => this.list.deleteMany({}));
    let found = 0;
    const cursor = this.m.Change.find(this.kind.holds).lean<ChangeDoc[]>().cursor({ batchSize: 1000 });
    let batch: ChangeDoc[] = [];
    const flush = async () => {
      const docs = batch.map((d) => ({ ...entryFields(d), _id: formatChangeId(d.number), at: new Date() }));
      batch = [];
      found += docs.length;
      try {
        await retryTransient(() => this.list.insertMany(docs, { ordered: false, lean: true }));
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // written already (by a writer, or an earlier fill)
      }
    };
    for await (const d of cursor as AsyncIterable<ChangeDoc>) {
      batch.push(d);
      if (batch.length === 1000) await flush();
    }
    if (batch.length > 0) await flush();
    return found;
  }

  /** Fills the list where it was never filled: once per process at most (concurrent callers wait). */
  private fillOnce(): Promise<void> {
    this.filling ??= this.checkFilled().catch((err) => {
      this.filling = null; // tried again by the next caller
      throw err;
    });
    return this.filling;
  }

  private async checkFilled(): Promise<void> {
    if (await migrationDone(this.m, this.kind.filledKey)) return;
    await this.fill({ replace: true });
    await this.markFilled();
  }

  /** Records the list filled (the app's first use fills it otherwise): after `fill`. */
  markFilled(): Promise<void> {
    return recordMigration(this.m, this.kind.filledKey);
  }
}
