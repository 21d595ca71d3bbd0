import { canonicalJson, sha256Hex } from '../domain/audit.js';
import {
  adhocMeeting,
  agendaTime,
  appendMinutes,
  currentOrNextMeeting,
  isOpen,
  type Meeting,
  type MinutesRecord,
  minutesItem,
  onAgenda,
  openBoardStage,
} from '../domain/board.js';
import { formatChangeId } from '../domain/change.js';
import type { ChangeState } from '../domain/lifecycle.js';
import { standingProblem } from '../domain/people.js';
import type { BoardDef } from '../domain/policy.js';
import { isBoardMember } from './board-agenda.js';
import { executeCommand } from './execute-command.js';
import { standingOfUser } from './people.js';
import type { BoardNotifier, Deps, MeetingRecord } from './ports.js';

/**
 * Change advisory board meetings (domain/board.ts): agendas published at the cut-off and kept
 * current, decisions taken only while a meeting with the change on its agenda is open (the decision
 * itself is executeCommand's, with the open meetings in its context), ad hoc meetings for urgent
 * changes, and at the close the roll-over of what was not reached and the sealed minutes. Every
 * step is once across replicas and restarts (meetings are created under their id, the agenda post
 * and the close are claimed by unique inserts).
 */

const SYSTEM = 'changegate';

async function agendaStates(deps: Deps, m: Meeting, def: BoardDef): Promise<ChangeState[]> {
  const out: ChangeState[] = [];
  if (m.kind === 'adhoc') {
    for (const n of m.items) {
      const r = await deps.changes.record(n);
      if (r?.state && onAgenda(r.state, m, def.agendaCutoffHours)) out.push(r.state);
    }
    return out;
  }
  for await (const r of deps.changes.candidates('pending_approval', deps.clock.now()))
    if (r.state && onAgenda(r.state, m, def.agendaCutoffHours)) out.push(r.state);
  return out.sort((a, b) => a.number - b.number);
}

/** Publishes the meeting's agenda, or updates it when changes joined or left (or it opened). */
export async function publishAgenda(
  deps: Deps,
  notifier: BoardNotifier,
  m: Meeting,
  def: BoardDef,
): Promise<void> {
  const rec = await deps.boards.ensure(m);
  if (rec.closedAt) return;
  const now = deps.clock.now();
  const items = await agendaStates(deps, rec, def);
  const open = isOpen(rec, null, now);
  const digest = sha256Hex(canonicalJson({ open, items: items.map((s) => [s.number, s.seq]) }));
  if (digest === rec.agendaDigest) return;
  if (!rec.agenda && !(await deps.boards.claim(`agenda:${m.id}`, now))) return; // another replica posts it
  const ref = await notifier.agenda(rec, def, items, open);
  if (ref)
    await deps.boards.setAgenda(m.id, ref, digest, [
      ...new Set([...rec.agendaItems, ...items.map((s) => s.number)]),
    ]);
}

export type CloseOutcome =
  | { ok: true; minutes: MinutesRecord }
  | { ok: false; code: 'NOT_FOUND' | 'NOT_A_MEMBER' | 'NOT_STARTED' | 'ALREADY_CLOSED'; message: string };

/**
 * Closes a meeting (its time is over, or a member closes it early): what it did not reach rolls over
 * to the next meeting (an event in each change's trail), the minutes are sealed into their log and
 * posted.
 */
export async function closeMeeting(
  deps: Deps,
  notifier: BoardNotifier,
  id: string,
  by: string,
): Promise<CloseOutcome> {
  const now = deps.clock.now();
  const rec = await deps.boards.get(id);
  if (!rec) return { ok: false, code: 'NOT_FOUND', message: 'There is no such meeting.' };
  const def = deps.policy.policy.boards?.[rec.board];
  if (rec.closedAt || !def) return { ok: false, code: 'ALREADY_CLOSED', message: 'The meeting is closed.' };
  if (by !== SYSTEM) {
    if (rec.start.getTime() > now.getTime())
      return { ok: false, code: 'NOT_STARTED', message: 'The meeting has not started.' };
    const problem = standingProblem(await standingOfUser(deps, by));
    if (problem || !(await isBoardMember(deps, deps.policy.policy, rec.board, by)))
      return {
        ok: false,
        code: 'NOT_A_MEMBER',
        message: problem ?? `Only members of ${def.name} close its meetings.`,
      };
  }
  // Claimed for five minutes: a close a crash interrupted is taken up again by a later sweep, and
  // each step below is idempotent (roll-overs have one slot per meeting, the minutes one record).
  if (!(await deps.boards.claimLease(`close:${id}`, now, 5 * 60_000)))
    return { ok: false, code: 'ALREADY_CLOSED', message: 'The meeting is being closed.' };

  const numbers = [...new Set([...rec.agendaItems, ...rec.items])].sort((a, b) => a - b);
  const items = [];
  const participants = new Set<string>();
  for (const n of numbers) {
    let state = (await deps.changes.record(n))?.state ?? null;
    if (!state) continue;
    const open = openBoardStage(state, rec.board);
    if (open !== null && !(state.boardDeferrals ?? []).some((d) => d.meeting === id)) {
      const res = await executeCommand(deps, n, { kind: 'roll_over_board', stageIndex: open, meeting: id });
      if (res.ok) state = res.state;
    }
    const index = state.stages.findIndex(
      (st, i) =>
        st.board === rec.board &&
        (state!.decisions.some((d) => d.stageIndex === i && d.meeting === id) ||
          (state!.boardDeferrals ?? []).some((d) => d.stageIndex === i && d.meeting === id)),
    );
    if (index < 0) continue;
    const item = minutesItem(state, id, index);
    for (const d of item.decisions) if (d.by !== SYSTEM && d.by !== 'system') participants.add(d.by);
    items.push(item);
  }
  const signer = deps.audit?.signer;
  if (!signer) throw new Error('no audit key: this process cannot record minutes');
  let minutes: MinutesRecord | null = null;
  for (let attempt = 0; attempt < 5 && !minutes; attempt++) {
    minutes = await deps.boards.minutesOf(id); // recorded before an interruption
    if (minutes) break;
    const last = await deps.boards.lastMinutes();
    const record = appendMinutes(
      last,
      {
        kind: 'board_minutes',
        meeting: id,
        board: rec.board,
        meetingKind: rec.kind,
        start: rec.start,
        end: rec.end,
        closedAt: now,
        closedBy: by,
        items,
        participants: [...participants].sort(),
        by,
        at: now,
      },
      (bytes) => ({ keyId: signer.keyId, sig: signer.sign(bytes) }),
    );
    if (await deps.boards.appendMinutes(record)) minutes = record;
  }
  if (!minutes) throw new Error('the minutes log is busy; the close is retried');
  await deps.boards.markClosed(id, now, by);
  deps.logger.info('board meeting closed', { meeting: id, items: items.length, by });
  await notifier
    .minutes({ ...rec, closedAt: now, closedBy: by }, def, minutes)
    .catch((err) => deps.logger.warn('could not post the minutes', { meeting: id, err }));
  return { ok: true, minutes };
}

/** The board job: agendas at their cut-off and kept current, ad hoc agendas, and closes. */
export async function boardSweep(
  deps: Deps,
  notifier: BoardNotifier,
): Promise<{ published: number; closed: number }> {
  const now = deps.clock.now();
  let published = 0;
  let closed = 0;
  for (const [key, def] of Object.entries(deps.policy.policy.boards ?? {})) {
    const m = currentOrNextMeeting(key, def, now);
    if (now.getTime() >= agendaTime(def, m).getTime()) {
      await publishAgenda(deps, notifier, m, def);
      published++;
    }
    for (const a of await deps.boards.openAdhoc(key, now)) {
      await publishAgenda(deps, notifier, a, def);
      published++;
    }
  }
  for (const rec of await deps.boards.toClose(now)) {
    const res = await closeMeeting(deps, notifier, rec.id, SYSTEM);
    if (res.ok) closed++;
  }
  return { published, closed };
}

export type AdhocOutcome =
  | { ok: true; meeting: MeetingRecord }
  | { ok: false; code: 'NOT_FOUND' | 'NO_BOARD_STAGE' | 'NOT_A_MEMBER'; message: string };

/** A member puts an urgent change before an ad hoc meeting of the board, starting now. */
export async function callAdhocMeeting(
  deps: Deps,
  notifier: BoardNotifier,
  actor: string,
  changeNumber: number,
): Promise<AdhocOutcome> {
  const r = await deps.changes.record(changeNumber);
  const state = r?.state;
  if (!state)
    return { ok: false, code: 'NOT_FOUND', message: `There is no change ${formatChangeId(changeNumber)}.` };
  const index = state.openStages.map((o) => o.index).find((i) => state.stages[i]?.board);
  const key = index === undefined ? undefined : state.stages[index]!.board!;
  const def = key ? deps.policy.policy.boards?.[key] : undefined;
  if (!key || !def)
    return {
      ok: false,
      code: 'NO_BOARD_STAGE',
      message: `${formatChangeId(changeNumber)} is not waiting for a board decision.`,
    };
  const problem = standingProblem(await standingOfUser(deps, actor));
  if (problem || !(await isBoardMember(deps, deps.policy.policy, key, actor)))
    return {
      ok: false,
      code: 'NOT_A_MEMBER',
      message: problem ?? `Only members of ${def.name} call its meetings.`,
    };
  const m = adhocMeeting(key, def, deps.clock.now(), [changeNumber]);
  await publishAgenda(deps, notifier, m, def);
  deps.logger.info('ad hoc board meeting called', { meeting: m.id, userId: actor, changeId: changeNumber });
  return { ok: true, meeting: (await deps.boards.get(m.id))! };
}
