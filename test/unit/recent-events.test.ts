import { describe, expect, it } from 'vitest';
import type { StoredChangeEvent } from '../../src/domain/lifecycle.js';
import { fieldsRead, WORK_FIELDS } from '../../src/infra/db/change-todo.js';
import { RecentEvents } from '../../src/infra/db/recent-events.js';

const event = (changeNumber: number, seq: number, sealed = true) =>
  ({
    changeNumber,
    seq,
    type: 'approved',
    hash: `h${changeNumber}:${seq}`,
    ...(sealed ? { seal: { keyId: 'k', sig: 's' } } : {}),
  }) as unknown as StoredChangeEvent;

const seqs = (events: readonly StoredChangeEvent[]) => events.map((e) => e.seq);

describe('RecentEvents', () => {
  it('keeps the sealed start of a log read, and events recorded after it', () => {
    const recent = new RecentEvents(10);
    expect(recent.known(1)).toEqual([]);
    recent.read(1, [event(1, 1), event(1, 2)]);
    recent.recorded(event(1, 3));
    expect(seqs(recent.known(1))).toEqual([1, 2, 3]);
    // An event that does not continue the log known here is not kept (the log would have a gap).
    recent.recorded(event(1, 5));
    expect(seqs(recent.known(1))).toEqual([1, 2, 3]);
    // A first event starts a log.
    recent.recorded(event(2, 1));
    expect(seqs(recent.known(2))).toEqual([1]);
  });

  it('keeps nothing from the first unsealed event on, and never a log that does not start at 1', () => {
    const recent = new RecentEvents(10);
    recent.read(1, [event(1, 1), event(1, 2, false), event(1, 3)]);
    expect(seqs(recent.known(1))).toEqual([1]);
    recent.recorded(event(1, 2, false));
    expect(seqs(recent.known(1))).toEqual([1]);
    recent.read(2, [event(2, 2), event(2, 3)]);
    expect(recent.known(2)).toEqual([]);
  });

  it('never shortens a log it holds', () => {
    const recent = new RecentEvents(10);
    recent.read(1, [event(1, 1), event(1, 2), event(1, 3)]);
    recent.read(1, [event(1, 1)]);
    expect(seqs(recent.known(1))).toEqual([1, 2, 3]);
  });

  it('drops the least recently used change beyond its size', () => {
    const recent = new RecentEvents(2);
    recent.read(1, [event(1, 1)]);
    recent.read(2, [event(2, 1)]);
    recent.known(1); // used: 2 is now the oldest
    recent.recorded(event(3, 1));
    expect(seqs(recent.known(1))).toEqual([1]);
    expect(recent.known(2)).toEqual([]);
    expect(seqs(recent.known(3))).toEqual([1]);
  });
});

describe('fieldsRead', () => {
  it('lists every field a query reads, within $or and $and', () => {
    expect(fieldsRead({ a: 1, $or: [{ b: 2 }, { $and: [{ c: { $gt: 1 } }, { d: null }] }] })).toEqual({
      a: 1,
      b: 1,
      c: 1,
      d: 1,
    });
    expect(Object.keys(WORK_FIELDS).sort()).toEqual(
      [
        'emergency',
        'pirDueAt',
        'retroDueAt',
        'retroReview',
        'retroSubmittedAt',
        'seq',
        'status',
        'unannounced',
      ].sort(),
    );
  });
});
