import { z } from 'zod';
import { closeMeeting } from '../../../application/board-meetings.js';
import { executeCommand } from '../../../application/execute-command.js';
import { formatChangeId } from '../../../domain/change.js';
import type { SlackContext } from '../context.js';
import { failureText, refusalText } from '../copy.js';
import { ACTIONS } from '../ids.js';
import type { SlackRoutes } from './routes.js';

const itemValue = z
  .string()
  .regex(/^\d{1,9}:\d{1,2}$/)
  .transform((v) => {
    const [n, s] = v.split(':').map(Number);
    return { n: n!, stage: s! };
  });

/** Board meetings in Slack: Defer an item, Close the meeting (Approve and Reject are the usual buttons). */
export function registerBoards(routes: SlackRoutes, ctx: SlackContext): void {
  const tell = async (userId: string, channel: string | undefined, text: string) => {
    await (channel
      ? ctx.sender.call('chat.postEphemeral', { channel, user: userId, text })
      : ctx.sender.call('chat.postMessage', { channel: userId, text })
    ).catch(() => undefined);
  };

  routes.action(ACTIONS.boardDefer, async ({ ack, body, action }) => {
    await ack();
    const item = itemValue.safeParse((action as { value?: string }).value);
    const user = body.user.id;
    const channel = body.channel?.id;
    if (!item.success) return;
    ctx.work.submit(async () => {
      try {
        const res = await executeCommand(ctx.deps, item.data.n, {
          kind: 'defer_board',
          actor: user,
          stageIndex: item.data.stage,
          reason: '',
        });
        await tell(
          user,
          channel,
          res.ok
            ? `🗓️ ${formatChangeId(item.data.n)} is deferred to the next meeting.`
            : refusalText(res.error),
        );
      } catch (err) {
        ctx.logger.error('could not defer a board item', { userId: user, err });
        await tell(user, channel, failureText(err));
      }
    });
  });

  routes.action(ACTIONS.boardClose, async ({ ack, body, action }) => {
    await ack();
    const id = z
      .string()
      .max(120)
      .safeParse((action as { value?: string }).value);
    const user = body.user.id;
    const channel = body.channel?.id;
    if (!id.success) return;
    ctx.work.submit(async () => {
      try {
        const res = await closeMeeting(ctx.deps, ctx.boards, id.data, user);
        if (!res.ok) await tell(user, channel, res.message);
      } catch (err) {
        ctx.logger.error('could not close a board meeting', { userId: user, err });
        await tell(user, channel, failureText(err));
      }
    });
  });
}
