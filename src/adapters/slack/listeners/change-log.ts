import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from '@slack/bolt';
import { policyHistory } from '../../../application/administer-policy.js';
import { changeIntegrity } from '../../../application/audit-ledger.js';
import { buildChangeLog } from '../../../application/build-change-log.js';
import { headOf } from '../../../application/check-deploy-gate.js';
import { exportEvidence } from '../../../application/export-evidence.js';
import { getChange } from '../../../application/get-change.js';
import { mayView } from '../../../application/visibility.js';
import { verifyChain } from '../../../domain/audit.js';
import { formatChangeId } from '../../../domain/change.js';
import { fieldColumns, writeEvidence } from '../../export/evidence-writer.js';
import { parseChangeLogCommand } from '../change-log-parser.js';
import type { SlackContext } from '../context.js';
import { failureText, notVisibleText } from '../copy.js';
import { uploadFileToUser } from '../file-upload.js';
import { auditTrailMessage, changeLogMessage, SCOPE_TEXT } from '../views/change-log.message.js';
import { errorMessage, infoMessage } from '../views/command.messages.js';
import { policyHistoryMessage } from '../views/setup.view.js';

const HELP =
  '`/change-log` last 30 days · `/change-log 7d` · `90d` · `12m` · `1y` · `2026-10` · `2026-Q3` · `from 2026-09-01 to 2026-09-30` · `CR-42` (its audit trail) · `policy` (its versions) · add `public` to post in the channel · `/change-log export 2026-Q3 csv` (or `json`) sends you the evidence file.';

/** `/change-log`: summaries, one change's audit trail, and evidence exports. Acks at once, answers via response_url. */
export function registerChangeLog(app: App, ctx: SlackContext): void {
  app.command('/change-log', async ({ command, ack, respond }) => {
    const deps = ctx.deps;
    const cmd = parseChangeLogCommand(command.text, deps.clock.now(), deps.policy.policy.timezone);
    if (cmd.kind === 'help' || cmd.kind === 'invalid') {
      const text = cmd.kind === 'invalid' ? `${cmd.message}\n${HELP}` : HELP;
      await ack({ response_type: 'ephemeral', text, blocks: infoMessage(text).blocks });
      return;
    }
    await ack();
    const viewer = { kind: 'user' as const, userId: command.user_id };
    try {
      if (cmd.kind === 'policy') {
        const h = await policyHistory(deps, command.user_id);
        const msg = h.ok ? policyHistoryMessage(h) : errorMessage(h.message);
        await respond({ response_type: 'ephemeral', text: msg.text, blocks: msg.blocks });
      } else if (cmd.kind === 'summary') {
        const { summary, scope } = await buildChangeLog(deps, viewer, cmd.period);
        const msg = changeLogMessage(summary, scope);
        await respond({
          response_type: cmd.public ? 'in_channel' : 'ephemeral',
          text: msg.text,
          blocks: msg.blocks,
        });
      } else if (cmd.kind === 'trail') {
        const loaded = await getChange(deps, cmd.n);
        if (!loaded || !(await mayView(deps, viewer, loaded.state))) {
          const msg = errorMessage(
            loaded ? notVisibleText(cmd.n) : `There is no change ${formatChangeId(cmd.n)}.`,
          );
          await respond({ response_type: 'ephemeral', text: msg.text, blocks: msg.blocks });
          return;
        }
        const ok =
          verifyChain(loaded.events, headOf(loaded)) === null && (await changeIntegrity(deps, loaded)).ok;
        const msg = auditTrailMessage(
          loaded.state,
          loaded.events,
          ok,
          loaded.record?.slack?.permalink ?? null,
          deps.policy.policy,
        );
        await respond({
          response_type: cmd.public ? 'in_channel' : 'ephemeral',
          text: msg.text,
          blocks: msg.blocks,
        });
      } else {
        await respond({
          response_type: 'ephemeral',
          text: `Preparing the ${cmd.format.toUpperCase()} evidence for ${cmd.period.label}; it will arrive in a DM.`,
        });
        const dir = await mkdtemp(join(tmpdir(), 'changegate-export-'));
        try {
          const evidence = await exportEvidence(deps, viewer, cmd.period, { proofs: cmd.format === 'json' });
          const scope = evidence.scope;
          const filename = `changegate-evidence-${cmd.period.label.replace(/[^A-Za-z0-9-]+/g, '_')}.${cmd.format}`;
          const path = join(dir, filename);
          const count = await writeEvidence(
            evidence,
            cmd.format,
            createWriteStream(path),
            fieldColumns(deps.policy.policy),
          );
          await uploadFileToUser(ctx.sender, command.user_id, {
            path,
            filename,
            title: `Change evidence ${cmd.period.label}`,
            preparing: `⏳ Preparing the evidence export for ${cmd.period.label}…`,
            message: `📎 Evidence export for ${cmd.period.label}: ${count} change${count === 1 ? '' : 's'}${scope === 'all' ? '' : ` (${SCOPE_TEXT[scope]})`}.`,
          });
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    } catch (err) {
      ctx.logger.error('/change-log failed', { userId: command.user_id, err });
      const msg = errorMessage(failureText(err));
      await respond({ response_type: 'ephemeral', text: msg.text, blocks: msg.blocks }).catch(
        () => undefined,
      );
    }
  });
}
