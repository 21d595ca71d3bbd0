import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  GENESIS_HASH,
  hashEvent,
  type StoredEvent,
  verifyChain,
} from '../../src/domain/audit.js';

function chain(n: number): StoredEvent[] {
  const out: StoredEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const e = {
      changeNumber: 7,
      seq,
      slot: `e:${seq}`,
      type: 'x',
      actor: 'U1',
      at: new Date(1_700_000_000_000 + seq),
      policyHash: 'p',
      data: { n: seq, nested: { b: 1, a: [1, 'two'] } },
    };
    const hash = hashEvent(prev, e);
    out.push({ ...e, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

describe('audit hash chain', () => {
  it('serialises canonically: key order and dates do not change the hash', () => {
    expect(canonicalJson({ b: 1, a: { d: new Date(0), c: [2, 1] } })).toBe(
      '{"a":{"c":[2,1],"d":"1970-01-01T00:00:00.000Z"},"b":1}',
    );
    expect(canonicalJson({ a: 1, skip: undefined })).toBe('{"a":1}');
  });

  it('verifies an intact chain in any order', () => {
    const events = chain(5);
    expect(verifyChain(events)).toBeNull();
    expect(verifyChain([...events].reverse(), { seq: 5, hash: events[4]!.hash })).toBeNull();
  });

  it('finds an edited event, a removed event, a reordered event and a truncated tail', () => {
    const edited = chain(5);
    edited[2] = { ...edited[2]!, data: { n: 99 } };
    expect(verifyChain(edited)).toEqual({ seq: 3, problem: 'hash_mismatch' });

    const removed = chain(5).filter((e) => e.seq !== 3);
    expect(verifyChain(removed)).toMatchObject({ seq: 4, problem: 'sequence_gap' });

    const relinked = chain(5);
    relinked[3] = { ...relinked[3]!, prevHash: relinked[1]!.hash };
    expect(verifyChain(relinked)).toEqual({ seq: 4, problem: 'prev_hash_mismatch' });

    const full = chain(5);
    expect(verifyChain(full.slice(0, 4), { seq: 5, hash: full[4]!.hash })).toMatchObject({
      problem: 'head_mismatch',
    });
  });
});
