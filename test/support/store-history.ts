import { GENESIS_HASH, hashEvent } from '../../src/domain/audit.js';
import { formatChangeId } from '../../src/domain/change.js';
import type { ChangeState } from '../../src/domain/lifecycle.js';
import { projectionFields } from '../../src/infra/db/change-repository.js';
import { eventId, type Models } from '../../src/infra/db/models.js';
import type { Machine } from './domain-fixtures.js';

/** Writes hand-built histories (events with a real hash chain, and projections) into the database. */
export async function storeHistory(
  models: Models,
  machines: Machine[],
  policyHash = 'test',
): Promise<ChangeState[]> {
  for (const m of machines) {
    let prev = GENESIS_HASH;
    const events = m.events.map((e) => {
      const base = { ...e, policyHash };
      const hash = hashEvent(prev, base);
      const stored = { _id: eventId(e.changeNumber, e.seq), ...base, prevHash: prev, hash };
      prev = hash;
      return stored;
    });
    await models.ChangeEvent.insertMany(events);
    const last = events.at(-1)!;
    await models.Change.create({
      _id: formatChangeId(m.number),
      originChannel: null,
      slack: null,
      ...projectionFields(m.state, { seq: last.seq, hash: last.hash }, []),
    });
  }
  return machines.map((m) => m.state);
}
