import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../src/adapters/http/api/routes.js';
import { apiClient, createToken as createTokenFor } from '../support/api.js';
import { TestClock } from '../support/clock.js';
import { approve, clickOnChange, replies, settled, submitRequest } from '../support/flows.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { ADMIN, ALICE, APPROVALS, BOB, CAROL, DAVE, ERIN } from '../support/people.js';

describe('deployment gate API', () => {
  let t: TestApp;
  let token = '';
  let readOnly = '';
  let auditor = '';

  const createToken = (name: string, scopes = '', user = ADMIN) => createTokenFor(t, name, scopes, user);
  const api = apiClient(
    () => t,
    () => token,
  );

  const gate = (n: number, env = 'production') => api(`/changes/CR-${n}/gate?environment=${env}`);

  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { clock: new TestClock('2026-03-10T17:00:00Z') });
    token = await createToken('github-actions', 'env=production,staging');
    readOnly = await createToken('dashboard', 'changes:read');
    auditor = await createToken('audit-bot', 'audit:read');
  });
  afterAll(() => t.stop());
  beforeEach(() => {
    t.fake.clear();
    t.clock.set('2026-03-10T17:00:00Z');
  });

  describe('tokens', () => {
    it('are created by admins only, shown once, listed and revoked from Slack', async () => {
      expect(token).toMatch(/^cg_[A-Za-z0-9]{12}_[A-Za-z0-9]{40}$/);
      const refused = await createToken('sneaky', 'env=production', ALICE);
      expect(refused).toContain('Only Changegate admins');
      const stored = await t.app.models.ApiToken.findOne({ name: 'github-actions' }).lean();
      expect(stored!.secretHash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(stored)).not.toContain(token.split('_')[2]);

      const temp = await createToken('temporary', 'env=staging');
      expect((await api('/changes', { token: temp })).status).toBe(200);
      await t.slack.command('/change', 'token list', { user: ADMIN });
      await settled(t);
      expect(String(t.fake.responsePosts.at(-1)!.body.text)).toContain(
        '*temporary* changes:read, changes:write, deployments:write',
      );
      await t.slack.command('/change', 'token revoke temporary', { user: ADMIN });
      await settled(t);
      const revoked = await api('/changes', { token: temp });
      expect(revoked.status).toBe(401);
      expect(revoked.headers.get('www-authenticate')).toContain('Bearer');
      // The name can be reused for a replacement.
      expect(await createToken('temporary', 'env=staging')).toMatch(/^cg_/);
    });

    it('401 without a token or with a wrong one; 403 without the scope', async () => {
      expect((await api('/changes', { token: null })).status).toBe(401);
      expect(
        (await api('/changes', { token: 'cg_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' })).status,
      ).toBe(401);
      const tampered = `${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`;
      expect((await api('/changes', { token: tampered })).status).toBe(401);
      const denied = await api('/changes', { method: 'POST', token: readOnly, body: {} });
      expect(denied.status).toBe(403);
      expect(denied.json).toMatchObject({
        error: 'forbidden',
        message: 'This token lacks the changes:write scope.',
      });
      expect((await api('/audit/verify', { token })).status).toBe(403);
    });
  });

  describe('the gate', () => {
    it('answers 200 when allowed and 409 with every reason when not', async () => {
      const n = await submitRequest(t);
      let res = await gate(n);
      expect(res.status).toBe(409);
      expect(res.json).toMatchObject({
        allowed: false,
        reasons: [{ code: 'not_approved' }],
        status: 'pending_approval',
      });
      expect(String(res.json!.message)).toContain('waits for Peer review');
      expect((await gate(n, 'staging')).status).toBe(200); // staging is not gated on approval

      await approve(t, n, 0, BOB);
      await approve(t, n, 1, CAROL);
      res = await gate(n);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ allowed: true, reasons: [], production: true });

      await clickOnChange(t, n, 'change_record_deployment', String(n), ALICE);
      await settled(t);
      res = await gate(n);
      expect(res.json).toMatchObject({
        allowed: false,
        reasons: [{ code: 'unverified_previous_deployment' }],
      });
    });

    it('rejected, cancelled and rolled-back changes may not deploy', async () => {
      const rejected = await submitRequest(t);
      await t.slack.submitView(
        {
          callbackId: 'change_reject_modal',
          privateMetadata: JSON.stringify({ n: rejected, stage: 0 }),
          values: { reason: { value: { type: 'plain_text_input', value: 'No' } } },
        },
        BOB,
      );
      const cancelled = await submitRequest(t);
      await t.slack.command('/change', `cancel CR-${cancelled}`, { user: ALICE });
      const rolled = await submitRequest(t, { type: 'standard' });
      await clickOnChange(t, rolled, 'change_record_deployment', String(rolled), ALICE);
      await settled(t);
      await t.slack.submitView(
        {
          callbackId: 'change_verify_modal',
          privateMetadata: JSON.stringify({ n: rolled }),
          values: {
            outcome: {
              value: {
                type: 'radio_buttons',
                selected_option: { text: { type: 'plain_text', text: 'r' }, value: 'rolled_back' },
              },
            },
            issues: { value: { type: 'plain_text_input', value: 'Broke login' } },
          },
        },
        ALICE,
      );
      await settled(t);
      expect((await gate(rejected)).json).toMatchObject({ allowed: false, reasons: [{ code: 'rejected' }] });
      expect((await gate(cancelled)).json).toMatchObject({
        allowed: false,
        reasons: [{ code: 'cancelled' }],
      });
      expect((await gate(rolled)).json).toMatchObject({
        allowed: false,
        reasons: [{ code: 'rolled_back' }, { code: 'already_deployed' }],
      });
    });

    it('outside the planned window, and inside a freeze without an exception, it may not deploy', async () => {
      const start = Date.parse('2026-03-12T17:00:00Z') / 1000;
      const windowed = await submitRequest(t, {
        type: 'standard',
        plannedStart: start,
        plannedEnd: start + 7200,
      });
      expect((await gate(windowed)).json).toMatchObject({
        allowed: false,
        reasons: [{ code: 'outside_window' }],
      });
      t.clock.set('2026-03-12T18:00:00Z');
      expect((await gate(windowed)).status).toBe(200);
      t.clock.set('2026-03-12T20:00:01Z');
      expect((await gate(windowed)).json).toMatchObject({ reasons: [{ code: 'outside_window' }] });

      t.clock.set('2026-11-16T18:00:00Z'); // Peak season
      const frozen = await submitRequest(t, { type: 'standard' });
      expect((await gate(frozen)).json).toMatchObject({ allowed: false, reasons: [{ code: 'frozen' }] });
      await t.slack.submitView(
        {
          callbackId: 'change_exception_modal',
          privateMetadata: JSON.stringify({ n: frozen }),
          values: {
            freeze: {
              value: {
                type: 'static_select',
                selected_option: { text: { type: 'plain_text', text: 'P' }, value: 'Peak season' },
              },
            },
            reason: { value: { type: 'plain_text_input', value: 'Certificate expiring' } },
            risk: { value: { type: 'plain_text_input', value: 'Low: certificate swap only' } },
          },
        },
        DAVE,
      );
      await settled(t);
      expect((await gate(frozen)).status).toBe(200);
      // Emergencies are not blocked by the freeze.
      const hotfix = await submitRequest(t, { type: 'emergency' });
      await approve(t, hotfix, 0, DAVE);
      expect((await gate(hotfix)).status).toBe(200);
    });

    it('404 for an unknown change, 400 for a malformed id or environment', async () => {
      expect((await gate(999999)).status).toBe(404);
      const bad = await api('/changes/CR-abc/gate');
      expect(bad.status).toBe(400);
      expect(bad.json).toMatchObject({ error: 'validation_failed', fields: [{ path: 'params.id' }] });
      expect((await api('/changes/CR-1/gate?environment=prod;rm')).json).toMatchObject({
        fields: [{ path: 'query.environment' }],
      });
    });
  });

  describe('recording deployments', () => {
    it('appends the event, replies in the thread and starts the verification chase', async () => {
      const n = await submitRequest(t, { type: 'standard' });
      const res = await api(`/changes/CR-${n}/deployments`, {
        method: 'POST',
        body: {
          environment: 'production',
          status: 'succeeded',
          commit: 'a1b2c3d',
          pipelineUrl: 'https://ci.example.com/runs/7',
        },
        headers: { 'idempotency-key': 'run-7' },
      });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({
        recorded: true,
        replayed: false,
        unauthorised: false,
        status: 'deployed',
      });
      await settled(t); // the thread reply follows the answer
      expect((await replies(t, n)).at(-1)!.text).toContain(
        'Pipeline *github-actions* deployed to *production* (commit `a1b2c3d`)',
      );
      // The requester is chased for verification an hour later.
      t.clock.set('2026-03-10T18:00:00Z');
      await t.app.reminders.verifications();
      expect(t.fake.dms(ALICE).at(-1)!.text).toContain('Please check production');
    });

    it('a repeated report with the same Idempotency-Key records once', async () => {
      const n = await submitRequest(t, { type: 'standard' });
      const report = () =>
        api(`/changes/CR-${n}/deployments`, {
          method: 'POST',
          body: { environment: 'production', status: 'started' },
          headers: { 'idempotency-key': 'run-8:started' },
        });
      const [a, b, c] = await Promise.all([report(), report(), report()]);
      expect([a, b, c].map((r) => r.status).sort()).toEqual([200, 200, 201]);
      expect(new Set([a, b, c].map((r) => r.json!.eventSeq)).size).toBe(1);
      expect(
        await t.app.models.ChangeEvent.countDocuments({ changeNumber: n, type: 'deployment_recorded' }),
      ).toBe(1);
    });

    it('records an unapproved deployment as unauthorised and alerts the approvals channel and security', async () => {
      const n = await submitRequest(t);
      const res = await api(`/changes/CR-${n}/deployments`, {
        method: 'POST',
        body: { environment: 'production', status: 'succeeded', commit: 'feed' },
      });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({
        unauthorised: true,
        reasons: ['not_approved'],
        status: 'pending_approval',
      });
      await settled(t);
      const alert = (m: { text: string }) => m.text.includes('Unauthorised deployment');
      expect(t.fake.posts(APPROVALS).filter((m) => !m.thread_ts && alert(m))).toHaveLength(1);
      expect(t.fake.posts('C0123SEC01').filter(alert)).toHaveLength(1);
      expect(t.fake.dms(ERIN).filter(alert)).toHaveLength(1);
      expect((await replies(t, n)).at(-1)!.text).toContain('*Unauthorised deployment*');
    });

    it('400 with field errors, 404, and 413 for an oversized body; never a stack trace', async () => {
      const n = await submitRequest(t, { type: 'standard' });
      const bad = await api(`/changes/CR-${n}/deployments`, {
        method: 'POST',
        body: { environment: '', status: 'done', extra: 1 },
      });
      expect(bad.status).toBe(400);
      expect((bad.json!.fields as { path: string }[]).map((f) => f.path).sort()).toEqual(
        ['body', 'body.environment', 'body.status'].sort(),
      );
      expect(
        (
          await api('/changes/CR-99999/deployments', {
            method: 'POST',
            body: { environment: 'production', status: 'started' },
          })
        ).status,
      ).toBe(404);
      const huge = await api(`/changes/CR-${n}/deployments`, {
        method: 'POST',
        raw: JSON.stringify({ environment: 'production', status: 'started', commit: 'x'.repeat(70_000) }),
      });
      expect(huge.status).toBe(413);
      expect(huge.json).toMatchObject({ error: 'payload_too_large' });
      const notJson = await api(`/changes/CR-${n}/deployments`, { method: 'POST', raw: '{"environment": ' });
      expect(notJson.status).toBe(400);
      for (const r of [bad, huge, notJson]) expect(r.text).not.toMatch(/at .*\.(ts|js):\d+/);
    });
  });

  describe('creating and reading changes', () => {
    it('a standard change from a pipeline is approved by policy and returned with its Slack link', async () => {
      const res = await api('/changes', {
        method: 'POST',
        body: {
          type: 'standard',
          title: 'Bump lodash to 4.17.21',
          requester: ALICE,
          description: 'Dependabot',
          justification: 'CVE fix',
          systems: ['web'],
          risk: 'low',
          impact: 'none',
          testPlan: 'CI',
          stagingTested: 'yes',
          rollbackPlan: 'revert',
        },
      });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({
        autoApproved: true,
        change: { status: 'approved', requester: ALICE, type: 'standard' },
      });
      expect(String(res.json!.link)).toMatch(/^https:\/\/acme\.slack\.com\/archives\/C0123CHG01\/p\d+/);
      const id = (res.json!.change as { id: string }).id;
      expect((await api(`/changes/${id}/gate`)).status).toBe(200);
    });

    it('a normal change is posted to Slack for approval; the pipeline can wait on the gate', async () => {
      const res = await api('/changes', {
        method: 'POST',
        body: {
          type: 'normal',
          title: 'Add the search index',
          requester: ALICE,
          description: 'd',
          justification: 'j',
          systems: ['search'],
          risk: 'medium',
          impact: 'i',
          testPlan: 't',
          stagingTested: 'yes',
          rollbackPlan: 'r',
        },
      });
      expect(res.status).toBe(201);
      const change = res.json!.change as { id: string; number: number; status: string };
      expect(change.status).toBe('pending_approval');
      expect((await replies(t, change.number))[0]!.text).toContain('submitted');
      expect((await gate(change.number)).status).toBe(409);
    });

    it('invalid requests get every field error; nothing is stored', async () => {
      const before = await t.app.models.Change.countDocuments();
      const res = await api('/changes', {
        method: 'POST',
        body: { type: 'normal', title: 'x'.repeat(200), requester: 'alice', systems: 'api', colour: 'red' },
      });
      expect(res.status).toBe(400);
      const paths = (res.json!.fields as { path: string }[]).map((f) => f.path);
      expect(paths).toEqual(expect.arrayContaining(['body.title', 'body.requester', 'body.systems', 'body']));
      const rules = await api('/changes', {
        method: 'POST',
        body: {
          type: 'normal',
          title: 'Fine',
          requester: ALICE,
          plannedStart: '2026-03-12T10:00:00Z',
          plannedEnd: '2026-03-12T09:00:00Z',
        },
      });
      expect(rules.status).toBe(400);
      expect((rules.json!.fields as { path: string }[]).map((f) => f.path)).toEqual(
        expect.arrayContaining(['body.description', 'body.rollbackPlan', 'body.plannedEnd']),
      );
      expect(await t.app.models.Change.countDocuments()).toBe(before);
    });

    it('reads one change and filtered pages of changes', async () => {
      const n = await submitRequest(t, { type: 'infrastructure', title: 'Rotate IAM keys' });
      const one = await api(`/changes/${n}`, { token: readOnly });
      expect(one.status).toBe(200);
      expect(one.json).toMatchObject({
        id: `CR-${n}`,
        title: 'Rotate IAM keys',
        status: 'pending_approval',
        stages: [
          { key: 'peer_review', status: 'current' },
          { key: 'cto_approval', status: 'waiting' },
        ],
      });
      expect((one.json!.audit as { hash: string }).hash).toMatch(/^[0-9a-f]{64}$/);
      const page = await api('/changes?type=infrastructure&limit=1', { token: readOnly });
      expect(page.json).toMatchObject({ changes: [{ id: `CR-${n}` }] });
      const all = await api('/changes?limit=2', { token: readOnly });
      expect((all.json!.changes as unknown[]).length).toBe(2);
      const next = await api(`/changes?limit=2&before=${all.json!.nextBefore}`, { token: readOnly });
      expect(
        (next.json!.changes as { number: number }[]).every(
          (c) => c.number < Number(all.json!.nextBefore) + 1,
        ),
      ).toBe(true);
      expect((await api('/changes?status=sideways', { token: readOnly })).status).toBe(400);
    });
  });

  describe('audit endpoints', () => {
    it('export CSV and verify need the audit:read scope', async () => {
      const csv = await api('/audit/export?period=30d&format=csv', { token: auditor });
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toContain('text/csv');
      expect(csv.text).toContain('Date,Change,Change type');
      const verify = await api('/audit/verify', { token: auditor });
      expect(verify.json).toMatchObject({ intact: true });
      const summary = await api('/audit/summary?period=30d', { token: auditor });
      expect(summary.status).toBe(200);
      expect(summary.json).toMatchObject({ scope: 'all' });
      expect((await api('/audit/summary?period=someday', { token: auditor })).status).toBe(400);
      await t.app.models.ChangeEvent.updateOne({ changeNumber: 1, seq: 1 }, { $set: { actor: 'U0EVIL' } });
      const tampered = await api('/audit/verify', { token: auditor });
      expect(tampered.json, JSON.stringify(tampered.json)).toMatchObject({
        intact: false,
        // The event no longer is what was signed; its record (folded from the original) no longer matches it.
        findings: [
          { kind: 'edited', change: 'CR-1', seq: 1 },
          { kind: 'projection_mismatch', change: 'CR-1' },
        ],
      });
    });
  });

  describe('OpenAPI', () => {
    it('is served, validates, and lists exactly the routes the router serves', async () => {
      const res = await fetch(`${t.app.url}/api/v1/openapi.json`);
      expect(res.status).toBe(200);
      const spec = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
      const result = await new Validator().validate(spec);
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
      const documented = Object.entries(spec.paths)
        .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
        .sort();
      expect(documented).toEqual(API_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort());
      // Every documented route answers (401 without a token unless public), none is a 404.
      for (const r of API_ROUTES) {
        const path = r.path.replace('{id}', 'CR-1');
        const answer = await fetch(`${t.app.url}/api/v1${path}`, { method: r.method.toUpperCase() });
        expect([r.method, path, answer.status]).toEqual([r.method, path, r.scope === 'public' ? 200 : 401]);
      }
      expect(API_ROUTES.filter((r) => r.scope === 'public').map((r) => r.path)).toEqual([
        '/audit/public-key',
      ]);
    });
  });
});
