import type { ActionsBlock, Button, ContextBlock, InputBlock, KnownBlock, ModalView } from '@slack/types';
import type { SetupOverview } from '../../../application/administer-policy.js';
import { CHANNEL_PURPOSES, channelUse, type PolicyVersionRecord } from '../../../domain/policy-admin.js';
import { ACTIONS, INPUT, SETUP_BLOCKS, VIEWS } from '../ids.js';
import { escapeMrkdwn, mention, mrkdwn, plain, slackDate, truncate, userText } from './text.js';

const button = (text: string, action: string, value: string, style?: 'primary'): Button => ({
  type: 'button',
  text: plain(text, 75),
  action_id: action,
  value,
  ...(style ? { style } : {}),
});

function versionLine(r: PolicyVersionRecord): string {
  const who = r.by === 'changegate' ? 'Changegate' : mention(r.by);
  return `*v${r.number}* \`${r.hash}\` · ${who} · ${slackDate(r.at)} · ${userText(r.note, 120)} · +${r.added} −${r.removed}`;
}

/** App Home's setup section: the first-admin claim, or for admins the checklist, actions and history. */
export function setupBlocks(s: SetupOverview): KnownBlock[] {
  if (!s.admin && !s.claimable) return [];
  if (!s.admin)
    return [
      { type: 'header', text: plain('Set up Changegate') },
      {
        type: 'section',
        text: mrkdwn(
          'Changegate has no admin yet. Whoever started it has a one-time *setup code* (printed in its log at start-up): enter it to become the first admin.',
        ),
      },
      {
        type: 'actions',
        elements: [button('Enter setup code', ACTIONS.setupClaim, 'claim', 'primary')],
      } as ActionsBlock,
      { type: 'divider' },
    ];
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain('Setup') },
    {
      type: 'context',
      elements: [
        mrkdwn(
          `Policy *${userText(s.organisation, 80)}* · version ${s.number} · \`${s.hash}\`${s.readOnly ? ` · from the file \`${userText(s.fileSource ?? '', 120)}\`` : ''}`,
        ),
      ],
    } as ContextBlock,
  ];
  if (s.readOnly) {
    blocks.push({
      type: 'section',
      text: mrkdwn(
        '🔒 *Read-only:* `CHANGEGATE_POLICY` names the policy file, and the file wins. Edit the file and restart Changegate to change the policy; every change of the file is recorded as a new version.',
      ),
    });
  }
  const open = s.checklist.filter((i) => !i.done);
  const lines = s.checklist.map((i) => `${i.done ? '✅' : '⬜'} ${userText(i.text, 160)}`);
  blocks.push({
    type: 'section',
    text: mrkdwn(
      `${open.length === 0 ? '*Everything is set up.*' : `*Still missing (${open.length}):*`}\n${truncate(lines.join('\n'), 2900)}`,
    ),
  });
  const actions: Button[] = s.readOnly
    ? []
    : [
        button('Choose a template', ACTIONS.setupTemplate, s.hash),
        button(
          'Map roles',
          ACTIONS.setupRoles,
          s.hash,
          open.some((i) => i.key.startsWith('role:')) ? 'primary' : undefined,
        ),
        button('Channels', ACTIONS.setupChannels, s.hash),
      ];
  actions.push(button('Download as YAML', ACTIONS.setupDownload, String(s.number)));
  blocks.push({ type: 'actions', block_id: 'setup_actions', elements: actions } as ActionsBlock);
  if (s.history.length > 0) {
    blocks.push({
      type: 'section',
      text: mrkdwn(`*Policy history*\n${truncate(s.history.map(versionLine).join('\n'), 2900)}`),
    });
    const diffs = s.history.filter((r) => r.number > 1).slice(0, 5);
    if (diffs.length > 0)
      blocks.push({
        type: 'actions',
        block_id: 'setup_history',
        elements: [
          {
            type: 'static_select',
            action_id: ACTIONS.setupDiff,
            placeholder: plain('Show the diff of a version', 150),
            options: diffs.map((r) => ({
              text: plain(`Version ${r.number} (${r.origin})`, 75),
              value: String(r.number),
            })),
          },
        ],
      } as ActionsBlock);
  }
  blocks.push({ type: 'divider' });
  return blocks;
}

/** A setup form: its callback, the policy version it edits (refused if another was published since), Save. */
function setupForm(
  callbackId: string,
  title: string,
  baseHash: string,
  blocks: KnownBlock[],
  submit = 'Save',
): ModalView {
  return {
    type: 'modal',
    callback_id: callbackId,
    private_metadata: JSON.stringify({ base: baseHash }),
    title: plain(title, 24),
    submit: plain(submit, 24),
    close: plain('Cancel', 24),
    blocks: blocks.slice(0, 100),
  };
}

export function setupClaimModal(): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.setupClaim,
    title: plain('Set up Changegate', 24),
    submit: plain('Become admin', 24),
    close: plain('Cancel', 24),
    blocks: [
      {
        type: 'input',
        block_id: SETUP_BLOCKS.code,
        label: plain('Setup code'),
        hint: plain('Printed in the log when Changegate started, e.g. ABCD-EFGH-JKLM.'),
        element: { type: 'plain_text_input', action_id: INPUT, max_length: 30 },
      },
    ],
  };
}

export function templateModal(
  templates: SetupOverview['templates'],
  organisation: string,
  baseHash: string,
): ModalView {
  return setupForm(
    VIEWS.setupTemplate,
    'Choose a template',
    baseHash,
    [
      {
        type: 'section',
        text: mrkdwn(
          `The policy in force is *${userText(organisation, 80)}*. A template replaces its types, stages and rules; people already mapped to a role the template also has, and the channels, carry over.`,
        ),
      },
      {
        type: 'input',
        block_id: SETUP_BLOCKS.template,
        label: plain('Template'),
        element: {
          type: 'radio_buttons',
          action_id: INPUT,
          options: templates.slice(0, 10).map((t) => ({
            text: plain(t.name, 75),
            description: plain(t.summary || t.name, 75),
            value: t.id,
          })),
        },
      },
    ],
    'Use template',
  );
}

export interface GroupOption {
  id: string;
  handle: string;
}

export function rolesModal(s: SetupOverview, groups: readonly GroupOption[]): ModalView {
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: mrkdwn(
        'Who holds each role: Slack people, and user groups (their members change with the group).',
      ),
    },
  ];
  const groupOptions = groups.slice(0, 100).map((g) => ({ text: plain(`@${g.handle}`, 75), value: g.id }));
  for (const r of s.roles.slice(0, 45)) {
    const uses = [...r.stages, ...r.access.map((a) => `access: ${a}`)];
    const users: InputBlock = {
      type: 'input',
      block_id: SETUP_BLOCKS.role(r.role),
      optional: true,
      label: plain(r.role, 2000),
      ...(uses.length ? { hint: plain(truncate(uses.join(', '), 150)) } : {}),
      element: {
        type: 'multi_users_select',
        action_id: INPUT,
        ...(r.members.users.length ? { initial_users: r.members.users.slice(0, 100) } : {}),
      },
    };
    blocks.push(users);
    const known = new Set(groupOptions.map((o) => o.value));
    const initial = r.members.groups.filter((g) => known.has(g));
    if (groupOptions.length > 0)
      blocks.push({
        type: 'input',
        block_id: SETUP_BLOCKS.roleGroups(r.role),
        optional: true,
        label: plain(`${r.role}: user groups`, 2000),
        element: {
          type: 'multi_static_select',
          action_id: INPUT,
          options: groupOptions,
          ...(initial.length
            ? { initial_options: groupOptions.filter((o) => initial.includes(o.value)) }
            : {}),
        },
      });
  }
  return setupForm(VIEWS.setupRoles, 'Map roles', s.hash, blocks);
}

export function channelsModal(s: SetupOverview): ModalView {
  return setupForm(VIEWS.setupChannels, 'Channels', s.hash, [
    {
      type: 'section',
      text: mrkdwn('Changegate posts a short note in each channel you choose, to check it can post there.'),
    },
    ...CHANNEL_PURPOSES.map(
      (p): InputBlock => ({
        type: 'input',
        block_id: SETUP_BLOCKS.channel(p),
        optional: true,
        label: plain(`${p[0]!.toUpperCase()}${p.slice(1)} channel`),
        hint: plain(channelUse(p)),
        element: {
          type: 'conversations_select',
          action_id: INPUT,
          filter: { include: ['public', 'private'], exclude_bot_users: true },
          ...(s.channels[p] ? { initial_conversation: s.channels[p]! } : {}),
        },
      }),
    ),
  ]);
}

/** A version's diff against the one before, in a modal. */
export function diffModal(r: PolicyVersionRecord): ModalView {
  const text = r.diff.trim() || '(no difference in the file)';
  const chunks: string[] = [];
  for (let i = 0; i < text.length && chunks.length < 20; i += 2600) chunks.push(text.slice(i, i + 2600));
  return {
    type: 'modal',
    title: plain(`Policy v${r.number}`, 24),
    close: plain('Close', 24),
    blocks: [
      { type: 'section', text: mrkdwn(versionLine(r)) },
      ...chunks.map((c) => ({
        type: 'section' as const,
        text: mrkdwn(`\`\`\`${escapeMrkdwn(c.replace(/```/g, "'''"))}\`\`\``),
      })),
    ],
  };
}

/** `/change-log policy`: the latest versions of the policy and whether the history verifies. */
export function policyHistoryMessage(h: {
  latest: PolicyVersionRecord[];
  total: number;
  findings: string[];
}): { text: string; blocks: KnownBlock[] } {
  const status =
    h.findings.length === 0
      ? `✅ All ${h.total} versions verify (chained and sealed with the audit key).`
      : `🚨 The policy history does not verify: ${userText(h.findings.slice(0, 5).join('; '), 1500)}`;
  const text = `Policy history: ${h.total} versions`;
  return {
    text,
    blocks: [
      { type: 'header', text: plain('Policy history') },
      { type: 'section', text: mrkdwn(status) },
      {
        type: 'section',
        text: mrkdwn(truncate(h.latest.map(versionLine).join('\n') || 'No version recorded yet.', 2900)),
      },
      {
        type: 'context',
        elements: [
          mrkdwn(
            'Each change shows the version it was raised under (`policy <hash>`). Admins see the diffs in App Home.',
          ),
        ],
      } as ContextBlock,
    ],
  };
}
