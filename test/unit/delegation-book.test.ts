import { describe, expect, it } from 'vitest';
import { DelegationBook } from '../../src/application/delegations.js';
import type { DelegationStore } from '../../src/application/ports.js';
import { appendDelegationRecord, type DelegationRecord } from '../../src/domain/delegation.js';
import { BOB, CAROL } from '../support/people.js';

/** The delegation log in memory; `held` keeps each read waiting until released. */
class MemoryLog implements DelegationStore {
  records: DelegationRecord[] = [];
  held: (() => void)[] | null = null;

  async append(r: DelegationRecord): Promise<boolean> {
    if (this.records.some((x) => x.number === r.number)) return false;
    this.records.push(r);
    return true;
  }

  async after(number: number): Promise<DelegationRecord[]> {
    const found = this.records.filter((r) => r.number > number);
    const held = this.held;
    if (held) await new Promise<void>((resolve) => held.push(resolve));
    return found;
  }

  add(id: string) {
    const body = {
      kind: 'delegation_set' as const,
      delegation: { id, from: BOB, to: CAROL, start: new Date(0), until: new Date(8.64e15) },
      by: BOB,
      at: new Date(0),
    };
    this.records.push(
      appendDelegationRecord(this.records.at(-1) ?? null, body, () => ({ keyId: 'k', sig: 's' })),
    );
  }
}

describe('DelegationBook', () => {
  it('keeps each record once when reads overlap', async () => {
    const store = new MemoryLog();
    const book = new DelegationBook(store, null);
    store.add('d1');
    store.held = [];
    const reads = [book.to(CAROL), book.to(CAROL), book.log()];
    await new Promise((r) => setTimeout(r, 0));
    expect(store.held).toHaveLength(3);
    for (const release of store.held) release();
    store.held = null;
    await Promise.all(reads);
    expect((await book.log()).map((r) => r.number)).toEqual([1]);
    // A record added later still arrives, after the one held.
    store.add('d2');
    expect((await book.log()).map((r) => r.delegation.id)).toEqual(['d1', 'd2']);
    expect((await book.all()).map((d) => d.id)).toEqual(['d1', 'd2']);
  });
});
