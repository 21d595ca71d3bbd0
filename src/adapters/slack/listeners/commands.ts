import type { App, RespondFn } from '@slack/bolt';
import { callAdhocMeeting } from '../../../application/board-meetings.js';
import { cancelChange } from '../../../application/cancel-change.js';
import { getChange } from '../../../application/get-change.js';
import { linkGithubLogin } from '../../../application/github-users.js';
import { listChanges } from '../../../application/list-changes.js';
import { recordDeployment } from '../../../application/record-deployment.js';
import { mayView } from '../../../application/visibility.js';
import { formatChangeId } from '../../../domain/change.js';
import { SET_ASIDE } from '../click-throttle.js';
import { type ChangeCommand, parseChangeCommand } from '../command-parser.js';
import type { SlackContext } from '../context.js';
import { failureText, notVisibleText, refusalText } from '../copy.js';
import { delegateCommand } from '../delegate-command.js';
import { loadingModal, openView } from '../modal-helpers.js';
import { blankRequestFormText } from '../request-form.js';
import { tokenCommand } from '../token-commands.js';
import {
  errorMessage,
  helpMessage,
  infoMessage,
  listMessage,
  type Reply,
  showMessage,
} from '../views/command.messages.js';
import { verifyModal } from '../views/modals.js';
import { slackDate } from '../views/text.js';
import { openRetroModal } from './retro-flow.js';

const ephemeral = (r: Reply) => ({ response_type: 'ephemeral' as const, text: r.text, blocks: r.blocks });

/** `/change` and its subcommands. Modals open first (the trigger id lives 3 s); database work follows. */
export function registerCommands(app: App, ctx: SlackContext): void {
  app.command('/change', async ({ command, ack, respond }) => {
    const policy = ctx.deps.policy.policy;
    const cmd = parseChangeCommand(command.text, Object.keys(policy.types));
    const user = command.user_id;
    const log = ctx.logger.child({ userId: user, command: `/change ${cmd.kind}` });
    let acked = false;
    const ackOnce = async (r?: Reply) => {
      if (acked) return;
      acked = true;
      await (r ? ack(ephemeral(r)) : ack());
    };
    try {
      switch (cmd.kind) {
        case 'new':
          await ackOnce();
          await openView(
            ctx.sender,
            command.trigger_id,
            blankRequestFormText(policy, cmd.type, command.channel_id),
          );
          return;
        case 'help':
          await ackOnce(helpMessage());
          return;
        case 'invalid': {
          const help = helpMessage();
          await ackOnce({
            text: `${cmd.message}\n\n${help.text}`,
            blocks: [...errorMessage(cmd.message).blocks!, ...help.blocks!],
          });
          return;
        }
        case 'verify':
          await ackOnce();
          await openView(ctx.sender, command.trigger_id, verifyModal(cmd.n, 'ok'));
          return;
        case 'retro': {
          await ackOnce();
          const viewId = await openView(ctx.sender, command.trigger_id, loadingModal('Retrospective'));
          if (viewId) await openRetroModal(ctx, viewId, cmd.n);
          return;
        }
        default: {
          const admitted = ctx.throttle.admit(user);
          if (admitted !== 'ok') {
            await ackOnce(errorMessage(SET_ASIDE[admitted]));
            return;
          }
          await ackOnce();
          ctx.work.submit(async () => {
            try {
              await respond(ephemeral(await runDatabaseCommand(ctx, cmd, user)));
            } catch (err) {
              log.error('/change failed', { err });
              await respondSafely(respond, errorMessage(failureText(err)));
            } finally {
              ctx.throttle.finished(user, false);
            }
          });
        }
      }
    } catch (err) {
      log.error('/change failed', { err });
      const text = failureText(err);
      if (!acked) await ackOnce(errorMessage(text));
      else await respondSafely(respond, errorMessage(text));
    }
  });
}

async function respondSafely(respond: RespondFn, r: Reply) {
  await respond(ephemeral(r)).catch(() => undefined);
}

async function runDatabaseCommand(ctx: SlackContext, cmd: ChangeCommand, user: string): Promise<Reply> {
  const deps = ctx.deps;
  const now = deps.clock.now();
  switch (cmd.kind) {
    case 'list': {
      const { items, total } = await listChanges(deps, user, cmd.scope);
      const title = { mine: 'Your changes', pending: 'Waiting for your approval', open: 'Open changes' }[
        cmd.scope
      ];
      return listMessage(
        title,
        items.map((r) => ({ state: r.state!, permalink: r.slack?.permalink ?? null })),
        total,
        now,
      );
    }
    case 'show': {
      const loaded = await getChange(deps, cmd.n);
      if (!loaded) return errorMessage(`There is no change ${formatChangeId(cmd.n)}.`);
      if (!(await mayView(deps, { kind: 'user', userId: user }, loaded.state)))
        return errorMessage(notVisibleText(cmd.n));
      return showMessage(
        loaded.state,
        loaded.events,
        now,
        loaded.record?.slack?.permalink ?? null,
        deps.policy.policy,
      );
    }
    case 'deployed': {
      const env = cmd.environment ?? deps.policy.policy.productionEnvironments[0]!;
      const res = await recordDeployment(deps, {
        changeNumber: cmd.n,
        actor: user,
        environment: env,
        status: 'succeeded',
        commit: cmd.commit,
        pipelineUrl: null,
        source: 'slack',
        idempotencyKey: null,
      });
      return res.ok
        ? infoMessage(
            `🚀 Recorded: ${formatChangeId(cmd.n)} deployed to *${env}*. Verify it with \`/change verify ${formatChangeId(cmd.n)}\` once you have checked production.`,
          )
        : errorMessage(refusalText(res.error));
    }
    case 'cancel': {
      const res = await cancelChange(deps, { changeNumber: cmd.n, actor: user, reason: cmd.reason });
      return res.ok
        ? infoMessage(`🚫 ${formatChangeId(cmd.n)} is cancelled.`)
        : errorMessage(refusalText(res.error));
    }
    case 'token':
      return infoMessage((await tokenCommand(deps, user, cmd)).text);
    case 'github': {
      if (!cmd.login) {
        const logins = await deps.githubUsers.loginsOf(user);
        return infoMessage(
          logins.length
            ? `Your GitHub login: ${logins.map((l) => `\`${l}\``).join(', ')}.`
            : 'No GitHub login is linked to you: `/change github link <login>`.',
        );
      }
      const res = await linkGithubLogin(deps, user, cmd.login);
      return res.ok
        ? infoMessage(
            `🔗 ${res.already ? 'Already linked' : 'Linked'}: GitHub \`${res.login}\` is you. Your approvals of pull requests linked to changes you raised are never counted.`,
          )
        : errorMessage(res.message);
    }
    case 'meeting': {
      const res = await callAdhocMeeting(deps, ctx.boards, user, cmd.n);
      return res.ok
        ? infoMessage(
            `🟢 An ad hoc meeting of the board is open now for ${formatChangeId(cmd.n)}, until ${slackDate(res.meeting.end, '{time}')}: decide it on the agenda in the board's channel.`,
          )
        : errorMessage(res.message);
    }
    case 'delegate':
      return (await delegateCommand(deps, ctx.sender, user, cmd)).reply;
    default:
      return helpMessage();
  }
}
