import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SlackReminderNotifier } from '../../src/adapters/slack/reminder-notifier.js';
import type { ChangeRecord } from '../../src/application/ports.js';
import { sweepReminders } from '../../src/application/reminder-sweep.js';
import { DeliveryLedger } from '../../src/infra/db/delivery-ledger.js';
import { TestClock } from '../support/clock.js';
import { approve, clickOnChange, replies, settled, submitRequest } from '../support/flows.js';
import { startTestApp, TEST_POLICY_YAML, type TestApp } from '../support/harness.js';
import { ADMIN, ALICE, BOB, CAROL, DAVE, ERIN, FRANK } from '../support/people.js';

// Tuesday 2026-03-10, 10:00 in Los Angeles (PDT, UTC-7). Everyone in the fake workspace is in LA
// unless a test moves them.
const TUESDAY_10AM = '2026-03-10T17:00:00Z';

describe('scheduled chasing (moved time, real database, fake Slack)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { clock: new TestClock(TUESDAY_10AM) });
  });
  afterAll(() => t.stop());
  beforeEach(() => {
    t.fake.clear();
    t.clock.set(TUESDAY_10AM);
  });

  const dmTexts = (user: string) => t.fake.dms(user).map((m) => m.text);
  const at = (iso: string) => t.clock.set(iso);

  it('pending approval: first after 4 business hours, then daily, then escalation; stops when decided', async () => {
    const n = await submitRequest(t, { reviewers: [BOB] });
    const reminded = () =>
      dmTexts(BOB).filter((x) => x.includes('waiting for your approval') && x.includes(`CR-${n}`));

    at('2026-03-10T20:59:00Z'); // 13:59: not yet 4 business hours
    await t.app.reminders.approvals();
    expect(reminded()).toHaveLength(0);

    at('2026-03-10T21:00:00Z'); // 14:00
    expect((await t.app.reminders.approvals()).sent).toBe(1);
    expect(reminded()).toHaveLength(1);
    const dm = t.fake.dms(BOB).at(-1)!;
    expect(JSON.stringify(dm.blocks)).toContain(`"value":"${n}:0"`); // Approve / Reject buttons
    await t.app.reminders.approvals();
    expect(reminded()).toHaveLength(1); // once per slot

    at('2026-03-11T21:00:00Z'); // a day later
    await t.app.reminders.approvals();
    expect(reminded()).toHaveLength(2);
    expect(reminded()[1]).toContain('(reminder 2)');

    at('2026-03-12T21:00:00Z'); // after 2 reminders: escalate
    await t.app.reminders.approvals();
    expect(reminded()).toHaveLength(2);
    expect((await replies(t, n)).at(-1)!.text).toContain(`has been waiting for *Peer review*`);
    expect((await replies(t, n)).at(-1)!.text).toContain(`<@${BOB}>, can one of you decide?`);
    expect(dmTexts(ALICE).at(-1)).toContain('is stuck at *Peer review*');
    await t.app.reminders.approvals();
    expect((await replies(t, n)).filter((r) => r.text.includes('has been waiting for'))).toHaveLength(1);

    // Bob approves (Thursday 14:00): no more reminders for him; Carol's stage starts its own cadence.
    await approve(t, n, 0, BOB);
    at('2026-03-13T16:59:00Z'); // Friday 09:59: 3 h 59 of business time since Thursday 14:00
    await t.app.reminders.approvals();
    expect(reminded()).toHaveLength(2);
    expect(dmTexts(CAROL).filter((x) => x.includes(`CR-${n}`))).toHaveLength(0);
    at('2026-03-13T17:00:00Z'); // Friday 10:00: 4 business hours
    await t.app.reminders.approvals();
    expect(dmTexts(CAROL).filter((x) => x.includes('Engineering lead approval'))).toHaveLength(1);

    // Cancelled: nothing more, ever.
    await t.slack.command('/change', `cancel CR-${n}`, { user: ALICE });
    await settled(t);
    at('2026-03-20T17:00:00Z');
    expect((await t.app.reminders.approvals()).due).toBe(0);
  });

  it("escalation mentions the stage's user group", async () => {
    const n = await submitRequest(t, { securityFlags: ['encryption'] });
    await approve(t, n, 0, BOB);
    at('2026-03-13T17:00:00Z'); // Friday: 4 business hours + 2 days after Tuesday 10:00 is Friday 14:00
    at('2026-03-13T21:00:00Z');
    await t.app.reminders.approvals();
    expect((await replies(t, n)).at(-1)!.text).toContain('<!subteam^S0SECURITY>');
  });

  it("reminders wait for the recipient's working hours in their own time zone", async () => {
    t.fake.addUser(FRANK, { tz: 'Asia/Tokyo' });
    await t.app.deps.directory.timezone(FRANK); // warm nothing: the cache is per user
    const n = await submitRequest(t, { reviewers: [FRANK] });
    // 4 business hours in Tokyo after Wed 02:00 JST is Wed 13:00 JST = Tue 21:00 PDT... first check 3 a.m. JST.
    at('2026-03-10T18:00:00Z'); // Wed 03:00 in Tokyo
    await t.app.reminders.approvals();
    expect(dmTexts(FRANK)).toHaveLength(0);
    at('2026-03-11T03:59:00Z'); // Wed 12:59 JST: 3 h 59 of business time
    await t.app.reminders.approvals();
    expect(dmTexts(FRANK)).toHaveLength(0);
    at('2026-03-11T04:00:00Z'); // Wed 13:00 JST
    await t.app.reminders.approvals();
    expect(dmTexts(FRANK).filter((x) => x.includes(`CR-${n}`))).toHaveLength(1);
    t.fake.addUser(FRANK, { tz: 'America/Los_Angeles' });
  });

  it('upcoming window: the requester is reminded before it starts; a passed window without deployment is flagged', async () => {
    const start = Date.parse('2026-03-11T21:00:00Z') / 1000; // Wed 14:00 PDT
    const n = await submitRequest(t, { plannedStart: start, plannedEnd: start + 3600 });
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, CAROL);
    at('2026-03-11T19:59:00Z');
    await t.app.reminders.windows();
    expect(dmTexts(ALICE).filter((x) => x.includes('planned window'))).toHaveLength(0);
    at('2026-03-11T20:00:00Z'); // 13:00, an hour before
    await t.app.reminders.windows();
    expect(dmTexts(ALICE).filter((x) => x.includes('planned window'))).toHaveLength(1);
    at('2026-03-11T22:30:00Z'); // the window ended at 15:00
    await t.app.reminders.windows();
    expect((await replies(t, n)).at(-1)!.text).toContain('no deployment was recorded');
    expect(dmTexts(ALICE).at(-1)).toContain('window for');
    await t.app.reminders.windows();
    expect((await replies(t, n)).filter((r) => r.text.includes('no deployment was recorded'))).toHaveLength(
      1,
    );
  });

  it('verification: the deployer is reminded an hour after, then every 4 hours, escalation after 24 hours; stops when verified', async () => {
    const n = await submitRequest(t, { type: 'standard' });
    await clickOnChange(t, n, 'change_record_deployment', String(n), ADMIN);
    await settled(t);
    const chased = () => dmTexts(ADMIN).filter((x) => x.includes('Please check production'));
    at('2026-03-10T17:59:00Z');
    await t.app.reminders.verifications();
    expect(chased()).toHaveLength(0);
    at('2026-03-10T18:00:00Z');
    await t.app.reminders.verifications();
    expect(chased()).toHaveLength(1);
    at('2026-03-10T22:00:00Z');
    await t.app.reminders.verifications();
    expect(chased()).toHaveLength(2);
    at('2026-03-11T17:00:00Z');
    await t.app.reminders.verifications();
    expect((await replies(t, n)).at(-1)!.text).toContain('is still not verified');
    await t.slack.submitView(
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
          issues: { value: { type: 'plain_text_input', value: null } },
        },
      },
      ADMIN,
    );
    await settled(t);
    at('2026-03-12T17:00:00Z');
    expect((await t.app.reminders.verifications()).due).toBe(0);
  });

  it('emergency retrospective: reminders at 24 h and 4 h before; overdue marks the change and escalates daily', async () => {
    const n = await submitRequest(t, { type: 'emergency' });
    await approve(t, n, 0, DAVE);
    await clickOnChange(t, n, 'change_record_deployment', String(n), ALICE);
    await settled(t);
    // Due Thursday 10:00 PDT (48 h after Tuesday 10:00).
    const retroDms = () => dmTexts(ALICE).filter((x) => x.includes(`retrospective for emergency change`));
    at('2026-03-11T17:00:00Z');
    await t.app.reminders.retrospectives();
    expect(retroDms()).toHaveLength(1);
    at('2026-03-12T13:00:00Z'); // 4 hours before, but 06:00 in LA: waits for 09:00
    await t.app.reminders.retrospectives();
    expect(retroDms()).toHaveLength(1);
    at('2026-03-12T16:00:00Z'); // 09:00 PDT
    await t.app.reminders.retrospectives();
    expect(retroDms()).toHaveLength(2);

    at('2026-03-12T18:00:00Z'); // overdue since 10:00
    await t.app.reminders.retrospectives();
    const events = await t.app.models.ChangeEvent.find({ changeNumber: n, type: 'retro_overdue' }).lean();
    expect(events).toHaveLength(1);
    expect((await replies(t, n)).at(-1)!.text).toContain('is overdue');
    expect(dmTexts(DAVE).filter((x) => x.includes('is overdue'))).toHaveLength(1);
    expect(dmTexts(ERIN).filter((x) => x.includes('is overdue'))).toHaveLength(1);
    await t.app.reminders.retrospectives();
    expect(dmTexts(DAVE).filter((x) => x.includes('is overdue'))).toHaveLength(1);
    at('2026-03-13T18:00:00Z'); // the next day
    await t.app.reminders.retrospectives();
    expect(dmTexts(DAVE).filter((x) => x.includes('is overdue'))).toHaveLength(2);
    expect(await t.app.models.ChangeEvent.countDocuments({ changeNumber: n, type: 'retro_overdue' })).toBe(1);

    // The overdue state shows in App Home.
    await t.slack.homeOpened(DAVE);
    await settled(t);
    expect(JSON.stringify(t.fake.homes.get(DAVE))).toContain('Retrospective overdue since');
  });
});

describe('digest mode', () => {
  let t: TestApp;
  beforeAll(async () => {
    const yaml = `${TEST_POLICY_YAML}\nreminders:\n  digest: { enabled: true, at: "09:00" }\n`;
    t = await startTestApp(import.meta.url, { clock: new TestClock(TUESDAY_10AM), policyYaml: yaml });
  });
  afterAll(() => t.stop());

  it('sends one morning DM per person listing everything waiting on them, with buttons, instead of one DM per item', async () => {
    const a = await submitRequest(t, { reviewers: [BOB], title: 'First' });
    const b = await submitRequest(t, { reviewers: [BOB], title: 'Second' });
    t.fake.clear();
    t.clock.set('2026-03-10T22:00:00Z'); // 15:00: reminders are due, but digest mode holds them for the morning
    await t.app.reminders.all();
    expect(t.fake.dms(BOB)).toHaveLength(0);
    t.clock.set('2026-03-11T15:59:00Z'); // Wednesday 08:59
    await t.app.reminders.digests();
    expect(t.fake.dms(BOB)).toHaveLength(0);
    t.clock.set('2026-03-11T16:00:00Z'); // 09:00
    await t.app.reminders.digests();
    const digest = t.fake.dms(BOB);
    expect(digest).toHaveLength(1);
    const body = JSON.stringify(digest[0]!.blocks);
    expect(body).toContain('2 items waiting on you');
    expect(body).toContain(`"value":"${a}:0"`);
    expect(body).toContain(`"value":"${b}:0"`);
    await t.app.reminders.digests();
    expect(t.fake.dms(BOB)).toHaveLength(1);
  });
});

describe('exactly once under contention and rate limits', () => {
  let one: TestApp;
  let two: TestApp;
  beforeAll(async () => {
    one = await startTestApp(import.meta.url, { clock: new TestClock(TUESDAY_10AM) });
    // A second replica on the same database and the same Slack workspace.
    two = await startTestApp(import.meta.url, { clock: one.clock, fake: one.fake, dbName: one.dbName });
  });
  afterAll(async () => {
    await two.stop();
    await one.stop();
  });

  it('two app instances sharing one database send every due reminder exactly once', async () => {
    const reviewers = [BOB, FRANK, CAROL];
    const numbers: number[] = [];
    for (let i = 0; i < 12; i++)
      numbers.push(await submitRequest(one, { reviewers, title: `Contended ${i}` }));
    one.fake.clear();
    one.clock.set('2026-03-10T21:00:00Z');
    const [r1, r2] = await Promise.all([one.app.reminders.approvals(), two.app.reminders.approvals()]);
    expect(r1.sent + r2.sent).toBe(numbers.length * reviewers.length);
    for (const user of reviewers) {
      const texts = one.fake.dms(user).map((m) => m.text);
      for (const n of numbers)
        expect(
          texts.filter((x) => x.includes(`CR-${n}”`) || x.includes(`CR-${n}>`) || x.includes(`CR-${n}*`)),
        ).toHaveLength(1);
      expect(texts).toHaveLength(numbers.length);
    }
  });
});

describe('delivery claims written in batches', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url);
  });
  afterAll(() => t.stop());

  it('gives each key to one claimant, whether its claims go alone, together or against each other', async () => {
    const a = new DeliveryLedger(t.app.models, 60_000);
    const b = new DeliveryLedger(t.app.models, 60_000);
    const keys = Array.from({ length: 60 }, (_, i) => `batch-test:${i}`);
    // Each ledger claims every key at once (its claims share inserts), racing the other; a third
    // claim of some keys in the same batch as the first.
    const claims = await Promise.all([
      ...keys.map((k) => a.claim(k).then((c) => ({ k, c, by: 'a' }))),
      ...keys.map((k) => b.claim(k).then((c) => ({ k, c, by: 'b' }))),
      ...keys.slice(0, 10).map((k) => a.claim(k).then((c) => ({ k, c, by: 'a2' }))),
    ]);
    for (const k of keys) {
      const won = claims.filter((x) => x.k === k && x.c.claimed);
      expect(won, k).toHaveLength(1);
    }
    expect(
      claims.filter((x) => !x.c.claimed).every((x) => !x.c.claimed && x.c.reason === 'in_progress'),
    ).toBe(true);
    // Sent, then claimed again: refused as sent.
    await a.markSent(keys[0]!, 1);
    expect(await b.claim(keys[0]!)).toEqual({ claimed: false, reason: 'sent' });
    expect(await t.app.models.Delivery.countDocuments({ _id: { $in: keys } })).toBe(keys.length);
  });

  it('never takes over a sent reminder, however old its claim; marks sent together are each kept', async () => {
    // A lease of 0: every claim not marked sent is already up for a takeover.
    const a = new DeliveryLedger(t.app.models, 0);
    const b = new DeliveryLedger(t.app.models, 0);
    const keys = Array.from({ length: 20 }, (_, i) => `sent-test:${i}`);
    for (const k of keys) expect(await a.claim(k)).toEqual({ claimed: true, attempt: 1 });
    // Marked at once (one mark twice, as a retried write would), all but the last key.
    await Promise.all([...keys.slice(0, -1).map((k) => a.markSent(k, 1)), a.markSent(keys[0]!, 1)]);
    for (const k of keys.slice(0, -1))
      expect(await b.claim(k), k).toEqual({ claimed: false, reason: 'sent' });
    // The one never marked was left by a claimant that died: taken over, once.
    expect(await b.claim(keys.at(-1)!)).toEqual({ claimed: true, attempt: 2 });
    await b.markSent(keys.at(-1)!, 2);
    expect(await a.claim(keys.at(-1)!)).toEqual({ claimed: false, reason: 'sent' });
    const marks = await t.app.models.Delivery.find({ _id: { $regex: /^sent-test:\d+#sent$/ } }).lean();
    expect(marks).toHaveLength(keys.length);
    expect(marks.find((m) => m._id === `${keys.at(-1)}#sent`)).toMatchObject({ state: 'sent', attempt: 2 });
    // A claim marked sent in place (how a reminder was recorded before the sent mark) stays sent.
    const at = new Date(Date.now() - 3_600_000);
    await t.app.models.Delivery.create({
      _id: 'sent-test:legacy',
      state: 'sent',
      attempt: 1,
      claimedAt: at,
      sentAt: at,
    });
    expect(await b.claim('sent-test:legacy')).toEqual({ claimed: false, reason: 'sent' });
  });
});

describe('Slack rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Without the test speed-up: the sender paces at Slack's own rates here.
    t = await startTestApp(import.meta.url, { clock: new TestClock(TUESDAY_10AM), slack: { rateScale: 20 } });
  });
  afterAll(() => t.stop());

  it('with Slack answering 429 + Retry-After, every reminder is delivered and none twice', async () => {
    const numbers: number[] = [];
    for (let i = 0; i < 10; i++)
      numbers.push(await submitRequest(t, { reviewers: [BOB, ERIN], title: `Limited ${i}` }));
    t.fake.clear();
    // Slack allows 4 messages a second here; the sender believes it may send far more.
    t.fake.setRateLimit('chat.postMessage', 4, 1000, 1);
    t.clock.set('2026-03-10T21:00:00Z');
    let result: Awaited<ReturnType<typeof t.app.reminders.approvals>>;
    try {
      result = await t.app.reminders.approvals();
    } finally {
      t.fake.clearRateLimits();
    }
    expect(result.failed).toBe(0);
    expect(result.sent).toBe(20);
    const limited = t.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const user of [BOB, ERIN]) {
      const texts = t.fake.dms(user).map((m) => m.text);
      expect(texts).toHaveLength(numbers.length);
      expect(new Set(texts).size).toBe(texts.length);
    }
    expect(t.app.sender.stats.rateLimited).toBe(limited.length);
  });
});

describe('the scheduler runs the chases by itself', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url, {
      clock: new TestClock(TUESDAY_10AM),
      scheduler: { enabled: true, processEvery: 100 },
      reminders: { interval: '1 second' },
    });
  });
  afterAll(() => t.stop());

  it('Agenda sweeps on its interval and the due reminder arrives once', async () => {
    const n = await submitRequest(t, { reviewers: [BOB] });
    t.clock.set('2026-03-10T21:00:00Z');
    const dm = await t.fake.waitFor(() => t.fake.dms(BOB).find((m) => m.text.includes(`CR-${n}`)), 15_000);
    expect(dm).toBeTruthy();
    await new Promise((r) => setTimeout(r, 2500)); // a few more sweeps
    expect(t.fake.dms(BOB).filter((m) => m.text.includes(`CR-${n}`))).toHaveLength(1);
    expect((await fetch(`${t.app.url}/readyz`)).status).toBe(200);
  });
});

describe('sweeps read again only what may owe a reminder', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { clock: new TestClock(TUESDAY_10AM) });
  });
  afterAll(() => t.stop());
  const examined = async () => (await t.app.reminders.approvals()).examined;
  const carolReminded = (n: number) =>
    t.fake
      .dms(CAROL)
      .filter((m) => m.text.includes('waiting for your approval') && m.text.includes(`CR-${n}`));

  it('a change is read again once written, once its next reminder is due, and at least every 10 minutes', async () => {
    const older = [
      await submitRequest(t, { reviewers: [BOB] }),
      await submitRequest(t, { reviewers: [ERIN] }),
    ];
    expect(await examined()).toBe(2);
    expect(await examined()).toBe(0); // nothing owed before 14:00: not read again
    const n = await submitRequest(t, { reviewers: [BOB] });
    expect(await examined()).toBe(1); // the new one only
    expect(await examined()).toBe(0);
    await approve(t, n, 0, BOB); // written: the lead's stage opens (its first reminder at 14:00)
    expect(await examined()).toBe(1);

    t.clock.set('2026-03-10T17:09:00Z');
    expect(await examined()).toBe(0);
    t.clock.set('2026-03-10T17:10:00Z'); // 10 minutes after the others were read: all read again
    expect(await examined()).toBe(3);

    // The next reminder's time is kept to the minute: read at 13:59, not due; read at 14:00, sent.
    t.clock.set('2026-03-10T20:59:00Z');
    expect(await examined()).toBe(3);
    expect(carolReminded(n)).toHaveLength(0);
    t.clock.set('2026-03-10T21:00:00Z');
    const due = await t.app.reminders.approvals();
    expect(due.examined).toBe(3); // each one's first reminder is due at 14:00
    expect(carolReminded(n)).toHaveLength(1);
    expect(due.sent).toBeGreaterThanOrEqual(3);
    expect(await examined()).toBe(0);
    expect(t.fake.dms(BOB).some((d) => d.text.includes(`CR-${older[0]}`))).toBe(true);
    expect(t.fake.dms(ERIN).some((d) => d.text.includes(`CR-${older[1]}`))).toBe(true);
  });

  it('a new delegation is seen by the next sweep: the delegate is reminded at once', async () => {
    const n = await submitRequest(t, { reviewers: [BOB] });
    await approve(t, n, 0, BOB);
    t.clock.set('2026-03-11T21:00:00Z'); // the lead's first reminder is due
    await t.app.reminders.approvals();
    expect(carolReminded(n)).toHaveLength(1);
    expect(await examined()).toBe(0); // everything read, nothing owed until later
    // Carol names a delegate: the reminder she was sent is owed to Frank too, now.
    await t.slack.command('/change', `delegate <@${FRANK}|frank> until 2026-03-20`, { user: CAROL });
    await t.fake.waitFor(() => t.fake.responsePosts.at(-1));
    await t.app.reminders.approvals();
    expect(
      t.fake
        .dms(FRANK)
        .some((m) => m.text.includes('waiting for your approval') && m.text.includes(`CR-${n}`)),
    ).toBe(true);
  });
});

describe('a reminder goes out from a fresh copy of its change', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { clock: new TestClock(TUESDAY_10AM) });
  });
  afterAll(() => t.stop());

  /** One approval sweep over the given copies, read `ageMs` ago; which changes it read again. */
  async function sweepCopies(copies: ChangeRecord[], ageMs: number) {
    const real = t.app.deps.changes;
    const reads: number[] = [];
    const changes = Object.assign(Object.create(real) as typeof real, {
      async *candidates() {
        for (const c of copies) yield { ...c, readAt: Date.now() - ageMs };
      },
      record: (n: number) => {
        reads.push(n);
        return real.record(n);
      },
    });
    const rd = {
      ...t.app.deps,
      changes,
      reminders: new SlackReminderNotifier(t.app.deps, t.app.sender),
      deliveries: new DeliveryLedger(t.app.models, 60_000),
    };
    return { result: await sweepReminders(rd, ['approval'], 'pending_approval'), reads };
  }

  it('reads the change again unless its copy is under a second old; an older copy that moved on is decided again', async () => {
    const current = await submitRequest(t, { reviewers: [ERIN], title: 'Unchanged since read' });
    const movedOn = await submitRequest(t, { reviewers: [BOB], title: 'Approved since read' });
    const copyOf = async (n: number) => (await t.app.deps.changes.record(n))!;
    const copies = { current: await copyOf(current), movedOn: await copyOf(movedOn) };
    await approve(t, movedOn, 0, BOB); // its copy still shows Bob's review open
    t.clock.set('2026-03-10T21:00:00Z'); // 14:00: the reviews' first reminders are due
    const dmsAbout = (user: string, n: number) => t.fake.dms(user).filter((m) => m.text.includes(`CR-${n}`));

    // Just read: sent from the copy, without reading the change again.
    const fresh = await sweepCopies([copies.current], 0);
    expect(fresh.reads).toEqual([]);
    expect(fresh.result.sent).toBe(1);
    expect(dmsAbout(ERIN, current)).toHaveLength(1);

    // Read five seconds ago: read again, and the review it owed is no longer open.
    const old = await sweepCopies([copies.movedOn], 5_000);
    expect(old.reads).toEqual([movedOn]);
    expect(old.result.sent).toBe(0);
    expect(dmsAbout(BOB, movedOn)).toHaveLength(0);
  });
});
