import { currentApprovers } from './current-approvers.js';
import type { ChangeChange, Deps, EffectKey, EffectProgress } from './ports.js';

/**
 * Slack follows the record, even when Slack is slow or failing. Every change event with effects gets
 * an outbox entry when it is stored; the effects then run in the background (never on a click's or
 * a modal's critical path) and the entry is removed once they are delivered. An attempt that failed
 * is retried by a job with backoff: the root message is re-rendered from the latest state (so it
 * never stays on a stale state with live buttons) and a thread reply already posted is not posted
 * again.
 */

/** How long the first attempt owns an effect before the retry job may take it. */
const FIRST_ATTEMPT_MS = 2 * 60_000;
/** How long a retrier holds an effect. */
const RETRY_LEASE_MS = 2 * 60_000;
const BACKOFF_MS = [30_000, 60_000, 2 * 60_000, 5 * 60_000, 10 * 60_000, 30 * 60_000];

const keyOf = (c: ChangeChange): EffectKey => ({ changeNumber: c.state.number, seq: c.event.seq });

function isPermanent(err: unknown): boolean {
  return (err as { permanent?: unknown })?.permanent === true;
}

/** Events whose effects are not the outbox's: a refusal has none, a submission has the repair job. */
function hasOutboxEffects(c: ChangeChange): boolean {
  return c.event.type !== 'approval_refused' && c.event.type !== 'submitted';
}

/**
 * Records the event's pending effects and starts delivering them in the background. Resolves once the
 * outbox entry is written; `sent` settles when this attempt is over (it never rejects).
 */
export async function scheduleEffects(deps: Deps, change: ChangeChange): Promise<{ sent: Promise<void> }> {
  if (!hasOutboxEffects(change)) return { sent: Promise.resolve() };
  const now = deps.clock.now();
  try {
    await deps.effects.add(keyOf(change), new Date(now.getTime() + FIRST_ATTEMPT_MS), now);
  } catch (err) {
    // The event is recorded; its effects are still attempted now, just not retried if this fails.
    deps.logger.warn('could not record pending Slack effects', { changeId: change.state.number, err });
  }
  const sent = deliver(deps, change, { attempts: 0, replied: false }).then(() => undefined);
  deps.background.track(sent);
  return { sent };
}

/** One attempt at an event's effects; records the outcome in the outbox. Never throws. */
async function deliver(
  deps: Deps,
  change: ChangeChange,
  prior: { attempts: number; replied: boolean },
): Promise<boolean> {
  const key = keyOf(change);
  const progress: EffectProgress = { replied: prior.replied };
  try {
    await deps.notifier.changed(change, progress);
  } catch (err) {
    if (isPermanent(err)) {
      deps.logger.error('Slack refused a change effect for good; giving it up', {
        changeId: key.changeNumber,
        seq: key.seq,
        err,
      });
      await deps.effects.done(key).catch(() => undefined);
      return true;
    }
    const attempts = prior.attempts + 1;
    const retryAt = new Date(
      deps.clock.now().getTime() + BACKOFF_MS[Math.min(attempts, BACKOFF_MS.length) - 1]!,
    );
    deps.logger.warn('a change effect did not reach Slack; it will be retried', {
      changeId: key.changeNumber,
      seq: key.seq,
      attempts,
      retryAt,
      err,
    });
    await deps.effects
      .failed(key, {
        attempts,
        replied: progress.replied,
        retryAt,
        error: String((err as Error)?.message ?? err),
      })
      .catch((e: unknown) => deps.logger.warn('could not record a failed Slack effect', { err: e }));
    return false;
  }
  await deps.effects
    .done(key)
    .catch((err: unknown) => deps.logger.warn('could not clear a delivered Slack effect', { err }));
  return true;
}

export interface EffectsSweep {
  due: number;
  delivered: number;
  failed: number;
}

/**
 * The retry job: delivers effects whose earlier attempt failed (or never finished), oldest first, one
 * replica per effect. Stops early when Slack keeps failing, instead of waiting on every timeout.
 */
export async function retryPendingEffects(deps: Deps, limit = 50): Promise<EffectsSweep> {
  const result: EffectsSweep = { due: 0, delivered: 0, failed: 0 };
  let failuresInARow = 0;
  for (const pending of await deps.effects.due(deps.clock.now(), limit)) {
    if (failuresInARow >= 3) break;
    result.due++;
    if (!(await deps.effects.claim(pending, pending.attempts, RETRY_LEASE_MS))) continue;
    const loaded = await deps.changes.load(pending.changeNumber);
    const event = loaded?.events.find((e) => e.seq === pending.seq);
    if (!loaded || !event) {
      await deps.effects.done(pending);
      continue;
    }
    const membership = await deps.directory.membership();
    // The latest state: the root message shows where the change is now, not where it was.
    const waitingOn = currentApprovers(loaded.state, deps.policy.policy, membership);
    const change = { state: loaded.state, event, membership, waitingOn, record: loaded.record };
    const ok = await deliver(deps, change, pending);
    if (ok) {
      result.delivered++;
      failuresInARow = 0;
    } else {
      result.failed++;
      failuresInARow++;
    }
  }
  if (result.due) deps.logger.info('retried pending Slack effects', { job: 'slack-effects', ...result });
  return result;
}
