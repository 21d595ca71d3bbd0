import { describe, expect, it } from 'vitest';
import {
  approvalReminders,
  digestDate,
  dueNow,
  nextReminderAt,
  type ReminderContext,
  retroReminders,
  verificationReminders,
  windowReminders,
} from '../../src/domain/reminders.js';
import { deployment, Machine, POLICY, request } from '../support/domain-fixtures.js';
import { ADMIN, ALICE, BOB, CAROL, DAVE, ERIN } from '../support/people.js';

const ctx = (m: Machine, over: Partial<ReminderContext> & { approvers?: string[] } = {}): ReminderContext => {
  const { approvers = [BOB], ...rest } = over;
  return {
    policy: m.policy,
    now: m.now,
    tzOf: () => 'America/Los_Angeles',
    openStages: m.state.openStages.map((o) => ({ ...o, approvers })),
    escalationRecipients: [DAVE, ERIN],
    ...rest,
  };
};
const iso = (d: Date) => d.toISOString();

describe('approval reminders', () => {
  // Tuesday 2026-03-10 10:00 in Los Angeles (17:00 UTC).
  const start = '2026-03-10T17:00:00Z';

  it('first after 4 business hours, then daily, then one escalation (thread and requester)', () => {
    const m = new Machine(request(), { now: start });
    const rs = approvalReminders(m.state, ctx(m));
    expect(rs.map((r) => [r.kind, r.recipient, r.slot, iso(r.dueAt)])).toEqual([
      ['approval', BOB, '0:1', '2026-03-10T21:00:00.000Z'],
      ['approval', BOB, '0:2', '2026-03-11T21:00:00.000Z'],
      ['approval_escalation', 'thread', '0', '2026-03-12T21:00:00.000Z'],
      ['approval_escalation', ALICE, '0', '2026-03-12T21:00:00.000Z'],
    ]);
  });

  it('counts business hours in the approver time zone and never delivers outside their working hours', () => {
    const m = new Machine(request(), { now: start });
    // Tokyo: 17:00 UTC is 02:00 on Wednesday; 4 business hours after 09:00 JST = 13:00 JST (04:00 UTC).
    const rs = approvalReminders(
      m.state,
      ctx(m, { tzOf: (u) => (u === BOB ? 'Asia/Tokyo' : 'America/Los_Angeles') }),
    );
    expect(iso(rs[0]!.dueAt)).toBe('2026-03-11T04:00:00.000Z');
    expect(iso(rs[0]!.deliverAt)).toBe('2026-03-11T04:00:00.000Z');
    // Reminder 2 falls 24 h later, on Thursday 13:00 JST: inside working hours.
    expect(iso(rs[1]!.deliverAt)).toBe('2026-03-12T04:00:00.000Z');
  });

  it('defers a reminder due on a Friday evening to Monday morning', () => {
    // Stage started Friday 16:00 LA: 4 business hours later is Monday 12:00 LA.
    const m = new Machine(request(), { now: '2026-03-13T23:00:00Z' });
    expect(iso(approvalReminders(m.state, ctx(m))[0]!.dueAt)).toBe('2026-03-16T19:00:00.000Z');
  });

  it('sends only the latest slot per recipient when several are due (after downtime)', () => {
    const m = new Machine(request(), { now: start });
    const rs = approvalReminders(m.state, ctx(m));
    const due = dueNow(rs, new Date('2026-03-11T22:00:00Z'), m.policy.workingHours);
    expect(due.map((r) => `${r.kind}:${r.recipient}:${r.slot}`)).toEqual(['approval:U0123BOB:0:2']);
  });

  it('a reminder whose time came at night (downtime, a retried send) waits for the next working morning', () => {
    const m = new Machine(request(), { now: start });
    const rs = approvalReminders(m.state, ctx(m));
    const hours = m.policy.workingHours;
    const keys = (at: string) =>
      dueNow(rs, new Date(at), hours).map((r) => `${r.kind}:${r.recipient}:${r.slot}`);
    // The first reminder was due Tuesday 13:00 LA. At 23:30 LA (06:30 UTC Wednesday) nobody is working.
    expect(keys('2026-03-11T06:30:00Z')).toEqual([]);
    // At 09:00 LA on Wednesday it goes out (the thread's escalation is not due yet).
    expect(keys('2026-03-11T16:00:00Z')).toEqual(['approval:U0123BOB:0:1']);
    // A weekend: due on Friday, the app down until Saturday: Monday morning.
    const friday = new Machine(request(), { now: '2026-03-13T17:00:00Z' });
    const late = approvalReminders(friday.state, ctx(friday));
    expect(dueNow(late, new Date('2026-03-14T18:00:00Z'), hours)).toEqual([]);
    expect(dueNow(late, new Date('2026-03-16T16:00:00Z'), hours).length).toBeGreaterThan(0);
  });

  it('stops once the stage is decided (new stage, new slots) or the change is closed', () => {
    const m = new Machine(request(), { now: start });
    m.do({ kind: 'approve', stageIndex: 0, actor: BOB });
    expect(
      approvalReminders(m.state, ctx(m, { approvers: [CAROL] })).every((r) => r.slot.startsWith('1')),
    ).toBe(true);
    m.do({ kind: 'cancel', actor: ALICE, reason: '' });
    expect(approvalReminders(m.state, ctx(m))).toEqual([]);
  });
});

describe('window, verification and retrospective reminders', () => {
  it('reminds before the window (moved into working hours) and flags a missed window', () => {
    // Window at 02:00 LA on Thursday: the reminder comes at the end of Wednesday's working day.
    const m = new Machine(
      request({
        plannedStart: new Date('2026-03-12T09:00:00Z'),
        plannedEnd: new Date('2026-03-12T10:00:00Z'),
      }),
      { now: '2026-03-10T18:00:00Z' },
    );
    const [upcoming] = windowReminders(m.state, ctx(m));
    expect(upcoming!.kind).toBe('window_upcoming');
    expect(iso(upcoming!.dueAt)).toBe('2026-03-12T08:00:00.000Z');
    expect(iso(upcoming!.deliverAt)).toBe('2026-03-11T23:45:00.000Z'); // 16:45 PDT on Wednesday
    m.do({ kind: 'approve', stageIndex: 0, actor: BOB });
    m.do({ kind: 'approve', stageIndex: 1, actor: CAROL });
    m.now = new Date('2026-03-12T11:00:00Z');
    expect(windowReminders(m.state, ctx(m)).map((r) => [r.kind, r.recipient])).toEqual([
      ['window_missed', 'thread'],
      ['window_missed', ALICE],
    ]);
  });

  it('chases verification an hour after deployment, every 4 hours, escalating after 24', () => {
    const m = new Machine(request({ type: 'standard' }), { now: '2026-03-10T17:00:00Z' });
    // An admin (not the requester) records the deployment: they are the one chased.
    m.do(deployment(ADMIN));
    m.now = new Date('2026-03-10T18:00:00Z');
    const first = verificationReminders(m.state, ctx(m));
    expect(first.map((r) => [r.kind, r.recipient, r.ordinal, iso(r.dueAt)])).toEqual([
      ['verification', ADMIN, 1, '2026-03-10T18:00:00.000Z'],
      ['verification_escalation', 'thread', undefined, '2026-03-11T17:00:00.000Z'],
    ]);
    m.now = new Date('2026-03-10T22:30:00Z');
    expect(verificationReminders(m.state, ctx(m))[0]).toMatchObject({ ordinal: 2 });
    m.do({ kind: 'verify', actor: ADMIN, outcome: 'ok', issues: '' });
    expect(verificationReminders(m.state, ctx(m))).toEqual([]);
  });

  it('reminds 24 h and 4 h before the retrospective is due, then escalates daily to the CTO and security', () => {
    const m = new Machine(request({ type: 'emergency', emergencyApprover: DAVE }), {
      now: '2026-03-10T17:00:00Z',
    });
    m.do({ kind: 'approve', stageIndex: 0, actor: DAVE });
    m.do(deployment(ALICE));
    const due = m.state.retro.dueAt!;
    expect(iso(due)).toBe('2026-03-12T17:00:00.000Z');
    const before = retroReminders(m.state, ctx(m));
    expect(before.map((r) => [r.kind, r.slot, iso(r.dueAt)])).toEqual([
      ['retro_due', 'before:24', '2026-03-11T17:00:00.000Z'],
      ['retro_due', 'before:4', '2026-03-12T13:00:00.000Z'],
    ]);
    m.now = new Date('2026-03-13T18:00:00Z');
    const after = retroReminders(m.state, ctx(m)).filter((r) => r.kind === 'retro_escalation');
    expect(after.map((r) => [r.recipient, r.slot])).toEqual([
      [DAVE, 'overdue:1'],
      [ERIN, 'overdue:1'],
    ]);
  });

  it("schedules the digest at the policy time on working days in the person's zone", () => {
    const policy = { ...POLICY, reminders: { ...POLICY.reminders, digest: { enabled: true, at: '09:00' } } };
    expect(digestDate(new Date('2026-03-10T15:59:00Z'), policy, 'America/Los_Angeles')).toBeNull(); // 08:59 PDT
    expect(digestDate(new Date('2026-03-10T16:00:00Z'), policy, 'America/Los_Angeles')).toBe('2026-03-10');
    expect(digestDate(new Date('2026-03-10T22:00:00Z'), policy, 'America/Los_Angeles')).toBeNull(); // 15:00: not the morning
    expect(digestDate(new Date('2026-03-14T18:00:00Z'), policy, 'America/Los_Angeles')).toBeNull(); // Saturday
  });
});

describe('when a change next owes a reminder', () => {
  // Submitted Tuesday 2026-03-10 10:00 in Los Angeles: Bob's reminders at 14:00 that day and the next.
  const m = new Machine(request(), { now: '2026-03-10T17:00:00Z' });
  const rs = approvalReminders(m.state, ctx(m));
  const hours = m.policy.workingHours;
  const next = (now: string) => nextReminderAt(rs, new Date(now), hours)?.toISOString() ?? null;

  it('is the earliest delivery time still ahead', () => {
    expect(next('2026-03-10T17:00:00Z')).toBe('2026-03-10T21:00:00.000Z');
    expect(next('2026-03-10T20:59:59Z')).toBe('2026-03-10T21:00:00.000Z');
    // At 14:00 the first is due (this sweep sends it): the next is the second, a day later.
    expect(next('2026-03-10T21:00:00Z')).toBe('2026-03-11T21:00:00.000Z');
    expect(next('2026-03-11T21:00:00Z')).toBe('2026-03-12T21:00:00.000Z'); // the escalation
    expect(next('2026-03-12T21:00:00Z')).toBeNull(); // nothing left ahead
  });

  it('is the start of the working day for a reminder whose time came while its recipient was off', () => {
    // Wednesday 20:00 in Los Angeles: the second reminder (Wednesday 14:00) came and was not sent
    // (the app was down, say); it waits for Thursday 09:00, before the escalation at 14:00.
    expect(next('2026-03-12T03:00:00Z')).toBe('2026-03-12T16:00:00.000Z');
  });
});
