import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiClient, createToken } from '../support/api.js';
import { TestClock } from '../support/clock.js';
import {
  approve,
  clickOnChange,
  ephemeralsFor,
  eventually,
  replies,
  rootMessage,
  settled,
  submitRequest,
  verifyChange,
} from '../support/flows.js';
import { startTestApp, TEST_POLICY_YAML, type TestApp } from '../support/harness.js';
import { ADMIN, ALICE, APPROVALS, BOB, CAROL, ERIN, FRANK, SECURITY_GROUP } from '../support/people.js';

const SHA = '4f6c2e1d9a7b3c5e8f0a1b2c3d4e5f6a7b8c9d0e';
const OTHER = '9999999d9a7b3c5e8f0a1b2c3d4e5f6a7b8c9d0e';
const NOW = '2026-03-10T17:00:00Z';

/**
 * Controls that hold at every door: each test goes through signed Slack requests and the HTTP API
 * of the real app, on the real database, with the fake Slack.
 */
describe('controls', () => {
  let t: TestApp;
  let token = '';
  const api = apiClient(
    () => t,
    () => token,
  );
  const gate = (n: number, query = 'environment=production') => api(`/changes/CR-${n}/gate?${query}`);
  const report = (n: number, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    api(`/changes/CR-${n}/deployments`, { method: 'POST', body, headers });

  /** A normal change by Alice, approved by Bob (peer review) and Carol (lead). */
  async function approvedChange(form: Parameters<typeof submitRequest>[1] = {}): Promise<number> {
    const n = await submitRequest(t, form);
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, CAROL);
    return n;
  }

  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { clock: new TestClock(NOW) });
    token = await createToken(t, 'pipeline', 'env=production,staging');
  });
  afterAll(() => t.stop());
  beforeEach(() => {
    t.fake.clear();
    t.clock.set(NOW);
  });

  describe('an approval is for one deployment of one thing', () => {
    it('a change that names a commit refuses gate checks and flags deployments of another', async () => {
      const n = await approvedChange({ commit: SHA.toUpperCase() });
      const view = await api(`/changes/CR-${n}`);
      expect(view.json).toMatchObject({ commit: SHA });

      const other = await gate(n, `environment=production&commit=${OTHER}`);
      expect(other.status).toBe(409);
      expect(other.json).toMatchObject({ allowed: false, reasons: [{ code: 'commit_mismatch' }] });
      expect((await gate(n)).json).toMatchObject({ reasons: [{ code: 'commit_mismatch' }] });
      expect((await gate(n, `environment=staging&commit=${OTHER}`)).status).toBe(409);
      expect((await gate(n, `environment=production&commit=${SHA.slice(0, 7)}`)).status).toBe(200);

      const wrong = await report(n, { environment: 'production', status: 'succeeded', commit: OTHER });
      expect(wrong.status).toBe(201);
      expect(wrong.json).toMatchObject({
        unauthorised: true,
        reasons: ['commit_mismatch'],
        status: 'approved',
      });
      await settled(t);
      const alert = (text: string) => text.includes('*Unauthorised deployment*');
      expect(t.fake.posts(APPROVALS).filter((m) => !m.thread_ts && alert(m.text))).toHaveLength(1);
      expect(
        t.fake
          .dms(ERIN)
          .filter((m) => alert(m.text))
          .at(-1)!.text,
      ).toContain('not the commit the change was approved for');

      // In Slack, naming another commit is refused.
      await t.slack.command('/change', `deployed CR-${n} production ${OTHER}`, { user: ALICE });
      await settled(t);
      expect(String(t.fake.responsePosts.at(-1)!.body.text)).toContain(`approved for ${SHA.slice(0, 7)}`);

      const right = await report(n, { environment: 'production', status: 'succeeded', commit: SHA });
      expect(right.json).toMatchObject({ unauthorised: false, status: 'deployed' });
    });

    it('a change deployed and verified is finished: the gate refuses it and a pipeline redeploy is flagged', async () => {
      const n = await approvedChange();
      await clickOnChange(t, n, 'change_record_deployment', String(n), ALICE);
      await settled(t);
      expect((await gate(n)).json).toMatchObject({ reasons: [{ code: 'unverified_previous_deployment' }] });
      await verifyChange(t, n, ALICE);
      expect((await api(`/changes/CR-${n}`)).json).toMatchObject({ status: 'verified' });

      t.clock.set('2026-06-10T17:00:00Z'); // months later, the old number is no deploy pass
      const res = await gate(n);
      expect(res.status).toBe(409);
      expect(res.json).toMatchObject({ reasons: [{ code: 'already_deployed' }] });
      const again = await report(n, { environment: 'production', status: 'succeeded' });
      expect(again.json).toMatchObject({
        unauthorised: true,
        reasons: ['already_deployed'],
        status: 'verified',
      });
      await clickOnChange(t, n, 'change_record_deployment', String(n), ALICE);
      await settled(t);
      expect(ephemeralsFor(t, ALICE).at(-1)).toContain('it is finished');
    });

    it('the gate fails closed on a change whose history does not verify', async () => {
      const n = await approvedChange();
      expect((await gate(n)).status).toBe(200);
      // Someone with database access edits the lead's approval comment.
      await t.app.models.ChangeEvent.updateOne(
        { changeNumber: n, type: 'stage_approved', seq: 3 },
        { $set: { 'data.comment': 'approved (edited)' } },
      );
      const res = await gate(n);
      expect(res.status).toBe(409);
      expect(res.json).toMatchObject({ allowed: false, reasons: [{ code: 'audit_trail_broken' }] });
      const deployed = await report(n, { environment: 'production', status: 'succeeded' });
      expect(deployed.json).toMatchObject({ unauthorised: true, reasons: ['audit_trail_broken'] });
      await settled(t);
      expect((await replies(t, n)).at(-1)!.text).toContain('recorded history does not verify');
    });
  });

  describe('idempotency keys mean the same request', () => {
    it('a key reused with another body is a 422, and records nothing; the same body replays', async () => {
      const n = await approvedChange();
      const key = { 'idempotency-key': 'run-77-attempt-1' };
      const first = { environment: 'production', status: 'started', commit: SHA };
      expect((await report(n, first, key)).status).toBe(201);
      expect((await report(n, first, key)).json).toMatchObject({ replayed: true });
      for (const other of [
        { ...first, status: 'succeeded' },
        { ...first, commit: OTHER },
        { ...first, environment: 'staging' },
        { ...first, pipelineUrl: 'https://ci.example.com/run/78' },
      ]) {
        const res = await report(n, other, key);
        expect(res.status, JSON.stringify(other)).toBe(422);
        expect(res.json).toMatchObject({
          error: 'idempotency_conflict',
          fields: [{ path: 'headers.idempotency-key' }],
        });
      }
      // Racing reports under one key with different bodies: one is recorded, the other refused.
      const raced = await Promise.all([
        report(n, { environment: 'production', status: 'succeeded' }, { 'idempotency-key': 'race' }),
        report(n, { environment: 'production', status: 'failed' }, { 'idempotency-key': 'race' }),
      ]);
      expect(raced.map((r) => r.status).sort()).toEqual([201, 422]);
      const deployments = ((await api(`/changes/CR-${n}`)).json!.deployments as unknown[]).length;
      expect(deployments).toBe(2);
    });
  });

  describe('who may act is enforced at every door', () => {
    it('a guest, a deactivated account and someone from another workspace cannot approve', async () => {
      const n = await submitRequest(t);
      t.fake.addUser('U0GUEST01', { guest: 'multi' });
      t.fake.addUser('U0GUEST02', { guest: 'single' });
      t.fake.addUser('U0GONE001');
      t.fake.addUser('U0OTHER01', { teamId: 'T0OTHER99' });
      await approve(t, n, 0, 'U0XXXX001'); // unknown to Slack: refused too
      t.fake.updateUser('U0GONE001', { deleted: true });
      for (const user of ['U0GUEST01', 'U0GUEST02', 'U0GONE001', 'U0OTHER01']) await approve(t, n, 0, user);
      const log = await t.app.models.ChangeEvent.find({ changeNumber: n }).sort({ seq: 1 }).lean();
      expect(log.filter((e) => e.type === 'stage_approved')).toHaveLength(0);
      const refused = log.filter((e) => e.type === 'approval_refused');
      expect(refused.map((e) => [e.actor, (e.data as { code: string }).code])).toEqual([
        ['U0XXXX001', 'ACTOR_NOT_ELIGIBLE'],
        ['U0GUEST01', 'ACTOR_NOT_ELIGIBLE'],
        ['U0GUEST02', 'ACTOR_NOT_ELIGIBLE'],
        ['U0GONE001', 'ACTOR_NOT_ELIGIBLE'],
        ['U0OTHER01', 'ACTOR_NOT_ELIGIBLE'],
      ]);
      expect(ephemeralsFor(t, 'U0GUEST01').at(-1)).toContain('Guest accounts cannot approve');
      expect(ephemeralsFor(t, 'U0GONE001').at(-1)).toContain('deactivated');
      expect(ephemeralsFor(t, 'U0OTHER01').at(-1)).toContain('Only members of the workspace');
      // A request from another workspace altogether is not processed at all.
      const root = await rootMessage(t, n);
      const foreign = await t.slack.click('change_approve', `${n}:0`, {
        user: BOB,
        team: 'T0OTHER99',
        message: { channel: root.channel, ts: root.ts },
      });
      expect(foreign.status).toBe(200);
      await settled(t);
      expect(await t.app.models.ChangeEvent.countDocuments({ changeNumber: n })).toBe(log.length);
      await approve(t, n, 0, BOB);
      expect((await api(`/changes/CR-${n}`)).json).toMatchObject({
        stages: [{ status: 'approved', decidedBy: BOB }, { status: 'current' }],
      });
    });

    it('someone deactivated in Slack loses the right at their next click, not minutes later', async () => {
      const n = await submitRequest(t);
      t.fake.addUser('U0LEAVER1');
      await approve(t, n, 0, BOB);
      // Their account is looked up (and cached) with their first click: a member, not the lead.
      await approve(t, n, 1, 'U0LEAVER1');
      expect(ephemeralsFor(t, 'U0LEAVER1').at(-1)).toContain('not an approver');
      t.fake.updateUser('U0LEAVER1', { deleted: true });
      await t.slack.event({ type: 'user_change', user: { id: 'U0LEAVER1', deleted: true } });
      await settled(t);
      await approve(t, n, 1, 'U0LEAVER1');
      expect(ephemeralsFor(t, 'U0LEAVER1').at(-1)).toContain('deactivated');
    });

    it('removing an approver from a user group takes effect as soon as Slack says so', async () => {
      const n = await submitRequest(t, { securityFlags: ['auth'] });
      await approve(t, n, 0, BOB);
      // Erin is the security reviewer through the S0SECURITY group, read (and cached) by now.
      t.fake.setGroup(SECURITY_GROUP, []);
      await t.slack.event({
        type: 'subteam_members_changed',
        subteam_id: SECURITY_GROUP,
        team_id: 'T0001ABCD',
        date_previous_update: 1,
        date_update: 2,
        removed_users: [ERIN],
        removed_users_count: 1,
      });
      await settled(t);
      await approve(t, n, 1, ERIN);
      expect(ephemeralsFor(t, ERIN).at(-1)).toContain('not an approver for the Security review stage');
      t.fake.setGroup(SECURITY_GROUP, [ERIN]);
      await t.slack.event({
        type: 'subteam_members_changed',
        subteam_id: SECURITY_GROUP,
        added_users: [ERIN],
      });
      await settled(t);
      await approve(t, n, 1, ERIN);
      expect((await api(`/changes/CR-${n}`)).json).toMatchObject({
        stages: [{ status: 'approved' }, { status: 'approved', decidedBy: ERIN }, { status: 'current' }],
      });
    });
  });

  describe('visibility is one rule everywhere', () => {
    const answer = () => t.fake.responsePosts.at(-1)!.body as { text: string; blocks?: unknown[] };
    const said = () => JSON.stringify(answer());

    it('a member sees what they take part in; a guest only what they raised; the API sees all', async () => {
      const GUEST = 'U0GUEST09';
      const OUTSIDER = 'U0OUTSID1';
      t.fake.addUser(GUEST, { guest: 'multi' });
      t.fake.addUser(OUTSIDER);
      const peer = await submitRequest(t, { title: 'Waiting for any peer' });
      const lead = await submitRequest(t, { title: 'Waiting for the lead' });
      await approve(t, lead, 0, BOB);
      const guests = await submitRequest(t, { title: 'A guest’s own change' }, GUEST);

      // A member who takes no part: sees the change any member may approve, not the other one.
      await t.slack.command('/change', 'list open', { user: OUTSIDER });
      await settled(t);
      expect(said()).toContain('Waiting for any peer');
      expect(said()).not.toContain('Waiting for the lead');
      await t.slack.command('/change', `show CR-${lead}`, { user: OUTSIDER });
      await settled(t);
      expect(answer().text).toContain(`CR-${lead} is not one of them`);
      await t.slack.command('/change-log', `CR-${lead}`, { user: OUTSIDER });
      await settled(t);
      expect(answer().text).toContain('not one of them');
      // Bob approved it, so he sees it; the lead sees everything.
      await t.slack.command('/change', `show CR-${lead}`, { user: BOB });
      await settled(t);
      expect(said()).toContain('Waiting for the lead');

      // A guest sees only their own change, even one open to any member.
      await t.slack.command('/change', 'list open', { user: GUEST });
      await settled(t);
      expect(said()).toContain('A guest’s own change');
      expect(said()).not.toContain('Waiting for any peer');
      for (const n of [peer, lead]) {
        await t.slack.command('/change', `show CR-${n}`, { user: GUEST });
        await settled(t);
        expect(answer().text).toContain('not one of them');
      }
      await t.slack.command('/change', `show CR-${guests}`, { user: GUEST });
      await settled(t);
      expect(said()).toContain('Audit trail');
      t.clock.advance(60_000); // the default period ends now, and the change was raised at now
      await t.slack.command('/change-log', '', { user: GUEST });
      await settled(t);
      expect(said()).toContain('only the changes you raised');
      expect(said()).toContain('*Changes raised*\\n1');
      await t.slack.homeOpened(GUEST);
      await settled(t);
      expect(JSON.stringify(t.fake.homes.get(GUEST))).not.toContain('Waiting for any peer');

      // A pipeline token is a system caller: it lists every change.
      const listed = JSON.stringify((await api('/changes?limit=100')).json);
      for (const n of [peer, lead, guests]) expect(listed).toContain(`"CR-${n}"`);
    });

    it('slash-command text is escaped in every reply, errors included', async () => {
      for (const text of ['<!channel> please', 'new <!here>', 'show <@U0123BOB>']) {
        const res = await t.slack.command('/change', text, { user: ALICE });
        const reply = JSON.stringify(res.json ?? {});
        expect(reply, text).not.toMatch(/<!channel>|<!here>|<@U0123BOB>/);
      }
      // `/change` has should_escape: true, so Slack sends an @channel the person typed as <!channel>:
      // it is read back as "@channel" (what they typed), which pings nobody; typed text stays escaped.
      const res = await t.slack.command('/change', '<!channel>', { user: ALICE });
      expect(String(res.json?.text)).toContain('"@channel"');
      const typed = await t.slack.command('/change', '&lt;!channel&gt;', { user: ALICE });
      expect(JSON.stringify(typed.json ?? {})).not.toMatch(/<!channel>/);
      expect(String(typed.json?.text)).toContain('&lt;!channel&gt;');
    });
  });

  describe('one user cannot starve others', () => {
    it('a flood of refused clicks costs no log reads, is set aside, and the lead is decided at once', async () => {
      const n = await submitRequest(t);
      await approve(t, n, 0, BOB);
      const root = await rootMessage(t, n);
      const flood = Array.from({ length: 300 }, () =>
        t.slack.click('change_approve', `${n}:1`, {
          user: FRANK,
          message: { channel: root.channel, ts: root.ts },
        }),
      );
      const started = Date.now();
      const lead = t.slack.click('change_approve', `${n}:1`, {
        user: CAROL,
        message: { channel: root.channel, ts: root.ts },
      });
      const [acks] = await Promise.all([Promise.all(flood), lead]);
      expect(acks.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`)).toEqual([]);
      await eventually(
        () => t.app.models.ChangeEvent.exists({ changeNumber: n, type: 'stage_approved', actor: CAROL }),
        10_000,
        'the lead’s approval',
      );
      const tookMs = Date.now() - started;
      expect(tookMs, 'the lead’s click waited behind the flood').toBeLessThan(10_000);
      await settled(t);
      const log = await t.app.models.ChangeEvent.find({ changeNumber: n }).lean();
      // The log did not grow with the flood: one refusal is on record for Frank.
      expect(log.filter((e) => e.type === 'approval_refused' && e.actor === FRANK)).toHaveLength(1);
      expect(log).toHaveLength(4);
      // Frank heard about the clicks that were decided (at most his refusal allowance plus those
      // already in flight: 10 + 10), and once that the rest were set aside.
      const told = ephemeralsFor(t, FRANK);
      expect(told.length).toBeLessThanOrEqual(21);
      expect(told.filter((m) => m.startsWith('⏳'))).toHaveLength(1);
      // Later clicks of his are set aside without any work while his refusals cool down.
      const before = await t.app.models.Change.findOne({ number: n }).lean();
      await t.slack.click('change_approve', `${n}:1`, {
        user: FRANK,
        message: { channel: root.channel, ts: root.ts },
      });
      await settled(t);
      expect(ephemeralsFor(t, FRANK)).toHaveLength(told.length);
      expect((await t.app.models.Change.findOne({ number: n }).lean())!.seq).toBe(before!.seq);
    });
  });

  describe('nobody acts under someone else’s name through the API', () => {
    const body = (overrides: Record<string, unknown> = {}) => ({
      type: 'normal',
      title: 'Raised by a pipeline',
      description: 'Opened by a pipeline.',
      justification: 'Testing.',
      systems: ['api'],
      risk: 'low',
      testPlan: 'Unit tests.',
      stagingTested: 'yes',
      rollbackPlan: 'Revert.',
      impact: 'None expected.',
      ...overrides,
    });

    it('without a requester the change is the pipeline’s, and the token’s creator may not approve it', async () => {
      const res = await api('/changes', { method: 'POST', body: body() });
      expect(res.status).toBe(201);
      const change = res.json!.change as { number: number; requester: string };
      expect(change.requester).toBe('pipeline:pipeline');
      const n = change.number;
      await settled(t);
      expect((await rootMessage(t, n)).blocks!.map((b) => JSON.stringify(b)).join()).toContain(
        'pipeline *pipeline*',
      );
      await approve(t, n, 0, ADMIN); // created the token
      expect(ephemeralsFor(t, ADMIN).at(-1)).toContain(
        'You created the pipeline token that raised this change',
      );
      await approve(t, n, 0, BOB);
      expect((await api(`/changes/CR-${n}`)).json).toMatchObject({
        stages: [{ decidedBy: BOB }, { status: 'current' }],
      });
      expect(t.fake.rejected().filter((c) => c.method === 'chat.postMessage')).toEqual([]);
    });

    it('on behalf of a person only when Slack resolves them to an active member', async () => {
      const byEmail = await api('/changes', {
        method: 'POST',
        body: body({ requester: 'U0123Alice@ACME.test' }),
      });
      expect(byEmail.status).toBe(201);
      expect((byEmail.json!.change as { requester: string }).requester).toBe(ALICE);

      t.fake.addUser('U0QUIT001', { deleted: true });
      t.fake.addUser('U0ELSE001', { teamId: 'T0OTHER99' });
      for (const [requester, words] of [
        ['U0QUIT001', 'deactivated'],
        ['U0ELSE001', 'not a member of the workspace'],
        ['nobody@acme.test', 'No one in this workspace'],
        ['U0NOSUCH1', 'No one in this workspace'],
      ] as const) {
        const res = await api('/changes', { method: 'POST', body: body({ requester }) });
        expect(res.status, requester).toBe(400);
        expect(res.json, requester).toMatchObject({
          fields: [{ path: 'body.requester', message: expect.stringContaining(words) }],
        });
      }
      // The token's creator cannot be named as the reviewer of what the token raises.
      const self = await api('/changes', {
        method: 'POST',
        body: body({ requester: ALICE, suggestedReviewers: [ADMIN] }),
      });
      expect(self.status).toBe(400);
      expect(self.json).toMatchObject({ fields: [{ path: 'body.suggestedReviewers' }] });
    });
  });

  describe('who may deploy (the policy’s deployers) at every door', () => {
    const SRE = 'U0123SRE';
    let d: TestApp;
    let sreToken = '';
    let stagingToken = '';
    const dapi = apiClient(
      () => d,
      () => sreToken,
    );

    beforeAll(async () => {
      const yaml = TEST_POLICY_YAML.replace(
        '  admins: { users: [U0123ADMIN] }',
        `  admins: { users: [U0123ADMIN, ${SRE}] }\n  sre: { users: [${SRE}] }`,
      ).replace('deployers: []', 'deployers: [sre]');
      d = await startTestApp(import.meta.url, { policyYaml: yaml, clock: new TestClock(NOW) });
      d.fake.addUser(SRE, { name: 'sre' });
      sreToken = await createToken(d, 'prod-deploy', 'env=production', SRE);
      stagingToken = await createToken(d, 'staging-deploy', 'env=staging', ADMIN);
    });
    afterAll(() => d.stop());

    async function approved(): Promise<number> {
      const n = await submitRequest(d);
      await approve(d, n, 0, BOB);
      await approve(d, n, 1, CAROL);
      return n;
    }

    it('an admin who is not a deployer cannot mint a production deployment token', async () => {
      expect(sreToken).toMatch(/^cg_/);
      expect(stagingToken).toMatch(/^cg_/);
      const refused = await createToken(d, 'sneaky', 'env=production', ADMIN);
      expect(refused).toContain("Only the policy's deployers (sre)");
      expect(await createToken(d, 'no-env', '', ADMIN)).toContain('Name the environments');
    });

    it('the Slack button and /change deployed refuse anyone but a deployer', async () => {
      const n = await approved();
      await clickOnChange(d, n, 'change_record_deployment', String(n), ALICE); // the requester
      await settled(d);
      expect(ephemeralsFor(d, ALICE).at(-1)).toContain('restricted to the policy');
      await d.slack.command('/change', `deployed CR-${n}`, { user: CAROL }); // an approver
      await settled(d);
      expect(String(d.fake.responsePosts.at(-1)!.body.text)).toContain('restricted to the policy');
      expect((await dapi(`/changes/CR-${n}`)).json).toMatchObject({ status: 'approved', deployments: [] });
      // Staging is not restricted to deployers.
      await d.slack.command('/change', `deployed CR-${n} staging`, { user: ALICE });
      await settled(d);
      await d.slack.command('/change', `deployed CR-${n}`, { user: SRE });
      await settled(d);
      expect((await dapi(`/changes/CR-${n}`)).json).toMatchObject({
        status: 'deployed',
        deployments: [
          { environment: 'staging', by: ALICE },
          { environment: 'production', by: SRE },
        ],
      });
    });

    it('a token acts only on its environments, and a named deployer who is not one is flagged', async () => {
      const n = await approved();
      expect((await dapi(`/changes/CR-${n}/gate?environment=staging`, { token: stagingToken })).status).toBe(
        200,
      );
      const gate = await dapi(`/changes/CR-${n}/gate?environment=production`, { token: stagingToken });
      expect(gate.status).toBe(403);
      expect(gate.json).toMatchObject({ error: 'environment_not_allowed' });
      const sneaky = await dapi(`/changes/CR-${n}/deployments`, {
        method: 'POST',
        token: stagingToken,
        body: { environment: 'production', status: 'succeeded' },
      });
      expect(sneaky.status).toBe(403);

      const byAlice = await dapi(`/changes/CR-${n}/deployments`, {
        method: 'POST',
        body: { environment: 'production', status: 'started', deployedBy: 'u0123alice@acme.test' },
      });
      expect(byAlice.json).toMatchObject({ unauthorised: true, reasons: ['not_a_deployer'] });
      const byNobody = await dapi(`/changes/CR-${n}/deployments`, {
        method: 'POST',
        body: { environment: 'production', status: 'started', deployedBy: 'ghost@acme.test' },
      });
      expect(byNobody.json).toMatchObject({ unauthorised: true, reasons: ['not_a_deployer'] });
      await settled(d);
      expect(d.fake.dms(ERIN).at(-1)!.text).toContain('not one of the policy’s deployers');
      const bySre = await dapi(`/changes/CR-${n}/deployments`, {
        method: 'POST',
        body: { environment: 'production', status: 'succeeded', deployedBy: 'sre@acme.test' },
      });
      expect(bySre.json).toMatchObject({ unauthorised: false, status: 'deployed' });
      // The person who deployed is the one asked to verify.
      expect((await d.app.models.Change.findOne({ number: n }).lean())!.deployedBy).toBe(SRE);
    });
  });

  describe('Slack being slow or failing never loses or stalls work', () => {
    let s: TestApp;
    beforeAll(async () => {
      s = await startTestApp(import.meta.url, { clock: new TestClock(NOW), slack: { timeoutMs: 300 } });
    });
    afterAll(() => s.stop());
    beforeEach(() => {
      s.fake.unhang();
      s.fake.clear();
    });

    const root = (n: number) => rootMessage(s, n);
    const liveButtons = async (n: number) =>
      JSON.stringify((await root(n)).blocks).match(/"action_id":"change_(approve|reject)"/g)?.length ?? 0;

    it('a failed chat.update is retried until the channel message shows the decision', async () => {
      const n = await submitRequest(s);
      await approve(s, n, 0, BOB);
      s.fake.failNext('chat.update', 'internal_error');
      await approve(s, n, 1, CAROL);
      // The decision is recorded; Slack refused the update, so the message still offers the buttons.
      expect((await s.app.models.Change.findOne({ number: n }).lean())!.status).toBe('approved');
      expect(await liveButtons(n)).toBeGreaterThan(0);
      expect(await s.app.models.SlackEffect.countDocuments({ changeNumber: n })).toBe(1);
      // Recording it again (a retried write) keeps one entry.
      await s.app.deps.effects.add({ changeNumber: n, seq: 3 }, s.clock.now(), s.clock.now());
      expect(await s.app.models.SlackEffect.countDocuments({ changeNumber: n })).toBe(1);
      expect((await s.app.retryEffects()).due).toBe(0); // not before its backoff
      s.clock.advance(31_000);
      expect(await s.app.retryEffects()).toMatchObject({ due: 1, delivered: 1 });
      expect(await liveButtons(n)).toBe(0);
      expect(JSON.stringify((await root(n)).blocks)).toContain('Approved: ready to deploy');
      const approvals = (await replies(s, n)).filter((r) =>
        r.text.includes('approved *Engineering lead approval*'),
      );
      expect(approvals).toHaveLength(1);
      expect(await s.app.models.SlackEffect.countDocuments({ changeNumber: n })).toBe(0);
    });

    it('a thread reply that failed is posted once on retry, after the message was updated', async () => {
      const n = await submitRequest(s);
      s.fake.failNext('chat.postMessage', 'internal_error');
      await approve(s, n, 0, BOB);
      expect((await replies(s, n)).filter((r) => r.text.includes('approved *Peer review*'))).toHaveLength(0);
      s.clock.advance(31_000);
      await s.app.retryEffects();
      await s.app.retryEffects(); // a second run finds nothing to do
      expect((await replies(s, n)).filter((r) => r.text.includes('approved *Peer review*'))).toHaveLength(1);
    });

    it('a hung Slack holds no work slot: every click is decided, and Slack catches up afterwards', async () => {
      const numbers: number[] = [];
      for (let i = 0; i < 12; i++) numbers.push(await submitRequest(s, { title: `Hung ${i}` }));
      const roots = await Promise.all(numbers.map(root));
      s.fake.hang('chat.update', 'chat.postMessage', 'chat.postEphemeral', 'views.publish');
      const reviewers = numbers.map((_, i) => `U0REVIEW${String(i).padStart(2, '0')}`);
      for (const r of reviewers) s.fake.addUser(r);
      const started = Date.now();
      await Promise.all(
        numbers.map((n, i) =>
          s.slack.click('change_approve', `${n}:0`, {
            user: reviewers[i],
            message: { channel: roots[i]!.channel, ts: roots[i]!.ts },
          }),
        ),
      );
      await eventually(
        async () =>
          (await s.app.models.ChangeEvent.countDocuments({
            changeNumber: { $in: numbers },
            type: 'stage_approved',
          })) === numbers.length,
        5_000,
        'every click decided while Slack hangs',
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      await settled(s); // the attempts end: each Slack call times out
      expect(s.fake.heldCalls).toBeGreaterThan(0);
      expect(await s.app.models.SlackEffect.countDocuments({ changeNumber: { $in: numbers } })).toBe(12);
      s.fake.unhang();
      s.clock.advance(31_000);
      expect(await s.app.retryEffects()).toMatchObject({ due: 12, delivered: 12 });
      for (const n of numbers)
        expect((await replies(s, n)).filter((r) => r.text.includes('approved *Peer review*'))).toHaveLength(
          1,
        );
    });
  });

  describe('a modal is answered within Slack’s 3 seconds whatever waits for the channel', () => {
    let q: TestApp;
    beforeAll(async () => {
      // The approvals channel takes one message a second (Slack's pace), with a short burst.
      q = await startTestApp(import.meta.url, {
        clock: new TestClock(NOW),
        slack: { limits: { 'chat.postMessage': { perMinute: 300, burst: 20, perChannelPerSecond: 0.01 } } },
      });
    });
    afterAll(() => q.stop());

    it('a verification submitted behind a queue of thread posts is acknowledged at once', async () => {
      const n = await submitRequest(q, { type: 'standard' });
      await clickOnChange(q, n, 'change_record_deployment', String(n), ALICE);
      await settled(q);
      // Six posts for the approvals channel are queued ahead (about four seconds at its pace).
      const queued = Array.from({ length: 6 }, (_, i) =>
        q.app.sender.call('chat.postMessage', { channel: APPROVALS, text: `Other news ${i}` }),
      );
      const res = await verifyChange(q, n, ALICE);
      expect(res.status).toBe(200);
      expect(res.json).toBeNull(); // closed, no errors
      expect(res.ms).toBeLessThan(2_500);
      expect((await q.app.models.Change.findOne({ number: n }).lean())!.status).toBe('verified');
      await Promise.all(queued);
      await settled(q);
      expect((await replies(q, n)).at(-1)!.text).toContain('verified the deployment');
    });
  });
});
