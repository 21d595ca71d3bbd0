import { currentApprovers } from './current-approvers.js';
import { notify } from './execute-command.js';
import type { Deps } from './ports.js';

/**
 * Completes submissions interrupted by a crash: a number claimed without its `submitted` event is
 * released; a change whose event was stored but whose projection was not gets its projection written
 * and is announced in Slack.
 */
export async function repairInterruptedSubmissions(
  deps: Deps,
  olderThanMs = 60_000,
): Promise<{ released: number; completed: number }> {
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
    const last = loaded.events[loaded.events.length - 1]!;
    await notify(deps, { state: loaded.state, event: last, membership });
  }
  return { released, completed };
}
