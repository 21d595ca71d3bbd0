import { DIGESTIBLE, digestDate } from '../domain/reminders.js';
import {
  type DigestItem,
  deliverOnce,
  escalationRecipients,
  type ReminderDeps,
  remindersFor,
  type SweepResult,
  ZoneCache,
} from './reminder-sweep.js';

/**
 * Digest mode: one morning DM per person (at the policy's digest time, in their time zone, on a
 * working day) listing everything waiting on them, instead of one DM per item. Once per person per day.
 */
export async function sendDigests(rd: ReminderDeps): Promise<SweepResult> {
  const result: SweepResult = { examined: 0, due: 0, sent: 0, skipped: 0, failed: 0 };
  const policy = rd.policy.policy;
  if (!policy.reminders.digest.enabled) return result;
  const now = rd.clock.now();
  const membership = await rd.directory.membership();
  const escalation = escalationRecipients(rd, membership);
  const zones = new ZoneCache(rd, policy.timezone);
  const perPerson = new Map<string, DigestItem[]>();
  for await (const record of rd.changes.candidates('digest', now)) {
    if (rd.stopping?.aborted) break;
    result.examined++;
    const state = record.state!;
    // Whatever is due, regardless of working hours: the digest itself waits for the morning.
    const items = (await remindersFor(rd, state, membership, zones, now, escalation)).filter(
      (r) => DIGESTIBLE.has(r.kind) && r.dueAt <= now,
    );
    for (const r of items) {
      const list = perPerson.get(r.recipient) ?? [];
      if (!list.some((i) => i.state.number === state.number && i.kind === r.kind)) {
        list.push({ kind: r.kind, state, permalink: record.slack?.permalink ?? null });
      }
      perPerson.set(r.recipient, list);
    }
  }
  for (const [user, items] of perPerson) {
    const date = digestDate(now, policy, zones.tzOf(user));
    if (!date) continue;
    result.due++;
    result[
      await deliverOnce(rd, `digest:${user}:${date}`, () => rd.reminders.sendDigest(user, items, now))
    ]++;
  }
  return result;
}
