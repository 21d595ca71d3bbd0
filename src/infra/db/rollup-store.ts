import { randomUUID } from 'node:crypto';
import type { RollupMark, RollupStore, StoredRollupDay } from '../../application/ports.js';
import { dayFromStored, dayToStored, type StoredDay } from '../../domain/rollup.js';
import { WriteBatcher } from './batcher.js';
import { insertOnce, onlyDuplicates, retryTransient } from './connection.js';
import type { Models, RollupDayDoc, RollupMarkDoc } from './models.js';

/** The id of a rollup mark: the event it announces (its hash too: a writer that lost has another). */
export const rollupMarkId = (changeNumber: number, seq: number, hash: string) =>
  `${changeNumber}:${seq}:${hash.slice(0, 16)}`;

type NewMark = { changeNumber: number; seq: number; hash: string; at: Date };

const markDoc = (mark: NewMark) => ({ _id: rollupMarkId(mark.changeNumber, mark.seq, mark.hash), ...mark });

async function insertMarks(m: Models, docs: ReturnType<typeof markDoc>[]): Promise<void> {
  try {
    await retryTransient(() => m.RollupMark.insertMany(docs, { ordered: false, lean: true }));
  } catch (err) {
    if (!onlyDuplicates(err)) throw err; // a mark written before (a retry) stands
  }
}

/**
 * Writes the mark of an event about to be recorded (before the event: a crash between the two
 * leaves a mark, never an event the rollups miss). Idempotent.
 */
export async function insertRollupMark(m: Models, mark: NewMark): Promise<void> {
  await insertMarks(m, [markDoc(mark)]);
}

/** How long a mark waits for others to be written with (see rollupMarkWriter). */
const MARK_GATHER_MS = 5;

/**
 * `insertRollupMark` for the events a process records: marks that arrive within MARK_GATHER_MS are
 * written in one insert, so a burst of decisions costs one write of marks, not one each, on the
 * database's single writer (FerretDB). Each call resolves once its mark is written.
 */
export function rollupMarkWriter(m: Models): (mark: NewMark) => Promise<void> {
  const batcher = new WriteBatcher(
    (docs: ReturnType<typeof markDoc>[]) => insertMarks(m, docs),
    MARK_GATHER_MS,
  );
  return (mark) => batcher.add(markDoc(mark));
}

/** A mark this old whose event is missing lost its race or its writer crashed (wall-clock time). */
const STALE_MARK_MS = 2 * 60_000;

/** Marks removed in one delete. */
const DROP_AT_ONCE = 500;

const stateId = (fingerprint: string) => `rollup:${fingerprint}`;

/** The per-day change-log rollups in MongoDB (or FerretDB): small collections, read whole or by id. */
export class MongoRollupStore implements RollupStore {
  /** This process's name on the leases it holds. */
  private readonly holder = randomUUID();

  constructor(private readonly m: Models) {}

  async marks(limit: number): Promise<RollupMark[]> {
    const docs = await retryTransient(() =>
      this.m.RollupMark.find({}).sort({ at: 1 }).limit(limit).lean<RollupMarkDoc[]>(),
    );
    const staleBefore = Date.now() - STALE_MARK_MS;
    return docs.map((d) => ({
      id: d._id,
      changeNumber: d.changeNumber,
      seq: d.seq,
      hash: d.hash,
      stale: d.at.getTime() < staleBefore,
    }));
  }

  async dropMarks(ids: string[]): Promise<void> {
    // A few hundred at a time in one delete: on FerretDB an `$in` reads the marks (a small
    // collection: those not folded yet) and deletes the matches in one write, where a delete by
    // `_id` each would take the database's one writer once per mark.
    for (let i = 0; i < ids.length; i += DROP_AT_ONCE) {
      const _id = { $in: ids.slice(i, i + DROP_AT_ONCE) };
      await retryTransient(() => this.m.RollupMark.deleteMany({ _id }));
    }
  }

  async days(fingerprint: string, days?: string[]): Promise<StoredRollupDay[]> {
    const docs = days
      ? (
          await Promise.all(
            days.map((day) =>
              retryTransient(() => this.m.RollupDay.findById(`${fingerprint}:${day}`).lean<RollupDayDoc>()),
            ),
          )
        ).filter((d): d is RollupDayDoc => d !== null)
      : await retryTransient(() => this.m.RollupDay.find({ fingerprint }).lean<RollupDayDoc[]>());
    return docs.map((d) => ({
      day: d.day,
      part: dayFromStored(d as unknown as StoredDay),
      folded: d.folded ?? [],
      updatedAt: d.updatedAt,
    }));
  }

  async saveDays(fingerprint: string, days: Omit<StoredRollupDay, 'updatedAt'>[], at: Date): Promise<void> {
    for (const d of days) {
      const _id = `${fingerprint}:${d.day}`;
      const doc = { fingerprint, day: d.day, ...dayToStored(d.part), folded: d.folded, updatedAt: at };
      await retryTransient(() => this.m.RollupDay.replaceOne({ _id }, doc, { upsert: true }));
    }
  }

  async removeDaysExcept(fingerprint: string, keep: ReadonlySet<string>): Promise<void> {
    const stored = await retryTransient(() =>
      this.m.RollupDay.find({ fingerprint }, { day: 1 }).lean<{ _id: string; day: string }[]>(),
    );
    for (const d of stored)
      if (!keep.has(d.day)) await retryTransient(() => this.m.RollupDay.deleteOne({ _id: d._id }));
  }

  async state(fingerprint: string): Promise<{ state: 'ready' | 'rebuilding'; at: Date } | null> {
    const d = await retryTransient(() => this.m.Setting.findById(stateId(fingerprint)).lean());
    return d ? { state: d.value === 'ready' ? 'ready' : 'rebuilding', at: d.at } : null;
  }

  async setState(fingerprint: string, state: 'ready' | 'rebuilding', at: Date): Promise<void> {
    await retryTransient(() =>
      this.m.Setting.updateOne(
        { _id: stateId(fingerprint) },
        { $set: { value: state, at } },
        { upsert: true },
      ),
    );
  }

  async lease(key: string, leaseMs: number): Promise<{ remainingMs(): number } | null> {
    // One holder per key and period, by a unique insert (atomic on MongoDB and FerretDB alike); the
    // holder keeps it until the period ends. Wall-clock time: leases are between processes.
    const now = Date.now();
    const period = Math.floor(now / leaseMs);
    const end = (period + 1) * leaseMs;
    const _id = `lease:${key}@${period}`;
    const got = await insertOnce(this.m.IdempotencyKey, {
      _id,
      at: new Date(now),
      expiresAt: new Date(end + leaseMs),
      holder: this.holder,
    });
    const mine =
      got ||
      (await retryTransient(() => this.m.IdempotencyKey.findById(_id).lean<{ holder?: string }>()))
        ?.holder === this.holder;
    return mine ? { remainingMs: () => end - Date.now() } : null;
  }
}
