import type { QueryFilter } from 'mongoose';
import { GENESIS_HASH, hashEvent, type StoredEvent } from '../../domain/audit.js';
import { formatChangeId } from '../../domain/change.js';
import {
  applyEvent,
  type ChangeEvent,
  type ChangeState,
  type EventDraft,
  foldEvents,
  isTerminal,
  stateFromJson,
  stateToJson,
} from '../../domain/lifecycle.js';
import { openToAnyone, participantsOf } from '../../domain/visibility.js';
import { claimKey } from './claims.js';
import { isDuplicateKey, retryTransient } from './connection.js';
import { type ChangeDoc, type ChangeEventDoc, eventId, type Models, type SlackRef } from './models.js';

export type StoredChangeEvent = ChangeEvent & { prevHash: string; hash: string };

export interface LoadedChange {
  state: ChangeState;
  events: StoredChangeEvent[];
  head: { seq: number; hash: string };
  doc: ChangeDoc | null;
}

export type AppendResult =
  | { kind: 'appended'; event: StoredChangeEvent }
  | { kind: 'seq_conflict' }
  | { kind: 'slot_taken'; existing: StoredChangeEvent };

export interface EventMeta {
  actor: string;
  at: Date;
  policyHash: string;
}

function toEvent(d: ChangeEventDoc): StoredChangeEvent {
  return {
    changeNumber: d.changeNumber,
    seq: d.seq,
    slot: d.slot,
    type: d.type,
    actor: d.actor,
    at: d.at,
    policyHash: d.policyHash,
    data: d.data,
    prevHash: d.prevHash,
    hash: d.hash,
  } as StoredChangeEvent;
}

/** The state cached in a change's projection record (null while its submission is being written). */
export function docState(doc: Pick<ChangeDoc, 'stateJson'>): ChangeState | null {
  return doc.stateJson ? stateFromJson(doc.stateJson) : null;
}

/** The projection record of a change: its state plus the fields queries and indexes need. */
export function projectionFields(
  state: ChangeState,
  head: { seq: number; hash: string },
  currentApprovers: string[],
): Partial<ChangeDoc> {
  return {
    number: state.number,
    seq: head.seq,
    headHash: head.hash,
    title: state.request.title,
    type: state.type,
    status: state.status,
    requester: state.requester,
    emergency: state.emergency,
    submittedAt: state.submittedAt,
    approvedAt: state.approvedAt,
    deployedAt: state.deployedAt,
    closedAt: isTerminal(state) ? state.updatedAt : null,
    retroDueAt: state.retro.dueAt,
    retroSubmittedAt: state.retro.submittedAt,
    currentApprovers: state.status === 'pending_approval' ? currentApprovers : [],
    participants: participantsOf(state),
    openToAnyone: openToAnyone(state),
    stageStartedAt: state.stageStartedAt,
    plannedStart: state.request.plannedStart,
    deployedBy: state.deployedBy,
    lastEventAt: state.updatedAt,
    stateJson: stateToJson(state),
  };
}

/**
 * Changes and their append-only, hash-chained event log. Invariants that must hold under concurrent
 * writers (unique numbers, one event per seq, one decision per stage) are enforced by unique indexes
 * on insert, which is atomic on MongoDB and on FerretDB alike.
 */
export class ChangeRepository {
  private lastNumber: number | null = null;

  /**
   * `flavor` picks the query shape: FerretDB pushes only a single-key `_id` equality down to SQLite
   * (anything else is a full scan in Go while the write lock is held), so there the event log is
   * read by `_id` and the projection's sequence guard is a read then an update by `_id`.
   */
  constructor(
    private readonly m: Models,
    private readonly flavor: 'mongodb' | 'ferretdb' = 'mongodb',
  ) {}

  get models(): Models {
    return this.m;
  }

  async loadEvents(changeNumber: number): Promise<StoredChangeEvent[]> {
    if (this.flavor === 'mongodb') {
      const docs = await this.m.ChangeEvent.find({ changeNumber }).sort({ seq: 1 }).lean<ChangeEventDoc[]>();
      return docs.map(toEvent);
    }
    const out: StoredChangeEvent[] = [];
    for (let seq = 1; ; seq++) {
      const doc = await this.m.ChangeEvent.findById(eventId(changeNumber, seq)).lean<ChangeEventDoc>();
      if (!doc) return out;
      out.push(toEvent(doc));
    }
  }

  /** A change's log and state; `knownDoc` is its record when the caller has just read it. */
  async load(changeNumber: number, knownDoc?: ChangeDoc | null): Promise<LoadedChange | null> {
    const [events, doc] = await Promise.all([
      this.loadEvents(changeNumber),
      knownDoc !== undefined ? knownDoc : this.findDoc(changeNumber),
    ]);
    const state = foldEvents(events);
    if (!state) return null;
    const last = events[events.length - 1]!;
    return { state, events, head: { seq: last.seq, hash: last.hash }, doc };
  }

  async findDoc(changeNumber: number): Promise<ChangeDoc | null> {
    return this.m.Change.findById(formatChangeId(changeNumber)).lean<ChangeDoc>();
  }

  /**
   * Claims the next change number by inserting a placeholder record under the unique index on
   * `number`; a clash (another request, another replica) moves on to the next number.
   */
  async claimNumber(init: {
    title: string;
    type: string;
    requester: string;
    at: Date;
    originChannel: string | null;
    emergency: boolean;
  }): Promise<number> {
    if (this.lastNumber === null) {
      const top = await this.m.Change.findOne({}, { number: 1 })
        .sort({ number: -1 })
        .lean<{ number: number }>();
      this.lastNumber = top?.number ?? 0;
    }
    for (let attempt = 0; attempt < 1000; attempt++) {
      const number: number = this.lastNumber + 1;
      try {
        await retryTransient(() =>
          this.m.Change.create({
            _id: formatChangeId(number),
            number,
            seq: 0,
            title: init.title,
            type: init.type,
            status: 'submitting',
            requester: init.requester,
            emergency: init.emergency,
            submittedAt: init.at,
            originChannel: init.originChannel,
          }),
        );
        this.lastNumber = number;
        return number;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        this.lastNumber = number;
      }
    }
    throw new Error('could not claim a change number after 1000 attempts');
  }

  /**
   * Removes a placeholder whose submission could not be completed (best effort). When the
   * `submitted` event did reach the database (its acknowledgement was lost), the placeholder stays
   * and the repair completes the change instead: an event never loses its change record.
   */
  async releaseNumber(changeNumber: number): Promise<void> {
    if (await this.m.ChangeEvent.exists({ _id: eventId(changeNumber, 1) })) return;
    await this.m.Change.deleteOne({ _id: formatChangeId(changeNumber), seq: 0 });
  }

  async append(
    changeNumber: number,
    head: { seq: number; hash: string } | null,
    draft: EventDraft,
    meta: EventMeta,
  ): Promise<AppendResult> {
    const seq = (head?.seq ?? 0) + 1;
    const prevHash = head?.hash ?? GENESIS_HASH;
    const base = {
      changeNumber,
      seq,
      slot: draft.slot ?? `e:${seq}`,
      type: draft.type,
      actor: meta.actor,
      at: meta.at,
      policyHash: meta.policyHash,
      data: draft.data,
    };
    const hash = hashEvent(prevHash, base);
    const event = { ...base, prevHash, hash } as StoredChangeEvent;
    try {
      await retryTransient(() => this.m.ChangeEvent.create({ _id: eventId(changeNumber, seq), ...event }));
      return { kind: 'appended', event };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      if (draft.slot) {
        const existing = await this.m.ChangeEvent.findOne({
          changeNumber,
          slot: draft.slot,
        }).lean<ChangeEventDoc>();
        if (existing) return { kind: 'slot_taken', existing: toEvent(existing) };
      }
      return { kind: 'seq_conflict' };
    }
  }

  /**
   * Writes the projection of a change. A writer never replaces a newer projection (seq guard); on
   * FerretDB that guard is not atomic, so decisions always re-read the event log, never this record.
   */
  async saveProjection(
    state: ChangeState,
    head: { seq: number; hash: string },
    currentApprovers: string[],
  ): Promise<void> {
    const set = projectionFields(state, head, currentApprovers);
    const _id = formatChangeId(state.number);
    await retryTransient(async () => {
      if (this.flavor === 'mongodb') {
        await this.m.Change.updateOne({ _id, seq: { $lt: head.seq } }, { $set: set });
        return;
      }
      const current = await this.m.Change.findById(_id, { seq: 1 }).lean<{ seq: number }>();
      if (current && current.seq < head.seq) await this.m.Change.updateOne({ _id }, { $set: set });
    });
  }

  /** Re-derives the projection from the log (repair after a crash between the event and the projection). */
  async refreshProjection(
    changeNumber: number,
    currentApprovers: (s: ChangeState) => string[],
  ): Promise<LoadedChange | null> {
    const loaded = await this.load(changeNumber);
    if (!loaded) return null;
    await this.saveProjection(loaded.state, loaded.head, currentApprovers(loaded.state));
    return { ...loaded, doc: await this.findDoc(changeNumber) };
  }

  async setSlackRef(changeNumber: number, ref: SlackRef): Promise<void> {
    await retryTransient(() =>
      this.m.Change.updateOne({ _id: formatChangeId(changeNumber) }, { $set: { slack: ref } }),
    );
  }

  async findDocs(
    filter: QueryFilter<ChangeDoc>,
    opts: { limit: number; sort?: Record<string, 1 | -1> },
  ): Promise<ChangeDoc[]> {
    return this.m.Change.find({ ...filter, seq: { $gt: 0 } })
      .sort(opts.sort ?? { number: -1 })
      .limit(opts.limit)
      .lean<ChangeDoc[]>();
  }

  async countDocs(filter: QueryFilter<ChangeDoc>): Promise<number> {
    return this.m.Change.countDocuments({ ...filter, seq: { $gt: 0 } });
  }

  /** Streams projections matching `filter` in batches (the caller never holds them all at once). */
  cursor(
    filter: QueryFilter<ChangeDoc>,
    opts: { batchSize?: number; exclude?: string[]; sort?: Record<string, 1 | -1> } = {},
  ) {
    const projection = opts.exclude?.length ? Object.fromEntries(opts.exclude.map((f) => [f, 0])) : undefined;
    return this.m.Change.find({ ...filter, seq: { $gt: 0 } }, projection)
      .sort(opts.sort ?? { number: 1 })
      .lean<ChangeDoc[]>()
      .cursor({ batchSize: opts.batchSize ?? 500 });
  }

  /** Streams every event ordered by change and sequence (for verifying all chains in one pass). */
  eventCursor(batchSize = 1000) {
    return this.m.ChangeEvent.find({})
      .sort({ changeNumber: 1, seq: 1 })
      .lean<ChangeEventDoc[]>()
      .cursor({ batchSize });
  }

  /**
   * Recorded changes that were never posted to Slack, created before `before`: the process stopped
   * between acknowledging the submission and announcing it, or Slack could not be reached.
   */
  async unannounced(before: Date): Promise<ChangeDoc[]> {
    return this.m.Change.find({ seq: { $gt: 0 }, slack: null, createdAt: { $lt: before } })
      .limit(100)
      .lean<ChangeDoc[]>();
  }

  /**
   * Claims the late announcement of a change for `leaseMs`, so that of the runs and replicas
   * repairing at the same time exactly one posts it. An insert on a unique _id is the claim (atomic
   * on MongoDB and FerretDB alike); a claim whose holder died is taken over once its lease ran out.
   */
  async claimAnnouncement(changeNumber: number, leaseMs = 5 * 60_000): Promise<boolean> {
    return this.claimKey(`announce:${changeNumber}`, leaseMs);
  }

  /** Claims `key` for `ttlMs` (see claims.ts): true for the one caller that claimed it. */
  claimKey(key: string, ttlMs: number): Promise<boolean> {
    return claimKey(this.m, key, ttlMs);
  }

  /** Placeholders older than `before` whose submission never completed (seq 0). */
  async staleSubmissions(before: Date): Promise<ChangeDoc[]> {
    return this.m.Change.find({ seq: 0, createdAt: { $lt: before } })
      .limit(100)
      .lean<ChangeDoc[]>();
  }

  apply(state: ChangeState | null, e: ChangeEvent): ChangeState {
    return applyEvent(state, e);
  }
}

export type { StoredEvent };
