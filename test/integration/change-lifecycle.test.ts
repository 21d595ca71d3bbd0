import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/domain/audit.js';
import {
  approve,
  clickOnChange,
  formValues,
  openRequestModal,
  replies,
  rootMessage,
  settled,
  submitRequest,
} from '../support/flows.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { ALICE, APPROVALS, BOB, CAROL, DAVE } from '../support/people.js';

/** Full lifecycles of each default change type through signed Slack requests, the real DB and the fake Slack. */
describe('change lifecycle in Slack', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url);
  });
  afterAll(() => t.stop());
  beforeEach(() => {
    t.fake.clear();
  });

  const eventTypes = async (n: number) =>
    (await t.app.models.ChangeEvent.find({ changeNumber: n }).sort({ seq: 1 }).lean()).map((e) => e.type);
  const stateOf = async (n: number) => (await t.app.models.Change.findOne({ number: n }).lean())!;
  const chainOk = async (n: number) => {
    const events = await t.app.models.ChangeEvent.find({ changeNumber: n }).lean();
    const doc = await stateOf(n);
    return verifyChain(events, { seq: doc.seq, hash: doc.headHash });
  };
  const buttonValues = (m: { blocks?: unknown[] }) =>
    (m.blocks ?? [])
      .flatMap((b) =>
        (b as { type: string }).type === 'actions'
          ? ((b as { elements: { action_id: string; value: string }[] }).elements ?? [])
          : [],
      )
      .map((e) => `${e.action_id}=${e.value}`);

  it('normal: /change opens the modal, submit → peer review → lead → deployed → verified', async () => {
    const view = await openRequestModal(t);
    expect(view.callback_id).toBe('change_request_modal');
    expect(view.blocks.map((b) => b.block_id)).toEqual(
      expect.arrayContaining([
        'type',
        'title',
        'description',
        'justification',
        'systems',
        'risk',
        'impact',
        'security_flags',
        'test_plan',
        'staging_tested',
        'rollback_plan',
        'planned_start',
        'planned_end',
        'link_pr',
        'link_ticket',
        'reviewers',
      ]),
    );

    const n = await submitRequest(t, { reviewers: [BOB] });
    const root = await rootMessage(t, n);
    expect(root.channel).toBe(APPROVALS);
    expect(JSON.stringify(root.blocks)).toContain(`CR-${n} · Upgrade api-gateway to v2.3`);
    expect(buttonValues(root)).toEqual(
      expect.arrayContaining([`change_approve=${n}:0`, `change_reject=${n}:0`, `change_cancel=${n}`]),
    );
    const submitted = await replies(t, n);
    expect(submitted[0]!.text).toContain(`<@${ALICE}> submitted CR-${n}`);
    expect(submitted[0]!.text).toContain(`Suggested reviewers: <@${BOB}>`);
    const dm = t.fake.dms(ALICE).at(-1)!;
    expect(dm.text).toContain(`CR-${n}`);
    expect(JSON.stringify(dm.blocks)).toContain('slack.com/archives/C0123CHG01/p');

    await approve(t, n, 0, BOB);
    let thread = await replies(t, n);
    expect(thread.at(-1)!.text).toContain(`<@${BOB}> approved *Peer review*`);
    expect(thread.at(-1)!.text).toContain(`Next: *Engineering lead approval* (<@${CAROL}>)`);
    expect(root.updates).toBe(1);
    expect(JSON.stringify(root.blocks)).toContain(`Peer review* approved by <@${BOB}>`);
    expect(buttonValues(root)).toContain(`change_approve=${n}:1`);

    await approve(t, n, 1, CAROL);
    expect((await stateOf(n)).status).toBe('approved');
    thread = await replies(t, n);
    expect(thread.at(-1)!.text).toContain('is fully approved and ready to deploy');
    expect(t.fake.dms(ALICE).at(-1)!.text).toContain('is approved');
    expect(buttonValues(root)).toContain(`change_record_deployment=${n}`);

    await clickOnChange(t, n, 'change_record_deployment', String(n), ALICE);
    await settled(t);
    expect((await stateOf(n)).status).toBe('deployed');
    expect((await replies(t, n)).at(-1)!.text).toContain('deployed to *production*');

    await clickOnChange(t, n, 'change_verify_ok', String(n), ALICE);
    await settled(t);
    const verifyView = t.fake.callsOf('views.open').at(-1)!.response.view as {
      id: string;
      private_metadata: string;
      callback_id: string;
    };
    expect(verifyView.callback_id).toBe('change_verify_modal');
    const res = await t.slack.submitView(
      {
        callbackId: 'change_verify_modal',
        privateMetadata: verifyView.private_metadata,
        values: {
          outcome: {
            value: {
              type: 'radio_buttons',
              selected_option: { text: { type: 'plain_text', text: 'ok' }, value: 'ok' },
            },
          },
          issues: { value: { type: 'plain_text_input', value: null } },
        },
      },
      ALICE,
    );
    expect(res.status).toBe(200);
    expect(res.json).toBeNull();
    await settled(t);
    expect((await stateOf(n)).status).toBe('verified');
    expect(await eventTypes(n)).toEqual([
      'submitted',
      'stage_approved',
      'stage_approved',
      'deployment_recorded',
      'verified',
    ]);
    expect(JSON.stringify(root.blocks)).toContain('Deployed and verified');
    expect(await chainOk(n)).toBeNull();
    expect(t.fake.rejected()).toEqual([]);
  });

  it('infrastructure: peer review → CTO → `/change deployed` → rolled back with issues', async () => {
    const n = await submitRequest(t, { type: 'infrastructure', title: 'Rotate the TLS certificate' });
    await approve(t, n, 0, BOB);
    expect((await replies(t, n)).at(-1)!.text).toContain(`Next: *CTO approval* (<@${DAVE}>)`);
    await approve(t, n, 1, DAVE);
    const cmd = await t.slack.command('/change', `deployed CR-${n} production v2.3.0`, { user: ALICE });
    expect(cmd.status).toBe(200);
    await settled(t);
    const answer = t.fake.responsePosts.at(-1)!.body;
    expect(answer).toMatchObject({ response_type: 'ephemeral' });
    expect(String(answer.text)).toContain(`CR-${n} deployed to *production*`);
    expect((await replies(t, n)).at(-1)!.text).toContain('commit `v2.3.0`');

    const bad = await t.slack.submitView(
      {
        callbackId: 'change_verify_modal',
        privateMetadata: JSON.stringify({ n }),
        values: {
          outcome: {
            value: {
              type: 'radio_buttons',
              selected_option: { text: { type: 'plain_text', text: 'x' }, value: 'rolled_back' },
            },
          },
          issues: { value: { type: 'plain_text_input', value: '' } },
        },
      },
      ALICE,
    );
    expect(bad.json).toMatchObject({
      response_action: 'errors',
      errors: { issues: expect.stringContaining('rollback') },
    });
    const ok = await t.slack.submitView(
      {
        callbackId: 'change_verify_modal',
        privateMetadata: JSON.stringify({ n }),
        values: {
          outcome: {
            value: {
              type: 'radio_buttons',
              selected_option: { text: { type: 'plain_text', text: 'x' }, value: 'rolled_back' },
            },
          },
          issues: { value: { type: 'plain_text_input', value: 'Handshake failures on old clients' } },
        },
      },
      ALICE,
    );
    expect(ok.json).toBeNull();
    await settled(t);
    expect((await stateOf(n)).status).toBe('rolled_back');
    expect((await replies(t, n)).at(-1)!.text).toContain('rolled the change back: Handshake failures');
    expect(await chainOk(n)).toBeNull();
    expect(t.fake.rejected()).toEqual([]);
  });

  it('standard: recorded and auto-approved by policy, still deployed, verified and logged', async () => {
    const n = await submitRequest(t, { type: 'standard', title: 'Patch lodash 4.17.21' });
    expect((await stateOf(n)).status).toBe('approved');
    const root = await rootMessage(t, n);
    expect(JSON.stringify(root.blocks)).toContain('Pre-approved standard change');
    expect((await replies(t, n))[0]!.text).toContain('approved by policy');
    await clickOnChange(t, n, 'change_record_deployment', String(n), ALICE);
    await settled(t);
    const res = await t.slack.submitView(
      {
        callbackId: 'change_verify_modal',
        privateMetadata: JSON.stringify({ n }),
        values: {
          outcome: {
            value: {
              type: 'radio_buttons',
              selected_option: { text: { type: 'plain_text', text: 'ok' }, value: 'ok' },
            },
          },
          issues: { value: { type: 'plain_text_input', value: 'None' } },
        },
      },
      ALICE,
    );
    expect(res.json).toBeNull();
    await settled(t);
    expect(await eventTypes(n)).toEqual(['submitted', 'deployment_recorded', 'verified']);
    expect(t.fake.rejected()).toEqual([]);
  });

  it('emergency: minimal form, the named approver decides from a DM, deploy, retrospective', async () => {
    const view = await openRequestModal(t, ALICE, 'emergency');
    expect(view.blocks.map((b) => b.block_id).filter(Boolean)).toEqual([
      'type',
      'title',
      'justification',
      'systems',
      'emergency_approver',
      'description',
      'link_ticket',
      'link_pr',
      'commit',
    ]);
    const n = await submitRequest(t, { type: 'emergency' });
    const state = await stateOf(n);
    expect(state.status).toBe('pending_approval');
    expect(state.emergency).toBe(true);

    // The CTO gets a DM with the decision buttons and approves from there.
    const dm = t.fake.dms(DAVE).at(-1)!;
    expect(dm.text).toContain('named you as the approver of emergency change');
    const res = await t.slack.click('change_approve', `${n}:0`, {
      user: DAVE,
      message: { channel: dm.channel, ts: dm.ts },
    });
    expect(res.status).toBe(200);
    await settled(t);
    expect((await stateOf(n)).status).toBe('approved');
    expect(dm.text).toContain('You approved');
    expect((await replies(t, n)).at(-1)!.text).toContain(`<@${DAVE}> approved *Emergency approval*`);

    t.clock.advanceHours(1);
    await clickOnChange(t, n, 'change_record_deployment', String(n), ALICE);
    await settled(t);
    const deployed = await stateOf(n);
    expect(deployed.retroDueAt?.toISOString()).toBe(
      new Date(t.clock.now().getTime() + 48 * 3_600_000).toISOString(),
    );
    expect(t.fake.dms(ALICE).at(-1)!.text).toContain('retrospective is due');

    // The retro button opens a loading modal, then fills it in with views.update.
    await clickOnChange(t, n, 'change_retro', String(n), ALICE);
    await settled(t);
    const update = t.fake.callsOf('views.update').at(-1)!;
    expect((update.args.view as { callback_id: string }).callback_id).toBe('change_retro_modal');
    const empty = await t.slack.submitView(
      { callbackId: 'change_retro_modal', privateMetadata: JSON.stringify({ n }), values: {} },
      ALICE,
    );
    expect(empty.json).toMatchObject({ response_action: 'errors', errors: { root_cause: 'Required.' } });
    const answers = {
      what_changed: 'Reverted the payment provider timeout to 10 s',
      why: 'Checkout failed for EU customers',
      approval: 'CTO approved in Changegate',
      root_cause: 'A config change lowered the timeout to 1 s',
      preventable: 'Yes: config changes now need review',
      follow_ups: 'Add a timeout alert',
    };
    const ok = await t.slack.submitView(
      {
        callbackId: 'change_retro_modal',
        privateMetadata: JSON.stringify({ n }),
        values: Object.fromEntries(
          Object.entries(answers).map(([k, v]) => [k, { value: { type: 'plain_text_input', value: v } }]),
        ),
      },
      ALICE,
    );
    expect(ok.json).toBeNull();
    await settled(t);
    expect((await stateOf(n)).retroSubmittedAt).not.toBeNull();
    expect((await replies(t, n)).at(-1)!.text).toContain('submitted the retrospective');
    expect(await eventTypes(n)).toEqual([
      'submitted',
      'stage_approved',
      'deployment_recorded',
      'retro_submitted',
    ]);
    expect(await chainOk(n)).toBeNull();
    expect(t.fake.rejected()).toEqual([]);
  });

  it('switching the type in the modal rebuilds the form and keeps what was typed', async () => {
    const view = await openRequestModal(t);
    const values = formValues({ title: 'Typed before switching' });
    const res = await t.slack.selectInView('value', 'type', 'emergency', {
      id: view.id,
      hash: view.hash,
      values: {
        ...values,
        type: {
          value: {
            type: 'static_select',
            selected_option: { text: { type: 'plain_text', text: 'e' }, value: 'emergency' },
          },
        },
      },
    });
    expect(res.status).toBe(200);
    await settled(t);
    const updated = t.fake.callsOf('views.update').at(-1)!.response.view as {
      title: { text: string };
      blocks: { block_id?: string; element?: { initial_value?: string } }[];
    };
    expect(updated.title.text).toBe('Emergency change');
    expect(updated.blocks.find((b) => b.block_id === 'title')?.element?.initial_value).toBe(
      'Typed before switching',
    );
  });

  it('decides on the whole log when the record lags behind it (a crash between an event and its record)', async () => {
    const n = await submitRequest(t, { reviewers: [BOB] });
    const submitted = await stateOf(n);
    await approve(t, n, 0, BOB);
    const decided = await eventTypes(n);
    await t.app.models.Change.replaceOne({ _id: submitted._id }, submitted);
    expect((await stateOf(n)).seq).toBe(decided.length - 1);

    // Bob again: the record says his stage waits, the log says he approved it.
    let told = t.fake.ephemerals.length;
    await approve(t, n, 0, BOB);
    expect(await eventTypes(n)).toEqual(decided);
    expect(t.fake.ephemerals.slice(told).map((e) => String(e.args.text))).toEqual([
      expect.stringContaining('already approved'),
    ]);

    // Carol, the next stage: the record says it is not her turn yet, the log says it is.
    told = t.fake.ephemerals.length;
    await approve(t, n, 1, CAROL);
    expect(await eventTypes(n)).toHaveLength(decided.length + 1);
    expect((await stateOf(n)).status).toBe('approved');
    expect(t.fake.ephemerals.slice(told)).toEqual([]);
    expect(await chainOk(n)).toBeNull();
  });
});
