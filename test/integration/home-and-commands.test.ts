import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { approve, settled, submitRequest } from '../support/flows.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { ALICE, BOB, CAROL, FRANK } from '../support/people.js';

describe('App Home and /change subcommands', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url);
  });
  afterAll(() => t.stop());
  beforeEach(() => t.fake.clear());

  const home = (user: string) => JSON.stringify(t.fake.homes.get(user) ?? {});
  const lastAnswer = () =>
    t.fake.responsePosts.at(-1)!.body as { text: string; blocks: unknown[]; response_type: string };

  it('publishes App Home on app_home_opened, once per event even when Slack retries it', async () => {
    const first = await t.slack.homeOpened(CAROL, { eventId: 'Ev0HOME1' });
    expect(first.status).toBe(200);
    const retry = await t.slack.homeOpened(CAROL, { eventId: 'Ev0HOME1', retryNum: 1 });
    expect(retry.status).toBe(200);
    await settled(t);
    expect(t.fake.callsOf('views.publish').filter((c) => c.args.user_id === CAROL)).toHaveLength(1);
    expect(home(CAROL)).toContain('Waiting for your approval (0)');
  });

  it('shows pending approvals with buttons, open changes with what they wait for, and refreshes as they move', async () => {
    await t.slack.homeOpened(ALICE);
    await t.slack.homeOpened(CAROL);
    await settled(t);
    const n = await submitRequest(t);
    expect(home(ALICE)).toContain(`Your open changes (1)`);
    expect(home(ALICE)).toContain('Waiting for: *Peer review*');
    await approve(t, n, 0, BOB);
    // Carol's Home now lists the change with Approve / Reject buttons for the lead stage.
    expect(home(CAROL)).toContain('Waiting for your approval (1)');
    expect(home(CAROL)).toContain(`"value":"${n}:1"`);
    expect(home(ALICE)).toContain('Waiting for: *Engineering lead approval*');
    // Only those who have opened their Home get it published (Bob, who decided, never did).
    expect(t.fake.callsOf('views.publish').filter((c) => c.args.user_id === BOB)).toEqual([]);

    // Approving from the Home tab (a view container) works like the channel button.
    const res = await t.slack.click('change_approve', `${n}:1`, {
      user: CAROL,
      view: { id: 'VHOME', type: 'home' },
    });
    expect(res.status).toBe(200);
    await settled(t);
    expect((await t.app.models.Change.findOne({ number: n }).lean())!.status).toBe('approved');
    expect(home(CAROL)).toContain('Waiting for your approval (0)');
    expect(home(ALICE)).toContain('Waiting for: *deployment*');

    // A refusal from the Home tab arrives as a DM (there is no channel to answer in).
    await t.slack.click('change_approve', `${n}:1`, { user: FRANK, view: { id: 'VHOME', type: 'home' } });
    await settled(t);
    expect(t.fake.dms(FRANK).at(-1)!.text).toContain('already approved');
    expect(t.fake.rejected()).toEqual([]);
  });

  it('/change list mine | pending | open', async () => {
    const a = await submitRequest(t, { title: 'List me' });
    await t.slack.command('/change', 'list', { user: ALICE });
    await settled(t);
    expect(lastAnswer().response_type).toBe('ephemeral');
    expect(JSON.stringify(lastAnswer().blocks)).toContain(`CR-${a}`);
    await t.slack.command('/change', 'list pending', { user: BOB });
    await settled(t);
    expect(lastAnswer().text).toContain('Waiting for your approval');
    await t.slack.command('/change', 'list open', { user: FRANK });
    await settled(t);
    expect(JSON.stringify(lastAnswer().blocks)).toContain('List me');
  });

  it('/change show gives the audit trail in order; unknown changes and input get a clear answer', async () => {
    const n = await submitRequest(t);
    // While a stage any member may approve is open, any member sees the change.
    await t.slack.command('/change', `show CR-${n}`, { user: FRANK });
    await settled(t);
    expect(JSON.stringify(lastAnswer().blocks)).toContain('Audit trail');
    await approve(t, n, 0, BOB);
    // Now it waits for the lead: Frank takes no part in it, Bob (who approved) and Carol still see it.
    await t.slack.command('/change', `show CR-${n}`, { user: FRANK });
    await settled(t);
    expect(lastAnswer().text).toContain(`CR-${n} is not one of them`);
    await t.slack.command('/change', `show CR-${n}`, { user: BOB });
    await settled(t);
    const shown = JSON.stringify(lastAnswer().blocks);
    expect(shown).toContain('Audit trail');
    expect(shown.indexOf('Submitted')).toBeLessThan(shown.indexOf('Approved'));

    await t.slack.command('/change', 'show CR-99999', { user: FRANK });
    await settled(t);
    expect(lastAnswer().text).toContain('There is no change CR-99999');

    const unknown = await t.slack.command('/change', 'dance please', { user: FRANK });
    expect(unknown.json).toMatchObject({ response_type: 'ephemeral' });
    expect(String(unknown.json?.text)).toContain('I don\'t know "dance"');
    expect(String(unknown.json?.text)).toContain('/change list');

    await t.slack.command('/change', `deployed CR-${n}`, { user: ALICE });
    await settled(t);
    expect(lastAnswer().text).toContain('not approved yet');
  });
});
