import type { Changegate } from '../../src/app.js';
import { eventSealBytes, GENESIS_HASH, hashEvent } from '../../src/domain/audit.js';
import { formatChangeId } from '../../src/domain/change.js';
import type { ChangeState, StoredChangeEvent } from '../../src/domain/lifecycle.js';
import { projectionFields } from '../../src/infra/db/change-repository.js';
import { eventId } from '../../src/infra/db/models.js';
import { insertRollupMark } from '../../src/infra/db/rollup-store.js';
import type { Machine } from './domain-fixtures.js';

/**
 * Writes hand-built histories into the database the way the app writes them: events with a real
 * hash chain, sealed with the app's audit key and entered in its ledger, and their projections.
 */
export async function storeHistory(
  app: Pick<Changegate, 'models' | 'deps' | 'ledgerCaughtUp'>,
  /** `waitingOn`: whom the change waits on (App Home's lists), none if absent. */
  machines: (Pick<Machine, 'number' | 'events' | 'state'> & { waitingOn?: string[] })[],
  policyHash = 'test',
): Promise<ChangeState[]> {
  const signer = app.deps.audit!.signer;
  await app.ledgerCaughtUp;
  // The numbers below the first were claimed and given back (as the app keeps them: released).
  const first = Math.min(...machines.map((m) => m.number));
  await app.deps.changes.markReleasedBefore(first - 1);
  for (const m of machines) {
    let prev = GENESIS_HASH;
    const events = m.events.map((e) => {
      const base = { ...e, policyHash };
      const hash = hashEvent(prev, base);
      const seal = { keyId: signer.keyId, sig: signer.sign(eventSealBytes({ ...e, hash })) };
      const stored = { _id: eventId(e.changeNumber, e.seq), ...base, prevHash: prev, hash, seal };
      prev = hash;
      return stored;
    });
    // Each event's rollup mark first, as the app writes them.
    for (const e of events) await insertRollupMark(app.models, { ...e, at: new Date() });
    await app.models.ChangeEvent.insertMany(events);
    await app.deps.ledger.ledger(events.map(({ _id, ...e }) => e as unknown as StoredChangeEvent));
    const last = events.at(-1)!;
    const head = { seq: last.seq, hash: last.hash };
    // The record as the claim left it, then its projection written by the repository (which also
    // keeps the to-do list of changes with work).
    await app.models.Change.create({
      _id: formatChangeId(m.number),
      originChannel: null,
      slack: null,
      ...projectionFields(m.state, head, m.waitingOn ?? []),
      seq: 0,
    });
    await app.deps.changes.saveProjection(m.state, head, m.waitingOn ?? []);
  }
  return machines.map((m) => m.state);
}
