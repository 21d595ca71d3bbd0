import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type CheckpointBody,
  checkpointBytes,
  checkpointHash,
  entryBytes,
  entryLeaf,
  KeyRing,
  type LedgerLeaf,
  type SignedCheckpoint,
  type StoredLedgerEntry,
} from '../../src/domain/ledger.js';
import { checkCheckpoints, LedgerScan, NumberTrail } from '../../src/domain/ledger-verify.js';
import { MerkleFrontier } from '../../src/domain/merkle.js';
import { signerOf } from '../../src/infra/audit-key.js';

const key = signerOf(generateKeyPairSync('ed25519').privateKey);
const other = signerOf(generateKeyPairSync('ed25519').privateKey);
const ring = new KeyRing([key.publicKey]);

function entries(n: number, signer = key): StoredLedgerEntry[] {
  return Array.from({ length: n }, (_, i) => {
    const leaf: LedgerLeaf = {
      index: i,
      changeNumber: 1 + Math.floor(i / 3),
      seq: 1 + (i % 3),
      eventHash: `e${i}`,
      contentHash: `c${i}`,
    };
    return { ...leaf, position: i, keyId: signer.keyId, sig: signer.sign(entryBytes(leaf)) };
  });
}

function checkpoints(all: StoredLedgerEntry[], sizes: number[], signer = key): SignedCheckpoint[] {
  const out: SignedCheckpoint[] = [];
  for (const [i, size] of sizes.entries()) {
    const f = new MerkleFrontier();
    for (const e of all.slice(0, size)) f.push(entryLeaf(e));
    const body: CheckpointBody = {
      kind: 'checkpoint',
      number: i + 1,
      treeSize: size,
      rootHash: f.root(),
      time: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
      previous: out.at(-1) ? checkpointHash(out.at(-1)!) : null,
      keyId: signer.keyId,
    };
    out.push({ body, sig: signer.sign(checkpointBytes(body)) });
  }
  return out;
}

function scan(all: StoredLedgerEntry[], cps: SignedCheckpoint[], allSignatures = false) {
  const s = new LedgerScan(ring, cps, allSignatures);
  for (const e of all) s.add(e);
  s.finish();
  return s;
}

const kinds = (fs: { kind: string }[]) => fs.map((f) => f.kind);

describe('the checkpoint chain', () => {
  const all = entries(10);
  it('holds when each is signed and names the one before', () => {
    const cps = checkpoints(all, [4, 7, 10]);
    expect(checkCheckpoints(ring, cps)).toEqual({ valid: cps, findings: [] });
  });

  it('reports a missing, an unsigned, a re-chained and a shrinking checkpoint', () => {
    const cps = checkpoints(all, [4, 7, 10]);
    expect(kinds(checkCheckpoints(ring, [cps[0]!, cps[2]!]).findings)).toEqual([
      'checkpoint_missing_in_database',
    ]);
    const forged = { ...cps[1]!, body: { ...cps[1]!.body, treeSize: 9 } };
    expect(kinds(checkCheckpoints(ring, [cps[0]!, forged, cps[2]!]).findings)).toEqual([
      'checkpoint_invalid', // its signature
      'checkpoint_invalid', // #3 no longer chains to it
    ]);
    const stranger = checkpoints(all, [4], other);
    expect(checkCheckpoints(ring, stranger).findings[0]!.detail).toContain('not trusted');
    const shrinking = checkpoints(all, [7, 4]);
    expect(checkCheckpoints(ring, shrinking).findings[0]!.detail).toContain('fewer than #1');
  });

  it('trusts an earlier key only through a rotation both keys signed', () => {
    const body: CheckpointBody = {
      kind: 'key_rotation',
      number: 2,
      treeSize: 0,
      rootHash: '',
      time: '2026-01-02T00:00:00.000Z',
      previous: null,
      keyId: key.keyId,
      previousKeyId: other.keyId,
      previousPublicKey: other.publicKey,
    };
    const bytes = checkpointBytes(body);
    const onlyNew = new KeyRing([key.publicKey]);
    onlyNew.acceptRotations([{ body, sig: key.sign(bytes), rotationSig: key.sign(bytes) }]);
    expect(onlyNew.has(other.keyId)).toBe(false);
    onlyNew.acceptRotations([{ body, sig: key.sign(bytes), rotationSig: other.sign(bytes) }]);
    expect(onlyNew.has(other.keyId)).toBe(true);
  });
});

describe('one pass over the ledger', () => {
  const all = entries(10);
  const cps = checkpoints(all, [4, 8]);

  it('an untouched ledger: no finding, each checkpoint root recomputed', () => {
    const s = scan(all, cps);
    expect(s.findings).toEqual([]);
    expect(s.rootMismatch).toBe(false);
    expect(s.size).toBe(10);
  });

  it('a hole is deleted; a shorter ledger than a checkpoint is truncated', () => {
    expect(kinds(scan([...all.slice(0, 5), ...all.slice(6)], cps).findings)).toEqual(['deleted']);
    expect(kinds(scan(all.slice(0, 6), cps).findings)).toEqual(['truncated']);
  });

  it('an entry edited after the last checkpoint fails its signature; before it, the root', () => {
    const late = all.map((e) => (e.position === 9 ? { ...e, eventHash: 'forged' } : e));
    expect(scan(late, cps).findings).toMatchObject([{ kind: 'edited', index: 9, change: 4, seq: 1 }]);
    const early = all.map((e) => (e.position === 2 ? { ...e, eventHash: 'forged' } : e));
    const byRoot = scan(early, cps);
    expect(byRoot.rootMismatch).toBe(true);
    expect(kinds(byRoot.findings)).toEqual(['checkpoint_invalid', 'checkpoint_invalid']);
    // The second pass, every signature checked, names the entry.
    expect(scan(early, cps, true).findings[0]).toMatchObject({ kind: 'edited', index: 2 });
  });

  it('an entry found at another place than it was signed for is reordered; a stranger key inserted', () => {
    const moved = all.map((e) => (e.position === 9 ? { ...e, index: 7 } : e));
    expect(scan(moved, cps).findings).toMatchObject([{ kind: 'reordered', index: 9 }]);
    const strangers = entries(10, other);
    const mixed = all.map((e) => (e.position === 9 ? strangers[9]! : e));
    expect(scan(mixed, cps).findings).toMatchObject([{ kind: 'inserted', index: 9 }]);
  });
});

describe('change numbers', () => {
  it('a number nobody holds was removed', () => {
    const t = new NumberTrail();
    for (const n of [1, 2, 4, 5, 5, 8]) t.see(n);
    expect(t.findings.map((f) => f.change)).toEqual([3, 6, 7]);
  });
});
