import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/domain/audit.js';
import {
  approve,
  clickOnChange,
  ephemeralsFor,
  replies,
  rootMessage,
  settled,
  submitRequest,
} from '../support/flows.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { ADMIN, ALICE, BOB, CAROL, DAVE, ERIN, FRANK } from '../support/people.js';

describe('approval rules through Slack', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url);
  });
  afterAll(() => t.stop());
  beforeEach(() => {
    t.fake.clear();
    t.clock.set('2026-03-10T18:00:00Z');
  });

  const events = (n: number) => t.app.models.ChangeEvent.find({ changeNumber: n }).sort({ seq: 1 }).lean();
  const status = async (n: number) => (await t.app.models.Change.findOne({ number: n }).lean())!.status;

  it('refuses self-approval with an ephemeral explanation and records the attempt', async () => {
    const n = await submitRequest(t);
    await approve(t, n, 0, ALICE);
    expect(ephemeralsFor(t, ALICE).at(-1)).toContain('cannot approve or reject it yourself');
    const log = await events(n);
    expect(log.map((e) => e.type)).toEqual(['submitted', 'approval_refused']);
    expect(log[1]).toMatchObject({
      actor: ALICE,
      data: { code: 'SELF_APPROVAL_FORBIDDEN', action: 'approve', stage: 'peer_review' },
    });
    expect(await status(n)).toBe('pending_approval');
    // Nothing was said in the thread about it.
    expect((await replies(t, n)).map((r) => r.text).join()).not.toContain('refused');
  });

  it('refuses an ineligible approver and one person signing two stages', async () => {
    const n = await submitRequest(t);
    await approve(t, n, 0, CAROL);
    await approve(t, n, 1, CAROL);
    expect(ephemeralsFor(t, CAROL).at(-1)).toContain('already signed off Peer review');
    await approve(t, n, 1, FRANK);
    expect(ephemeralsFor(t, FRANK).at(-1)).toContain(
      'not an approver for the Engineering lead approval stage',
    );
    expect((await events(n)).map((e) => e.type)).toEqual([
      'submitted',
      'stage_approved',
      'approval_refused',
      'approval_refused',
    ]);
  });

  it('adds a security review when a security impact is flagged; the group member approves it', async () => {
    const n = await submitRequest(t, { securityFlags: ['auth', 'regulated_data'] });
    const root = await rootMessage(t, n);
    expect(JSON.stringify(root.blocks)).toContain('Security review');
    expect(JSON.stringify(root.blocks)).toContain(
      'Security impact: Authentication / authorisation, Regulated or sensitive data',
    );
    await approve(t, n, 0, BOB);
    expect((await replies(t, n)).at(-1)!.text).toContain(`Next: *Security review* (<@${ERIN}>)`);
    await approve(t, n, 1, FRANK);
    expect(ephemeralsFor(t, FRANK).at(-1)).toContain('not an approver for the Security review stage');
    await approve(t, n, 1, ERIN);
    await approve(t, n, 2, CAROL);
    expect(await status(n)).toBe('approved');
  });

  it('inside a freeze a change is approved, but deploying needs an exception (reason and risk) by the CTO', async () => {
    t.clock.set('2026-11-16T18:00:00Z'); // inside Peak season
    const n = await submitRequest(t);
    const root = await rootMessage(t, n);
    expect(JSON.stringify(root.blocks)).toContain('*Freeze:* Peak season');
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, CAROL);
    expect(await status(n)).toBe('approved');
    await clickOnChange(t, n, 'change_record_deployment', String(n), ALICE);
    await settled(t);
    expect(ephemeralsFor(t, ALICE).at(-1)).toContain('Peak season is in force');
    expect(await status(n)).toBe('approved');

    // A lead may not grant it; the modal keeps the error inline.
    await clickOnChange(t, n, 'change_grant_exception', String(n), CAROL);
    await settled(t);
    const modal = t.fake.callsOf('views.update').at(-1)!.args.view as { callback_id: string };
    expect(modal.callback_id).toBe('change_exception_modal');
    const values = (reason: string, risk = 'Low: one checkout service, rollback rehearsed') => ({
      freeze: {
        value: {
          type: 'static_select',
          selected_option: { text: { type: 'plain_text', text: 'Peak season' }, value: 'Peak season' },
        },
      },
      reason: { value: { type: 'plain_text_input', value: reason } },
      risk: { value: { type: 'plain_text_input', value: risk } },
    });
    const submit = (v: ReturnType<typeof values>, user: string) =>
      t.slack.submitView(
        { callbackId: 'change_exception_modal', privateMetadata: JSON.stringify({ n }), values: v },
        user,
      );
    expect((await submit(values('Please'), CAROL)).json).toMatchObject({
      response_action: 'errors',
      errors: { reason: expect.stringContaining('Only cto may grant') },
    });
    expect((await submit(values('  '), DAVE)).json).toMatchObject({
      response_action: 'errors',
      errors: { reason: expect.stringContaining('needs a reason') },
    });
    expect((await submit(values('Fix for the checkout outage', ' '), DAVE)).json).toMatchObject({
      response_action: 'errors',
      errors: { risk: expect.stringContaining('needs a risk note') },
    });
    const granted = await submit(values('Fix for the checkout outage'), DAVE);
    expect(granted.json).toBeNull();
    await settled(t);
    const reply = (await replies(t, n)).at(-1)!.text;
    expect(reply).toContain('granted an exception for *Peak season*: Fix for the checkout outage');
    expect(reply).toContain('*Risk:* Low: one checkout service');
    expect(JSON.stringify((await rootMessage(t, n)).blocks)).toContain(
      'Exception for *Peak season* granted by',
    );
    await clickOnChange(t, n, 'change_record_deployment', String(n), ALICE);
    await settled(t);
    expect(await status(n)).toBe('deployed');
  });

  it('rejects with a reason from the modal; the requester gets a DM; later clicks are answered', async () => {
    const n = await submitRequest(t);
    await clickOnChange(t, n, 'change_reject', `${n}:0`, BOB);
    await settled(t);
    const modal = t.fake.callsOf('views.open').at(-1)!.response.view as {
      callback_id: string;
      private_metadata: string;
    };
    expect(modal.callback_id).toBe('change_reject_modal');
    const empty = await t.slack.submitView(
      {
        callbackId: 'change_reject_modal',
        privateMetadata: modal.private_metadata,
        values: { reason: { value: { type: 'plain_text_input', value: '' } } },
      },
      BOB,
    );
    expect(empty.json).toMatchObject({
      response_action: 'errors',
      errors: { reason: 'Please give a reason.' },
    });
    const res = await t.slack.submitView(
      {
        callbackId: 'change_reject_modal',
        privateMetadata: modal.private_metadata,
        values: { reason: { value: { type: 'plain_text_input', value: 'No rollback test in staging' } } },
      },
      BOB,
    );
    expect(res.json).toBeNull();
    await settled(t);
    expect(await status(n)).toBe('rejected');
    expect((await replies(t, n)).at(-1)!.text).toContain(
      `rejected CR-${n} at *Peer review*: No rollback test in staging`,
    );
    expect(t.fake.dms(ALICE).at(-1)!.text).toContain('was rejected');
    await approve(t, n, 0, FRANK);
    expect(ephemeralsFor(t, FRANK).at(-1)).toContain('already rejected');
  });

  it('lets the requester cancel before deployment; others are refused', async () => {
    const n = await submitRequest(t);
    await clickOnChange(t, n, 'change_cancel', String(n), BOB);
    await settled(t);
    expect(ephemeralsFor(t, BOB).at(-1)).toContain('Only the requester');
    const cmd = await t.slack.command('/change', `cancel CR-${n} superseded by a bigger upgrade`, {
      user: ALICE,
    });
    expect(cmd.status).toBe(200);
    await settled(t);
    expect(await status(n)).toBe('cancelled');
    expect((await replies(t, n)).at(-1)!.text).toContain(`cancelled CR-${n}: superseded by a bigger upgrade`);
    expect(String(t.fake.responsePosts.at(-1)!.body.text)).toContain('is cancelled');
    const root = await rootMessage(t, n);
    expect(JSON.stringify(root.blocks)).not.toContain('change_approve');
  });

  it('an admin may cancel any change', async () => {
    const n = await submitRequest(t);
    await clickOnChange(t, n, 'change_cancel', String(n), ADMIN);
    await settled(t);
    expect(await status(n)).toBe('cancelled');
  });

  it('20 concurrent Approve clicks on one stage: exactly one decision event and one thread reply', async () => {
    const n = await submitRequest(t);
    const root = await rootMessage(t, n);
    const clickers = Array.from({ length: 20 }, (_, i) => `U0123P${String(i).padStart(3, '0')}`);
    for (const u of clickers) t.fake.addUser(u); // engineers of the workspace
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
    const log = await events(n);
    expect(log.filter((e) => e.type === 'stage_approved')).toHaveLength(1);
    expect(
      log.filter(
        (e) => e.type === 'stage_approved' && e.data && (e.data as { stageIndex: number }).stageIndex === 0,
      ),
    ).toHaveLength(1);
    const approvalReplies = (await replies(t, n)).filter((r) => r.text.includes('approved *Peer review*'));
    expect(approvalReplies).toHaveLength(1);
    const winner = log.find((e) => e.type === 'stage_approved')!.actor;
    const losers = clickers.filter((u) => u !== winner);
    for (const u of losers) expect(ephemeralsFor(t, u).at(-1)).toContain(`already approved by <@${winner}>`);
    const doc = (await t.app.models.Change.findOne({ number: n }).lean())!;
    expect(verifyChain(log, { seq: doc.seq, hash: doc.headHash })).toBeNull();
  });

  it('the stored history verifies, and altering one stored event breaks verification', async () => {
    const n = await submitRequest(t);
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, CAROL);
    const doc = (await t.app.models.Change.findOne({ number: n }).lean())!;
    expect(verifyChain(await events(n), { seq: doc.seq, hash: doc.headHash })).toBeNull();
    expect((await events(n)).every((e) => e.policyHash === t.policy.hash)).toBe(true);

    // Someone with database access rewrites who approved the lead stage.
    await t.app.models.ChangeEvent.updateOne({ changeNumber: n, seq: 3 }, { $set: { actor: DAVE } });
    expect(verifyChain(await events(n), { seq: doc.seq, hash: doc.headHash })).toEqual({
      seq: 3,
      problem: 'hash_mismatch',
    });
  });
});
