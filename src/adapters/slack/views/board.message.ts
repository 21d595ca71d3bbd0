import type { ActionsBlock, ContextBlock, KnownBlock } from '@slack/types';
import type { MeetingRecord } from '../../../application/ports.js';
import type { MinutesRecord } from '../../../domain/board.js';
import { formatChangeId } from '../../../domain/change.js';
import { type ChangeState, stageProgress } from '../../../domain/lifecycle.js';
import type { BoardDef } from '../../../domain/policy.js';
import { ACTIONS } from '../ids.js';
import { button, stageActions } from './change.message.js';
import { mention, mrkdwn, plain, slackDate, userText } from './text.js';

const MAX_ITEMS = 20;

function itemText(s: ChangeState, board: string, permalink: string | null): string {
  const id = formatChangeId(s.number);
  const title = permalink
    ? `<${permalink}|${id}> ${userText(s.request.title, 120)}`
    : `*${id}* ${userText(s.request.title, 120)}`;
  const r = s.request;
  const window =
    r.plannedStart && r.plannedEnd
      ? `${slackDate(r.plannedStart)} – ${slackDate(r.plannedEnd)}`
      : 'no window set';
  const links = [r.links.pr, r.links.ticket]
    .filter((l): l is string => !!l)
    .map((l) => `<${l}|${userText(l, 60)}>`);
  const open = stageProgress(s)
    .filter((p) => p.status === 'current' || p.status === 'waiting' || p.status === 'blocked')
    .map((p) => {
      const stage = s.stages[p.index];
      const count = p.needed > 1 ? ` (${p.approvals} of ${p.needed})` : '';
      return `${userText(p.name, 60)}${count}${stage?.board === board ? '' : ' · not the board’s'}`;
    });
  return [
    title,
    `${userText(s.typeName, 40)} · risk *${s.request.risk ?? 'n/a'}* · systems: ${userText(r.systems.join(', ') || '—', 200)} · window: ${window}`,
    `${links.length ? `Links: ${links.join(' · ')} · ` : ''}raised by ${mention(s.requester)} · still open: ${userText(open.join('; ') || '—', 300)}`,
  ].join('\n');
}

/**
 * A board meeting's agenda: every change on it (summary, risk, systems, window, links, what is still
 * open); once the meeting is open, each item's Approve / Reject / Defer buttons and Close meeting.
 */
export function agendaMessage(
  m: MeetingRecord,
  board: BoardDef,
  items: { state: ChangeState; permalink: string | null }[],
  open: boolean,
): { text: string; blocks: KnownBlock[] } {
  const when = `${slackDate(m.start)} – ${slackDate(m.end, '{time}')}`;
  const head = m.kind === 'adhoc' ? `Ad hoc meeting of ${board.name}` : `${board.name} meeting`;
  const state = open
    ? '🟢 *Open now*: decide each item below.'
    : `Agenda, published ahead of the meeting (${when}).`;
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain(`${head}: ${items.length} ${items.length === 1 ? 'change' : 'changes'}`) },
    { type: 'context', elements: [mrkdwn(`${when} · ${state}`)] } as ContextBlock,
  ];
  if (items.length === 0) blocks.push({ type: 'section', text: mrkdwn('Nothing is on the agenda yet.') });
  for (const { state: s, permalink } of items.slice(0, MAX_ITEMS)) {
    blocks.push({ type: 'divider' }, { type: 'section', text: mrkdwn(itemText(s, m.board, permalink)) });
    const index = s.openStages.map((o) => o.index).find((i) => s.stages[i]?.board === m.board);
    if (open && index !== undefined) {
      const actions = stageActions(`board:${m.id.length}`, s.number, index, s.stages[index]!.name);
      actions.block_id = `board_item:${s.number}:${index}`;
      actions.elements.push(
        button('Defer', ACTIONS.boardDefer, `${s.number}:${index}`, undefined, {
          title: `Defer ${formatChangeId(s.number)}?`,
          text: 'It goes on the agenda of the next meeting; your name is recorded.',
          yes: 'Defer',
        }),
      );
      blocks.push(actions);
    }
  }
  if (items.length > MAX_ITEMS)
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`…and ${items.length - MAX_ITEMS} more: \`/change list pending\``)],
    } as ContextBlock);
  if (open)
    blocks.push({
      type: 'actions',
      block_id: 'board_meeting',
      elements: [
        button('Close meeting', ACTIONS.boardClose, m.id, 'danger', {
          title: 'Close the meeting?',
          text: 'Undecided items move to the next meeting and the minutes are posted.',
          yes: 'Close meeting',
        }),
      ],
    } as ActionsBlock);
  return {
    text: `${head} (${m.start.toISOString().slice(0, 16)} UTC): ${items.length} changes`,
    blocks: blocks.slice(0, 50),
  };
}

const OUTCOME: Record<string, string> = {
  approved: '✅ approved',
  rejected: '❌ rejected',
  deferred: '🗓️ deferred to the next meeting',
  undecided: '⏳ not decided',
};

/** The minutes: each item with who decided what, who took part, and the sealed record's number. */
export function minutesMessage(
  m: MeetingRecord,
  board: BoardDef,
  r: MinutesRecord,
): { text: string; blocks: KnownBlock[] } {
  const lines = r.items.map((it) => {
    const who = it.decisions
      .map(
        (d) =>
          `${d.by === 'system' ? 'Changegate (not reached)' : mention(d.by)} ${d.outcome}${d.note ? `: ${userText(d.note, 200)}` : ''}`,
      )
      .join('; ');
    return `• *${formatChangeId(it.change)}* ${userText(it.title, 100)}: ${OUTCOME[it.outcome]}${who ? ` (${who})` : ''}`;
  });
  const closed = r.closedBy === 'changegate' ? 'at its end' : `by ${mention(r.closedBy)}`;
  return {
    text: `Minutes of the ${board.name} meeting of ${m.start.toISOString().slice(0, 16)} UTC: ${r.items.length} items`,
    blocks: [
      { type: 'header', text: plain(`Minutes: ${board.name}${m.kind === 'adhoc' ? ' (ad hoc)' : ''}`) },
      {
        type: 'context',
        elements: [mrkdwn(`${slackDate(m.start)} – ${slackDate(r.closedAt, '{time}')}, closed ${closed}`)],
      } as ContextBlock,
      { type: 'section', text: mrkdwn(lines.join('\n').slice(0, 2900) || 'No item was on the agenda.') },
      {
        type: 'context',
        elements: [
          mrkdwn(
            `Took part: ${r.participants.map(mention).join(', ') || 'nobody'} · minutes record #${r.number} (sealed; \`${r.recordHash.slice(0, 16)}\`)`,
          ),
        ],
      } as ContextBlock,
    ],
  };
}
