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
): Promise<{ released: number; completed: number; announced: number }> {
  const stale = await deps.changes.staleSubmissions(new Date(Date.now() - olderThanMs));
  let released = 0;
  let completed = 0;
  for (const doc of stale) {
    const membership = await deps.directory.membership();
    const loaded = await deps.changes.refreshProjection(doc.number, (s) =>
      currentApprovers(s, deps.policy.policy, membership),
    );
    if (!loaded) {
      await deps.changes.releaseNumber(doc.number);
      released++;
      continue;
    }
    completed++;
    deps.logger.warn('completed an interrupted submission', { changeId: doc.number });
    if (loaded.doc?.slack || !(await deps.changes.claimAnnouncement(doc.number))) continue;
    const last = loaded.events[loaded.events.length - 1]!;
    await notify(deps, { state: loaded.state, event: last, membership });
  }
  let announced = 0;
  for (const doc of await deps.changes.unannounced(new Date(Date.now() - olderThanMs))) {
    const loaded = await deps.changes.load(doc.number);
    if (!loaded || !(await deps.changes.claimAnnouncement(doc.number))) continue;
    announced++;
    deps.logger.warn('announcing a change that was recorded but never posted to Slack', {
      changeId: doc.number,
    });
    const membership = await deps.directory.membership();
    const first = loaded.events[0]!;
    // Announced as submitted; later events (a decision already taken) show in the root message.
    await notify(deps, { state: loaded.state, event: first, membership, doc: loaded.doc });
  }
  return { released, completed, announced };
}
