import { describe, expect, it } from 'vitest';
import { insertOnce } from '../../src/infra/db/connection.js';

/** A model whose inserts answer, in turn, with the given outcomes (an Error is thrown). */
function model(outcomes: (Error | 'ok')[]) {
  const calls: object[] = [];
  return {
    calls,
    async create(doc: object) {
      calls.push(doc);
      const next = outcomes.shift() ?? 'ok';
      if (next !== 'ok') throw next;
      return doc;
    },
  };
}

const duplicate = () => Object.assign(new Error('E11000 duplicate key error'), { code: 11000 });
// FerretDB's SQLite backend answers a write that met another writer's transaction this way.
const locked = () => new Error('database is locked (5) (SQLITE_BUSY)');

describe('insertOnce (every claim: deliveries, idempotency keys, announcements)', () => {
  it('takes the key when the insert goes in, after a write that met another writer is tried again', async () => {
    const m = model([locked(), locked(), 'ok']);
    expect(await insertOnce(m, { _id: 'k' })).toBe(true);
    expect(m.calls).toHaveLength(3);
  });

  it('does not take a key that is there already, and fails on any other error', async () => {
    expect(await insertOnce(model([duplicate()]), { _id: 'k' })).toBe(false);
    expect(await insertOnce(model([locked(), duplicate()]), { _id: 'k' })).toBe(false);
    await expect(insertOnce(model([new Error('not authorized')]), { _id: 'k' })).rejects.toThrow(
      'not authorized',
    );
  });
});
