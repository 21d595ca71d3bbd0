import { isActive } from '../domain/delegation.js';
import type { ChangeState } from '../domain/lifecycle.js';
import { escalationRoles, type Membership, usersInRoles } from '../domain/policy.js';
import {
  allReminders,
  DIGESTIBLE,
  dueNow,
  type Reminder,
  type ReminderContext,
  type ReminderKind,
  reminderKey,
} from '../domain/reminders.js';
import { approversByStage, pendingRetroReviewers } from './current-approvers.js';
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

async function pool<T>(
  items: AsyncIterable<T>,
  concurrency: number,
  work: (item: T) => Promise<void>,
  stopping?: AbortSignal,
): Promise<void> {
  const running = new Set<Promise<void>>();
  for await (const item of items) {
    if (stopping?.aborted) break;
    const p = work(item).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= concurrency) await Promise.race(running);
  }
  await Promise.all(running);
}

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

  await pool(
    rd.changes.candidates(candidates, now),
    rd.concurrency ?? 16,
    async (record) => {
      result.examined++;
      const state = record.state!;
      const due = dueNow(
        await remindersFor(rd, state, membership, zones, now, escalation),
        now,
        rd.policy.policy.workingHours,
      ).filter((r) => wanted.has(r.kind));
      if (due.length === 0) return;
      // Re-read the change just before sending: if it moved on since the query, decide again.
      const fresh = await rd.changes.record(state.number);
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
      for (const r of stillDue) {
        result.due++;
        const outcome = await deliverOnce(rd, reminderKey(r), () =>
          rd.reminders.send(r, { state: freshState, record: fresh }, now),
        );
        result[outcome]++;
      }
    },
    rd.stopping,
  );
  if (result.sent || result.failed) {
    rd.logger.info('reminder sweep', { job: kinds.join(','), ...result });
  }
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
  await rd.deliveries.markSent(key);
  return 'sent';
}
