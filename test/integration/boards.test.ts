import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/application/verify-audit.js';
import type { MinutesRecord } from '../../src/domain/board.js';
import type { FakeSlack } from '../support/fake-slack/server.js';
import { approve, settled, submitRequest } from '../support/flows.js';
import { startFakeSlack, startTestApp, type TestApp } from '../support/harness.js';
import { testDbName } from '../support/mongo.js';
import { ALICE, BOB, CAROL, DAVE, ERIN, FRANK } from '../support/people.js';

const CAB_CHANNEL = 'C0123CAB01';
const BOARD_POLICY = `version: 1
timezone: UTC
channels: { approvals: C0123CHG01 }
roles:
  board: { users: [U0123CAROL, U0123DAVE, U0123ERIN] }
  admins: { users: [U0123ADMIN] }
boards:
  cab:
    name: Change Advisory Board
    members: [board]
    channel: ${CAB_CHANNEL}
    meets: { days: [tue], at: "10:00", minutes: 60 }
    agendaCutoffHours: 24
stages:
  peer_review: { name: Peer review, approvers: { anyone: true } }
  cab_review: { name: Change approval meeting, approvers: { roles: [board] }, quorum: 2, board: cab }
types:
  normal:
    name: Normal
    stages:
      - peer_review
      - { stage: cab_review, when: { risk: [high] } }
`;

type Msg = { ts: string; channel: string; text: string; blocks?: unknown[] };

async function raise(t: TestApp, title: string): Promise<number> {
  const n = await submitRequest(t, { title, risk: 'high' }, ALICE);
  await approve(t, n, 0, FRANK);
  return n;
}

const agendaPosts = (fake: FakeSlack) =>
  fake
    .posts(CAB_CHANNEL)
    .filter((m) => !m.thread_ts && /meeting(?: of [^(]+)? \(.+ UTC\): \d+ changes$/.test(m.text)) as Msg[];
const minutesPosts = (fake: FakeSlack) =>
  fake.posts(CAB_CHANNEL).filter((m) => m.text.startsWith('Minutes of the')) as Msg[];
const refusals = async (t: TestApp, n: number) =>
  (await t.app.models.ChangeEvent.find({ changeNumber: n, type: 'approval_refused' }).lean()).map((e) => [
    e.actor,
    (e.data as { code: string }).code,
  ]);
const status = async (t: TestApp, n: number) =>
  (await t.app.models.Change.findOne({ number: n }).lean())?.status;

describe('change approval meetings: agenda, decisions with a quorum at the meeting, deferral, rejection, minutes', () => {
  let t: TestApp;
  const n: Record<string, number> = {};
  let firstAgenda = '';
  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { policyYaml: BOARD_POLICY });
    t.clock.set('2026-03-09T08:00:00Z'); // Monday; the board meets on Tuesdays at 10:00 UTC
  });
  afterAll(() => t?.stop());

  it('publishes the agenda at the cut-off and keeps it current; nobody decides a board stage outside a meeting', async () => {
    n.a = await raise(t, 'Migrate the orders database');
    n.b = await raise(t, 'Replace the payment provider');
    n.d = await raise(t, 'Open the admin API to partners');
    expect((await t.app.reminders.boards()).published).toBe(0); // before the cut-off (Mon 10:00)
    expect(agendaPosts(t.fake)).toHaveLength(0);

    t.clock.set('2026-03-09T10:00:00Z');
    await t.app.reminders.boards();
    const [agenda] = agendaPosts(t.fake);
    firstAgenda = agenda!.ts;
    expect(agenda!.text).toContain('3 changes');
    const body = JSON.stringify(agenda!.blocks);
    for (const k of ['a', 'b', 'd']) expect(body).toContain(`CR-${n[k]}`);
    expect(body).toContain('risk *high*');
    expect(body).toContain('Change approval meeting (0 of 2)');
    expect(body).not.toContain('change_approve'); // no buttons before the meeting

    // Raised after the cut-off: the next meeting's.
    t.clock.set('2026-03-09T11:00:00Z');
    n.c = await raise(t, 'Rotate the root certificate');
    await t.app.reminders.boards();
    expect(JSON.stringify(t.fake.posts(CAB_CHANNEL).find((m) => m.ts === agenda!.ts)!.blocks)).not.toContain(
      `CR-${n.c}`,
    );
    // A member clicking Approve before the meeting is refused, with the reason.
    await approve(t, n.a, 1, CAROL);
    expect(await refusals(t, n.a)).toContainEqual([CAROL, 'BOARD_MEETING_REQUIRED']);
    expect(await status(t, n.a)).toBe('pending_approval');
  });

  it('at the meeting members decide each item: a quorum approves, a member defers, another rejects', async () => {
    t.clock.set('2026-03-10T10:05:00Z');
    await t.app.reminders.boards();
    const agenda = agendaPosts(t.fake)[0]!;
    const live = t.fake.posts(CAB_CHANNEL).find((m) => m.ts === agenda.ts)!;
    expect(JSON.stringify(live.blocks)).toContain('Open now');
    expect(JSON.stringify(live.blocks)).toContain(`"value":"${n.a}:1"`);
    const at = { channel: agenda.channel, ts: agenda.ts };

    // Approve from the agenda: quorum 2.
    await t.slack.click('change_approve', `${n.a}:1`, { user: CAROL, message: at });
    await settled(t);
    expect(await status(t, n.a)).toBe('pending_approval');
    await t.slack.click('change_approve', `${n.a}:1`, { user: DAVE, message: at });
    await settled(t);
    expect(await status(t, n.a)).toBe('approved');
    const decided = await t.app.models.ChangeEvent.find({ changeNumber: n.a, type: 'stage_approved' }).lean();
    expect(decided.filter((e) => (e.data as { meeting?: string }).meeting).map((e) => e.actor)).toEqual([
      CAROL,
      DAVE,
    ]);

    // Defer B; a non-member cannot.
    await t.slack.click('board_defer', `${n.b}:1`, { user: BOB, message: at });
    await settled(t);
    expect(await t.app.models.ChangeEvent.countDocuments({ changeNumber: n.b, type: 'board_deferred' })).toBe(
      0,
    );
    await t.slack.click('board_defer', `${n.b}:1`, { user: ERIN, message: at });
    await settled(t);
    const deferred = await t.app.models.ChangeEvent.findOne({
      changeNumber: n.b,
      type: 'board_deferred',
    }).lean();
    expect(deferred?.actor).toBe(ERIN);
    // Deferred: off this meeting's agenda, so no decision on it here.
    await t.slack.click('change_approve', `${n.b}:1`, { user: CAROL, message: at });
    await settled(t);
    expect(await refusals(t, n.b)).toContainEqual([CAROL, 'BOARD_MEETING_REQUIRED']);

    // Reject D with a reason.
    await t.slack.click('change_reject', `${n.d}:1`, { user: DAVE, message: at });
    await settled(t);
    const modal = t.fake.callsOf('views.open').at(-1)!.response.view as {
      private_metadata: string;
      callback_id: string;
    };
    expect(modal.callback_id).toBe('change_reject_modal');
    const res = await t.slack.submitView(
      {
        callbackId: 'change_reject_modal',
        privateMetadata: modal.private_metadata,
        values: {
          reason: { value: { type: 'plain_text_input', value: 'No rollback for the partner keys' } },
        },
      },
      DAVE,
    );
    expect(res.json, JSON.stringify(res.json)).toBeNull();
    await settled(t);
    expect(await status(t, n.d)).toBe('rejected');
    // C is not on this meeting's agenda.
    await approve(t, n.c, 1, CAROL);
    expect(await refusals(t, n.c)).toContainEqual([CAROL, 'BOARD_MEETING_REQUIRED']);
  });

  it('when the meeting ends the minutes are posted and sealed; what it left rolls over to the next agenda', async () => {
    t.clock.set('2026-03-10T11:00:00Z');
    expect((await t.app.reminders.boards()).closed).toBe(1);
    const [minutes] = minutesPosts(t.fake);
    const text = JSON.stringify(minutes!.blocks);
    expect(text).toContain(`*CR-${n.a}*`);
    expect(text).toMatch(
      new RegExp(`CR-${n.a}\\*[^•]*approved \\(<@${CAROL}> approved; <@${DAVE}> approved\\)`),
    );
    expect(text).toMatch(new RegExp(`CR-${n.b}\\*[^•]*deferred to the next meeting \\(<@${ERIN}> deferred`));
    expect(text).toMatch(
      new RegExp(`CR-${n.d}\\*[^•]*rejected \\(<@${DAVE}> rejected: No rollback for the partner keys`),
    );
    expect(text).toContain(`Took part: <@${CAROL}>, <@${DAVE}>, <@${ERIN}>`);
    const [record] = (await t.app.deps.boards.minutesAfter(0)) as MinutesRecord[];
    expect(record).toMatchObject({
      number: 1,
      board: 'cab',
      participants: [CAROL, DAVE, ERIN],
      closedBy: 'changegate',
    });
    expect(record!.items.map((i) => [i.change, i.outcome])).toEqual([
      [n.a, 'approved'],
      [n.b, 'deferred'],
      [n.d, 'rejected'],
    ]);
    const report = await verifyAudit(t.app.deps);
    expect(report.findings.filter((f) => f.detail.startsWith('board_minutes'))).toEqual([]);
    // A board item waits for the meeting: members are not chased for it like an approval (11:00 in
    // Los Angeles, where the test people work, a day after the items' board stages opened).
    t.clock.set('2026-03-10T18:00:00Z');
    await t.app.reminders.approvals();
    expect(t.fake.dms(ALICE).length).toBeGreaterThan(0); // the sweep ran and DMs reach people
    for (const who of [CAROL, DAVE, ERIN])
      expect(t.fake.dms(who).filter((m) => m.text.includes('waiting for your approval'))).toEqual([]);

    // The next meeting (Tue 17th): its agenda, published Monday 10:00, has B and C.
    t.clock.set('2026-03-16T10:00:00Z');
    await t.app.reminders.boards();
    const next = agendaPosts(t.fake).at(-1)!;
    expect(next.ts).not.toBe(firstAgenda);
    // The closed meeting's agenda lost its buttons.
    expect(JSON.stringify(t.fake.posts(CAB_CHANNEL).find((m) => m.ts === firstAgenda)!.blocks)).toContain(
      'This meeting is closed',
    );
    expect(next.text).toContain('2 changes');
    for (const k of ['b', 'c']) expect(JSON.stringify(next.blocks)).toContain(`CR-${n[k]}`);
  });

  it('an urgent change goes before an ad hoc meeting called by a member, decided and closed at once', async () => {
    t.clock.set('2026-03-11T09:00:00Z'); // a Wednesday: no meeting
    const e = await raise(t, 'Patch the exposed login endpoint');
    const refused = await t.slack.command('/change', `meeting CR-${e}`, { user: BOB });
    expect(refused.status).toBe(200);
    await settled(t);
    expect(String(t.fake.responsePosts.at(-1)!.body.text)).toMatch(/Only members/);

    await t.slack.command('/change', `meeting CR-${e}`, { user: DAVE });
    await settled(t);
    expect(String(t.fake.responsePosts.at(-1)!.body.text)).toMatch(/ad hoc meeting of the board is open now/);
    const adhoc = agendaPosts(t.fake).at(-1)!;
    expect(adhoc.text).toMatch(/^Ad hoc meeting of Change Advisory Board/);
    const at = { channel: adhoc.channel, ts: adhoc.ts };
    await t.slack.click('change_approve', `${e}:1`, { user: DAVE, message: at });
    await t.slack.click('change_approve', `${e}:1`, { user: ERIN, message: at });
    await settled(t);
    expect(await status(t, e)).toBe('approved');
    const meetingId = (await t.app.models.BoardMeeting.findOne({ kind: 'adhoc' }).lean())!._id;
    await t.slack.click('board_close', meetingId, { user: CAROL, message: at });
    await settled(t);
    const minutes = minutesPosts(t.fake).at(-1)!;
    expect(JSON.stringify(minutes.blocks)).toContain('(ad hoc)');
    expect(JSON.stringify(minutes.blocks)).toContain(`closed by <@${CAROL}>`);
    expect((await t.app.deps.boards.minutesAfter(1)).map((m) => m.meetingKind)).toEqual(['adhoc']);
  });
});

describe('board meetings with two app instances on one database', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const fake = await startFakeSlack();
    const dbName = testDbName(import.meta.url);
    a = await startTestApp(import.meta.url, { policyYaml: BOARD_POLICY, fake, dbName });
    b = await startTestApp(import.meta.url, { policyYaml: BOARD_POLICY, fake, dbName, clock: a.clock });
    a.clock.set('2026-03-09T08:00:00Z');
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await a?.fake.stop();
  });

  it('one agenda and one set of minutes, however many replicas run the job at once', async () => {
    const x = await raise(a, 'Resize the cluster');
    a.clock.set('2026-03-09T10:00:00Z');
    await Promise.all([a.app.reminders.boards(), b.app.reminders.boards(), a.app.reminders.boards()]);
    expect(agendaPosts(a.fake)).toHaveLength(1);
    a.clock.set('2026-03-10T10:10:00Z');
    await Promise.all([a.app.reminders.boards(), b.app.reminders.boards()]);
    const at = { channel: agendaPosts(a.fake)[0]!.channel, ts: agendaPosts(a.fake)[0]!.ts };
    await a.slack.click('change_approve', `${x}:1`, { user: CAROL, message: at });
    await b.slack.click('change_approve', `${x}:1`, { user: DAVE, message: at });
    await settled(a);
    await settled(b);
    expect(await status(a, x)).toBe('approved');
    // A replica that claimed the close at 11:00 and died: its claim lapses with its lease period.
    const meeting = (await a.app.models.BoardMeeting.findOne({ kind: 'scheduled' }).lean())!._id;
    const period = Math.floor(Date.parse('2026-03-10T11:00:00Z') / 300_000);
    await a.app.models.Setting.create({
      _id: `claim:close:${meeting}@${period}`,
      value: 'claimed',
      at: new Date('2026-03-10T11:00:00Z'),
    });
    a.clock.set('2026-03-10T11:00:00Z');
    expect((await a.app.reminders.boards()).closed).toBe(0); // still within its lease
    a.clock.set('2026-03-10T11:05:00Z');
    const results = await Promise.all([a.app.reminders.boards(), b.app.reminders.boards()]);
    expect(results.map((r) => r.closed).sort()).toEqual([0, 1]);
    expect(minutesPosts(a.fake)).toHaveLength(1);
    expect(await a.app.deps.boards.minutesAfter(0)).toHaveLength(1);
  });
});
