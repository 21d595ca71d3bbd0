import type { BoardStore, MeetingRecord } from '../../application/ports.js';
import type { Meeting, MinutesRecord } from '../../domain/board.js';
import { insertOnce, retryTransient } from './connection.js';
import { type BoardMeetingDoc, logRecordId, type Models } from './models.js';

function toRecord(d: BoardMeetingDoc): MeetingRecord {
  return {
    id: d._id,
    board: d.board,
    kind: d.kind as Meeting['kind'],
    start: d.start,
    end: d.end,
    items: d.items ?? [],
    agendaItems: d.agendaItems ?? [],
    agenda: d.agenda ?? null,
    agendaDigest: d.agendaDigest ?? null,
    closedAt: d.closedAt ?? null,
    closedBy: d.closedBy ?? null,
  };
}

const revive = (d: Record<string, unknown>): MinutesRecord => {
  const r = { ...d } as unknown as MinutesRecord & { _id?: string };
  delete r._id;
  for (const k of ['start', 'end', 'closedAt', 'at'] as const) r[k] = new Date(r[k]);
  r.items = r.items.map((i) => ({ ...i, decisions: i.decisions.map((x) => ({ ...x, at: new Date(x.at) })) }));
  return r;
};

/** Board meetings (created once under their id) and the minutes log (numbered, unique on insert). */
export class MongoBoardStore implements BoardStore {
  constructor(private readonly m: Models) {}

  async ensure(meeting: Meeting): Promise<MeetingRecord> {
    await insertOnce(this.m.BoardMeeting, {
      _id: meeting.id,
      board: meeting.board,
      kind: meeting.kind,
      start: meeting.start,
      end: meeting.end,
      items: meeting.items,
      agendaItems: [],
      agenda: null,
      agendaDigest: null,
      closedAt: null,
      closedBy: null,
    });
    return (await this.get(meeting.id))!;
  }

  async get(id: string): Promise<MeetingRecord | null> {
    const d = await retryTransient(() => this.m.BoardMeeting.findById(id).lean<BoardMeetingDoc>());
    return d ? toRecord(d) : null;
  }

  async openAdhoc(board: string, now: Date): Promise<MeetingRecord[]> {
    const docs = await retryTransient(() =>
      this.m.BoardMeeting.find({ board, kind: 'adhoc', closedAt: null, end: { $gt: now } }).lean<
        BoardMeetingDoc[]
      >(),
    );
    return docs.map(toRecord);
  }

  async toClose(now: Date): Promise<MeetingRecord[]> {
    const docs = await retryTransient(() =>
      this.m.BoardMeeting.find({ closedAt: null, end: { $lte: now } })
        .sort({ end: 1 })
        .limit(50)
        .lean<BoardMeetingDoc[]>(),
    );
    return docs.map(toRecord);
  }

  async setAgenda(
    id: string,
    ref: { channel: string; ts: string },
    digest: string,
    items: number[],
  ): Promise<void> {
    await retryTransient(() =>
      this.m.BoardMeeting.updateOne(
        { _id: id },
        { $set: { agenda: ref, agendaDigest: digest, agendaItems: items } },
      ),
    );
  }

  claim(key: string, at: Date): Promise<boolean> {
    return insertOnce(this.m.Setting, { _id: `claim:${key}`, value: 'claimed', at });
  }

  async claimLease(key: string, at: Date, leaseMs: number): Promise<boolean> {
    // One claim per key and lease period, each a unique insert: a claim from an earlier period (a
    // process that died holding it) no longer blocks, and no conditional delete is needed (on
    // FerretDB a conditional delete is a find then a delete, which two takers could interleave).
    return this.claim(`${key}@${Math.floor(at.getTime() / leaseMs)}`, at);
  }

  async markClosed(id: string, at: Date, by: string): Promise<void> {
    await retryTransient(() =>
      this.m.BoardMeeting.updateOne({ _id: id }, { $set: { closedAt: at, closedBy: by } }),
    );
  }

  appendMinutes(r: MinutesRecord): Promise<boolean> {
    return insertOnce(this.m.MinutesLog, { _id: logRecordId(r.number), ...r });
  }

  async lastMinutes(): Promise<MinutesRecord | null> {
    const d = await retryTransient(() =>
      this.m.MinutesLog.findOne({}).sort({ _id: -1 }).lean<Record<string, unknown>>(),
    );
    return d ? revive(d) : null;
  }

  async minutesOf(meeting: string): Promise<MinutesRecord | null> {
    const d = await retryTransient(() =>
      this.m.MinutesLog.findOne({ meeting }).lean<Record<string, unknown>>(),
    );
    return d ? revive(d) : null;
  }

  async minutesAfter(number: number): Promise<MinutesRecord[]> {
    const docs = await retryTransient(() =>
      this.m.MinutesLog.find({ _id: { $gt: logRecordId(number) } })
        .sort({ _id: 1 })
        .lean<Record<string, unknown>[]>(),
    );
    return docs.map(revive);
  }
}
