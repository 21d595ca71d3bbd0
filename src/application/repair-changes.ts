import { currentApprovers } from './current-approvers.js';
import { notify } from './execute-command.js';
import type { Deps } from './ports.js';

/**
 * Completes submissions interrupted by a crash: a number claimed without its `submitted` event is
 * released; a change whose event was stored but whose projection was not gets its projection written
 * and is announced in Slack; a recorded change that was never announced (the process stopped after
 * acknowledging it, or Slack was unreachable) is announced. `olderThanMs` leaves alone submissions
 * that another instance may still be completing.
 */
export async function repairInterruptedSubmissions(
  deps: Deps,
  olderThanMs = 60_000,
  /** A graceful stop: no next item is started (the one in hand finishes). */
  signal?: AbortSignal,
): Promise<{ released: number; completed: number; announced: number }> {
  const policy = deps.policy.policy;
  let released = 0;
  let completed = 0;
  for (const n of await deps.changes.staleSubmissions(new Date(Date.now() - olderThanMs))) {
    if (signal?.aborted) break;
    const membership = await deps.directory.membership();
    const loaded = await deps.changes.refreshProjection(n, (s) => currentApprovers(s, policy, membership));
    if (!loaded) {
      await deps.changes.releaseNumber(n);
      released++;
      continue;
    }
    completed++;
    deps.logger.warn('completed an interrupted submission', { changeId: n });
    if (loaded.record?.slack || !(await deps.changes.claimAnnouncement(n))) continue;
    const last = loaded.events[loaded.events.length - 1]!;
    const waitingOn = currentApprovers(loaded.state, policy, membership);
    await notify(deps, { state: loaded.state, event: last, membership, waitingOn });
  }
  let announced = 0;
  for (const n of await deps.changes.unannounced(new Date(Date.now() - olderThanMs))) {
    if (signal?.aborted) break;
    const loaded = await deps.changes.load(n);
    if (!loaded || !(await deps.changes.claimAnnouncement(n))) continue;
    announced++;
    deps.logger.warn('announcing a change that was recorded but never posted to Slack', { changeId: n });
    const membership = await deps.directory.membership();
    const first = loaded.events[0]!;
    // Announced as submitted; later events (a decision already taken) show in the root message.
    await notify(deps, {
      state: loaded.state,
      event: first,
      membership,
      waitingOn: currentApprovers(loaded.state, policy, membership),
      record: loaded.record,
    });
  }
  return { released, completed, announced };
}
