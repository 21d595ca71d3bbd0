import { notify } from './execute-command.js';
import type { AnnouncementClaim, ChangeChange, Deps, RootLookup } from './ports.js';

/**
 * Announces a recorded change in Slack under its claim (`deps.changes.claimAnnouncement`, taken
 * by the caller), so that one of the submission and the repair runs of every replica posts it. A
 * claim taken over from a holder that stopped may find the root message that holder posted and
 * never recorded: it is recorded, not posted again. Returns false when it could not look for that
 * message (the claim is kept, and taken over again once it lapses).
 */
export async function announceClaimed(
  deps: Deps,
  change: ChangeChange,
  claim: AnnouncementClaim,
  lookup: RootLookup,
): Promise<boolean> {
  const n = change.state.number;
  let record = change.record;
  if (claim.kind === 'taken_over') {
    record ??= await deps.changes.record(n);
    let posted: Awaited<ReturnType<RootLookup>>;
    try {
      posted = await lookup(n, record?.originChannel ?? null, claim.previousUntil);
    } catch (err) {
      // Posting now could post it twice.
      deps.logger.warn('could not look for an earlier announcement; trying again later', {
        changeId: n,
        err,
      });
      return false;
    }
    if (posted) {
      deps.logger.warn('found the announcement a stopped process posted; recorded it', { changeId: n });
      await deps.changes.setSlackRef(n, posted);
      record = record ? { ...record, slack: posted } : null;
    }
  }
  await notify(deps, { ...change, record, announcing: claim });
  return true;
}
