import { isActive } from '../domain/delegation.js';
import type { ChangeState } from '../domain/lifecycle.js';
import { escalationRoles, type Membership, referencedGroups, usersInRoles } from '../domain/policy.js';
import {
  allReminders,
  DIGESTIBLE,
  dueNow,
  nextReminderAt,
  type Reminder,
  type ReminderContext,
  type ReminderKind,
  reminderKey,
} from '../domain/reminders.js';
import { approversByStage, pendingRetroReviewers } from './current-approvers.js';
import { forEachAtOnce } from './map-ahead.js';
import type { CandidateSet, ChangeRecord, DeliveryLedger, Deps } from './ports.js';

/** Sends one reminder (or digest) to Slack; implemented by the Slack adapter. */
export interface ReminderNotifier {
  send(reminder: Reminder, change: { state: ChangeState; record: ChangeRecord }, now: Date): Promise<void>;
  sendDigest(userId: string, items: DigestItem[], now: Date): Promise<void>;
}

export interface DigestItem {
  kind: ReminderKind;
  state: ChangeState;
  permalink: string | null;
}

export interface ReminderDeps extends Deps {
  reminders: ReminderNotifier;
  deliveries: DeliveryLedger;
  /** What the process's sweeps learnt about when each change next owes a reminder (see SweepMemo). */
  memo?: SweepMemo;
  /** Changes processed in parallel during a sweep (Slack pacing happens in the sender). */
  concurrency?: number;
  /**
   * Aborted when the process is stopping: sweeps take no further change and finish the reminders
   * they have claimed, so none is left claimed-but-unrecorded by a graceful stop.
   */
  stopping?: AbortSignal;
}

export interface SweepResult {
  examined: number;
  due: number;
  sent: number;
  skipped: number;
  failed: number;
}

/**
 * The longest a sweep leaves a change unexamined on the strength of what it computed: inputs besides
 * the change's record (a person's time zone, a round-based chase's next round) are looked at again
 * at least this often.
 */
export const RECHECK_MS = 10 * 60_000;

/**
 * What this process's sweeps learnt: per sweep, for each change examined, its record's seq then and
 * when it next owes one of the sweep's reminders (at most RECHECK_MS ahead). A later sweep skips a
 * change whose record is at the same seq until that time, so each minute's sweep reads only the
 * changes that may owe something instead of every open one. Any write to the record moves its seq
 * (the store's list shows it), and a new policy, user-group membership or set of running delegations
 * forgets everything; a failed or interrupted delivery is not remembered. In memory: each replica,
 * and each start, examines every change once.
 */
export class SweepMemo {
  private readonly sweeps = new Map<
    string,
    { context: string; wakes: Map<number, { seq: number; at: number }> }
  >();

  /** The memory of one sweep, emptied when its context (policy, membership, delegations) changed. */
  of(sweep: string, context: string): Map<number, { seq: number; at: number }> {
    let m = this.sweeps.get(sweep);
    if (!m || m.context !== context) {
      m = { context, wakes: new Map() };
      this.sweeps.set(sweep, m);
    }
    return m.wakes;
  }
}

/** What besides a change's record decides its reminders, as one string (see SweepMemo). */
async function sweepContext(rd: ReminderDeps, membership: Membership, now: Date): Promise<string> {
  const groups = referencedGroups(rd.policy.policy).map(
    (g) => `${g}=${[...membership.groupMembers(g)].sort().join(',')}`,
  );
  const running = (await rd.delegations.recent())
    .filter((d) => isActive(d, now))
    .map((d) => d.id)
    .sort();
  return JSON.stringify([rd.policy.hash, groups, running]);
}

/** Users whose time zone a change's reminders depend on. */
function recipientsOf(state: ChangeState, approvers: string[], escalation: string[]): string[] {
  return [state.requester, ...approvers, ...(state.deployedBy ? [state.deployedBy] : []), ...escalation];
}

/** The CTO / security roles that overdue retrospectives escalate to (see escalationRoles). */
export function escalationRecipients(deps: Deps, membership: Membership): string[] {
  return usersInRoles(deps.policy.policy, membership, escalationRoles(deps.policy.policy));
}

export class ZoneCache {
  private readonly zones = new Map<string, string>();
  constructor(
    private readonly deps: Deps,
    private readonly fallback: string,
  ) {}
  async load(users: Iterable<string>): Promise<void> {
    const missing = [...new Set(users)].filter((u) => !this.zones.has(u) && /^[UW][A-Z0-9]+$/.test(u));
    await Promise.all(
      missing.map(async (u) => this.zones.set(u, (await this.deps.directory.timezone(u)) ?? this.fallback)),
    );
  }
  tzOf = (u: string): string => this.zones.get(u) ?? this.fallback;
}

/** The reminders a change owes right now (all kinds); the caller filters. */
export async function remindersFor(
  deps: Deps,
  state: ChangeState,
  membership: Membership,
  zones: ZoneCache,
  now: Date,
  escalation: string[],
): Promise<Reminder[]> {
  const policy = deps.policy.policy;
  // An approver away is represented by their delegate, who is reminded too.
  const running = (await deps.delegations.recent()).filter(
    (d) => isActive(d, now) && d.to !== state.requester,
  );
  // A board stage waits for the board's meeting (its agenda is the reminder), not for a chase.
  const openStages = approversByStage(state, policy, membership)
    .filter((o) => !state.stages[o.index]?.board)
    .map((o) => ({
      ...o,
      approvers: [
        ...new Set([...o.approvers, ...running.filter((d) => o.approvers.includes(d.from)).map((d) => d.to)]),
      ],
    }));
  const approvers = [...new Set(openStages.flatMap((o) => o.approvers))];
  const reviewers = pendingRetroReviewers(state, policy, membership);
  await zones.load(recipientsOf(state, [...approvers, ...reviewers], escalation));
  const ctx: ReminderContext = {
    policy,
    now,
    tzOf: zones.tzOf,
    openStages: openStages.map((o) => ({ index: o.index, since: o.since, approvers: o.approvers })),
    escalationRecipients: escalation,
    retroReviewers: reviewers,
  };
  return allReminders(state, ctx);
}

/**
 * How old a candidate's copy may be and still be sent from without reading the change again (wall
 * clock: it is about the data, not the policy's time). A reminder already reaches Slack up to
 * seconds after its last read, behind Slack's pacing; a second read within a second of the first
 * narrowed nothing that matters and cost the database a full read per reminder.
 */
const FRESH_MS = 1_000;

/**
 * One sweep for some reminder kinds: stream the candidate changes, compute what each owes now (pure
 * domain), and for each due reminder claim its key before sending, so a reminder is sent once however
 * many replicas, retries or restarts there are. Changes are streamed, never all held in memory.
 */
export async function sweepReminders(
  rd: ReminderDeps,
  kinds: readonly ReminderKind[],
  candidates: CandidateSet,
): Promise<SweepResult> {
  const now = rd.clock.now();
  const policy = rd.policy.policy;
  const digest = policy.reminders.digest.enabled;
  const wanted = new Set(kinds.filter((k) => !(digest && DIGESTIBLE.has(k))));
  const result: SweepResult = { examined: 0, due: 0, sent: 0, skipped: 0, failed: 0 };
  if (wanted.size === 0) return result;
  const membership = await rd.directory.membership();
  const escalation = escalationRecipients(rd, membership);
  const zones = new ZoneCache(rd, policy.timezone);
  const wakes = rd.memo?.of(`${candidates}:${kinds.join(',')}`, await sweepContext(rd, membership, now));
  const seen = new Set<number>();
  // A change examined before at the same seq, with nothing owed until later: not read again yet.
  const skip = (n: number, seq: number) => {
    seen.add(n);
    const w = wakes?.get(n);
    return w !== undefined && w.seq === seq && w.at > now.getTime();
  };
  const remember = (n: number, seq: number, owed: Reminder[]) => {
    const next = nextReminderAt(owed, now, policy.workingHours)?.getTime() ?? Number.POSITIVE_INFINITY;
    wakes?.set(n, { seq, at: Math.min(next, now.getTime() + RECHECK_MS) });
  };

  await forEachAtOnce(
    rd.changes.candidates(candidates, now, wakes ? { skip } : undefined),
    rd.concurrency ?? 16,
    async (record) => {
      result.examined++;
      const state = record.state!;
      wakes?.delete(state.number);
      const owed = (await remindersFor(rd, state, membership, zones, now, escalation)).filter((r) =>
        wanted.has(r.kind),
      );
      const due = dueNow(owed, now, rd.policy.policy.workingHours);
      if (due.length === 0) {
        remember(state.number, record.head.seq, owed);
        return;
      }
      // Read again just before sending, unless this copy is fresh: if it moved on since, decide again.
      const fresh =
        record.readAt !== undefined && Date.now() - record.readAt < FRESH_MS
          ? record
          : await rd.changes.record(state.number);
      const freshState = fresh?.state ?? null;
      if (!fresh || !freshState) return;
      const stillDue =
        fresh.head.seq === record.head.seq
          ? due
          : dueNow(
              await remindersFor(rd, freshState, membership, zones, now, escalation),
              now,
              rd.policy.policy.workingHours,
            ).filter((r) => wanted.has(r.kind) && due.some((d) => reminderKey(d) === reminderKey(r)));
      if (rd.stopping?.aborted) return; // not claimed yet: the next sweep, here or elsewhere, sends it
      let failed = false;
      for (const r of stillDue) {
        result.due++;
        const outcome = await deliverOnce(rd, reminderKey(r), () =>
          rd.reminders.send(r, { state: freshState, record: fresh }, now),
        );
        result[outcome]++;
        if (outcome === 'failed') failed = true;
      }
      // Remembered only when what was owed now was dealt with, from the record it was computed on.
      if (!failed && fresh.head.seq === record.head.seq) remember(state.number, record.head.seq, owed);
    },
    rd.stopping,
  );
  // Changes no longer among the candidates are forgotten (the memory stays the size of the open work).
  if (wakes && !rd.stopping?.aborted) for (const n of wakes.keys()) if (!seen.has(n)) wakes.delete(n);
  const report = { job: kinds.join(','), ...result, remembered: wakes?.size ?? 0 };
  if (result.sent || result.failed) rd.logger.info('reminder sweep', report);
  else rd.logger.debug('reminder sweep', report);
  return result;
}

/** Claim, send, mark sent; a failed send gives the claim back so a later sweep retries it. */
export async function deliverOnce(
  rd: ReminderDeps,
  key: string,
  send: () => Promise<void>,
): Promise<'sent' | 'skipped' | 'failed'> {
  const claim = await rd.deliveries.claim(key);
  if (!claim.claimed) return 'skipped';
  try {
    await send();
  } catch (err) {
    rd.logger.warn('reminder not sent; it will be retried', { key, err });
    await rd.deliveries.release(key, claim.attempt).catch(() => undefined);
    return 'failed';
  }
  await rd.deliveries.markSent(key, claim.attempt);
  return 'sent';
}
