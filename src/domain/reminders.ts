import { addBusinessHours, isWithinWorkingHours, nextWorkingInstant } from './business-hours.js';
import { type ChangeState, nextPir, retroState } from './lifecycle.js';
import { isSlackUserId } from './people.js';
import type { Policy, WorkingHours } from './policy.js';
import { HOUR_MS, MINUTE_MS, minutesOf, zonedParts } from './time.js';

/**
 * Which reminders a change owes, and when: pure functions of its state, the policy and the clock.
 * Each reminder has a slot; (change, kind, recipient, slot) is the key that is claimed exactly once
 * before anything is sent. Delivery times respect each recipient's working hours in their own time
 * zone, so nothing arrives at 3 a.m. their time.
 */

export type ReminderKind =
  | 'approval' // DM an approver of the current stage
  | 'approval_escalation' // thread post mentioning the stage's group, and a DM to the requester
  | 'window_upcoming' // DM the requester before the planned window
  | 'window_missed' // thread post and DM: approved, window over, no deployment recorded
  | 'verification' // DM whoever recorded the deployment
  | 'verification_escalation' // thread post: deployed a day ago and still not verified
  | 'retro_due' // DM the requester before the retrospective is due
  | 'retro_escalation' // DM the CTO / security roles daily while the retrospective is overdue
  | 'retro_review' // DM the reviewers while a submitted retrospective waits for their review
  | 'retro_review_answer' // DM the requester while the review's questions wait for an answer
  | 'pir'; // DM the requester when a post-implementation review is due, then chase it

/** Reminders folded into the morning digest when the policy asks for digests. */
export const DIGESTIBLE: ReadonlySet<ReminderKind> = new Set([
  'approval',
  'window_upcoming',
  'verification',
  'retro_due',
]);

/** One reminder is one Slack message: a DM to a user, or a post in the change's thread. */
export interface Reminder {
  kind: ReminderKind;
  changeNumber: number;
  /** A Slack user id, or `thread` for a post in the change's thread. */
  recipient: string;
  slot: string;
  dueAt: Date;
  /** `dueAt` moved into the recipient's working hours. */
  deliverAt: Date;
  /** The recipient's time zone (the policy's for thread posts): their working hours gate delivery. */
  tz: string;
  /** For approval reminders: which reminder this is (1..N). */
  ordinal?: number;
  /** For approval reminders and escalations: the stage waited on. */
  stageIndex?: number;
}

export interface ReminderContext {
  policy: Policy;
  now: Date;
  /** IANA time zone of a user (their Slack profile), falling back to the policy's. */
  tzOf(userId: string): string;
  /** Each open stage, when it opened, and its named approvers who have not acted (see approversByStage). */
  openStages: { index: number; since: Date; approvers: string[] }[];
  /** Members of the roles that approve emergencies (escalations for overdue retrospectives). */
  escalationRecipients: string[];
  /** Members of the change's retrospective reviewer roles (not the requester). */
  retroReviewers?: string[];
}

export function reminderKey(r: Pick<Reminder, 'kind' | 'changeNumber' | 'recipient' | 'slot'>): string {
  return `reminder:${r.changeNumber}:${r.kind}:${r.recipient}:${r.slot}`;
}

function recipientZone(ctx: ReminderContext, recipient: string): string {
  return recipient === 'thread' ? ctx.policy.timezone : ctx.tzOf(recipient);
}

function deliverAt(at: Date, ctx: ReminderContext, recipient: string): Date {
  return nextWorkingInstant(at, ctx.policy.workingHours, recipientZone(ctx, recipient));
}

/** The latest working-hours instant at or before `at` (for reminders that must precede an event). */
function latestWorkingInstantBefore(at: Date, ctx: ReminderContext, recipient: string): Date {
  const tz = ctx.tzOf(recipient);
  const wh = ctx.policy.workingHours;
  if (isWithinWorkingHours(at, wh, tz)) return at;
  // Walk back in 15-minute steps (at most a week) to the end of the last working period.
  for (let t = at.getTime(), i = 0; i < 7 * 96; i++, t -= 15 * MINUTE_MS) {
    if (isWithinWorkingHours(new Date(t), wh, tz)) return new Date(t);
  }
  return at;
}

function reminder(
  kind: ReminderKind,
  s: ChangeState,
  recipient: string,
  slot: string,
  dueAt: Date,
  ctx: ReminderContext,
  extra: Partial<Reminder> = {},
): Reminder {
  return {
    kind,
    changeNumber: s.number,
    recipient,
    slot,
    dueAt,
    deliverAt: deliverAt(dueAt, ctx, recipient),
    tz: recipientZone(ctx, recipient),
    ...extra,
  };
}

/** Pending approval: per open stage, N reminders to each approver on the cadence, then one escalation. */
export function approvalReminders(s: ChangeState, ctx: ReminderContext): Reminder[] {
  if (s.status !== 'pending_approval') return [];
  const cfg = ctx.policy.reminders.pendingApproval;
  const out: Reminder[] = [];
  for (const open of ctx.openStages) {
    const stageIndex = open.index;
    for (const approver of open.approvers) {
      const tz = ctx.tzOf(approver);
      const first = addBusinessHours(open.since, cfg.firstAfterBusinessHours, ctx.policy.workingHours, tz);
      for (let k = 1; k <= cfg.maxReminders; k++) {
        const due = new Date(first.getTime() + (k - 1) * cfg.everyHours * HOUR_MS);
        out.push(
          reminder('approval', s, approver, `${stageIndex}:${k}`, due, ctx, { ordinal: k, stageIndex }),
        );
      }
    }
    const requesterTz = ctx.tzOf(s.requester);
    const firstForRequester = addBusinessHours(
      open.since,
      cfg.firstAfterBusinessHours,
      ctx.policy.workingHours,
      requesterTz,
    );
    const escalateAt = new Date(firstForRequester.getTime() + cfg.maxReminders * cfg.everyHours * HOUR_MS);
    out.push(reminder('approval_escalation', s, 'thread', `${stageIndex}`, escalateAt, ctx, { stageIndex }));
    out.push(
      reminder('approval_escalation', s, s.requester, `${stageIndex}`, escalateAt, ctx, { stageIndex }),
    );
  }
  return out;
}

/** Planned window: a reminder before it starts; a flag when it passed without a deployment. */
export function windowReminders(s: ChangeState, ctx: ReminderContext): Reminder[] {
  const start = s.request.plannedStart;
  if (!start) return [];
  const out: Reminder[] = [];
  if (s.status === 'pending_approval' || s.status === 'approved') {
    const due = new Date(start.getTime() - ctx.policy.reminders.upcomingWindow.beforeMinutes * MINUTE_MS);
    if (ctx.now < start) {
      const at = latestWorkingInstantBefore(due, ctx, s.requester);
      out.push({
        kind: 'window_upcoming',
        changeNumber: s.number,
        recipient: s.requester,
        slot: start.toISOString(),
        dueAt: due,
        deliverAt: at,
        tz: recipientZone(ctx, s.requester),
      });
    }
  }
  if (s.status === 'approved' && !s.deployedAt) {
    const end = s.request.plannedEnd ?? start;
    out.push(reminder('window_missed', s, 'thread', end.toISOString(), end, ctx));
    out.push(reminder('window_missed', s, s.requester, end.toISOString(), end, ctx));
  }
  return out;
}

/** Post-deployment verification: DM the deployer on a cadence until verified; escalate once. */
export function verificationReminders(s: ChangeState, ctx: ReminderContext): Reminder[] {
  if (s.status !== 'deployed' || !s.deployedAt) return [];
  const cfg = ctx.policy.reminders.verification;
  const who = s.deployedBy && !s.deployedBy.startsWith('pipeline:') ? s.deployedBy : s.requester;
  const first = new Date(s.deployedAt.getTime() + cfg.firstAfterMinutes * MINUTE_MS);
  const out: Reminder[] = [];
  if (ctx.now >= first) {
    // Only the latest slot: a reminder missed while the app was down is superseded, not sent late.
    const k = Math.floor((ctx.now.getTime() - first.getTime()) / (cfg.everyHours * HOUR_MS)) + 1;
    const due = new Date(first.getTime() + (k - 1) * cfg.everyHours * HOUR_MS);
    out.push(
      reminder('verification', s, who, `${s.deployedAt.toISOString()}:${k}`, due, ctx, { ordinal: k }),
    );
  } else {
    out.push(reminder('verification', s, who, `${s.deployedAt.toISOString()}:1`, first, ctx, { ordinal: 1 }));
  }
  out.push(
    reminder(
      'verification_escalation',
      s,
      'thread',
      s.deployedAt.toISOString(),
      new Date(s.deployedAt.getTime() + cfg.escalateAfterHours * HOUR_MS),
      ctx,
    ),
  );
  return out;
}

/** Emergency retrospective: reminders before it is due; daily escalations once overdue. */
export function retroReminders(s: ChangeState, ctx: ReminderContext): Reminder[] {
  const r = retroState(s, ctx.now);
  if (r !== 'pending' && r !== 'overdue') return [];
  const due = s.retro.dueAt!;
  const cfg = ctx.policy.reminders.retrospective;
  const out: Reminder[] = [];
  for (const hours of [...cfg.beforeDueHours].sort((a, b) => b - a)) {
    out.push(
      reminder(
        'retro_due',
        s,
        s.requester,
        `before:${hours}`,
        new Date(due.getTime() - hours * HOUR_MS),
        ctx,
      ),
    );
  }
  if (r === 'overdue') {
    const day = Math.floor((ctx.now.getTime() - due.getTime()) / (cfg.escalateEveryHours * HOUR_MS));
    const at = new Date(due.getTime() + day * cfg.escalateEveryHours * HOUR_MS);
    for (const user of ctx.escalationRecipients)
      out.push(reminder('retro_escalation', s, user, `overdue:${day}`, at, ctx));
  }
  return out;
}

/**
 * A retrospective's review is chased like the retrospective: the reviewers while it is theirs, the
 * requester while questions wait for an answer, on the retrospective's escalation cadence.
 */
export function retroReviewReminders(s: ChangeState, ctx: ReminderContext): Reminder[] {
  const review = s.retroReview;
  if ((review.status !== 'pending' && review.status !== 'questions') || !review.since) return [];
  const every = ctx.policy.reminders.retrospective.escalateEveryHours * HOUR_MS;
  const round = Math.max(1, Math.floor((ctx.now.getTime() - review.since.getTime()) / every));
  const at = new Date(review.since.getTime() + round * every);
  const slot = `${review.since.toISOString()}:${round}`;
  if (review.status === 'questions') return [reminder('retro_review_answer', s, s.requester, slot, at, ctx)];
  return (ctx.retroReviewers ?? []).map((u) => reminder('retro_review', s, u, slot, at, ctx));
}

/**
 * A post-implementation review is asked for when due, then chased on the retrospective's escalation
 * cadence until answered (one slot per round, so a retried sweep never asks twice).
 */
export function pirReminders(s: ChangeState, ctx: ReminderContext): Reminder[] {
  const next = nextPir(s);
  if (!next || ctx.now < next.dueAt) return [];
  const every = ctx.policy.reminders.retrospective.escalateEveryHours * HOUR_MS;
  const round = Math.floor((ctx.now.getTime() - next.dueAt.getTime()) / every);
  const at = new Date(next.dueAt.getTime() + round * every);
  return [
    reminder('pir', s, s.requester, `${next.index}:${round}`, at, ctx, {
      ordinal: round + 1,
      stageIndex: next.index,
    }),
  ];
}

export function allReminders(s: ChangeState, ctx: ReminderContext): Reminder[] {
  return [
    ...approvalReminders(s, ctx),
    ...windowReminders(s, ctx),
    ...verificationReminders(s, ctx),
    ...retroReminders(s, ctx),
    ...retroReviewReminders(s, ctx),
    ...pirReminders(s, ctx),
  ].filter((r) => r.recipient === 'thread' || isSlackUserId(r.recipient)); // a pipeline has no inbox
}

/**
 * The reminders to send now: due, and inside the recipient's working hours now (a reminder whose time
 * came while they were off, because the app was down or a send was retried, waits for the start of
 * their next working period rather than arriving at night); per change, kind and recipient only
 * the latest slot, so reminders missed during downtime are not sent in a burst.
 */
export function dueNow(reminders: readonly Reminder[], now: Date, hours: WorkingHours): Reminder[] {
  const latest = new Map<string, Reminder>();
  for (const r of reminders) {
    if (r.deliverAt > now || !isWithinWorkingHours(now, hours, r.tz)) continue;
    const k = `${r.changeNumber}:${r.kind}:${r.recipient}`;
    const prev = latest.get(k);
    if (!prev || r.dueAt > prev.dueAt) latest.set(k, r);
  }
  return [...latest.values()];
}

/**
 * When a change's reminders next need looking at, after a sweep at `now` dealt with those due: the
 * earliest delivery time still ahead, or, for a reminder whose time came while its recipient is off,
 * the next instant of their working hours. Null when nothing is ahead in these reminders (a
 * round-based chase, whose next round is not in them, and every input besides the change's own
 * state, are the caller's to bound).
 */
export function nextReminderAt(reminders: readonly Reminder[], now: Date, hours: WorkingHours): Date | null {
  let next: number | null = null;
  for (const r of reminders) {
    const at =
      r.deliverAt > now
        ? r.deliverAt.getTime()
        : isWithinWorkingHours(now, hours, r.tz)
          ? null // due now: this sweep claimed it (sent, or sent before)
          : nextWorkingInstant(now, hours, r.tz).getTime();
    if (at !== null && at > now.getTime() && (next === null || at < next)) next = at;
  }
  return next === null ? null : new Date(next);
}

/** How long after the digest time a late digest (the app was down) is still sent that morning. */
export const DIGEST_WINDOW_MINUTES = 180;

/** The local date (YYYY-MM-DD) whose morning digest is due for a person in `tz` at `now`, or null. */
export function digestDate(now: Date, policy: Policy, tz: string): string | null {
  if (!policy.reminders.digest.enabled) return null;
  if (!isWithinWorkingHours(now, policy.workingHours, tz)) return null;
  const p = zonedParts(now, tz);
  const at = minutesOf(policy.reminders.digest.at);
  return p.minuteOfDay >= at && p.minuteOfDay < at + DIGEST_WINDOW_MINUTES ? p.date : null;
}
