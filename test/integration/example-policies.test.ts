import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { apiClient, createToken } from '../support/api.js';
import { TestClock } from '../support/clock.js';
import {
  apiChangeBody,
  approve,
  clickOnChange,
  ephemeralsFor,
  type FormInput,
  formValues,
  openRequestModal,
  rootMessage,
  settled,
  submitRequest,
  verifyChange,
} from '../support/flows.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { ADMIN, ALICE, APPROVALS, AUDITOR, BOB, CAROL, DAVE, ERIN, FRANK, QUINN } from '../support/people.js';

/**
 * Each example policy, with people named in its roles, walks its organisation's workflows end to end
 * through signed Slack requests and the gate API: what the seed document requires is what happens.
 */
const TUESDAY = '2026-03-10T15:00:00Z'; // a Tuesday, 15:00 UTC: inside Sales Agent's maintenance window

function examplePolicy(file: string, people: Record<string, string[]>): string {
  const doc = parseDocument(
    readFileSync(new URL(`../../policies/examples/${file}`, import.meta.url), 'utf8'),
  );
  for (const [role, users] of Object.entries(people)) doc.setIn(['roles', role, 'users'], users);
  doc.setIn(['channels', 'approvals'], APPROVALS);
  return doc.toString();
}

const field = {
  user: (u: string) => ({ value: { type: 'users_select', selected_user: u } }),
  select: (v: string) => ({
    value: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: v }, value: v } },
  }),
  text: (v: string) => ({ value: { type: 'plain_text_input', value: v } }),
};

/** Submits the modal and returns the inline errors Slack would show (null: accepted). */
async function submitErrors(t: TestApp, form: FormInput, user = ALICE) {
  const view = await openRequestModal(t, user, form.type === 'emergency' ? 'emergency' : '');
  const res = await t.slack.submitView(
    {
      callbackId: view.callback_id,
      values: formValues(form),
      privateMetadata: view.private_metadata,
      blocks: view.blocks,
      viewId: view.id,
    },
    user,
  );
  return (res.json as { errors?: Record<string, string> } | null)?.errors ?? null;
}

function harness(file: string, people: Record<string, string[]>, tokenBy: string) {
  const ctx = { t: undefined as unknown as TestApp, token: '' };
  beforeAll(async () => {
    ctx.t = await startTestApp(import.meta.url, {
      clock: new TestClock(TUESDAY),
      policyYaml: examplePolicy(file, people),
    });
    ctx.token = await createToken(ctx.t, 'pipeline', 'env=production,staging', tokenBy);
    expect(ctx.token).toMatch(/^cg_/);
  });
  afterAll(() => ctx.t.stop());
  const api = apiClient(
    () => ctx.t,
    () => ctx.token,
  );
  return {
    ctx,
    api,
    gate: async (n: number) => {
      const r = await api(`/changes/CR-${n}/gate?environment=production`);
      return (r.json as { allowed: boolean; reasons: { code: string }[] }) ?? { allowed: false, reasons: [] };
    },
    codes: async (n: number) =>
      (
        (await api(`/changes/CR-${n}/gate?environment=production`)).json as { reasons: { code: string }[] }
      ).reasons.map((r) => r.code),
    deployTo: async (n: number, environment: string) => {
      const r = await api(`/changes/CR-${n}/deployments`, {
        method: 'POST',
        body: { environment, status: 'succeeded' },
      });
      expect(r.status).toBe(201);
      await settled(ctx.t);
      return r.json as { unauthorised: boolean; reasons: string[] };
    },
    status: async (n: number) => ((await api(`/changes/CR-${n}`)).json as { status: string }).status,
  };
}

describe('Trove (Change Management SOP)', () => {
  const h = harness('trove.yml', { cto: [DAVE], engineers: [BOB, FRANK], auditors: [AUDITOR] }, DAVE);

  it('standard: PR required; peer review, CTO PR approval, staging, CTO sign-off, production, verification', async () => {
    const { t } = h.ctx;
    expect(await submitErrors(t, { type: 'standard', pr: null })).toMatchObject({
      link_pr: expect.stringContaining('Link the pull request'),
    });
    const n = await submitRequest(t, { type: 'standard', pr: 'https://github.com/trove/app/pull/7' });
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, DAVE);
    await approve(t, n, 2, DAVE);
    expect(ephemeralsFor(t, DAVE).at(-1)).toContain('opens once a successful deployment to staging');
    expect(await h.codes(n)).toEqual(['not_approved', 'missing_prior_deployment']);
    await h.deployTo(n, 'staging');
    await approve(t, n, 2, DAVE); // the same CTO signs twice: the SOP asks it (oneStagePerPerson: false)
    expect(await h.status(n)).toBe('approved');
    expect((await h.gate(n)).allowed).toBe(true);
    await h.deployTo(n, 'production');
    await verifyChange(t, n, ALICE, 'ok');
    expect(await h.status(n)).toBe('verified');
  });

  it('peak season: no standard or infrastructure deployment to production, emergencies still allowed', async () => {
    const { t } = h.ctx;
    t.clock.set('2026-11-17T12:00:00Z');
    const n = await submitRequest(t, { type: 'infrastructure' });
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, DAVE);
    expect(await h.status(n)).toBe('approved'); // approving is never frozen
    expect(await h.codes(n)).toEqual(['frozen']);
    const hotfix = await submitRequest(t, { type: 'emergency', approver: DAVE });
    await approve(t, hotfix, 0, DAVE);
    expect((await h.gate(hotfix)).allowed).toBe(true);
    t.clock.set(TUESDAY);
  });
});

describe('DevSecOpsBook (Change Management Policy 1.0)', () => {
  const h = harness(
    'devsecopsbook.yml',
    {
      change_approvers: [CAROL],
      security_team: [ERIN],
      devops_platform: [FRANK, CAROL],
      head_of_engineering: [CAROL],
      security_officer: [ERIN],
      auditors: [AUDITOR],
    },
    CAROL,
  );

  it('normal: scope, timeline and test results required; Change Approver, Security Team for regulated data; tested before production; only DevOps deploys', async () => {
    const { t } = h.ctx;
    const errors = await submitErrors(t, { type: 'normal', testResults: '' });
    expect(errors).toMatchObject({
      'field:scope': expect.stringContaining('Scope is required'),
      'field:timeline': expect.stringContaining('Implementation timeline is required'),
      test_results: expect.stringContaining('test results'),
    });
    const n = await submitRequest(t, {
      type: 'normal',
      testResults: 'Unit, integration and security suites green (run 812).',
      securityFlags: ['regulated_data'],
      extra: {
        'field:scope': field.text('billing-db schema only'),
        'field:timeline': field.text('Tue 14:00 staging, Thu 14:00 production'),
      },
    });
    await approve(t, n, 0, CAROL);
    await approve(t, n, 1, ERIN);
    expect(await h.status(n)).toBe('approved');
    expect(await h.codes(n)).toEqual(['missing_prior_deployment']);
    await h.deployTo(n, 'staging');
    expect((await h.gate(n)).allowed).toBe(true);
    // RBAC: the requester may not record the production deployment; a DevOps engineer may.
    await clickOnChange(t, n, 'change_record_deployment', String(n), ALICE);
    await settled(t);
    expect(ephemeralsFor(t, ALICE).at(-1)).toContain("restricted to the policy's deployers");
    await clickOnChange(t, n, 'change_record_deployment', String(n), FRANK);
    await settled(t);
    expect(await h.status(n)).toBe('deployed');
    const view = (await h.api(`/changes/CR-${n}`)).json as { fields: Record<string, string> };
    expect(view.fields).toEqual({
      scope: 'billing-db schema only',
      timeline: 'Tue 14:00 staging, Thu 14:00 production',
    });
  });

  it('the API takes the declared fields, and refuses unknown ones field by field', async () => {
    const body = {
      ...apiChangeBody({ type: 'normal', testResults: 'All suites green' }),
      fields: { scope: 'billing-db only', timeline: 'Tuesday' },
    };
    const created = await h.api('/changes', { method: 'POST', body });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({
      change: { fields: { scope: 'billing-db only', timeline: 'Tuesday' } },
    });
    const unknown = await h.api('/changes', {
      method: 'POST',
      body: { ...body, fields: { ...body.fields, colour: 'blue' } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({ fields: [{ path: 'body.fields.colour' }] });
    const missing = await h.api('/changes', { method: 'POST', body: { ...body, fields: { scope: 'x' } } });
    expect(missing.json).toMatchObject({
      fields: [
        {
          path: 'body.fields.timeline',
          message: 'Implementation timeline is required for this type of change.',
        },
      ],
    });
    const sneaky = await h.api('/changes', {
      method: 'POST',
      raw: JSON.stringify({
        ...body,
        fields: JSON.parse('{"__proto__": ["x"], "scope": "a", "timeline": "b"}'),
      }),
    });
    // The body parser drops a "__proto__" key: the change is raised with the real fields only.
    expect(sneaky.status).toBe(201);
    expect((sneaky.json as { change: { fields: object } }).change.fields).toEqual({
      scope: 'a',
      timeline: 'b',
    });
  });

  it('standard: pre-approved; a policy deviation needs the Head of Engineering and the Security Officer', async () => {
    const { t } = h.ctx;
    const routine = await submitRequest(t, { type: 'standard' });
    expect(await h.status(routine)).toBe('approved');
    const n = await submitRequest(t, { type: 'deviation', risk: 'high' });
    await approve(t, n, 0, CAROL);
    expect(await h.status(n)).toBe('pending_approval');
    await approve(t, n, 0, ERIN);
    expect(await h.status(n)).toBe('approved');
  });
});

describe('ENG-PROC-003 (Standard Change Management Procedure)', () => {
  const h = harness(
    'eng-proc-003.yml',
    { peer_reviewers: [BOB], security_team: [ERIN], qa_team: [QUINN], engineering_leads: [CAROL] },
    CAROL,
  );

  it('ticket and PR required; peer, security (security controls), QA after staging, Engineering Lead', async () => {
    const { t } = h.ctx;
    expect(
      await submitErrors(t, { type: 'standard', ticket: null, pr: null, testResults: '' }),
    ).toMatchObject({
      link_ticket: expect.any(String),
      link_pr: expect.any(String),
      test_results: expect.any(String),
    });
    const n = await submitRequest(t, {
      type: 'standard',
      ticket: 'https://jira.example/ENG-1',
      pr: 'https://github.com/acme/app/pull/1',
      testResults: 'CI green',
      securityFlags: ['security_controls'],
    });
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, ERIN);
    await approve(t, n, 2, QUINN);
    expect(ephemeralsFor(t, QUINN).at(-1)).toContain('opens once a successful deployment to staging');
    await h.deployTo(n, 'staging');
    await approve(t, n, 2, QUINN);
    await approve(t, n, 3, CAROL);
    expect(await h.status(n)).toBe('approved');
    expect((await h.gate(n)).allowed).toBe(true);
    const detail = (await h.api(`/changes/CR-${n}`)).json as { stages: { key: string; status: string }[] };
    expect(detail.stages.map((s) => `${s.key}:${s.status}`)).toEqual([
      'peer_review:approved',
      'security_review:approved',
      'qa_signoff:approved',
      'lead_approval:approved',
    ]);
  });
});

describe('Sales Agent (Change Management Policy 1.0)', () => {
  const h = harness(
    'sales-agent.yml',
    { engineers: [BOB, FRANK], tech_leads: [CAROL], security: [ERIN], oncall: [DAVE] },
    CAROL,
  );
  const salesFields = {
    'field:category': field.select('feature'),
    'field:priority': field.select('High'),
    'field:performance_impact': field.text('None expected'),
    'field:docs_updated': field.select('yes'),
    'field:breaking_changes': field.select('no'),
  };

  it('normal: type and priority, code review and security review in parallel, tech lead, staging, maintenance window', async () => {
    const { t } = h.ctx;
    expect(await submitErrors(t, { type: 'normal', ticket: null })).toMatchObject({
      'field:category': expect.stringContaining('Type is required'),
      'field:priority': expect.stringContaining('Priority is required'),
      link_ticket: expect.any(String),
    });
    const n = await submitRequest(t, {
      type: 'normal',
      ticket: 'https://tasks.example/TASK-123',
      testResults: 'Unit and integration suites green; coverage 84%',
      securityFlags: ['api_security'],
      extra: salesFields,
    });
    // Security review first, code review second: the step's stages run in parallel.
    await approve(t, n, 1, ERIN);
    await approve(t, n, 0, BOB);
    await approve(t, n, 2, CAROL);
    expect(await h.status(n)).toBe('approved');
    await h.deployTo(n, 'staging');
    expect((await h.gate(n)).allowed).toBe(true); // Tuesday 15:00 UTC: inside the window
    t.clock.set('2026-03-10T20:00:00Z');
    expect(await h.codes(n)).toEqual(['outside_maintenance_window']);
    const hotfix = await submitRequest(t, {
      type: 'emergency',
      approver: DAVE,
      ticket: 'https://tasks.example/TASK-9',
      extra: { rollback_plan: field.text('Revert to v1.4.2'), 'field:category': field.select('security') },
    });
    await approve(t, hotfix, 0, DAVE);
    expect((await h.gate(hotfix)).allowed).toBe(true); // emergencies are exempt from the window
    t.clock.set(TUESDAY);
  });

  it('every type needs a rollback plan and a linked task, emergencies included', async () => {
    const { t } = h.ctx;
    const errors = await submitErrors(t, { type: 'emergency', approver: DAVE, ticket: null });
    expect(errors).toMatchObject({
      rollback_plan: expect.stringContaining('rollback plan'),
      link_ticket: expect.any(String),
      'field:category': expect.any(String),
    });
    const standard = await submitRequest(t, {
      type: 'standard',
      ticket: 'https://tasks.example/TASK-2',
      extra: { 'field:category': field.select('bug') },
    });
    expect(await h.status(standard)).toBe('approved');
  });
});

describe('CustomHub.io (Change Management Policy)', () => {
  const h = harness(
    'customhub.yml',
    {
      senior_engineers: [BOB],
      cto: [DAVE],
      change_board: [CAROL],
      security_officer: [ERIN],
      devops: [FRANK],
      admins: [ADMIN],
      auditors: [AUDITOR],
    },
    ADMIN,
  );

  it('developer and reviewer named; senior review, staging, CTO, and a change approval meeting for major changes', async () => {
    const { t } = h.ctx;
    expect(await submitErrors(t, { type: 'normal', ticket: 'https://jira.example/CH-1' })).toMatchObject({
      'field:developer': expect.stringContaining('Assigned developer is required'),
      'field:reviewer': expect.stringContaining('Reviewer is required'),
    });
    const n = await submitRequest(t, {
      type: 'normal',
      risk: 'high',
      ticket: 'https://jira.example/CH-1',
      pr: 'https://github.com/customhub/app/pull/3',
      testResults: 'Unit and integration tests green',
      extra: {
        'field:developer': field.user(ALICE),
        'field:reviewer': field.user(BOB),
        'field:security_checks': field.select('yes'),
      },
    });
    expect(JSON.stringify((await rootMessage(t, n)).blocks)).toContain('*Assigned developer:* <@U0123ALICE>');
    await approve(t, n, 0, BOB);
    await h.deployTo(n, 'staging');
    await approve(t, n, 1, DAVE);
    expect(await h.status(n)).toBe('pending_approval');
    // Step 5: the change approval meeting decides it; not a click outside a meeting.
    await approve(t, n, 2, CAROL);
    expect(await h.status(n)).toBe('pending_approval');
    await t.slack.command('/change', `meeting CR-${n}`, { user: CAROL });
    await settled(t);
    await approve(t, n, 2, CAROL);
    expect(await h.status(n)).toBe('approved');
    // Only senior DevOps engineers and administrators deploy to production.
    await clickOnChange(t, n, 'change_record_deployment', String(n), ALICE);
    await settled(t);
    expect(ephemeralsFor(t, ALICE).at(-1)).toContain("restricted to the policy's deployers");
    await clickOnChange(t, n, 'change_record_deployment', String(n), FRANK);
    await settled(t);
    expect(await h.status(n)).toBe('deployed');
  });

  it('emergency: authorised by the CTO or the security officer', async () => {
    const { t } = h.ctx;
    const n = await submitRequest(t, {
      type: 'emergency',
      approver: ERIN,
      extra: { 'field:developer': field.user(FRANK) },
    });
    await approve(t, n, 0, ERIN);
    expect((await h.gate(n)).allowed).toBe(true);
  });
});
