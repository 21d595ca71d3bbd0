import { Query } from 'mingo';
import type { Model, QueryFilter } from 'mongoose';
import type { SkipChange } from '../../application/ports.js';
import { formatChangeId } from '../../domain/change.js';
import { OPEN_STATUSES } from '../../domain/lifecycle.js';
import { readAhead } from '../read-ahead.js';
import { insertOnce, isDuplicateKey, retryTransient } from './connection.js';
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

/**
 * The fields of a change record that the queries over the list read (the sweeps' candidateFilter,
 * the repair's, the unannounced; App Home's lists and who may see them), which a to-do entry
 * carries. `slack` is kept as whether there is one.
 */
const ENTRY_FIELDS = [
  'number',
  'seq',
  'status',
  'emergency',
  'retroDueAt',
  'retroSubmittedAt',
  'retroReview',
  'pirDueAt',
  'plannedStart',
  'deployedAt',
  'unannounced',
  'createdAt',
  'requester',
  'currentApprovers',
  'participants',
  'openToAnyone',
] as const;

/** The `fields` of `doc` that are set (or present, when `present`: an undefined one says "removed"). */
function pick(
  doc: Record<string, unknown>,
  fields: readonly string[],
  present = false,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (doc[f] !== undefined || (present && f in doc)) out[f] = doc[f];
  return out;
}

function entryFields(doc: Partial<ChangeDoc>): Record<string, unknown> {
  const out = pick(doc as Record<string, unknown>, ENTRY_FIELDS);
  if (doc.slack !== undefined) out.slack = doc.slack ? true : null;
  return out;
}

/** How old the view of the list may be before it is read again (see currentView). */
const VIEW_MS = 30_000;
/** App Home and `/change list` answer from a view up to this old while a newer one is read. */
const VIEW_STALE_MS = 5 * 60_000;
/** What the view keeps of an entry. */
const VIEW_FIELDS = [...ENTRY_FIELDS, 'slack'] as const;
const VIEW_PROJECTION = Object.fromEntries(VIEW_FIELDS.map((f) => [f, 1]));

type ViewEntry = Record<string, unknown> & { number: number; seq?: number };

/** The numbers of the view's entries that match `filter` (and that `skip` does not leave out). */
function inView(view: Map<number, ViewEntry>, filter: QueryFilter<ChangeDoc>, skip?: SkipChange): number[] {
  const query = new Query(filter as Record<string, unknown>);
  const out: number[] = [];
  for (const e of view.values()) if (query.test(e) && !skip?.(e.number, e.seq ?? -1)) out.push(e.number); // no seq: never skipped
  return out;
}

/** `entry` with `fields` written over it (a field set to undefined is removed). */
function applied(entry: ViewEntry | undefined, number: number, fields: Record<string, unknown>): ViewEntry {
  const out: ViewEntry = { ...entry, ...fields, number };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

/** An entry younger than this is never removed: its writer may be between its two writes. */
const GRACE_MS = 10 * 60_000;
/** How often a process checks every entry against its record. */
const TIDY_EVERY_MS = 60 * 60_000;
const LOOKUPS_AT_ONCE = 50;
/**
 * A sweep's look-ups at once. A batch is read while the one before it is used, so a record's copy
 * is at most two batches' use old when a sweep sends from it: 20 keep it well under the second a
 * sweep sends from without reading again (reminder-sweep's FRESH_MS) at Slack's pace of 100 a second
 * (50 did not: half the reminders read their change twice, measured).
 */
const SWEEP_LOOKUPS_AT_ONCE = 20;

/** A record as looked up, and when its read began (epoch ms, wall clock). */
export interface ReadRecord {
  doc: ChangeDoc;
  readAt: number;
}

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
  private tidiedAt = Date.now();
  /**
   * The view of the list the sweeps and App Home's lists query (see currentView), and the writes made
   * while it is being read. Not a RefreshedValue: the view must replace the old one in the same step
   * as the writes made during its read are applied to it, or a write between the two would be lost
   * from it.
   */
  private view: { at: number; entries: Map<number, ViewEntry> } | null = null;
  private viewRead: Promise<Map<number, ViewEntry>> | null = null;
  private writtenDuringRead: Map<number, Record<string, unknown> | null> | null = null;

  constructor(
    private readonly m: Models,
    /** Which list: the changes with work (the default), or the submissions in flight. */
    private readonly kind: TodoKind = WITH_WORK,
    /** What the view's age is counted by (tests set it). */
    private readonly now: () => number = Date.now,
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
    const unset = fields.unannounced === undefined && 'slack' in set ? { unannounced: 1 } : undefined;
    this.seen(changeNumber, unset ? { ...set, unannounced: undefined } : set);
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
    if (!this.view?.entries.has(changeNumber)) this.seen(changeNumber, entryFields(fields));
    await insertOnce(this.list, {
      ...entryFields(fields),
      _id: formatChangeId(changeNumber),
      number: changeNumber,
      at: new Date(),
    });
  }

  /** The records that match `filter` (a query within MAY_HAVE_WORK), by number. */
  async *records(filter: QueryFilter<ChangeDoc>): AsyncIterable<ChangeDoc> {
    const numbers = (await this.matching(filter)).sort((a, b) => a - b);
    for await (const found of this.lookUp(numbers, filter, LOOKUPS_AT_ONCE)) yield found.doc;
  }

  /**
   * `records` for the periodic sweeps, which run each minute, each with its own query, and between
   * them would read the whole list several times a minute (FerretDB reads every entry for each):
   * their queries run over a view of the list, read at most VIEW_MS ago and kept current with this
   * process's own writes. Another process's write shows at the next read of the view (within
   * VIEW_MS), as if the sweep had run that much later. Each record found is read and checked with the
   * query itself, as in `records`.
   */
  async *sweepRecords(filter: QueryFilter<ChangeDoc>, skip?: SkipChange): AsyncIterable<ReadRecord> {
    await this.fillOnce();
    if (Date.now() - this.tidiedAt > TIDY_EVERY_MS) await this.tidy();
    const numbers = inView(await this.currentView('wait'), filter, skip);
    yield* this.lookUp(
      numbers.sort((a, b) => a - b),
      filter,
      SWEEP_LOOKUPS_AT_ONCE,
    );
  }

  /**
   * The view of the list: read again once older than VIEW_MS. A sweep waits for the new read; App
   * Home and `/change list` (`stale`: 'answer') answer from a view younger than VIEW_STALE_MS while
   * the new one is read: on FerretDB a read of the list reads every entry (about 2.5 s for 33,000),
   * which no one opening their Home should wait for.
   */
  private async currentView(stale: 'wait' | 'answer'): Promise<Map<number, ViewEntry>> {
    await this.fillOnce();
    const age = this.view ? this.now() - this.view.at : Number.POSITIVE_INFINITY;
    if (this.view && age < VIEW_MS) return this.view.entries;
    this.viewRead ??= this.readView().finally(() => {
      this.viewRead = null;
    });
    const reading = this.viewRead;
    if (this.view && stale === 'answer' && age < VIEW_STALE_MS) {
      reading.catch(() => undefined); // read in the background: a failure is tried again by the next reader
      return this.view.entries;
    }
    return reading;
  }

  private async readView(): Promise<Map<number, ViewEntry>> {
    const at = this.now();
    this.writtenDuringRead = new Map();
    try {
      const found = await this.list.find({}, VIEW_PROJECTION).lean<ViewEntry[]>();
      const entries = new Map(found.map((e) => [e.number, e]));
      // A write made while the list was read may be missing from what was read: applied again.
      for (const [n, fields] of this.writtenDuringRead) {
        if (fields === null) entries.delete(n);
        else entries.set(n, applied(entries.get(n), n, fields));
      }
      this.view = { at, entries };
      return entries;
    } finally {
      this.writtenDuringRead = null;
    }
  }

  /** A write of this process (null: a removal; a field set to undefined: removed), shown in the view at once. */
  private seen(changeNumber: number, fields: Record<string, unknown> | null): void {
    const mine = fields === null ? null : pick(fields, VIEW_FIELDS, true);
    const view = this.view?.entries;
    if (view) {
      if (mine === null) view.delete(changeNumber);
      else view.set(changeNumber, applied(view.get(changeNumber), changeNumber, mine));
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
    const numbers = inView(await this.currentView('answer'), filter).sort((a, b) => order * (a - b));
    const docs: ChangeDoc[] = [];
    if (limit > 0)
      for await (const { doc } of this.lookUp(numbers, filter, Math.min(LOOKUPS_AT_ONCE, limit + 2))) {
        docs.push(doc);
        if (docs.length === limit) break;
      }
    return { docs, total: numbers.length };
  }

  /** The numbers of the entries that match `filter`, read from the list. */
  private async matching(filter: QueryFilter<ChangeDoc>): Promise<number[]> {
    await this.fillOnce();
    if (Date.now() - this.tidiedAt > TIDY_EVERY_MS) await this.tidy();
    const found = await this.list
      .find(filter as QueryFilter<ChangeTodoDoc>, { number: 1 })
      .lean<{ number: number }[]>();
    return found.map((e) => e.number);
  }

  /**
   * The records of `numbers`, in that order, that match `filter`: looked up `batch` at a time, each
   * with the time its read began.
   */
  private async *lookUp(
    numbers: number[],
    filter: QueryFilter<ChangeDoc>,
    batch: number,
  ): AsyncIterable<ReadRecord> {
    const match = new Query(filter as Record<string, unknown>);
    const load = async (ns: number[]) => {
      const readAt = Date.now();
      return (await Promise.all(ns.map((n) => this.record(n)))).map((doc) => ({ doc, readAt }));
    };
    for await (const found of readAhead(numbers, batch, load))
      if (found.doc && match.test(found.doc as unknown as Record<string, unknown>)) yield found as ReadRecord;
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
