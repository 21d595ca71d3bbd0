import { currentOrNextMeeting, isOpen, onAgenda } from '../domain/board.js';
import type { ChangeState } from '../domain/lifecycle.js';
import { isInRoles, type Policy } from '../domain/policy.js';
import type { Deps, ReadDeps } from './ports.js';

/** The open meetings that have this change on their agenda, for each board its open stages need. */
export async function meetingsFor(
  deps: Pick<ReadDeps, 'boards' | 'clock' | 'policy'>,
  state: ChangeState,
): Promise<{ id: string; board: string }[]> {
  const policy = deps.policy.policy;
  const keys = new Set(
    state.openStages.map((o) => state.stages[o.index]?.board).filter((b): b is string => !!b),
  );
  if (keys.size === 0) return [];
  const now = deps.clock.now();
  const out: { id: string; board: string }[] = [];
  for (const key of keys) {
    const def = policy.boards?.[key];
    if (!def) continue;
    const scheduled = currentOrNextMeeting(key, def, now);
    if (scheduled.start.getTime() <= now.getTime()) {
      const rec = await deps.boards.get(scheduled.id);
      if (isOpen(scheduled, rec?.closedAt ?? null, now) && onAgenda(state, scheduled, def.agendaCutoffHours))
        out.push({ id: scheduled.id, board: key });
    }
    for (const m of await deps.boards.openAdhoc(key, now))
      if (isOpen(m, m.closedAt, now) && onAgenda(state, m, def.agendaCutoffHours))
        out.push({ id: m.id, board: key });
  }
  return out;
}

/** Whether the person may decide the board's items (an approver of one of its stages). */
export async function isBoardMember(
  deps: Pick<Deps, 'directory'>,
  policy: Policy,
  board: string,
  userId: string,
): Promise<boolean> {
  const members = policy.boards?.[board]?.members ?? [];
  return isInRoles(policy, await deps.directory.membership(), userId, members);
}
