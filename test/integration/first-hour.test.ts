import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointNow } from '../../src/application/audit-ledger.js';
import { verifyAudit } from '../../src/application/verify-audit.js';
import { parsePolicy } from '../../src/config/policy.js';
import { type Finding, KeyRing } from '../../src/domain/ledger.js';
import { checkPolicyHistory, type PolicyVersionRecord } from '../../src/domain/policy-admin.js';
import { approve, openRequestModal, rootMessage, settled, submitRequest } from '../support/flows.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { ADMIN, ALICE, APPROVALS, AUDITOR, BOB, CAROL, DAVE, SECURITY_GROUP } from '../support/people.js';

type View = {
  id: string;
  hash?: string;
  callback_id?: string;
  private_metadata?: string;
  blocks: { type: string; block_id?: string; elements?: { action_id?: string; value?: string }[] }[];
};

const AUDIT_CHANNEL = 'C0123AUDIT';
const UNREACHABLE = 'C0NOTJOINED';

async function homeOf(t: TestApp, user: string, after = 0): Promise<View> {
  const before = t.fake.callsOf('views.publish').filter((c) => c.args.user_id === user).length;
  if (after >= 0) await t.slack.homeOpened(user);
  await t.fake.waitFor(
    () => t.fake.callsOf('views.publish').filter((c) => c.args.user_id === user).length > before,
  );
  return t.fake.homes.get(user) as unknown as View;
}

const buttons = (v: View) =>
  v.blocks.flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : [])).map((e) => e.action_id);
const text = (v: View) => JSON.stringify(v.blocks);

/** Clicks a setup button in App Home and returns the modal it opened (once filled in). */
async function openSetupModal(t: TestApp, user: string, action: string, value: string): Promise<View> {
  const before = t.fake.callsOf('views.update').length;
  const opened = t.fake.callsOf('views.open').length;
  const at = { user, view: { id: 'VHOME', type: 'home' as const } };
  const res = await (action === 'setup_diff'
    ? t.slack.choose(action, value, at)
    : t.slack.click(action, value, at));
  expect(res.status).toBe(200);
  await t.fake.waitFor(() => t.fake.callsOf('views.open').length > opened);
  const call = await t.fake.waitFor(() => t.fake.callsOf('views.update')[before]);
  return call.response.view as View;
}

async function submit(t: TestApp, view: View, values: Record<string, unknown>, user: string) {
  const res = await t.slack.submitView(
    {
      callbackId: view.callback_id!,
      values: values as never,
      privateMetadata: view.private_metadata ?? '',
      blocks: view.blocks,
      viewId: view.id,
    },
    user,
  );
  expect(res.status).toBe(200);
  return res.json as { response_action?: string; errors?: Record<string, string> } | null;
}

const users = (ids: string[]) => ({ value: { type: 'multi_users_select', selected_users: ids } });
const channel = (id: string) => ({ value: { type: 'conversations_select', selected_conversation: id } });

async function history(t: TestApp): Promise<PolicyVersionRecord[]> {
  const out: PolicyVersionRecord[] = [];
  for await (const r of t.app.deps.policies.store.all()) out.push(r);
  return out;
}

describe('the first hour: from a fresh install to a first approved change, set up in Slack', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { policySource: 'database' }); // a fresh database
    t.fake.unreachableChannels.add(UNREACHABLE);
  });
  afterAll(() => t?.stop());

  it('setup code → template → roles → channels → first change approved → YAML download → a diff per version', async () => {
    // A fresh database: the built-in policy, nobody an admin, a one-time code printed at start-up.
    const code = t.app.setupCode!;
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect((await history(t)).map((r) => [r.number, r.origin, r.by])).toEqual([[1, 'initial', 'changegate']]);

    // Anyone may claim while there is no admin: App Home offers the code entry.
    let home = await homeOf(t, ALICE);
    expect(buttons(home)).toContain('setup_claim');
    const claimOpened = t.fake.callsOf('views.open').length;
    await t.slack.click('setup_claim', 'claim', { user: ALICE, view: { id: 'VHOME', type: 'home' } });
    const claim = (await t.fake.waitFor(() => t.fake.callsOf('views.open')[claimOpened])).response
      .view as View;
    expect(claim.callback_id).toBe('setup_claim_modal');
    const wrong = await submit(
      t,
      claim,
      { code: { value: { type: 'plain_text_input', value: 'AAAA-BBBB-CCCC' } } },
      ALICE,
    );
    expect(wrong?.errors?.code).toMatch(/not the setup code/);
    // Typed in lower case without dashes: still the code.
    const right = await submit(
      t,
      claim,
      { code: { value: { type: 'plain_text_input', value: code.toLowerCase().replace(/-/g, ' ') } } },
      ALICE,
    );
    expect(right).toBeNull();
    const again = await submit(t, claim, { code: { value: { type: 'plain_text_input', value: code } } }, BOB);
    expect(again?.errors?.code).toMatch(/already has an admin/);
    let versions = await history(t);
    expect(versions.at(-1)).toMatchObject({ number: 2, origin: 'first_admin', by: ALICE });
    expect(t.app.deps.policy.policy.roles.admins?.users).toEqual([ALICE]);

    // The admin sees setup: a checklist of what is missing, and the actions.
    home = await homeOf(t, ALICE);
    expect(buttons(home)).toEqual(
      expect.arrayContaining(['setup_template', 'setup_roles', 'setup_channels', 'setup_download']),
    );
    expect(text(home)).toContain('Still missing');
    expect(buttons(await homeOf(t, BOB))).not.toContain('setup_template');

    // A template: Trove's SOP. Its CTO role also administers, but the chooser is not made CTO.
    const templates = await openSetupModal(t, ALICE, 'setup_template', t.app.deps.policy.hash);
    expect(templates.callback_id).toBe('setup_template_modal');
    expect(text(templates)).toContain('"value":"trove"');
    expect(
      await submit(
        t,
        templates,
        { template: { value: { type: 'radio_buttons', selected_option: { value: 'trove' } } } },
        ALICE,
      ),
    ).toBeNull();
    const trove = t.app.deps.policy.policy;
    expect(trove.organisation).toBe('Trove');
    expect(trove.roles.cto?.users).toEqual([]);
    expect(trove.access.admins.some((r) => trove.roles[r]?.users.includes(ALICE))).toBe(true);

    // Role mapping: people and user groups, with pickers for each role.
    const roles = await openSetupModal(t, ALICE, 'setup_roles', t.app.deps.policy.hash);
    const blockIds = roles.blocks.map((b) => b.block_id);
    expect(blockIds).toEqual(
      expect.arrayContaining(['role:cto', 'role:engineers', 'role:auditors', 'role_groups:cto']),
    );
    expect(text(roles)).toContain(SECURITY_GROUP);
    expect(
      await submit(
        t,
        roles,
        {
          'role:cto': users([DAVE]),
          'role:engineers': users([BOB, CAROL]),
          'role:auditors': users([AUDITOR]),
          'role:admins': users([ALICE]),
          'role_groups:auditors': {
            value: { type: 'multi_static_select', selected_options: [{ value: SECURITY_GROUP }] },
          },
        },
        ALICE,
      ),
    ).toBeNull();
    expect(t.app.deps.policy.policy.roles.cto).toEqual({ users: [DAVE], groups: [] });
    expect(t.app.deps.policy.policy.roles.auditors).toEqual({ users: [AUDITOR], groups: [SECURITY_GROUP] });

    // Channels: one the bot is not in is refused inline with the way out; then the right ones.
    let channels = await openSetupModal(t, ALICE, 'setup_channels', t.app.deps.policy.hash);
    const refused = await submit(t, channels, { 'channel:approvals': channel(UNREACHABLE) }, ALICE);
    expect(refused?.errors?.['channel:approvals']).toMatch(/invite it/);
    channels = await openSetupModal(t, ALICE, 'setup_channels', t.app.deps.policy.hash);
    expect(
      await submit(
        t,
        channels,
        { 'channel:approvals': channel(APPROVALS), 'channel:audit': channel(AUDIT_CHANNEL) },
        ALICE,
      ),
    ).toBeNull();
    expect(
      t.fake.posts(APPROVALS).some((m) => /Changegate will post approval threads here/.test(m.text)),
    ).toBe(true);
    expect(t.app.deps.policy.policy.channels).toMatchObject({ approvals: APPROVALS, audit: AUDIT_CHANNEL });
    home = await homeOf(t, ALICE);
    expect(text(home)).not.toMatch(/People in role \\"cto\\"[^"]*"\}/); // cto is mapped now

    // The first change under the new policy: raised, peer-reviewed and approved by the CTO.
    await openRequestModal(t, ALICE);
    const n = await submitRequest(
      t,
      { type: 'infrastructure', title: 'Rotate the load balancer certificate' },
      ALICE,
    );
    await rootMessage(t, n, APPROVALS);
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, DAVE);
    const approved = await t.app.models.Change.findOne({ number: n }).lean();
    expect(approved?.status).toBe('approved');
    versions = await history(t);
    const inForce = versions.at(-1)!;
    expect((await t.app.deps.changes.record(n))?.state?.policyHash).toBe(inForce.hash);

    // "Download as YAML": the file Slack receives is the stored version, and loads back to its hash.
    const uploads = t.fake.uploads.size;
    await t.slack.click('setup_download', String(inForce.number), {
      user: ALICE,
      view: { id: 'VHOME', type: 'home' },
    });
    const file = await t.fake.waitFor(() =>
      [...t.fake.uploads.values()].slice(uploads).find((u) => u.channel),
    );
    const stored = await t.app.models.PolicyVersion.findById(inForce.hash).lean();
    expect(file.bytes!.toString('utf8')).toBe(stored!.yaml);
    expect(parsePolicy(file.bytes!.toString('utf8'), 'download').hash).toBe(inForce.hash);
    expect(file.filename).toBe(`changegate-policy-v${inForce.number}-${inForce.hash}.yml`);

    // Every version is recorded: who, when, its hash and a diff against the one before.
    expect(versions.map((r) => [r.number, r.origin, r.by])).toEqual([
      [1, 'initial', 'changegate'],
      [2, 'first_admin', ALICE],
      [3, 'template', ALICE],
      [4, 'roles', ALICE],
      [5, 'channels', ALICE],
    ]);
    const roleVersion = versions[3]!;
    expect(roleVersion.diff).toMatch(/^\+.*U0123DAVE/m);
    expect(roleVersion.added).toBeGreaterThan(0);
    expect(versions[4]!.diff).toMatch(/^-\s+approvals: null$/m);
    expect(versions[4]!.diff).toMatch(new RegExp(`^\\+\\s+approvals: ${APPROVALS}$`, 'm'));
    // …shown in App Home, with the diff a click away, and witnessed in the audit channel.
    home = await homeOf(t, ALICE);
    expect(text(home)).toContain('Policy history');
    const diff = await openSetupModal(t, ALICE, 'setup_diff', '4');
    expect(text(diff)).toContain('U0123DAVE');
    expect(t.fake.posts(AUDIT_CHANNEL).some((m) => m.text.includes('Policy version 5'))).toBe(true);

    // Auditors read the history from /change-log; others may not.
    const posts = t.fake.responsePosts.length;
    await t.slack.command('/change-log', 'policy', { user: AUDITOR });
    const answer = await t.fake.waitFor(() => t.fake.responsePosts[posts]);
    expect(JSON.stringify(answer.body)).toContain('All 5 versions verify');
    expect(JSON.stringify(answer.body)).toContain(`*v4* \`${versions[3]!.hash}\``);
    await t.slack.command('/change-log', 'policy', { user: BOB });
    const refusedAnswer = await t.fake.waitFor(() => t.fake.responsePosts[posts + 1]);
    expect(String(refusedAnswer.body.text)).toMatch(/Only admins and auditors/);

    // The history verifies; an edit of a recorded version does not.
    const report = await verifyAudit(t.app.deps);
    expect(report.findings.filter((f: Finding) => f.detail.includes('policy'))).toEqual([]);
    // A signed checkpoint commits to the history's head: removing the newest version is then found.
    const signed = await checkpointNow(t.app.deps);
    expect(signed.kind).toBe('signed');
    expect(signed.kind === 'signed' && signed.checkpoint.body.logs?.policy_history).toEqual({
      number: 5,
      hash: versions[4]!.recordHash,
    });
    expect((await checkpointNow(t.app.deps)).kind).toBe('unchanged');
    const removed = await t.app.models.PolicyHistory.findByIdAndDelete('000000005').lean();
    const truncated = await verifyAudit(t.app.deps);
    expect(truncated.findings.map((f) => [f.kind, f.detail])).toContainEqual([
      'truncated',
      'policy_history: checkpoint #1 signed record 5, which is gone (the log has 4)',
    ]);
    await t.app.models.PolicyHistory.create(removed!);
    const ring = new KeyRing([t.app.deps.audit!.signer.publicKey]);
    const edited = versions.map((r) => (r.number === 4 ? { ...r, by: BOB } : r));
    expect(checkPolicyHistory(ring, edited).map((f) => f.kind)).toEqual(['edited']);
    expect(
      checkPolicyHistory(ring, versions.slice(0, 2).concat(versions.slice(3))).map((f) => f.kind),
    ).toContain('deleted');
  });

  it('a change keeps the rules of the version it was raised under; people and calendar follow the version in force', async () => {
    // Trove lets one person sign two stages (oneStagePerPerson: false); the built-in policy does not.
    const n = await submitRequest(t, { type: 'infrastructure', title: 'Resize the database volume' }, ALICE);
    const templates = await openSetupModal(t, ALICE, 'setup_template', t.app.deps.policy.hash);
    expect(
      await submit(
        t,
        templates,
        { template: { value: { type: 'radio_buttons', selected_option: { value: 'builtin' } } } },
        ALICE,
      ),
    ).toBeNull();
    expect(t.app.deps.policy.policy.separationOfDuties.oneStagePerPerson).toBe(true);
    // The CTO mapped under Trove carries over (same role name); they sign both stages of the old change.
    expect(t.app.deps.policy.policy.roles.cto?.users).toEqual([DAVE]);
    await approve(t, n, 0, DAVE);
    const events = await approve(t, n, 1, DAVE);
    expect(events.filter((e) => e.type === 'stage_approved').map((e) => e.actor)).toEqual([DAVE, DAVE]);
    expect((await t.app.models.Change.findOne({ number: n }).lean())?.status).toBe('approved');
    // A change raised now is held to the built-in rules: DAVE may sign only one of its stages.
    const m = await submitRequest(
      t,
      { type: 'infrastructure', title: 'Open port 443 on the bastion' },
      ALICE,
    );
    await approve(t, m, 0, DAVE);
    await approve(t, m, 1, DAVE);
    expect((await t.app.models.Change.findOne({ number: m }).lean())?.status).toBe('pending_approval');
    await settled(t);
  });

  it('refuses what an admin must not do: nobody left an admin, an outdated form, a non-admin', async () => {
    const roles = await openSetupModal(t, ALICE, 'setup_roles', t.app.deps.policy.hash);
    const adminRole = t.app.deps.policy.policy.access.admins.find((r) =>
      t.app.deps.policy.policy.roles[r]?.users.includes(ALICE),
    )!;
    const cto = t.app.deps.policy.policy.access.admins.includes('cto') ? { 'role:cto': users([]) } : {};
    const lockout = await submit(t, roles, { [`role:${adminRole}`]: users([]), ...cto }, ALICE);
    expect(Object.values(lockout?.errors ?? {}).join(' ')).toMatch(/nobody an admin/);
    // BOB is no admin: the same submission is refused for him, whatever the form says.
    const bob = await submit(t, roles, { 'role:cto': users([BOB]) }, BOB);
    expect(Object.values(bob?.errors ?? {}).join(' ')).toMatch(/Only an admin/);
    // A form opened before another version was published cannot overwrite it.
    const stale = await openSetupModal(t, ALICE, 'setup_roles', t.app.deps.policy.hash);
    expect(await submit(t, roles, { 'role:cto': users([DAVE, CAROL]) }, ALICE)).toBeNull();
    const late = await submit(t, stale, { 'role:cto': users([ADMIN]) }, ALICE);
    expect(Object.values(late?.errors ?? {}).join(' ')).toMatch(/another version/);
  });
});

describe('with CHANGEGATE_POLICY the file wins', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url);
  });
  afterAll(() => t?.stop());

  it('App Home shows the policy read-only with a note, and publishing is refused at the use case', async () => {
    expect(t.app.setupCode).toBeNull();
    const home = await homeOf(t, ADMIN);
    expect(text(home)).toContain('Read-only');
    expect(buttons(home)).toContain('setup_download');
    expect(buttons(home)).not.toContain('setup_roles');
    const res = await submit(
      t,
      {
        id: 'V0STALE',
        callback_id: 'setup_roles_modal',
        private_metadata: JSON.stringify({ base: t.app.deps.policy.hash }),
        blocks: [{ type: 'input', block_id: 'role:cto' }],
      },
      { 'role:cto': users([ADMIN]) },
      ADMIN,
    );
    expect(Object.values(res?.errors ?? {}).join(' ')).toMatch(/CHANGEGATE_POLICY/);
  });
});
