import type { QueryFilter } from 'mongoose';
import type {
  AnnouncementClaim,
  AppendResult,
  AuditSigner,
  CandidateSet,
  ChangeRecord,
  ChangeSearch,
  ChangeStore,
  EventMeta,
  LedgerStore,
  LoadedChange,
  NumberClaim,
  Page,
  SkipChange,
  SlackRef,
} from '../../application/ports.js';
import { type EventSeal, eventSealBytes, GENESIS_HASH, hashEvent } from '../../domain/audit.js';
import { formatChangeId } from '../../domain/change.js';
import type { StoredProjection } from '../../domain/ledger-verify.js';
import {
  type ChangeState,
  type EventDraft,
  foldEvents,
  OPEN_STATUSES,
  type StoredChangeEvent,
  stateFromJson,
  stateToJson,
} from '../../domain/lifecycle.js';
import type { Period } from '../../domain/period.js';
import { type ProjectionSummary, projectionSummary } from '../../domain/projection.js';
import type { VisibilityScope } from '../../domain/visibility.js';
import { ChangeTodoList, IN_FLIGHT_LIST, RETRO_OWED, WORK_FIELDS } from './change-todo.js';
import { claimKey, claimOrTakeOver } from './claims.js';
import { isDuplicateKey, retryTransient } from './connection.js';
import { migrationDone, recordMigration } from './migrations.js';
import { type ChangeDoc, type ChangeEventDoc, eventId, type Models } from './models.js';
import { RecentEvents } from './recent-events.js';
import { rollupMarkWriter } from './rollup-store.js';

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
    ...(d.seal ? { seal: { keyId: d.seal.keyId, sig: d.seal.sig } } : {}),
  } as StoredChangeEvent;
}

/** A stored record as audit verification reads it: state, head and the fields queries use. */
function toStoredProjection(doc: ChangeDoc): StoredProjection {
  const state = doc.stateJson ? stateFromJson(doc.stateJson) : null;
  return {
    number: doc.number,
    head: { seq: doc.seq, hash: doc.headHash },
    state,
    summary: state
      ? ({
          title: doc.title,
          type: doc.type,
          status: doc.status,
          requester: doc.requester,
          emergency: doc.emergency,
          submittedAt: doc.submittedAt,
          approvedAt: doc.approvedAt ?? null,
          deployedAt: doc.deployedAt ?? null,
          closedAt: doc.closedAt ?? null,
          retroDueAt: doc.retroDueAt ?? null,
          retroSubmittedAt: doc.retroSubmittedAt ?? null,
          participants: doc.participants ?? [],
          openToAnyone: doc.openToAnyone ?? false,
          stageStartedAt: doc.stageStartedAt ?? null,
          plannedStart: doc.plannedStart ?? null,
          deployedBy: doc.deployedBy ?? null,
          lastEventAt: doc.lastEventAt,
          retroReview: doc.retroReview ?? null,
          pirDueAt: doc.pirDueAt ?? null,
        } satisfies ProjectionSummary)
      : null,
    released: doc.status === 'released',
  };
}

/** A change's stored record as the application sees it (a domain value, not a database document). */
export function toRecord(doc: ChangeDoc): ChangeRecord {
  return {
    number: doc.number,
    state: doc.stateJson ? stateFromJson(doc.stateJson) : null,
    head: { seq: doc.seq, hash: doc.headHash },
    slack: doc.slack ?? null,
    originChannel: doc.originChannel ?? null,
  };
}

/** The projection record of a change: its state plus the fields queries and indexes need. */
export function projectionFields(
  state: ChangeState,
  head: { seq: number; hash: string },
  waitingOn: string[],
): Partial<ChangeDoc> {
  return {
    number: state.number,
    seq: head.seq,
    headHash: head.hash,
    ...projectionSummary(state),
    status: state.status,
    // Whom the change waits on: approvers while pending, the reviewers while its retrospective's
    // review is theirs (App Home lists both as waiting for them).
    currentApprovers:
      state.status === 'pending_approval' || state.retroReview.status === 'pending' ? waitingOn : [],
    stateJson: stateToJson(state),
  };
}

/** The visibility rule (domain/visibility.ts) as a query on change records. */
export function visibilityFilter(scope: VisibilityScope): QueryFilter<ChangeDoc> {
  switch (scope.kind) {
    case 'all':
      return {};
    case 'own':
      return { requester: scope.userId };
    case 'involved':
      return {
        $or: [
          { requester: scope.userId }, // records written before participants were kept
          { participants: scope.userId },
          { currentApprovers: scope.userId },
          { openToAnyone: true },
          ...(scope.emergencies ? [{ emergency: true }] : []),
        ],
      };
  }
}

/** Both filters hold (each may use $or). */
const both = (a: QueryFilter<ChangeDoc>, b: QueryFilter<ChangeDoc>): QueryFilter<ChangeDoc> =>
  Object.keys(b).length === 0 ? a : Object.keys(a).length === 0 ? b : { $and: [a, b] };

/** `filter`, among changes recorded (an event written: seq above 0, not a number merely claimed). */
export const recorded = (filter: QueryFilter<ChangeDoc>): QueryFilter<ChangeDoc> =>
  both(filter, { seq: { $gt: 0 } });

const EVERY_SET: Record<CandidateSet, true> = {
  pending_approval: true,
  deployed: true,
  planned_window: true,
  retro_open: true,
  retro_review: true,
  pir_due: true,
  retro_overdue: true,
  digest: true,
};
/** Every sweep's set of candidates (the benchmark prints each one's plan on MongoDB). */
export const CANDIDATE_SETS = Object.keys(EVERY_SET) as CandidateSet[];

/** What each sweep looks for, as a query (run by MongoDB through its indexes, on FerretDB in memory). */
export function candidateFilter(set: CandidateSet, now: Date): QueryFilter<ChangeDoc> {
  switch (set) {
    case 'pending_approval':
      return { status: 'pending_approval' };
    case 'deployed':
      return { status: 'deployed' };
    case 'planned_window':
      return { status: { $in: ['pending_approval', 'approved'] }, plannedStart: { $ne: null } };
    case 'retro_open':
      return RETRO_OWED;
    case 'retro_review':
      return { retroReview: { $in: ['pending', 'questions'] } };
    case 'pir_due':
      return { pirDueAt: { $ne: null, $lte: now } };
    case 'retro_overdue':
      return { emergency: true, retroSubmittedAt: null, retroDueAt: { $lt: now } };
    case 'digest':
      return { $or: [{ status: { $in: [...OPEN_STATUSES] } }, RETRO_OWED] };
  }
}

/** How many changes' logs `eventsThrough` keeps (a burst's worth: the rollups fold within seconds). */
const RECENT_LOGS = 2_000;

export interface ChangeStoreOptions {
  /**
   * How long a claim to announce a change lasts (default 5 minutes): another replica's repair takes
   * the announcement over once it ran out. Longer than a post may wait behind Slack's pacing.
   */
  announceLeaseMs?: number;
}

/**
 * Changes and their append-only, hash-chained event log, in MongoDB (or FerretDB). Invariants that
 * must hold under concurrent writers (unique numbers, one event per seq, one decision per stage) are
 * enforced by unique indexes on insert, which is atomic on MongoDB and on FerretDB alike.
 */
export class ChangeRepository implements ChangeStore {
  private lastNumber: number | null = null;
  /** FerretDB: the changes that may still have work, which the sweeps read (change-todo.ts). */
  private readonly todo: ChangeTodoList | null;
  /** FerretDB: the submissions in flight, which the repair reads (change-todo.ts). */
  private readonly inflight: ChangeTodoList | null;
  /** The start of the logs read or recorded lately (eventsThrough). */
  private readonly recent = new RecentEvents(RECENT_LOGS);
  /** Rollup marks, written together when decisions arrive together. */
  private readonly writeMark: ReturnType<typeof rollupMarkWriter>;

  /**
   * `flavor` picks the query shape: FerretDB pushes only a single-key `_id` equality down to SQLite
   * (anything else is a full scan in Go while the write lock is held), so there the event log is
   * read by `_id` and the projection's sequence guard is a read then an update by `_id`.
   */
  constructor(
    private readonly m: Models,
    private readonly flavor: 'mongodb' | 'ferretdb' = 'mongodb',
    /** The audit key seals each event and the ledger gets its entry (absent: this process cannot write events). */
    private readonly audit: { signer: AuditSigner; ledger: LedgerStore } | null = null,
    private readonly options: ChangeStoreOptions = {},
  ) {
    this.todo = flavor === 'ferretdb' ? new ChangeTodoList(m) : null;
    this.inflight = flavor === 'ferretdb' ? new ChangeTodoList(m, IN_FLIGHT_LIST) : null;
    this.writeMark = rollupMarkWriter(m);
  }

  /**
   * The change's events after seq `after` (up to `through`), in order, as recorded. On FerretDB
   * each is looked up by `_id`: up to `expected` (the record's head: a hint, not a bound) together,
   * then one by one until the first missing, so the result is the same with any hint.
   */
  private async readEvents(
    changeNumber: number,
    after: number,
    through = Infinity,
    expected = 0,
  ): Promise<StoredChangeEvent[]> {
    if (this.flavor === 'mongodb') {
      const seq = Number.isFinite(through) ? { $gt: after, $lte: through } : { $gt: after };
      const docs = await this.m.ChangeEvent.find({ changeNumber, seq })
        .sort({ seq: 1 })
        .lean<ChangeEventDoc[]>();
      return docs.map(toEvent);
    }
    const byId = (seq: number) =>
      this.m.ChangeEvent.findById(eventId(changeNumber, seq)).lean<ChangeEventDoc>();
    const out: StoredChangeEvent[] = [];
    // How many is known (or expected, and the one after): looked up together, kept up to the first missing.
    const together = Number.isFinite(through) ? through - after : expected + 1 - after;
    const docs = await Promise.all(
      Array.from({ length: Math.max(0, together) }, (_, i) => byId(after + 1 + i)),
    );
    for (const doc of docs) {
      if (!doc) return out;
      out.push(toEvent(doc));
    }
    if (Number.isFinite(through)) return out;
    for (let seq = after + 1 + out.length; ; seq++) {
      const doc = await byId(seq);
      if (!doc) return out;
      out.push(toEvent(doc));
    }
  }

  /** The change's log from its first event (up to `through`), remembered in `recent`. */
  private async loadEvents(
    changeNumber: number,
    through?: number,
    expected?: number,
  ): Promise<StoredChangeEvent[]> {
    const events = await this.readEvents(changeNumber, 0, through, expected);
    this.recent.read(changeNumber, events);
    return events;
  }

  async eventsThrough(changeNumber: number, seq: number): Promise<StoredChangeEvent[]> {
    const known = this.recent.known(changeNumber);
    if (known.length >= seq) return known.slice(0, seq);
    const events = [...known, ...(await this.readEvents(changeNumber, known.length, seq))];
    this.recent.read(changeNumber, events);
    return events;
  }

  async load(
    changeNumber: number,
    known?: ChangeRecord | null,
    opts: { asRecorded?: boolean } = {},
  ): Promise<LoadedChange | null> {
    const [events, record] = await Promise.all([
      this.loadEvents(changeNumber, opts.asRecorded && known ? known.head.seq : undefined, known?.head.seq),
      known !== undefined ? known : this.record(changeNumber),
    ]);
    const state = foldEvents(events);
    if (!state) return null;
    const last = events[events.length - 1]!;
    return { state, events, head: { seq: last.seq, hash: last.hash }, record };
  }

  private findDoc(changeNumber: number): Promise<ChangeDoc | null> {
    return this.m.Change.findById(formatChangeId(changeNumber)).lean<ChangeDoc>();
  }

  async record(changeNumber: number): Promise<ChangeRecord | null> {
    const doc = await this.findDoc(changeNumber);
    return doc ? toRecord(doc) : null;
  }

  /**
   * Claims the next change number by inserting a placeholder record under the unique index on
   * `number`; a clash (another request, another replica) moves on to the next number.
   */
  async claimNumber(init: NumberClaim): Promise<number> {
    if (this.lastNumber === null) {
      const top = await this.m.Change.findOne({}, { number: 1 })
        .sort({ number: -1 })
        .lean<{ number: number }>();
      this.lastNumber = top?.number ?? 0;
    }
    for (let attempt = 0; attempt < 1000; attempt++) {
      const number: number = this.lastNumber + 1;
      // On FerretDB its to-do entry is added before (unless the number has one: another request
      // may own it) and written once the number is ours (change-todo.ts).
      const todo = {
        number,
        seq: 0,
        status: 'submitting' as const,
        emergency: init.emergency,
        unannounced: true,
        createdAt: new Date(),
      };
      try {
        await this.todo?.add(number, todo);
        await this.inflight?.add(number, todo);
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
            unannounced: true,
          }),
        );
        await this.todo?.write(number, { ...todo, createdAt: new Date() });
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
    // Kept, marked released: a number that disappears is how a deleted change shows.
    await this.m.Change.updateOne(
      { _id: formatChangeId(changeNumber), seq: 0 },
      { $set: { status: 'released' } },
    );
    const record = await this.m.Change.findById(formatChangeId(changeNumber)).lean<ChangeDoc>();
    if (record) {
      await this.todo?.write(changeNumber, record);
      await this.inflight?.write(changeNumber, record);
    }
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
    if (!this.audit) throw new Error('no audit key: this process cannot record events');
    const hash = hashEvent(prevHash, base);
    const seal: EventSeal = {
      keyId: this.audit.signer.keyId,
      sig: this.audit.signer.sign(eventSealBytes({ changeNumber, seq, hash })),
    };
    const event = { ...base, prevHash, hash, seal } as StoredChangeEvent;
    // The change log's rollups learn of the event from its mark, written first: a crash between the
    // two leaves a mark without an event (dropped later), never an event the rollups miss.
    await this.writeMark({ changeNumber, seq, hash, at: new Date() });
    try {
      await retryTransient(() => this.m.ChangeEvent.create({ _id: eventId(changeNumber, seq), ...event }));
      this.recent.recorded(event);
      // In the background, batched with the other writes of the moment: the event is sealed, so
      // an entry lost to a crash is written by the catch-up; a failed write is retried.
      void this.audit.ledger.ledger([event]);
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
    waitingOn: string[],
  ): Promise<void> {
    const set = projectionFields(state, head, waitingOn);
    const _id = formatChangeId(state.number);
    const todo = this.todo; // FerretDB's
    if (!todo) {
      await retryTransient(() => this.m.Change.updateOne({ _id, seq: { $lt: head.seq } }, { $set: set }));
      return;
    }
    // On FerretDB the to-do entry is added before the record is written (unless it has one: until
    // the record is written, the entry must keep matching what the record says, as the repair
    // finds an interrupted submission by it) and written after (change-todo.ts). A record with work
    // has its entry (added before that record was written), so only a record without work, or
    // none, needs the addition.
    const current = await retryTransient(() =>
      this.m.Change.findById(_id, WORK_FIELDS).lean<Partial<ChangeDoc> & { seq: number }>(),
    );
    if (!current || !todo.mayHaveWork(current)) await todo.add(state.number, set);
    if (current && current.seq < head.seq)
      await retryTransient(() => this.m.Change.updateOne({ _id }, { $set: set }));
    await todo.write(state.number, set);
    // The submission's own projection moves it on in the in-flight list (nothing later does).
    if (head.seq === 1) await this.inflight?.write(state.number, set);
  }

  async refreshProjection(
    changeNumber: number,
    waitingOn: (s: ChangeState) => string[],
  ): Promise<LoadedChange | null> {
    const loaded = await this.load(changeNumber);
    if (!loaded) return null;
    await this.saveProjection(loaded.state, loaded.head, waitingOn(loaded.state));
    return { ...loaded, record: await this.record(changeNumber) };
  }

  async setSlackRef(changeNumber: number, ref: SlackRef): Promise<void> {
    await retryTransient(() =>
      this.m.Change.updateOne(
        { _id: formatChangeId(changeNumber) },
        { $set: { slack: ref }, $unset: { unannounced: 1 } },
      ),
    );
    await this.todo?.write(changeNumber, { slack: ref });
    await this.inflight?.write(changeNumber, { slack: ref });
  }

  /** Claims `key` for `ttlMs` (see claims.ts): true for the one caller that claimed it. */
  claimKey(key: string, ttlMs: number): Promise<boolean> {
    return claimKey(this.m, key, ttlMs);
  }

  /**
   * Claims the announcement of a change for the announcement lease, so that of the submission and
   * the repair runs of every replica exactly one posts it; a claim whose holder died (or has not
   * posted within the lease) is taken over.
   */
  claimAnnouncement(changeNumber: number): Promise<AnnouncementClaim | null> {
    return claimOrTakeOver(this.m, `announce:${changeNumber}`, this.options.announceLeaseMs ?? 5 * 60_000);
  }

  // ---- named queries ------------------------------------------------------------------------

  private async page(
    filter: QueryFilter<ChangeDoc>,
    limit: number,
    sort: Record<string, 1 | -1> = { number: -1 },
  ): Promise<Page<ChangeRecord>> {
    const [items, total] = await Promise.all([this.find(filter, limit, sort), this.count(filter)]);
    return { items, total };
  }

  private async find(
    filter: QueryFilter<ChangeDoc>,
    limit: number,
    sort: Record<string, 1 | -1> = { number: -1 },
  ): Promise<ChangeRecord[]> {
    const docs = await this.m.Change.find(recorded(filter)).sort(sort).limit(limit).lean<ChangeDoc[]>();
    return docs.map(toRecord).filter((r) => r.state !== null);
  }

  private count(filter: QueryFilter<ChangeDoc>): Promise<number> {
    return this.m.Change.countDocuments(recorded(filter));
  }

  /**
   * `page` for a query within MAY_HAVE_WORK (changes with work): on FerretDB read from the to-do
   * list, which narrows to the few matches instead of reading every change (sorted by number).
   */
  private async openPage(
    filter: QueryFilter<ChangeDoc>,
    limit: number,
    order: 1 | -1 = -1,
  ): Promise<Page<ChangeRecord>> {
    if (!this.todo) return this.page(filter, limit, { number: order });
    const { docs, total } = await this.todo.page(recorded(filter), limit, order);
    return { items: docs.map(toRecord).filter((r) => r.state !== null), total };
  }

  /** `find` for a query within MAY_HAVE_WORK (see openPage). */
  private async openFind(
    filter: QueryFilter<ChangeDoc>,
    limit: number,
    order: 1 | -1,
  ): Promise<ChangeRecord[]> {
    if (!this.todo) return this.find(filter, limit, { number: order });
    return (await this.openPage(filter, limit, order)).items;
  }

  /** Streams records matching `filter` in batches (the caller never holds them all at once). */
  private async *stream(
    filter: QueryFilter<ChangeDoc>,
    opts: {
      batchSize?: number;
      sort?: Record<string, 1 | -1>;
      skip?: SkipChange;
    } = {},
  ): AsyncIterable<ChangeRecord> {
    const cursor = this.m.Change.find(recorded(filter))
      .sort(opts.sort ?? { number: 1 })
      .lean<ChangeDoc[]>()
      .cursor({ batchSize: opts.batchSize ?? 500 });
    for await (const doc of cursor as AsyncIterable<ChangeDoc>) {
      if (opts.skip?.(doc.number, doc.seq)) continue;
      const record = toRecord(doc);
      if (record.state) yield record;
    }
  }

  // App Home's lists and `/change list`: changes with work (within MAY_HAVE_WORK, tested in
  // test/integration/change-todo.test.ts) but a requester's whole history.

  pendingFor(userId: string, limit: number, scope: VisibilityScope = { kind: 'all' }) {
    return this.openPage(
      both(
        { $or: [{ status: 'pending_approval' }, { retroReview: 'pending' }], currentApprovers: userId },
        visibilityFilter(scope),
      ),
      limit,
      1,
    );
  }

  raisedBy(userId: string, limit: number, openOnly: boolean) {
    return openOnly
      ? this.openPage(
          { requester: userId, $or: [{ status: { $in: [...OPEN_STATUSES] } }, RETRO_OWED] },
          limit,
        )
      : this.page({ requester: userId }, limit);
  }

  open(scope: VisibilityScope, limit: number) {
    return this.openPage(both({ status: { $in: [...OPEN_STATUSES] } }, visibilityFilter(scope)), limit);
  }

  reviewsOwedBy(userId: string, now: Date, limit: number) {
    return this.openFind(
      { requester: userId, $or: [{ pirDueAt: { $lte: now } }, { retroReview: 'questions' }] },
      limit,
      1,
    );
  }

  overdue(scope: VisibilityScope, now: Date, staleDeployBefore: Date, limit: number) {
    return this.openFind(
      both(
        {
          $or: [
            { emergency: true, retroDueAt: { $lt: now }, retroSubmittedAt: null },
            { status: 'deployed', deployedAt: { $lt: staleDeployBefore } },
          ],
        },
        visibilityFilter(scope),
      ),
      limit,
      1,
    );
  }

  async search(q: ChangeSearch) {
    const filter: QueryFilter<ChangeDoc> = {};
    if (q.status) filter.status = q.status;
    if (q.type) filter.type = q.type;
    if (q.requester) filter.requester = q.requester;
    if (q.since) filter.submittedAt = { $gte: q.since };
    if (q.before) filter.number = { $lt: q.before };
    const found = await this.find(filter, q.limit + 1);
    const items = found.slice(0, q.limit);
    return { items, nextBefore: found.length > q.limit ? (items.at(-1)?.number ?? null) : null };
  }

  candidates(set: CandidateSet, now: Date, opts: { skip?: SkipChange } = {}): AsyncIterable<ChangeRecord> {
    return this.todo
      ? this.fromTodo(candidateFilter(set, now), opts.skip)
      : this.stream(candidateFilter(set, now), { skip: opts.skip });
  }

  /** FerretDB: the records on the to-do list that match, by number (as `stream` gives them). */
  private async *fromTodo(filter: QueryFilter<ChangeDoc>, skip?: SkipChange): AsyncIterable<ChangeRecord> {
    for await (const { doc, readAt } of this.todo!.sweepRecords(recorded(filter), skip)) {
      const record = toRecord(doc);
      if (record.state) yield { ...record, readAt };
    }
  }

  /** Up to `limit` numbers of records matching `filter` (within IN_FLIGHT): on FerretDB from its list. */
  private async numbers(filter: QueryFilter<ChangeDoc>, limit: number): Promise<number[]> {
    if (!this.inflight) {
      const docs = await this.m.Change.find(filter, { number: 1 }).limit(limit).lean<{ number: number }[]>();
      return docs.map((d) => d.number);
    }
    const out: number[] = [];
    for await (const doc of this.inflight.records(filter)) {
      out.push(doc.number);
      if (out.length === limit) break;
    }
    return out;
  }

  inPeriod(period: Period, scope: VisibilityScope): AsyncIterable<ChangeRecord> {
    return this.stream(
      both({ submittedAt: { $lt: period.to }, lastEventAt: { $gte: period.from } }, visibilityFilter(scope)),
      { batchSize: 1000 },
    );
  }

  async *heads(): AsyncIterable<{ number: number; seq: number; hash: string }> {
    const cursor = this.m.Change.find({ seq: { $gt: 0 } }, { number: 1, seq: 1, headHash: 1 })
      .sort({ number: 1 })
      .lean<Pick<ChangeDoc, 'number' | 'seq' | 'headHash'>[]>()
      .cursor({ batchSize: 2000 });
    for await (const d of cursor as AsyncIterable<Pick<ChangeDoc, 'number' | 'seq' | 'headHash'>>)
      yield { number: d.number, seq: d.seq, hash: d.headHash };
  }

  async *allEvents(): AsyncIterable<StoredChangeEvent> {
    const cursor = this.m.ChangeEvent.find({})
      .sort({ changeNumber: 1, seq: 1 })
      .lean<ChangeEventDoc[]>()
      .cursor({ batchSize: 1000 });
    for await (const d of cursor as AsyncIterable<ChangeEventDoc>) yield toEvent(d);
  }

  async *eventsSince(since: Date): AsyncIterable<StoredChangeEvent> {
    // Unsorted: an index range scan on MongoDB (by_time), a streamed scan on FerretDB (no sort to hold).
    const cursor = this.m.ChangeEvent.find({ at: { $gte: since } })
      .lean<ChangeEventDoc[]>()
      .cursor({ batchSize: 1000 });
    for await (const d of cursor as AsyncIterable<ChangeEventDoc>) yield toEvent(d);
  }

  async *projections(): AsyncIterable<StoredProjection> {
    const cursor = this.m.Change.find({}).sort({ number: 1 }).lean<ChangeDoc[]>().cursor({ batchSize: 1000 });
    for await (const doc of cursor as AsyncIterable<ChangeDoc>) yield toStoredProjection(doc);
  }

  async sealLegacyEvent(changeNumber: number, seq: number, seal: EventSeal): Promise<boolean> {
    const res = await retryTransient(() =>
      this.m.ChangeEvent.updateOne({ _id: eventId(changeNumber, seq), seal: null }, { $set: { seal } }),
    );
    return res.modifiedCount > 0;
  }

  async markReleasedBefore(upTo: number): Promise<number> {
    let expected = 1;
    const missing: number[] = [];
    const cursor = this.m.Change.find({ number: { $lte: upTo } }, { number: 1 })
      .sort({ number: 1 })
      .lean<{ number: number }[]>()
      .cursor({ batchSize: 5000 });
    for await (const d of cursor as AsyncIterable<{ number: number }>) {
      for (; expected < d.number; expected++) missing.push(expected);
      expected = d.number + 1;
    }
    for (; expected <= upTo; expected++) missing.push(expected);
    const at = new Date(0);
    for (let i = 0; i < missing.length; i += 1000) {
      const docs = missing.slice(i, i + 1000).map((number) => ({
        _id: formatChangeId(number),
        number,
        seq: 0,
        title: '(released before the audit ledger)',
        type: 'released',
        status: 'released',
        requester: 'changegate',
        submittedAt: at,
      }));
      try {
        await retryTransient(() => this.m.Change.insertMany(docs, { ordered: false }));
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    return missing.length;
  }

  async staleSubmissions(before: Date): Promise<number[]> {
    return this.numbers({ seq: 0, status: 'submitting', createdAt: { $lt: before } }, 100);
  }

  private markedUnannounced = false;

  async unannounced(before: Date): Promise<number[]> {
    await this.markLegacyUnannounced();
    return this.numbers({ unannounced: true, seq: { $gt: 0 }, slack: null, createdAt: { $lt: before } }, 100);
  }

  /**
   * Changes recorded before the `unannounced` marker existed: marked once for the whole database (the
   * one scan of the history; a settings document says it was done), so that every later start-up
   * reads only the marked ones.
   */
  private async markLegacyUnannounced(): Promise<void> {
    if (this.markedUnannounced) return;
    if (!(await migrationDone(this.m, 'migration:unannounced'))) {
      await retryTransient(() =>
        this.m.Change.updateMany(
          { seq: { $gt: 0 }, slack: null, unannounced: { $exists: false } },
          { $set: { unannounced: true } },
        ),
      );
      // The records just marked have work their to-do entries may not show yet.
      if (this.todo) {
        const marked = this.m.Change.find({ unannounced: true, seq: { $gt: 0 }, slack: null })
          .lean<ChangeDoc[]>()
          .cursor({ batchSize: 500 });
        for await (const doc of marked as AsyncIterable<ChangeDoc>) {
          await this.todo.write(doc.number, doc);
          await this.inflight?.write(doc.number, doc);
        }
      }
      await recordMigration(this.m, 'migration:unannounced');
    }
    this.markedUnannounced = true;
  }
}
