import { createHash, createPublicKey, type KeyObject, verify as verifySignature } from 'node:crypto';
import { canonicalJson } from './audit.js';
import { leafHash } from './merkle.js';

/**
 * The installation's audit ledger (after Certificate Transparency, RFC 6962/9162, and Sigstore
 * Rekor): every event of every change has an entry at a global, gap-free index, signed with a key
 * that never enters the database; a Merkle tree over the entries is committed to by signed
 * checkpoints, each chained to the one before and witnessed outside the database (the audit
 * channel in Slack). Without the key, no edit of the database produces a history that verifies.
 */

/** What an entry commits to: an event (its change, place, chain hash and content) at an index. */
export interface LedgerLeaf {
  index: number;
  changeNumber: number;
  seq: number;
  /** The event's hash in its change's chain (covers its content and everything before it). */
  eventHash: string;
  /** The digest of the event's content alone (domain/audit.ts eventContentHash). */
  contentHash: string;
}

export interface LedgerEntry extends LedgerLeaf {
  /** The key that signed it (see keyIdOf). */
  keyId: string;
  /** Ed25519 signature over entryBytes, base64. */
  sig: string;
}

/** An entry as read back: `position` is where it was found (its stored key), `index` what it says. */
export interface StoredLedgerEntry extends LedgerEntry {
  position: number;
}

/**
 * A filler closes an index no event took (a batch lost half-written): signed by the app like any
 * entry, so a hole the app did not close is still a finding.
 */
export const FILLER_HASH = 'filler';
export const isFiller = (e: LedgerLeaf): boolean => e.eventHash === FILLER_HASH;
export const fillerLeaf = (index: number): LedgerLeaf => ({
  index,
  changeNumber: 0,
  seq: index,
  eventHash: FILLER_HASH,
  contentHash: FILLER_HASH,
});

/** The bytes an entry's signature and its Merkle leaf are computed over. */
export function entryBytes(e: LedgerLeaf): string {
  return canonicalJson({
    v: 1,
    kind: 'changegate.ledger.entry',
    index: e.index,
    changeNumber: e.changeNumber,
    seq: e.seq,
    eventHash: e.eventHash,
    contentHash: e.contentHash,
  });
}

export const entryLeaf = (e: LedgerLeaf): string => leafHash(entryBytes(e));

// ---- checkpoints --------------------------------------------------------------------------------

/** A checkpoint: the ledger's size and root at a time, chained to the checkpoint before it. */
export interface CheckpointBody {
  /** `key_rotation` hands the ledger over from `previousKeyId` to `keyId` (signed by both). */
  kind: 'checkpoint' | 'key_rotation';
  /** 1, 2, 3…: its place in the chain of checkpoints. */
  number: number;
  treeSize: number;
  rootHash: string;
  /** ISO 8601. */
  time: string;
  /** checkpointHash of the checkpoint before; null for the first. */
  previous: string | null;
  keyId: string;
  previousKeyId?: string;
  /** For key_rotation: the outgoing public key (PEM), trusted from here back. */
  previousPublicKey?: string;
  /**
   * The heads of the sealed logs outside changes (policy_history, delegations): their last record's
   * number and hash, so that a record removed from the end of a log is found like a truncated ledger.
   */
  logs?: Record<string, LogHead>;
}

export interface LogHead {
  number: number;
  hash: string;
}

export interface SignedCheckpoint {
  body: CheckpointBody;
  /** Ed25519 signature over checkpointBytes(body) by `body.keyId`, base64. */
  sig: string;
  /** For key_rotation: the outgoing key's signature over the same bytes. */
  rotationSig?: string | null;
}

export function checkpointBytes(body: CheckpointBody): string {
  return canonicalJson({ v: 1, type: 'changegate.ledger.checkpoint', ...body });
}

/** What the next checkpoint chains to: the body and its signature. */
export function checkpointHash(c: SignedCheckpoint): string {
  return createHash('sha256').update(checkpointBytes(c.body)).update('\n').update(c.sig).digest('hex');
}

/** A checkpoint as one line of text (the form posted to Slack and put in exports). */
export const checkpointText = (c: SignedCheckpoint): string => JSON.stringify(c);

// ---- keys ---------------------------------------------------------------------------------------

/** A key's id: the first 16 hex digits of the SHA-256 of its public key (SPKI DER). */
export function keyIdOf(publicKey: string | KeyObject): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const der = key.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/**
 * The public keys a verifier trusts: the one it was given, and those a trusted key took over from
 * in a key rotation the outgoing key signed too.
 */
export class KeyRing {
  private readonly keys = new Map<string, { pem: string; key: KeyObject }>();

  constructor(publicKeys: readonly string[] = []) {
    for (const pem of publicKeys) this.add(pem);
  }

  /** Adds a PEM public key; returns its id (throws on text that is not an Ed25519 public key). */
  add(pem: string): string {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 public key');
    const id = keyIdOf(key);
    this.keys.set(id, { pem: key.export({ type: 'spki', format: 'pem' }).toString(), key });
    return id;
  }

  has(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  ids(): string[] {
    return [...this.keys.keys()];
  }

  publicKey(keyId: string): string | null {
    return this.keys.get(keyId)?.pem ?? null;
  }

  /** Whether `sig` is trusted key `keyId`'s signature of `bytes` (never throws). */
  verify(keyId: string, bytes: string, sig: string): boolean {
    const k = this.keys.get(keyId);
    if (!k || typeof sig !== 'string') return false;
    try {
      return verifySignature(null, Buffer.from(bytes, 'utf8'), k.key, Buffer.from(sig, 'base64'));
    } catch {
      return false;
    }
  }

  /** Trusts the outgoing keys of every rotation signed by a trusted key and by the outgoing key. */
  acceptRotations(checkpoints: Iterable<SignedCheckpoint>): void {
    const rotations = [...checkpoints].filter((c) => c.body.kind === 'key_rotation');
    for (let changed = true; changed; ) {
      changed = false;
      for (const c of rotations) {
        const { previousKeyId, previousPublicKey } = c.body;
        if (!previousKeyId || !previousPublicKey || this.has(previousKeyId)) continue;
        if (!this.verify(c.body.keyId, checkpointBytes(c.body), c.sig)) continue;
        const outgoing = new KeyRing();
        try {
          if (outgoing.add(previousPublicKey) !== previousKeyId) continue;
        } catch {
          continue;
        }
        if (!outgoing.verify(previousKeyId, checkpointBytes(c.body), c.rotationSig ?? '')) continue;
        this.add(previousPublicKey);
        changed = true;
      }
    }
  }
}

// ---- findings -----------------------------------------------------------------------------------

/**
 * What verification can find. Each finding names the change and the event (or ledger index).
 * - edited: an event's content or chain, or an entry, differs from what the key signed;
 * - inserted: an event or entry the key never signed (forged, or written behind the app's back);
 * - deleted: a signed entry whose event is gone, or a hole in a change's events or in the ledger;
 * - reordered: an event or entry found at another place than the one it was signed for;
 * - truncated: the ledger is shorter than a signed checkpoint says it was;
 * - change_removed: a change with no record and no events (a whole change deleted);
 * - projection_mismatch: a change's stored record is not the fold of its events;
 * - checkpoint_invalid: a checkpoint whose signature, chain or root does not hold;
 * - checkpoint_missing_in_database / checkpoint_missing_in_slack: the witness and the database differ.
 */
export const FINDING_KINDS = [
  'edited',
  'inserted',
  'deleted',
  'reordered',
  'truncated',
  'change_removed',
  'projection_mismatch',
  'checkpoint_invalid',
  'checkpoint_missing_in_database',
  'checkpoint_missing_in_slack',
  'rollup_mismatch',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface Finding {
  kind: FindingKind;
  /** The change concerned, when known. */
  change: number | null;
  /** The event's seq in its change, when known. */
  seq: number | null;
  /** The ledger index, when the finding is about an entry. */
  index: number | null;
  /** The checkpoint's number, when the finding is about a checkpoint. */
  checkpoint: number | null;
  detail: string;
}

export function finding(
  kind: FindingKind,
  detail: string,
  at: Partial<Omit<Finding, 'kind' | 'detail'>> = {},
): Finding {
  return {
    kind,
    change: at.change ?? null,
    seq: at.seq ?? null,
    index: at.index ?? null,
    checkpoint: at.checkpoint ?? null,
    detail,
  };
}
