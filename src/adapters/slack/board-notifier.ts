import type { BoardNotifier, MeetingRecord } from '../../application/ports.js';
import type { LoadedPolicy } from '../../config/policy.js';
import type { MinutesRecord } from '../../domain/board.js';
import type { ChangeState } from '../../domain/lifecycle.js';
import type { BoardDef } from '../../domain/policy.js';
import type { Logger } from '../../infra/logger.js';
import type { SlackSender } from '../../infra/slack/sender.js';
import { agendaMessage, minutesMessage } from './views/board.message.js';

/** A board's agenda (posted once, then updated in place) and minutes, in the board's channel. */
export class SlackBoardNotifier implements BoardNotifier {
  constructor(
    private readonly sender: SlackSender,
    private readonly policy: LoadedPolicy,
    private readonly logger: Logger,
  ) {}

  private channel(board: BoardDef): string | null {
    return board.channel ?? this.policy.policy.channels.approvals;
  }

  async agenda(m: MeetingRecord, board: BoardDef, items: ChangeState[], open: boolean) {
    const msg = agendaMessage(
      m,
      board,
      items.map((state) => ({ state, permalink: null })),
      open,
    );
    if (m.agenda) {
      await this.sender.call('chat.update', { channel: m.agenda.channel, ts: m.agenda.ts, ...msg });
      return m.agenda;
    }
    const channel = this.channel(board);
    if (!channel) {
      this.logger.warn(`board ${m.board} has no channel (boards.${m.board}.channel or channels.approvals)`);
      return null;
    }
    const res = await this.sender.call<{ channel: string; ts: string }>('chat.postMessage', {
      channel,
      ...msg,
    });
    return { channel: res.channel, ts: res.ts };
  }

  async minutes(m: MeetingRecord, board: BoardDef, r: MinutesRecord): Promise<void> {
    const msg = minutesMessage(m, board, r);
    const channel = m.agenda?.channel ?? this.channel(board);
    if (!channel) return;
    if (m.agenda)
      // The agenda keeps its items, without buttons: the meeting is over.
      await this.sender
        .call('chat.update', {
          channel: m.agenda.channel,
          ts: m.agenda.ts,
          text: `${board.name}: meeting closed; minutes below.`,
          blocks: [
            {
              type: 'section',
              text: { type: 'mrkdwn', text: `🔒 This meeting is closed. Minutes: record #${r.number}.` },
            },
          ],
        })
        .catch((err) => this.logger.warn('could not close the agenda message', { err }));
    await this.sender.call('chat.postMessage', { channel, ...msg });
  }
}
