import { announceClaimed } from './announce-change.js';
import { currentApprovers } from './current-approvers.js';
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
  // One read of the channel for the takeovers of this run (see announceClaimed).
  const lookup = deps.notifier.postedRoots();
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
    if (loaded.record?.slack) continue;
    const claim = await deps.changes.claimAnnouncement(n);
    if (!claim) continue;
    const last = loaded.events[loaded.events.length - 1]!;
    const waitingOn = currentApprovers(loaded.state, policy, membership);
    await announceClaimed(
      deps,
      { state: loaded.state, event: last, membership, waitingOn, record: loaded.record },
      claim,
      lookup,
    );
  }
  let announced = 0;
  for (const n of await deps.changes.unannounced(new Date(Date.now() - olderThanMs))) {
    if (signal?.aborted) break;
    // The claim first: a change another caller is announcing right now is not even read.
    const claim = await deps.changes.claimAnnouncement(n);
    if (!claim) continue;
    const loaded = await deps.changes.load(n);
    if (!loaded || loaded.record?.slack) continue; // announced since it was listed
    const membership = await deps.directory.membership();
    const first = loaded.events[0]!;
    // Announced as submitted; later events (a decision already taken) show in the root message.
    const mine = await announceClaimed(
      deps,
      {
        state: loaded.state,
        event: first,
        membership,
        waitingOn: currentApprovers(loaded.state, policy, membership),
        record: loaded.record,
      },
      claim,
      lookup,
    );
    if (!mine) continue;
    announced++;
    deps.logger.warn('announced a change that was recorded but not known to be posted to Slack', {
      changeId: n,
    });
  }
  return { released, completed, announced };
}
