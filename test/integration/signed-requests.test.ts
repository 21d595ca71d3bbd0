import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STILL_SAVING } from '../../src/adapters/slack/copy.js';
import {
  formValues,
  openRequestModal,
  rootMessage,
  settled,
  submitOpenedModal,
  submitRequest,
} from '../support/flows.js';
import { SIGNING_SECRET, startTestApp, type TestApp } from '../support/harness.js';
import { ALICE, APPROVALS, BOB, CAROL } from '../support/people.js';
import { signSlack } from '../support/slack-requests.js';

/**
 * What reaches /slack/events that Slack did not sign, signed too long ago, sent twice or re-sent
 * by Slack: nothing is processed unsigned, nothing is processed twice, nothing answers 5xx.
 */
describe('signed Slack requests', () => {
  let t: TestApp;
  let n: number;
  let click: { body: string; headers: Record<string, string> };

  let root: { channel: string; ts: string };
  let callMark = 0;
  let responseMark = 0;

  beforeAll(async () => {
    t = await startTestApp(import.meta.url);
    n = await submitRequest(t, { title: 'Signed request target' });
    const m = await rootMessage(t, n);
    root = { channel: m.channel, ts: m.ts };
  });
  afterAll(() => t.stop());
  beforeEach(async () => {
    await settled(t);
    callMark = t.fake.calls.length;
    responseMark = t.fake.responsePosts.length;
    click = t.slack.buildClick('change_approve', `${n}:0`, { user: BOB, message: root });
  });

  const decisions = () =>
    t.app.models.ChangeEvent.countDocuments({ changeNumber: n, type: 'stage_approved' });
  const events = () => t.app.models.ChangeEvent.countDocuments({});
  const slackCalls = () => t.fake.calls.slice(callMark).filter((c) => c.method !== 'auth.test').length;

  async function expectRefusedUnprocessed(res: { status: number }, eventsBefore: number) {
    expect(res.status).toBe(401);
    await settled(t);
    expect(await events()).toBe(eventsBefore);
    expect(slackCalls()).toBe(0);
    expect(t.fake.responsePosts.length).toBe(responseMark);
  }

  it.each<[string, (c: { body: string; headers: Record<string, string> }) => Record<string, string>]>([
    ['signed with another secret', (c) => ({ ...c.headers, ...signSlack('not-the-signing-secret', c.body) })],
    [
      'without a signature',
      (c) => {
        const { 'X-Slack-Signature': _s, ...rest } = c.headers;
        return rest;
      },
    ],
    [
      'without a timestamp',
      (c) => {
        const { 'X-Slack-Request-Timestamp': _t, ...rest } = c.headers;
        return rest;
      },
    ],
    ['with a malformed signature', (c) => ({ ...c.headers, 'X-Slack-Signature': 'v0=not-hex' })],
    [
      'with a v1 signature scheme',
      (c) => ({ ...c.headers, 'X-Slack-Signature': c.headers['X-Slack-Signature']!.replace('v0=', 'v1=') }),
    ],
    [
      'correctly signed six minutes ago (stale: a replay outside the window)',
      (c) => ({ ...c.headers, ...signSlack(SIGNING_SECRET, c.body, Math.floor(Date.now() / 1000) - 360) }),
    ],
    ['with a non-numeric timestamp', (c) => ({ ...c.headers, 'X-Slack-Request-Timestamp': 'yesterday' })],
  ])('an Approve click %s is refused with 401 and changes nothing', async (_label, headers) => {
    const before = await events();
    await expectRefusedUnprocessed(await t.slack.raw(click.body, headers(click)), before);
  });

  it('a body altered after signing is refused', async () => {
    const before = await events();
    const tampered = click.body.replace(encodeURIComponent(BOB), encodeURIComponent(CAROL));
    expect(tampered).not.toBe(click.body);
    await expectRefusedUnprocessed(await t.slack.raw(tampered, click.headers), before);
  });

  it('a signed slash command with a forged signature opens nothing', async () => {
    const fields = t.slack.commandFields('/change', '', { user: ALICE });
    const signed = t.slack.buildForm(fields);
    const res = await t.slack.raw(signed.body, { ...signed.headers, ...signSlack('wrong', signed.body) });
    expect(res.status).toBe(401);
    await settled(t);
    expect(t.fake.calls.slice(callMark).filter((c) => c.method === 'views.open')).toEqual([]);
  });

  it.each([
    ['text/plain', (b: string) => b],
    ['application/xml', () => '<payload>approve</payload>'],
    [
      'multipart/form-data; boundary=x',
      (b: string) => `--x\r\nContent-Disposition: form-data; name="payload"\r\n\r\n${b}\r\n--x--`,
    ],
    ['application/json', (b: string) => b], // a form body declared as JSON
    ['application/x-www-form-urlencoded', () => '{"type":"block_actions"}'], // JSON declared as a form
    ['application/x-www-form-urlencoded', () => 'payload=%7Bnot-json'],
    ['application/x-www-form-urlencoded', () => ''],
  ])(
    'a correctly signed body sent as %s is answered without a 5xx and processes nothing',
    async (type, body) => {
      const before = await events();
      const text = body(click.body);
      const res = await t.slack.raw(text, { 'Content-Type': type, ...signSlack(SIGNING_SECRET, text) });
      expect(res.status).toBeLessThan(500);
      await settled(t);
      // The form body declared as JSON is the one Slack-shaped payload here; Bolt may still parse it.
      if (!(type === 'application/json' && text === click.body)) {
        expect(await events()).toBe(before);
        expect(slackCalls()).toBe(0);
      }
    },
  );

  it('the same signed click sent twice (a replay inside the window) records one decision', async () => {
    expect(await decisions()).toBe(0);
    const first = await t.slack.raw(click.body, click.headers);
    const second = await t.slack.raw(click.body, click.headers);
    expect([first.status, second.status]).toEqual([200, 200]);
    await settled(t);
    expect(await decisions()).toBe(1);
    const third = await t.slack.raw(click.body, {
      ...click.headers,
      'X-Slack-Retry-Num': '1',
      'X-Slack-Retry-Reason': 'http_timeout',
    });
    expect(third.status).toBe(200);
    await settled(t);
    expect(await decisions()).toBe(1);
    const approvals = t.fake.threadReplies(root.channel, root.ts).filter((m) => /approved/i.test(m.text));
    expect(approvals).toHaveLength(1);
  });

  it('the same signed modal submission sent twice records one change', async () => {
    const view = await openRequestModal(t, ALICE);
    const payload = t.slack.viewSubmissionPayload(
      {
        callbackId: view.callback_id,
        values: formValues({ title: 'Submitted twice' }),
        privateMetadata: view.private_metadata,
        blocks: view.blocks,
        viewId: view.id,
      },
      ALICE,
    );
    const signed = t.slack.buildForm({ payload: JSON.stringify(payload) });
    const count = () => t.app.models.Change.countDocuments({ title: 'Submitted twice' });
    const [a, b] = await Promise.all([
      t.slack.raw(signed.body, signed.headers),
      t.slack.raw(signed.body, signed.headers),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    // One closes the modal; the other closes it too, or (the first not saved yet) says so inline.
    const answers = [a, b].map((r) => (r.json === null ? 'closed' : JSON.stringify(r.json)));
    expect(answers).toContain('closed');
    for (const x of answers)
      if (x !== 'closed')
        expect(JSON.parse(x)).toEqual({ response_action: 'errors', errors: { title: STILL_SAVING } });
    await settled(t);
    const again = await t.slack.raw(signed.body, signed.headers);
    expect(again.status).toBe(200);
    expect(again.json).toBeNull(); // the modal just closes
    await settled(t);
    expect(await count()).toBe(1);
    expect(
      t.fake.posts(APPROVALS).filter((m) => !m.thread_ts && m.text.includes('Submitted twice')),
    ).toHaveLength(1);
  });

  it('the same form sent again before its first submission is saved stays open and says so', async () => {
    const view = await openRequestModal(t, ALICE);
    const send = () => submitOpenedModal(t, view, { title: 'Sent while the first is saving' });
    // The first submission holds the form's key but has no change yet (still running, or killed).
    const key = `view-submission:${view.id}`;
    await t.app.models.IdempotencyKey.create({
      _id: key,
      at: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
    });
    const early = await send();
    expect(early.json).toEqual({ response_action: 'errors', errors: { title: STILL_SAVING } });
    await settled(t);
    expect(await t.app.models.Change.countDocuments({ title: 'Sent while the first is saving' })).toBe(0);
    // Once the first one's change is saved, the same form just closes.
    await t.app.idempotency.settle(key, 'CR-1');
    const later = await send();
    expect(later.json).toBeNull();
    await settled(t);
    expect(await t.app.models.Change.countDocuments({ title: 'Sent while the first is saving' })).toBe(0);
  });

  it('an event Slack delivers again (X-Slack-Retry-Num) is handled once', async () => {
    const first = await t.slack.homeOpened(CAROL, { eventId: 'Ev0SIGNED1' });
    await settled(t);
    const retry1 = await t.slack.homeOpened(CAROL, { eventId: 'Ev0SIGNED1', retryNum: 1 });
    const retry2 = await t.slack.homeOpened(CAROL, { eventId: 'Ev0SIGNED1', retryNum: 2 });
    expect([first.status, retry1.status, retry2.status]).toEqual([200, 200, 200]);
    await settled(t);
    expect(
      t.fake.calls.slice(callMark).filter((c) => c.method === 'views.publish' && c.args.user_id === CAROL),
    ).toHaveLength(1);
  });

  it('buttons and modal submissions the app does not know are acknowledged and change nothing', async () => {
    const before = await events();
    for (const actionId of ['change_link', 'not_a_changegate_action', '__proto__']) {
      const res = await t.slack.click(actionId, 'x', { user: BOB, message: root });
      expect(res.status).toBe(200);
    }
    const submitted = await t.slack.submitView({ callbackId: 'not_a_changegate_modal', values: {} }, BOB);
    expect(submitted.status).toBe(200);
    expect(submitted.text).toBe('');
    await settled(t);
    expect(await events()).toBe(before);
    expect(slackCalls()).toBe(0);
  });

  it('a URL verification challenge is answered only when signed', async () => {
    const body = JSON.stringify({ token: 'x', challenge: 'c-123', type: 'url_verification' });
    const ok = await t.slack.raw(body, {
      'Content-Type': 'application/json',
      ...signSlack(SIGNING_SECRET, body),
    });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('c-123');
    const forged = await t.slack.raw(body, {
      'Content-Type': 'application/json',
      ...signSlack('wrong', body),
    });
    expect(forged.status).toBe(401);
    expect(forged.text).not.toContain('c-123');
  });
});
