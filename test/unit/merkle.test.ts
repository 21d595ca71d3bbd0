import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  inclusionProof,
  inclusionProofFrom,
  leafHash,
  MerkleFrontier,
  rootOf,
  verifyInclusion,
} from '../../src/domain/merkle.js';

/** The leaves of Certificate Transparency's RFC 6962 test vectors, and the root of each prefix. */
const CT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(`leaf ${i}`));

describe('Merkle tree (RFC 6962)', () => {
  it('matches the RFC 6962 reference roots', () => {
    const hashed = CT_LEAVES.map((hex) => leafHash(Buffer.from(hex, 'hex')));
    expect(rootOf([])).toBe(EMPTY_ROOT);
    expect(EMPTY_ROOT).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    for (let n = 1; n <= hashed.length; n++)
      expect(rootOf(hashed.slice(0, n)), `size ${n}`).toBe(CT_ROOTS[n - 1]);
  });

  it('the frontier gives the same root as the definition at every size, and resumes from JSON', () => {
    const all = leaves(70);
    let frontier = new MerkleFrontier();
    for (let n = 1; n <= all.length; n++) {
      frontier.push(all[n - 1]!);
      expect(frontier.root(), `size ${n}`).toBe(rootOf(all.slice(0, n)));
      if (n % 9 === 0) frontier = MerkleFrontier.from(JSON.parse(JSON.stringify(frontier.toJSON())));
    }
    expect(frontier.size).toBe(70);
  });

  it('proves every leaf of trees of every size up to 33, and refuses a wrong leaf, index, path or tree', () => {
    for (let n = 1; n <= 33; n++) {
      const all = leaves(n);
      const root = rootOf(all);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(all, i);
        expect(verifyInclusion(all[i]!, i, n, proof, root), `${i} of ${n}`).toBe(true);
        expect(verifyInclusion(leafHash('forged'), i, n, proof, root)).toBe(false);
        if (n > 1) {
          expect(verifyInclusion(all[i]!, (i + 1) % n, n, proof, root)).toBe(false);
          expect(verifyInclusion(all[i]!, i, n, [...proof.slice(0, -1), leafHash('x')], root)).toBe(false);
        }
        // Against the next tree's root (size and root are signed together in a checkpoint).
        const grown = rootOf([...all, leafHash('one more')]);
        expect(verifyInclusion(all[i]!, i, n + 1, proof, grown)).toBe(false);
      }
    }
  });
});

describe('proofs from stored perfect subtrees', () => {
  it('equal the proofs computed from every leaf, for every leaf of trees of 1 to 40 leaves', async () => {
    for (let n = 1; n <= 40; n++) {
      const all = leaves(n);
      // What a store would hold: the leaves, and every perfect subtree the frontier completed.
      const nodes = new Map<string, string>();
      const f = new MerkleFrontier();
      for (const l of all) f.push(l, (h, j, hash) => nodes.set(`${h}:${j}`, hash));
      const perfect = async (h: number, j: number) => {
        const hash = h === 0 ? all[j] : nodes.get(`${h}:${j}`);
        if (!hash) throw new Error(`no node ${h}:${j} in a tree of ${n}`);
        return hash;
      };
      expect(f.root()).toBe(rootOf(all));
      for (let i = 0; i < n; i++) {
        const proof = await inclusionProofFrom(i, n, perfect);
        expect(proof).toEqual(inclusionProof(all, i));
        expect(verifyInclusion(all[i]!, i, n, proof, rootOf(all))).toBe(true);
      }
    }
  });

  it('serve proofs against an earlier, smaller tree from the same nodes', async () => {
    const all = leaves(37);
    const nodes = new Map<string, string>();
    const f = new MerkleFrontier();
    for (const l of all) f.push(l, (h, j, hash) => nodes.set(`${h}:${j}`, hash));
    const perfect = async (h: number, j: number) => (h === 0 ? all[j]! : nodes.get(`${h}:${j}`)!);
    const proof = await inclusionProofFrom(5, 21, perfect);
    expect(verifyInclusion(all[5]!, 5, 21, proof, rootOf(all.slice(0, 21)))).toBe(true);
  });
});
