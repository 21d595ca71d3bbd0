import type { StoredChangeEvent } from '../../domain/lifecycle.js';

/**
 * The start of the event logs this process read or recorded lately, by change, for readers that
 * only need what a log held (the change log's rollups fold each event shortly after it is recorded):
 * an event never changes once recorded, so those readers need not read it again. Only sealed events
 * are kept (a legacy event is sealed later by the ledger's migration). Reads that check a log against
 * tampering (a decision, the deployment gate, the evidence export) read the database itself.
 * At most `max` changes are kept, the least recently used dropped first.
 */
export class RecentEvents {
  private readonly logs = new Map<number, StoredChangeEvent[]>();

  constructor(private readonly max: number) {}

  /** Events 1..n of the change's log as known here (n may be 0). */
  known(changeNumber: number): readonly StoredChangeEvent[] {
    const log = this.logs.get(changeNumber);
    if (!log) return [];
    this.logs.delete(changeNumber);
    this.logs.set(changeNumber, log);
    return log;
  }

  /** Remembers a log as read from the database, from its first event. */
  read(changeNumber: number, events: readonly StoredChangeEvent[]): void {
    let n = 0;
    while (n < events.length && events[n]!.seq === n + 1 && events[n]!.seal) n++;
    if (n <= (this.logs.get(changeNumber)?.length ?? 0)) return;
    this.keep(changeNumber, events.slice(0, n));
  }

  /** An event this process just recorded: kept when it continues the log known here. */
  recorded(event: StoredChangeEvent): void {
    if (!event.seal) return;
    const log = this.logs.get(event.changeNumber) ?? [];
    if (log.length === event.seq - 1) this.keep(event.changeNumber, [...log, event]);
  }

  private keep(changeNumber: number, log: StoredChangeEvent[]): void {
    this.logs.delete(changeNumber);
    this.logs.set(changeNumber, log);
    while (this.logs.size > this.max) this.logs.delete(this.logs.keys().next().value!);
  }
}
