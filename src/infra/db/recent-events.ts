import type { StoredChangeEvent } from '../../domain/lifecycle.js';
import { BoundedCache } from '../cache.js';

/**
 * The start of the event logs this process read or recorded lately, by change, for readers that
 * only need what a log held (the change log's rollups fold each event shortly after it is recorded):
 * an event never changes once recorded, so those readers need not read it again. Only sealed events
 * are kept (a legacy event is sealed later by the ledger's migration). Reads that check a log against
 * tampering (a decision, the deployment gate, the evidence export) read the database itself.
 * At most `max` changes are kept, the least recently used dropped first.
 */
export class RecentEvents {
  private readonly logs: BoundedCache<number, StoredChangeEvent[]>;

  constructor(max: number) {
    this.logs = new BoundedCache(max);
  }

  /** Events 1..n of the change's log as known here (n may be 0). */
  known(changeNumber: number): readonly StoredChangeEvent[] {
    return this.logs.get(changeNumber) ?? [];
  }

  /** Remembers a log as read from the database, from its first event. */
  read(changeNumber: number, events: readonly StoredChangeEvent[]): void {
    let n = 0;
    while (n < events.length && events[n]!.seq === n + 1 && events[n]!.seal) n++;
    if (n <= this.known(changeNumber).length) return;
    this.logs.set(changeNumber, events.slice(0, n), Infinity);
  }

  /** An event this process just recorded: kept when it continues the log known here. */
  recorded(event: StoredChangeEvent): void {
    if (!event.seal) return;
    const log = this.known(event.changeNumber);
    if (log.length === event.seq - 1) this.logs.set(event.changeNumber, [...log, event], Infinity);
  }
}
