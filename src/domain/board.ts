import type { EventSeal } from './audit.js';
import type { Finding, KeyRing } from './ledger.js';
import type { ChangeState } from './lifecycle.js';
import { type BoardDef, WEEKDAYS } from './policy.js';
import { appendRecord, checkLog, type Link } from './sealed-log.js';
import { addLocalDays, atLocalMinute, HOUR_MS, minutesOf, zonedParts } from './time.js';

/**
 * Change advisory boards: a stage with `board` is decided at a meeting of the board, by its members,
 * with the stage's quorum. Meetings recur (days and time on the board's clock) or are called ad hoc
 * by a member for an urgent change. A change is on a meeting's agenda when its board stage opened
 * before the agenda cut-off (or, ad hoc, when it was put there) and it was not deferred at that
 * meeting; what a meeting leaves undecided rolls over to the next.
 */
export interface Meeting {
  id: string;
  board: string;
  kind: 'scheduled' | 'adhoc';
  start: Date;
  end: Date;
  /** Ad hoc: the changes put before it. */
  items: number[];
}

export function scheduledMeeting(key: string, board: BoardDef, start: Date): Meeting {
  return {
    id: `${key}:${start.toISOString()}`,
    board: key,
    kind: 'scheduled',
    start,
    end: new Date(start.getTime() + board.minutes * 60_000),
    items: [],
  };
}

export function adhocMeeting(key: string, board: BoardDef, start: Date, items: number[]): Meeting {
  return {
    id: `${key}:adhoc:${start.toISOString()}`,
    board: key,
    kind: 'adhoc',
    start,
    end: new Date(start.getTime() + board.minutes * 60_000),
    items,
  };
}

/** The board's scheduled meeting in progress at `now`, or else the next one. */
export function currentOrNextMeeting(key: string, board: BoardDef, now: Date): Meeting {
  const today = zonedParts(new Date(now.getTime() - board.minutes * 60_000), board.timezone).date;
  for (let d = 0; d < 15; d++) {
    const date = addLocalDays(today, d);
    const start = atLocalMinute(date, minutesOf(board.at), board.timezone);
    const weekday = zonedParts(start, board.timezone).weekday;
    if (!board.days.includes(weekday)) continue;
    const m = scheduledMeeting(key, board, start);
    if (m.end.getTime() > now.getTime()) return m;
  }
  throw new Error(`board ${key} has no meeting day (${board.days.join(', ')} of ${WEEKDAYS.join(', ')})`);
}

/** When the agenda of a scheduled meeting is published (its cut-off). */
export function agendaTime(board: BoardDef, m: Meeting): Date {
  return new Date(m.start.getTime() - board.agendaCutoffHours * HOUR_MS);
}

export function isOpen(m: Meeting, closedAt: Date | null, now: Date): boolean {
  return !closedAt && m.start.getTime() <= now.getTime() && now.getTime() < m.end.getTime();
}

/** The change's open stage decided by this board (null: none open now). */
export function openBoardStage(s: ChangeState, board: string): number | null {
  if (s.status !== 'pending_approval') return null;
  const open = s.openStages.find((o) => s.stages[o.index]?.board === board);
  return open ? open.index : null;
}

/** Whether the change is on the meeting's agenda (see the module comment). */
export function onAgenda(s: ChangeState, m: Meeting, cutoffHours: number): boolean {
  const index = openBoardStage(s, m.board);
  if (index === null) return false;
  if ((s.boardDeferrals ?? []).some((d) => d.meeting === m.id)) return false;
  if (m.kind === 'adhoc') return m.items.includes(s.number);
  const since = s.openStages.find((o) => o.index === index)!.since;
  return since.getTime() <= m.start.getTime() - cutoffHours * HOUR_MS;
}

// ---- minutes ------------------------------------------------------------------------------------

export interface MinutesItem {
  change: number;
  title: string;
  stage: string;
  outcome: 'approved' | 'rejected' | 'deferred' | 'undecided';
  decisions: { by: string; outcome: 'approved' | 'rejected' | 'deferred'; at: Date; note: string }[];
}

/** The minutes of a meeting: what was on its agenda, what each member decided, who took part. */
export interface MinutesRecord extends Link {
  kind: 'board_minutes';
  meeting: string;
  board: string;
  meetingKind: 'scheduled' | 'adhoc';
  start: Date;
  end: Date;
  closedAt: Date;
  closedBy: string;
  items: MinutesItem[];
  participants: string[];
  by: string;
  at: Date;
}

/** A change's part of the minutes, from its state after the meeting. */
export function minutesItem(s: ChangeState, meeting: string, stageIndex: number): MinutesItem {
  const decisions = [
    ...s.decisions
      .filter((d) => d.stageIndex === stageIndex && d.meeting === meeting)
      .map((d) => ({ by: d.by, outcome: d.outcome, at: d.at, note: d.note })),
    ...(s.boardDeferrals ?? [])
      .filter((d) => d.meeting === meeting)
      .map((d) => ({ by: d.by, outcome: 'deferred' as const, at: d.at, note: d.reason })),
  ].sort((a, b) => a.at.getTime() - b.at.getTime());
  const stage = s.stages[stageIndex];
  const rejected = decisions.some((d) => d.outcome === 'rejected');
  const approved =
    !rejected &&
    s.decisions.some((d) => d.stageIndex === stageIndex) &&
    !s.openStages.some((o) => o.index === stageIndex);
  const deferred = decisions.some((d) => d.outcome === 'deferred');
  return {
    change: s.number,
    title: s.request.title,
    stage: stage?.name ?? '',
    outcome: rejected ? 'rejected' : approved ? 'approved' : deferred ? 'deferred' : 'undecided',
    decisions,
  };
}

const MINUTES_LOG = 'board_minutes';

export function appendMinutes(
  previous: MinutesRecord | null,
  body: Omit<MinutesRecord, keyof Link>,
  sign: (bytes: string) => EventSeal,
): MinutesRecord {
  return appendRecord<MinutesRecord>(MINUTES_LOG, previous, body, sign);
}

export function checkMinutesLog(ring: KeyRing, records: readonly MinutesRecord[]): Finding[] {
  return checkLog(MINUTES_LOG, ring, records, (r) => `minutes ${r.number} (${r.meeting})`);
}
