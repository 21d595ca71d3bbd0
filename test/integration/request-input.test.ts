import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FormInput,
  formValues,
  openRequestModal,
  replies,
  rootMessage,
  settled,
  submitRequest,
} from '../support/flows.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { mrkdwnTexts } from '../support/hostile.js';
import { ALICE, BOB } from '../support/people.js';

/** Invalid and hostile modal input: inline errors or escaped output, never a 500 or a half-written record. */
describe('change request input', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url);
  });
  afterAll(() => t.stop());
  beforeEach(() => t.fake.clear());

  const counts = async () => ({
    changes: await t.app.models.Change.countDocuments(),
    events: await t.app.models.ChangeEvent.countDocuments(),
  });

  async function submit(form: FormInput, user = ALICE) {
    const view = await openRequestModal(t, user, form.type === 'emergency' ? 'emergency' : '');
    const res = await t.slack.submitView(
      {
        callbackId: view.callback_id,
        values: formValues(form),
        privateMetadata: view.private_metadata,
        blocks: view.blocks,
      },
      user,
    );
    await settled(t);
    return res;
  }

  it.each<[string, FormInput, Record<string, string | RegExp>]>([
    ['an over-long title', { title: 'x'.repeat(151) }, { title: /under 151 characters/ }],
    [
      'empty required fields',
      { description: '', rollbackPlan: '   ', systems: ' , ', risk: null, stagingTested: null },
      {
        description: /description/,
        rollback_plan: /rollback/,
        systems: /system/,
        risk: /risk/,
        staging_tested: /staging/,
      },
    ],
    [
      'a window that ends before it starts',
      { plannedStart: 1_900_000_000, plannedEnd: 1_899_999_000 },
      { planned_end: /end after it starts/ },
    ],
    ['an impossible date', { plannedStart: 99_999_999_999 }, { planned_start: /not possible/ }],
    ['a link that is not http(s)', { pr: 'javascript:alert(1)' }, { link_pr: /http/ }],
    ['the requester as their own reviewer', { reviewers: [ALICE] }, { reviewers: /own change/ }],
    ['a risk level that was never offered', { risk: 'apocalyptic' }, { risk: /offered/ }],
    [
      'an emergency without an approver, or with one who may not approve',
      { type: 'emergency', approver: BOB },
      { emergency_approver: /cannot approve Emergency approval/ },
    ],
  ])('%s → inline errors, nothing saved', async (_label, form, expected) => {
    const before = await counts();
    const res = await submit(form);
    expect(res.status).toBe(200);
    expect(res.json?.response_action).toBe('errors');
    const errors = res.json?.errors as Record<string, string>;
    for (const [block, pattern] of Object.entries(expected)) expect(errors[block]).toMatch(pattern);
    expect(await counts()).toEqual(before);
    expect(t.fake.posts()).toEqual([]);
  });

  it('a form Slack would never send (wrong shapes) is answered inline, not with a 500', async () => {
    const res = await t.slack.submitView(
      {
        callbackId: 'change_request_modal',
        values: { title: { value: { type: 'plain_text_input', value: 42 } } } as never,
      },
      ALICE,
    );
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      response_action: 'errors',
      errors: { title: expect.stringContaining('could not be read') },
    });
  });

  it('escapes mentions and mrkdwn in everything shown, keeps the raw text on record, strips control characters', async () => {
    const n = await submitRequest(t, {
      title: 'Deploy <!channel> & <@U0123CAROL> now\u0007',
      description: 'See <https://evil.example|Approve> & <!everyone>\u202E',
      systems: 'api <!here>, db',
    });
    const doc = (await t.app.models.Change.findOne({ number: n }).lean())!;
    expect(doc.title).toBe('Deploy <!channel> & <@U0123CAROL> now');
    const root = await rootMessage(t, n);
    // Everything Slack parses as mrkdwn: every mrkdwn text object, and each message's fallback text.
    const messages = [root, ...(await replies(t, n)), ...t.fake.dms(ALICE)];
    const shown = mrkdwnTexts(...messages).join('\n');
    expect(shown).toContain('&lt;!channel&gt; &amp; &lt;@U0123CAROL&gt;');
    expect(shown).toContain('&lt;https://evil.example|Approve&gt; &amp; &lt;!everyone&gt;');
    expect(shown).toContain('api &lt;!here&gt;');
    expect(shown).not.toMatch(/<!channel>|<!everyone>|<!here>|<https:\/\/evil/);
    // The header is plain_text (never parsed for mentions) and within 150 characters.
    const header = (root.blocks as { type: string; text: { type: string; text: string } }[]).find(
      (b) => b.type === 'header',
    )!;
    expect(header.text.type).toBe('plain_text');
    expect(t.fake.rejected()).toEqual([]);
  });

  it('shortens long text to Slack limits with an ellipsis; `/change show` gives the full text', async () => {
    const long = `${'lorem ipsum '.repeat(249)}THE END`;
    const n = await submitRequest(t, { description: long, title: 'T'.repeat(150) });
    const root = await rootMessage(t, n);
    const blocks = root.blocks as { type: string; text?: { text: string } }[];
    expect(blocks.find((b) => b.type === 'header')!.text!.text.length).toBeLessThanOrEqual(150);
    expect(blocks.find((b) => b.type === 'header')!.text!.text.endsWith('…')).toBe(true);
    expect(JSON.stringify(blocks)).not.toContain('THE END');
    const show = await t.slack.command('/change', `show CR-${n}`, { user: BOB });
    expect(show.status).toBe(200);
    await settled(t);
    const body = t.fake.responsePosts.at(-1)!.body;
    expect(JSON.stringify(body.blocks)).toContain('THE END');
    expect(t.fake.rejected()).toEqual([]);
  });
});
