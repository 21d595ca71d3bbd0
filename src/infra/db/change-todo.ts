import { Query } from 'mingo';
import type { QueryFilter } from 'mongoose';
import { formatChangeId } from '../../domain/change.js';
import { OPEN_STATUSES } from '../../domain/lifecycle.js';
import { isDuplicateKey, retryTransient } from './connection.js';
import type { ChangeDoc, Models } from './models.js';

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

/** An entry younger than this is never removed: its writer may be between its two additions. */
const GRACE_MS = 10 * 60_000;
const LOOKUPS_AT_ONCE = 50;
const MIGRATION = 'migration:change_todo';

/**
 * The to-do list of changes that may still have work, for FerretDB: it narrows a query only by an
 * `_id` equality, so a sweep over `changes` by status reads every change ever recorded. The sweeps
 * read this small list instead, look each record up by `_id`, and match it in memory with the same
 * filter MongoDB runs through its indexes (mingo evaluates MongoDB's query language).
 *
 * The list is a superset, kept so without conditional writes (FerretDB's are not atomic):
 * - a writer adds the change before writing a record that has work, and again after (a crash
 *   between leaves the entry; a sweep removing it meanwhile is undone by the second addition);
 * - a sweep removes an entry only when its record has no work and the entry is older than
 *   GRACE_MS, then reads the record again and puts the entry back if the record moved or has work.
 * An installation that ran before the list existed gets it filled once, by one scan.
 */
export class ChangeTodoList {
  private readonly hasWork = new Query(MAY_HAVE_WORK as Record<string, unknown>);
  private filled = false;

  constructor(private readonly m: Models) {}

  /** Whether a record (or the fields about to be written) may have work. */
  mayHaveWork(doc: Partial<ChangeDoc>): boolean {
    return this.hasWork.test(doc as Record<string, unknown>);
  }

  async add(changeNumber: number): Promise<void> {
    try {
      await retryTransient(() => this.m.ChangeTodo.create({ _id: changeNumber, at: new Date() }));
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /** The records on the list that match `filter`, by number; entries with no work left are removed. */
  async *records(filter: QueryFilter<ChangeDoc>): AsyncIterable<ChangeDoc> {
    await this.fillOnce();
    const match = new Query(filter as Record<string, unknown>);
    const entries = (await this.m.ChangeTodo.find({}).lean<{ _id: number; at: Date }[]>()).sort(
      (a, b) => a._id - b._id,
    );
    const old = Date.now() - GRACE_MS;
    for (let i = 0; i < entries.length; i += LOOKUPS_AT_ONCE) {
      const batch = entries.slice(i, i + LOOKUPS_AT_ONCE);
      const docs = await Promise.all(batch.map((e) => this.record(e._id)));
      for (const [k, e] of batch.entries()) {
        const doc = docs[k];
        if (!doc || !this.mayHaveWork(doc)) {
          if (e.at.getTime() < old) await this.remove(e._id, doc?.seq ?? null);
          continue;
        }
        if (match.test(doc as unknown as Record<string, unknown>)) yield doc;
      }
    }
  }

  private record(changeNumber: number): Promise<ChangeDoc | null> {
    return this.m.Change.findById(formatChangeId(changeNumber)).lean<ChangeDoc>();
  }

  private async remove(changeNumber: number, seenSeq: number | null): Promise<void> {
    await retryTransient(() => this.m.ChangeTodo.deleteOne({ _id: changeNumber }));
    const again = await this.record(changeNumber);
    if (again && (again.seq !== seenSeq || this.mayHaveWork(again))) await this.add(changeNumber);
  }

  /**
   * Adds every change with work (one scan): an installation from before the list, or records written
   * around it. Returns how many changes have work.
   */
  async fill(): Promise<number> {
    let found = 0;
    const cursor = this.m.Change.find(MAY_HAVE_WORK, { number: 1 })
      .lean<{ number: number }[]>()
      .cursor({ batchSize: 2000 });
    let batch: number[] = [];
    const flush = async () => {
      const docs = batch.map((n) => ({ _id: n, at: new Date() }));
      batch = [];
      found += docs.length;
      try {
        await retryTransient(() => this.m.ChangeTodo.insertMany(docs, { ordered: false, lean: true }));
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    };
    for await (const d of cursor as AsyncIterable<{ number: number }>) {
      batch.push(d.number);
      if (batch.length === 1000) await flush();
    }
    if (batch.length > 0) await flush();
    return found;
  }

  private async fillOnce(): Promise<void> {
    if (this.filled) return;
    if (!(await retryTransient(() => this.m.Setting.findById(MIGRATION).lean()))) {
      await this.fill();
      await retryTransient(() =>
        this.m.Setting.updateOne(
          { _id: MIGRATION },
          { $setOnInsert: { value: 'done', at: new Date() } },
          { upsert: true },
        ),
      );
    }
    this.filled = true;
  }
}
