import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiClient, createToken } from '../support/api.js';
import { TestClock } from '../support/clock.js';
import {
  approve,
  clickOnChange,
  ephemeralsFor,
  replies,
  rootMessage,
  settled,
  submitRequest,
  verifyChange,
} from '../support/flows.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { ALICE, BOB, CAROL, DAVE, ERIN, FRANK, QUINN } from '../support/people.js';

const NOW = '2026-03-10T17:00:00Z';

/** Quorums, one approval per role, parallel steps and a staging prerequisite, as a policy says them. */
const POLICY_YAML = `version: 1
organisation: Policy v2 test
timezone: America/Los_Angeles
channels: { approvals: C0123CHG01, reports: null, security: null, audit: null }
roles:
  head_of_engineering: { users: [U0123CAROL, U0123DAVE] }
  security_officer: { users: [U0123ERIN, U0123DAVE] }
  qa: { users: [U0123QUINN] }
  admins: { users: [U0123ADMIN] }
  cab: { users: [U0123ERIN, U0123QUINN] }
environments: [staging]
stages:
  two_reviews:
    name: Two peer reviews
    approvers: { anyone: true }
    quorum: 2
  qa_signoff:
    name: QA sign-off
    approvers: { roles: [qa] }
    after: { deployedTo: staging }
    marksStagingTested: true
  security_review:
    name: Security review
    approvers: { roles: [security_officer] }
  heads:
    name: Head of Engineering and Security Officer
    approvers: { eachOf: [head_of_engineering, security_officer] }
  hotfix_approval:
    name: Emergency approval
    approvers: { roles: [head_of_engineering] }
types:
  emergency:
    name: Emergency
    form: emergency
    stages: [hotfix_approval]
    retrospectiveDueHours: 24
    retrospectiveReviewers: [cab]
  normal:
    name: Normal
    stages:
      - two_reviews
      - parallel: [qa_signoff, { stage: security_review, when: { securityFlags: any } }]
  deviation:
    name: Policy deviation
    stages: [heads]
  release:
    name: Release
    announce: [C0123ANN01]
    stages: [two_reviews]
    postImplementationReviews:
      - { name: Health check, afterHours: 0, questions: [Objectives achieved?, No unexpected impact?] }
      - { name: Initial assessment, afterHours: 24, questions: [Performance acceptable?] }
access: { admins: [admins], seeAllChanges: [admins] }
`;

describe('policy v2 through Slack and the gate API', () => {
  let t: TestApp;
  let token = '';
  let auditor = '';
  const api = apiClient(
    () => t,
    () => token,
  );
  const gate = (n: number) => api(`/changes/CR-${n}/gate?environment=production`);
  const events = (n: number) => t.app.models.ChangeEvent.find({ changeNumber: n }).sort({ seq: 1 }).lean();

  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { clock: new TestClock(NOW), policyYaml: POLICY_YAML });
    token = await createToken(t, 'pipeline', 'env=production,staging');
    auditor = await createToken(t, 'auditor', 'audit:read changes:read');
  });
  afterAll(() => t.stop());
  beforeEach(() => {
    t.fake.clear();
    t.clock.set(NOW);
  });

  it('20 simultaneous approvals on a 2-of-N stage record exactly two decisions', async () => {
    const n = await submitRequest(t);
    const root = await rootMessage(t, n);
    const clickers = Array.from({ length: 20 }, (_, i) => `U0123Q${String(i).padStart(3, '0')}`);
    for (const u of clickers) t.fake.addUser(u);
    const responses = await Promise.all(
      clickers.map((u) =>
        t.slack.click('change_approve', `${n}:0`, {
          user: u,
          message: { channel: root.channel, ts: root.ts },
        }),
      ),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    await settled(t);
    const approvals = (await events(n)).filter((e) => e.type === 'stage_approved');
    expect(approvals).toHaveLength(2);
    expect(new Set(approvals.map((e) => e.actor)).size).toBe(2);
    const winners = approvals.map((e) => e.actor);
    for (const u of clickers.filter((c) => !winners.includes(c)))
      expect(ephemeralsFor(t, u).at(-1)).toContain('already approved');
    // The stage is passed; the next step (QA, waiting for staging) is where the change stands.
    const view = await api(`/changes/CR-${n}`);
    expect(view.json).toMatchObject({
      status: 'pending_approval',
      stages: [
        { key: 'two_reviews', status: 'approved', approvalsNeeded: 2 },
        { key: 'qa_signoff', status: 'blocked', opensAfterDeploymentTo: 'staging' },
      ],
    });
  });

  it('parallel stages open together; QA opens only after a pipeline deploys to staging; the gate follows', async () => {
    const n = await submitRequest(t, { securityFlags: ['auth'] });
    await approve(t, n, 0, BOB);
    await approve(t, n, 0, FRANK);
    // QA cannot sign off before staging; the security review is open at the same time.
    await approve(t, n, 1, QUINN);
    expect(ephemeralsFor(t, QUINN).at(-1)).toContain('opens once a successful deployment to staging');
    const root = JSON.stringify((await rootMessage(t, n)).blocks);
    expect(root).toContain(`stage_actions:${n}:2`);
    expect(root).not.toContain(`stage_actions:${n}:1`);
    expect(root).toContain('opens once a deployment to staging is recorded');

    expect((await gate(n)).json).toMatchObject({
      allowed: false,
      reasons: [{ code: 'not_approved' }, { code: 'missing_prior_deployment' }],
    });
    await approve(t, n, 2, ERIN);
    const staged = await api(`/changes/CR-${n}/deployments`, {
      method: 'POST',
      body: { environment: 'staging', status: 'succeeded' },
    });
    expect(staged.status).toBe(201);
    await settled(t);
    expect(JSON.stringify((await rootMessage(t, n)).blocks)).toContain(`stage_actions:${n}:1`);
    await approve(t, n, 1, QUINN);
    const after = await gate(n);
    expect(after.status).toBe(200);
    expect(after.json).toMatchObject({ allowed: true });
    const view = await api(`/changes/CR-${n}`);
    expect(view.json).toMatchObject({ status: 'approved' });
  });

  it('stakeholders hear of an approved change, its production deployment and its outcome', async () => {
    const n = await submitRequest(t, { type: 'release', title: 'Pricing page v2' });
    await approve(t, n, 0, BOB);
    expect(t.fake.posts('C0123ANN01')).toEqual([]); // one approval of two: nothing to announce yet
    await approve(t, n, 0, FRANK);
    const [upcoming] = t.fake.posts('C0123ANN01');
    expect(upcoming?.text).toContain('Upcoming deployment:');
    expect(upcoming?.text).toContain('Pricing page v2');
    expect(upcoming?.text).toContain('*Window:* not planned');
    expect(upcoming?.text).toContain(`<@${BOB}>, <@${FRANK}>`);
    await api(`/changes/CR-${n}/deployments`, {
      method: 'POST',
      body: { environment: 'staging', status: 'succeeded' },
    });
    await api(`/changes/CR-${n}/deployments`, {
      method: 'POST',
      body: { environment: 'production', status: 'succeeded' },
    });
    await settled(t);
    const deployed = t.fake.posts('C0123ANN01').slice(1);
    expect(deployed.map((m) => m.text.split(':*')[0])).toEqual(['🚀 *Deployment succeeded']); // staging is not announced
    await verifyChange(t, n, ALICE, 'ok');
    expect(t.fake.posts('C0123ANN01').at(-1)?.text).toContain('Post-deployment summary:');
    expect(t.fake.posts('C0123ANN01').at(-1)?.text).toContain('verified by');
    for (const m of t.fake.posts('C0123ANN01')) expect(m.thread_ts).toBeUndefined();
  });

  it('an emergency retrospective is reviewed: sent back with questions, answered, accepted; chased meanwhile', async () => {
    const n = await submitRequest(t, { type: 'emergency', approver: CAROL });
    await approve(t, n, 0, CAROL);
    await api(`/changes/CR-${n}/deployments`, {
      method: 'POST',
      body: { environment: 'production', status: 'succeeded' },
    });
    await settled(t);
    const answers = {
      what_changed: 'Raised the provider timeout',
      why: 'Checkout failed',
      approval: 'Head of Engineering in Changegate',
      root_cause: 'A config change',
      preventable: 'Yes',
      follow_ups: '',
    };
    const submitted = await t.slack.submitView(
      {
        callbackId: 'change_retro_modal',
        privateMetadata: JSON.stringify({ n }),
        values: Object.fromEntries(
          Object.entries(answers).map(([k, v]) => [k, { value: { type: 'plain_text_input', value: v } }]),
        ),
      },
      ALICE,
    );
    expect(submitted.json).toBeNull();
    await settled(t);
    // The reviewers are asked (never the requester); the change shows "review pending".
    expect(t.fake.dms(ERIN).at(-1)?.text).toContain('Please review the retrospective');
    expect((await api(`/changes/CR-${n}`)).json).toMatchObject({ retrospective: { status: 'on_time' } });
    const root = JSON.stringify((await rootMessage(t, n)).blocks);
    expect(root).toContain('change_review_accept');

    const text = (callbackId: string, value: string, user: string) =>
      t.slack.submitView(
        {
          callbackId,
          privateMetadata: JSON.stringify({ n }),
          values: { reason: { value: { type: 'plain_text_input', value } } },
        },
        user,
      );
    // Not a reviewer, and the requester: refused inline.
    expect((await text('change_review_questions_modal', 'Why?', FRANK)).json).toMatchObject({
      errors: { reason: expect.stringContaining('reviewed by cab') },
    });
    expect((await text('change_review_questions_modal', 'Why?', ALICE)).json).toMatchObject({
      errors: { reason: expect.stringContaining('another person reviews') },
    });
    expect(
      (await text('change_review_questions_modal', 'Which config change, and who reviewed it?', ERIN)).json,
    ).toBeNull();
    await settled(t);
    expect(t.fake.dms(ALICE).at(-1)?.text).toContain('sent the retrospective of');
    // Chased while the questions wait: the requester, on the retrospective's cadence, in working hours.
    t.clock.advance(25 * 3_600_000);
    await t.app.reminders.retrospectives();
    expect(
      t.fake.dms(ALICE).some((m) => m.text.includes('wait for your answer') && m.text.includes(`|CR-${n}>`)),
    ).toBe(true);
    expect(
      (await text('change_review_answer_modal', 'The timeout flag; nobody reviewed it.', ALICE)).json,
    ).toBeNull();
    await settled(t);
    await clickOnChange(t, n, 'change_review_accept', String(n), QUINN);
    await settled(t);
    const log = (await events(n)).map((e) => e.type);
    expect(log.slice(-3)).toEqual(['retro_reviewed', 'retro_answered', 'retro_reviewed']);
    expect((await replies(t, n)).at(-1)?.text).toContain('accepted the retrospective');
    const csv = await api('/audit/export?period=2026-03&format=csv', { token: auditor });
    expect(csv.text).toContain('review accepted');
  });

  it('post-implementation reviews are asked at each checkpoint after verification, answered in a modal, chased when overdue', async () => {
    const n = await submitRequest(t, { type: 'release', title: 'Checkout v3' });
    await approve(t, n, 0, BOB);
    await approve(t, n, 0, FRANK);
    await api(`/changes/CR-${n}/deployments`, {
      method: 'POST',
      body: { environment: 'production', status: 'succeeded' },
    });
    await settled(t);
    await verifyChange(t, n, ALICE, 'ok');
    // The health check is due at once: one DM with its questions and a button.
    await t.app.reminders.retrospectives();
    await t.app.reminders.retrospectives(); // a second sweep asks nothing twice
    const mine = () => t.fake.dms(ALICE).filter((m) => m.text.includes(`|CR-${n}>`));
    const asked = mine().filter((m) => m.text.includes('*Health check* post-implementation review'));
    expect(asked).toHaveLength(1);
    expect(JSON.stringify(asked[0]!.blocks)).toContain(`"value":"${n}:0"`);
    const answer = (checkpoint: number, values: string[]) =>
      t.slack.submitView(
        {
          callbackId: 'change_pir_modal',
          privateMetadata: JSON.stringify({ n, stage: checkpoint }),
          values: Object.fromEntries(
            values.map((v, k) => [`pir_q_${k}`, { value: { type: 'plain_text_input', value: v } }]),
          ),
        },
        ALICE,
      );
    // App Home lists it among the reviews the requester owes, with its button.
    await t.slack.homeOpened(ALICE);
    await settled(t);
    const home = JSON.stringify(
      t.fake
        .callsOf('views.publish')
        .filter((c) => c.args.user_id === ALICE)
        .at(-1)?.args.view,
    );
    expect(home).toContain('Reviews you owe');
    expect(home).toContain(`"value":"${n}:0"`);
    expect((await answer(0, ['Yes', ''])).json).toMatchObject({ errors: { pir_q_1: 'Required.' } });
    expect((await answer(1, ['Too early'])).json).toMatchObject({
      errors: { pir_q_0: expect.stringContaining('answer it then') },
    });
    expect((await answer(0, ['Yes', 'None seen'])).json).toBeNull();
    await settled(t);
    expect((await replies(t, n)).at(-1)?.text).toContain(
      'completed the *Health check* post-implementation review',
    );
    // 24 h later the initial assessment is asked for; a day after that, chased as overdue.
    t.clock.advance(25 * 3_600_000);
    await t.app.reminders.retrospectives();
    expect(mine().at(-1)?.text).toContain('📋 The *Initial assessment*');
    t.clock.advance(24 * 3_600_000);
    await t.app.reminders.retrospectives();
    expect(mine().at(-1)?.text).toContain('⏰ Overdue: the *Initial assessment*');
    const csv = await api('/audit/export?period=2026-03&format=csv', { token: auditor });
    expect(csv.text).toMatch(/Health check: answered by U0123ALICE \([^)]+\); Initial assessment: overdue/);
  });

  it('one approval from each role, by two different people', async () => {
    const n = await submitRequest(t, { type: 'deviation' });
    await approve(t, n, 0, CAROL);
    await approve(t, n, 0, FRANK);
    expect(ephemeralsFor(t, FRANK).at(-1)).toContain('not an approver');
    expect((await api(`/changes/CR-${n}`)).json).toMatchObject({
      status: 'pending_approval',
      stages: [{ approvals: [{ by: CAROL }], missingRoles: ['security_officer'] }],
    });
    // Dave holds both roles: his approval stands for the security officer.
    await approve(t, n, 0, DAVE);
    expect((await api(`/changes/CR-${n}`)).json).toMatchObject({ status: 'approved' });
    expect((await events(n)).filter((e) => e.type === 'stage_approved').map((e) => e.actor)).toEqual([
      CAROL,
      DAVE,
    ]);
  });
});
