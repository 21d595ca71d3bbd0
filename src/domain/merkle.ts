import { createHash } from 'node:crypto';

/**
 * The Merkle tree of Certificate Transparency (RFC 6962 §2.1, RFC 9162 §2.1): leaves are hashed with
 * a 0x00 prefix and interior nodes with 0x01, so no leaf can pass for a node. A tree of any size
 * splits at the largest power of two below its size. Hashes are hex strings.
 */

export const EMPTY_ROOT = createHash('sha256').update(Buffer.alloc(0)).digest('hex');

export function leafHash(data: Buffer | string): string {
  return createHash('sha256')
    .update(Buffer.from([0]))
    .update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
    .digest('hex');
}

export function nodeHash(left: string, right: string): string {
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(Buffer.from(left, 'hex'))
    .update(Buffer.from(right, 'hex'))
    .digest('hex');
}

/** The largest power of two strictly below n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The root of the tree over `leaves` (leaf hashes), computed from the definition. */
export function rootOf(leaves: readonly string[]): string {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  const k = split(leaves.length);
  return nodeHash(rootOf(leaves.slice(0, k)), rootOf(leaves.slice(k)));
}

/**
 * The tree's right edge: the roots of its perfect subtrees, largest first (a compact range). Leaves
 * are added one at a time, so a root over millions of leaves takes memory for ~log2(n) hashes and
 * a checkpoint extends the previous one instead of rereading every leaf.
 */
export class MerkleFrontier {
  /** [height, hash] of each perfect subtree, left to right (heights strictly decreasing). */
  private readonly peaks: [number, string][];
  size: number;

  constructor(size = 0, peaks: [number, string][] = []) {
    this.size = size;
    this.peaks = peaks.map(([h, x]) => [h, x]);
  }

  /** Adds the next leaf; `onNode` hears of every perfect subtree it completes (height ≥ 1). */
  push(leaf: string, onNode?: (height: number, index: number, hash: string) => void): void {
    const at = this.size;
    let height = 0;
    let hash = leaf;
    while (this.peaks.length > 0 && this.peaks[this.peaks.length - 1]![0] === height) {
      const [, left] = this.peaks.pop()!;
      hash = nodeHash(left, hash);
      height++;
      onNode?.(height, Math.floor(at / 2 ** height), hash);
    }
    this.peaks.push([height, hash]);
    this.size++;
  }

  /** The root of the tree so far: the peaks hashed right to left (RFC 6962's split, unrolled). */
  root(): string {
    if (this.peaks.length === 0) return EMPTY_ROOT;
    let hash = this.peaks[this.peaks.length - 1]![1];
    for (let i = this.peaks.length - 2; i >= 0; i--) hash = nodeHash(this.peaks[i]![1], hash);
    return hash;
  }

  toJSON(): { size: number; peaks: [number, string][] } {
    return { size: this.size, peaks: this.peaks.map(([h, x]) => [h, x]) };
  }

  static from(json: { size: number; peaks: [number, string][] }): MerkleFrontier {
    return new MerkleFrontier(json.size, json.peaks);
  }
}

/**
 * The root of a perfect subtree: the `index`-th run of 2^height leaves (height 0: a leaf hash).
 * Stored trees serve these from storage; proofs are assembled from them.
 */
export type PerfectRoot = (height: number, index: number) => Promise<string>;

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** MTH(D[offset : offset+length]) from perfect subtrees (RFC 6962's split, aligned by construction). */
export async function rangeRoot(offset: number, length: number, perfect: PerfectRoot): Promise<string> {
  if (isPowerOfTwo(length)) {
    const height = Math.log2(length);
    return perfect(height, offset / length);
  }
  const k = split(length);
  return nodeHash(await rangeRoot(offset, k, perfect), await rangeRoot(offset + k, length - k, perfect));
}

/**
 * The audit path of leaf `index` in the tree of `size` leaves, bottom up (RFC 6962 §2.1.1), read
 * from stored perfect subtrees: O(log² size) lookups instead of every leaf.
 */
export async function inclusionProofFrom(
  index: number,
  size: number,
  perfect: PerfectRoot,
): Promise<string[]> {
  if (index < 0 || index >= size) throw new RangeError(`no leaf ${index} in a tree of ${size}`);
  const siblings: [number, number][] = [];
  let offset = 0;
  let n = size;
  while (n > 1) {
    const k = split(n);
    if (index - offset < k) {
      siblings.push([offset + k, n - k]);
      n = k;
    } else {
      siblings.push([offset, k]);
      offset += k;
      n -= k;
    }
  }
  const path: string[] = [];
  for (const [o, len] of siblings.reverse()) path.push(await rangeRoot(o, len, perfect));
  return path;
}

/** The audit path of leaf `index` in the tree over `leaves` (RFC 6962 §2.1.1), bottom up. */
export function inclusionProof(leaves: readonly string[], index: number): string[] {
  if (index < 0 || index >= leaves.length)
    throw new RangeError(`no leaf ${index} in a tree of ${leaves.length}`);
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return index < k
    ? [...inclusionProof(leaves.slice(0, k), index), rootOf(leaves.slice(k))]
    : [...inclusionProof(leaves.slice(k), index - k), rootOf(leaves.slice(0, k))];
}

/**
 * Whether `proof` shows the leaf at `index` is in the tree of `size` leaves with root `root`
 * (RFC 9162 §2.1.3.2).
 */
export function verifyInclusion(
  leaf: string,
  index: number,
  size: number,
  proof: readonly string[],
  root: string,
): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let hash = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      hash = nodeHash(p, hash);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      hash = nodeHash(hash, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && hash === root;
}
