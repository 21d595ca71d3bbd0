import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  type AdminOutcome,
  chooseTemplate,
  claimFirstAdmin,
  mapRoles,
  readPolicyVersion,
  type SetupOverview,
  setChannels,
  setupOverview,
} from '../../../application/administer-policy.js';
import type { RoleDef } from '../../../domain/policy.js';
import { CHANNEL_PURPOSES, type ChannelPurpose, channelUse } from '../../../domain/policy-admin.js';
import { SlackApiError } from '../../../infra/slack/sender.js';
import type { SlackContext } from '../context.js';
import { failureText } from '../copy.js';
import { uploadFileToUser } from '../file-upload.js';
import { ACTIONS, SETUP_BLOCKS, VIEWS } from '../ids.js';
import { loadingModal, openView, updateView } from '../modal-helpers.js';
import { readValue, stateValuesSchema } from '../request-form.js';
import { messageModal } from '../views/modals.js';
import {
  channelsModal,
  diffModal,
  type GroupOption,
  rolesModal,
  setupClaimModal,
  templateModal,
} from '../views/setup.view.js';
import { mention } from '../views/text.js';
import type { SlackRoutes, ViewArgs } from './routes.js';

const baseMeta = z.object({ base: z.string().regex(/^[0-9a-f]{16}$/) });
const versionValue = z
  .string()
  .regex(/^\d{1,9}$/)
  .transform(Number);

function meta(text: string | undefined): { base: string } | null {
  try {
    const parsed = baseMeta.safeParse(JSON.parse(text || '{}'));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The workspace's user groups for the role pickers (none when Slack will not list them). */
async function userGroups(ctx: SlackContext): Promise<GroupOption[]> {
  try {
    const res = await ctx.sender.call<{
      usergroups?: { id: string; handle?: string; date_delete?: number }[];
    }>('usergroups.list', { include_disabled: false });
    return (res.usergroups ?? [])
      .filter((g) => /^S[A-Z0-9]+$/.test(g.id) && !g.date_delete)
      .map((g) => ({ id: g.id, handle: g.handle ?? g.id }));
  } catch (err) {
    ctx.logger.warn('could not list user groups; roles are mapped to people only', { err });
    return [];
  }
}

/**
 * Setup from App Home: the first admin's setup code, a template, role mappings, channels (each
 * checked by posting there), "Download as YAML" and version diffs. Modals open at once (the trigger
 * id lives 3 s) and fill in after; every rule is the application's (administer-policy.ts).
 */
export function registerSetup(routes: SlackRoutes, ctx: SlackContext): void {
  const openThen = async (
    triggerId: string,
    title: string,
    build: () => Promise<Parameters<typeof updateView>[2]>,
  ) => {
    const viewId = await openView(ctx.sender, triggerId, loadingModal(title));
    if (!viewId) return;
    try {
      await updateView(ctx.sender, viewId, await build());
    } catch (err) {
      ctx.logger.error('could not build a setup modal', { err });
      await updateView(ctx.sender, viewId, messageModal(title, failureText(err))).catch(() => undefined);
    }
  };

  routes.action(ACTIONS.setupClaim, async ({ ack, body }) => {
    await ack();
    await openView(ctx.sender, (body as { trigger_id: string }).trigger_id, setupClaimModal());
  });

  /** A setup modal for admins: opened at once, then filled in from the overview (or a refusal). */
  const adminModal = (
    action: string,
    title: string,
    build: (s: SetupOverview) => Promise<Parameters<typeof updateView>[2]> | Parameters<typeof updateView>[2],
  ) =>
    routes.action(action, async ({ ack, body }) => {
      await ack();
      await openThen((body as { trigger_id: string }).trigger_id, title, async () => {
        const s = await setupOverview(ctx.deps, body.user.id);
        return s.admin && !s.readOnly
          ? build(s)
          : messageModal(
              'Setup',
              'Only an admin can change the policy, and only when it does not come from a file.',
            );
      });
    });

  adminModal(ACTIONS.setupTemplate, 'Choose a template', (s) =>
    templateModal(s.templates, s.organisation, s.hash),
  );
  adminModal(ACTIONS.setupRoles, 'Map roles', async (s) => rolesModal(s, await userGroups(ctx)));
  adminModal(ACTIONS.setupChannels, 'Channels', (s) => channelsModal(s));
  routes.action(ACTIONS.setupDiff, async ({ ack, body, action }) => {
    await ack();
    const n = versionValue.safeParse(
      (action as { selected_option?: { value?: string } }).selected_option?.value,
    );
    await openThen((body as { trigger_id: string }).trigger_id, 'Policy version', async () => {
      const v = n.success ? await readPolicyVersion(ctx.deps, body.user.id, n.data) : null;
      if (!v?.ok || !v.record)
        return messageModal('Policy version', v && !v.ok ? v.message : 'That version does not exist.');
      return diffModal(v.record);
    });
  });

  routes.action(ACTIONS.setupDownload, async ({ ack, body, action }) => {
    await ack();
    const n = versionValue.safeParse((action as { value?: string }).value);
    const userId = body.user.id;
    ctx.work.submit(async () => {
      const v = await readPolicyVersion(ctx.deps, userId, n.success && n.data > 0 ? n.data : null);
      if (!v.ok) {
        await ctx.sender.call('chat.postMessage', { channel: userId, text: v.message });
        return;
      }
      const dir = await mkdtemp(join(tmpdir(), 'changegate-policy-'));
      try {
        const number = v.record?.number ?? 0;
        const filename = `changegate-policy-v${number}-${v.hash}.yml`;
        const path = join(dir, filename);
        await writeFile(path, v.yaml, 'utf8');
        await uploadFileToUser(ctx.sender, userId, {
          path,
          filename,
          title: `Changegate policy v${number} (${v.hash})`,
          preparing: `Preparing the policy file (version ${number})…`,
          message: `Here is the policy in force: version ${number}, hash \`${v.hash}\`. It loads back to the same hash (\`CHANGEGATE_POLICY=${filename}\`).`,
        });
      } catch (err) {
        ctx.logger.error('could not send the policy file', { userId, err });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  const done = async (args: ViewArgs, block: string, run: () => Promise<AdminOutcome>) => {
    const { ack, body } = args;
    let out: AdminOutcome;
    try {
      out = await run();
    } catch (err) {
      ctx.logger.error('setup failed', { userId: body.user.id, err });
      return ack({ response_action: 'errors', errors: { [block]: failureText(err) } });
    }
    if (!out.ok) {
      const present = new Set((args.view.blocks ?? []).map((b) => (b as { block_id?: string }).block_id));
      const errors = Object.fromEntries(
        Object.entries(out.fields ?? {})
          .map(
            ([k, v]) =>
              [
                present.has(k)
                  ? k
                  : present.has(SETUP_BLOCKS.role(k))
                    ? SETUP_BLOCKS.role(k)
                    : SETUP_BLOCKS.channel(k),
                v,
              ] as const,
          )
          .filter(([k]) => present.has(k)),
      );
      return ack({
        response_action: 'errors',
        errors: Object.keys(errors).length ? errors : { [block]: out.message },
      });
    }
    await ack();
    const r = out.record;
    const audit = ctx.deps.policy.policy.channels.audit;
    // The audit channel keeps its own record of every version (a copy the database cannot edit).
    if (audit)
      await ctx.sender
        .call('chat.postMessage', {
          channel: audit,
          text: `📜 Policy version ${r.number} (\`${r.hash}\`) published by ${mention(r.by)}: ${r.note.replace(/[<>&]/g, '')} (+${r.added} −${r.removed} lines; record ${r.recordHash.slice(0, 16)})`,
        })
        .catch((err) => ctx.logger.warn('could not post the policy version to the audit channel', { err }));
    await ctx.home
      .publish(body.user.id)
      .catch((err) => ctx.logger.warn('could not refresh App Home', { err }));
  };

  routes.view(VIEWS.setupClaim, async (args) => {
    const values = stateValuesSchema.safeParse(args.view.state?.values ?? {});
    const code = values.success ? (readValue(values.data, SETUP_BLOCKS.code)?.value ?? '') : '';
    await done(args, SETUP_BLOCKS.code, () => claimFirstAdmin(ctx.deps, args.body.user.id, code));
  });

  routes.view(VIEWS.setupTemplate, async (args) => {
    const m = meta(args.view.private_metadata);
    const values = stateValuesSchema.safeParse(args.view.state?.values ?? {});
    const id = values.success
      ? readValue(values.data, SETUP_BLOCKS.template)?.selected_option?.value
      : undefined;
    if (!m || !id)
      return args.ack({
        response_action: 'errors',
        errors: { [SETUP_BLOCKS.template]: 'Choose a template.' },
      });
    await done(args, SETUP_BLOCKS.template, () => chooseTemplate(ctx.deps, args.body.user.id, id, m.base));
  });

  routes.view(VIEWS.setupRoles, async (args) => {
    const m = meta(args.view.private_metadata);
    const values = stateValuesSchema.safeParse(args.view.state?.values ?? {});
    const first = (args.view.blocks ?? [])
      .map((b) => (b as { block_id?: string }).block_id)
      .find((b) => b?.startsWith('role:'));
    if (!m || !values.success || !first)
      return args.ack({
        response_action: 'errors',
        errors: { [first ?? 'role:']: 'This form is out of date; open it again.' },
      });
    const mapping: Record<string, RoleDef> = {};
    for (const block of args.view.blocks ?? []) {
      const id = (block as { block_id?: string }).block_id ?? '';
      if (!id.startsWith('role:')) continue;
      const role = id.slice('role:'.length);
      const hasGroups = (args.view.blocks ?? []).some(
        (b) => (b as { block_id?: string }).block_id === SETUP_BLOCKS.roleGroups(role),
      );
      const current = ctx.deps.policies.published().policy.roles[role];
      const picked = readValue(values.data, id);
      const pickedGroups = readValue(values.data, SETUP_BLOCKS.roleGroups(role));
      // Slack sends every input of the modal; one it did not send keeps what the role had.
      mapping[role] = {
        users: picked ? (picked.selected_users ?? []) : (current?.users ?? []),
        groups:
          hasGroups && pickedGroups
            ? (pickedGroups.selected_options ?? []).map((o) => o.value)
            : (current?.groups ?? []),
      };
    }
    await done(args, first, () => mapRoles(ctx.deps, args.body.user.id, mapping, m.base));
  });

  routes.view(VIEWS.setupChannels, async (args) => {
    const m = meta(args.view.private_metadata);
    const values = stateValuesSchema.safeParse(args.view.state?.values ?? {});
    const firstBlock = SETUP_BLOCKS.channel(CHANNEL_PURPOSES[0]);
    if (!m || !values.success)
      return args.ack({
        response_action: 'errors',
        errors: { [firstBlock]: 'This form is out of date; open it again.' },
      });
    const channels: Partial<Record<ChannelPurpose, string>> = {};
    for (const p of CHANNEL_PURPOSES) {
      const c = readValue(values.data, SETUP_BLOCKS.channel(p))?.selected_conversation;
      if (c) channels[p] = c;
    }
    const probe = async (channel: string, purpose: ChannelPurpose): Promise<string | null> => {
      try {
        await ctx.sender.call('chat.postMessage', {
          channel,
          text: `Changegate will post ${channelUse(purpose)} here (set up by ${mention(args.body.user.id)}).`,
        });
        return null;
      } catch (err) {
        return err instanceof SlackApiError ? err.slackError : (err as Error).message;
      }
    };
    await done(args, firstBlock, () => setChannels(ctx.deps, args.body.user.id, channels, m.base, probe));
  });
}
