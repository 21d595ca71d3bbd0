import { createHash } from 'node:crypto';

/**
 * Tamper-evident history: every event's hash covers its content and the previous event's hash,
 * so editing, removing or reordering any stored event breaks the chain from that point on.
 */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level, dates as ISO strings: a stable input for hashing. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  return JSON.stringify(value);
}

export interface HashableEvent {
  changeNumber: number;
  seq: number;
  slot: string;
  type: string;
  actor: string;
  at: Date;
  policyHash: string;
  data: unknown;
}

export function hashEvent(prevHash: string, e: HashableEvent): string {
  const body = canonicalJson({
    changeNumber: e.changeNumber,
    seq: e.seq,
    slot: e.slot,
    type: e.type,
    actor: e.actor,
    at: e.at,
    policyHash: e.policyHash,
    data: e.data,
  });
  return createHash('sha256').update(`${prevHash}\n${body}`).digest('hex');
}

/**
 * The digest of what an event says, without its place (change, seq, chain): the ledger keeps it,
 * so an event moved to another place is recognised as moved, not as new.
 */
export function eventContentHash(e: HashableEvent): string {
  return sha256Hex(
    canonicalJson({
      slot: e.slot,
      type: e.type,
      actor: e.actor,
      at: e.at,
      policyHash: e.policyHash,
      data: e.data,
    }),
  );
}

/** The app's Ed25519 signature of an event (see eventSealBytes), made with the audit key. */
export interface EventSeal {
  keyId: string;
  sig: string;
}

/** What an event's seal signs: the event's place and its chain hash (which covers its content). */
export function eventSealBytes(e: { changeNumber: number; seq: number; hash: string }): string {
  return canonicalJson({
    v: 1,
    kind: 'changegate.event',
    changeNumber: e.changeNumber,
    seq: e.seq,
    hash: e.hash,
  });
}

export interface StoredEvent extends HashableEvent {
  prevHash: string;
  hash: string;
  /** Absent on events written before the ledger (the migration seals them). */
  seal?: EventSeal | null;
}

export type ChainBreak =
  | { seq: number; problem: 'sequence_gap'; expected: number }
  | { seq: number; problem: 'prev_hash_mismatch' }
  | { seq: number; problem: 'hash_mismatch' }
  | { seq: number; problem: 'head_mismatch'; expectedSeq: number; expectedHash: string };

/**
 * Verifies one change's events (any order). `head` is the last seq and hash the change record
 * says it has, which catches events removed from the end. Returns the first broken link.
 */
export function verifyChain(
  events: readonly StoredEvent[],
  head?: { seq: number; hash: string },
): ChainBreak | null {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const e of sorted) {
    if (e.seq !== expectedSeq) return { seq: e.seq, problem: 'sequence_gap', expected: expectedSeq };
    if (e.prevHash !== prev) return { seq: e.seq, problem: 'prev_hash_mismatch' };
    if (hashEvent(prev, e) !== e.hash) return { seq: e.seq, problem: 'hash_mismatch' };
    prev = e.hash;
    expectedSeq++;
  }
  if (head && head.seq > 0) {
    // The change record may lag behind its log (it is written after the event), never run ahead of it.
    const atHead = sorted.find((e) => e.seq === head.seq);
    if (!atHead || atHead.hash !== head.hash) {
      return { seq: head.seq, problem: 'head_mismatch', expectedSeq: head.seq, expectedHash: head.hash };
    }
  }
  return null;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
