import { canonicalJson, eventContentHash, sha256Hex, verifyChain } from './audit.js';
import { formatChangeId } from './change.js';
import { type EvidenceRow, evidenceRow } from './change-log.js';
import {
  checkpointBytes,
  entryBytes,
  entryLeaf,
  KeyRing,
  type LedgerLeaf,
  type SignedCheckpoint,
} from './ledger.js';
import { sealValid } from './ledger-verify.js';
import { foldEvents, type StoredChangeEvent } from './lifecycle.js';
import { verifyInclusion } from './merkle.js';

/**
 * The evidence export as a self-checking bundle: each change's row, the events it was folded from,
 * each event's signed ledger entry with its inclusion proof against a signed checkpoint, and a
 * signature over the whole file. `verifyBundle` checks one with nothing but a trusted public key.
 */

export const BUNDLE_FORMAT = 'changegate-evidence/2';

export interface LedgerProof {
  seq: number;
  index: number;
  keyId: string;
  sig: string;
  /** The audit path against `checkpoint` (null: the entry is newer than the checkpoint). */
  proof: string[] | null;
}

export interface ChangeAudit {
  events: StoredChangeEvent[];
  ledger: LedgerProof[];
}

export type BundleChange = EvidenceRow & { audit: ChangeAudit };

export interface BundleHeader {
  format: typeof BUNDLE_FORMAT;
  generatedAt: string;
  period: string;
  /** The checkpoint the proofs are against. */
  checkpoint: SignedCheckpoint | null;
  /** The app's public keys (informative: a verifier trusts the key it was given, not these). */
  publicKeys: string[];
  /** Key rotations, so that entries signed by earlier keys can be traced to the trusted one. */
  rotations: SignedCheckpoint[];
}

/** The trailer's property: everything before it is what the signature covers. */
export const SIGNATURE_MARK = '\n"signature":';

export interface BundleSignature {
  keyId: string;
  sha256: string;
  sig: string;
}

export const bundleSignatureBytes = (sha256: string) =>
  canonicalJson({ v: 1, kind: 'changegate.evidence', sha256 });

export interface BundleCheck {
  changes: number;
  events: number;
  /** Events proven included in the signed checkpoint. */
  proven: number;
  problems: string[];
  /** Facts that weaken but do not fail the check. */
  notes: string[];
}

const revive = (e: StoredChangeEvent): StoredChangeEvent => ({ ...e, at: new Date(e.at) });

/**
 * Verifies an exported bundle offline: the file's signature, the checkpoint's, then per change its
 * hash chain, each event's signed entry and inclusion proof, and its row against the fold of its
 * events. `trusted` are PEM public keys obtained out of band (`/api/v1/audit/public-key`).
 */
export function verifyBundle(text: string, trusted: readonly string[]): BundleCheck {
  const out: BundleCheck = { changes: 0, events: 0, proven: 0, problems: [], notes: [] };
  const problem = (p: string) => {
    if (out.problems.length < 200) out.problems.push(p);
  };
  let bundle: BundleHeader & { changes: BundleChange[]; signature?: BundleSignature };
  try {
    bundle = JSON.parse(text);
  } catch (err) {
    problem(`the file is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    return out;
  }
  if (
    !bundle ||
    typeof bundle !== 'object' ||
    bundle.format !== BUNDLE_FORMAT ||
    !Array.isArray(bundle.changes)
  ) {
    problem(`the file is not a Changegate evidence export (${BUNDLE_FORMAT})`);
    return out;
  }
  const ring = new KeyRing(trusted);
  try {
    ring.acceptRotations(Array.isArray(bundle.rotations) ? bundle.rotations : []);
  } catch {
    problem('the key rotations in the file are malformed');
  }

  const mark = text.lastIndexOf(SIGNATURE_MARK);
  const sig = bundle.signature;
  if (mark < 0 || !sig) problem('the file carries no signature');
  else {
    const digest = sha256Hex(text.slice(0, mark + 1));
    if (digest !== sig.sha256) problem('the file was changed after Changegate signed it');
    else if (!ring.verify(sig.keyId, bundleSignatureBytes(sig.sha256), sig.sig))
      problem(`the file's signature is not by a trusted key (key ${String(sig.keyId)})`);
  }

  const cp = bundle.checkpoint;
  const cpValid = !!cp && ring.verify(cp.body?.keyId, checkpointBytes(cp.body), cp.sig);
  if (!cp) out.notes.push('the file carries no checkpoint: no event is proven to be in the ledger');
  else if (!cpValid) problem(`checkpoint #${cp.body?.number} is not signed by a trusted key`);

  const generatedAt = new Date(bundle.generatedAt);
  for (const change of bundle.changes) {
    out.changes++;
    try {
      checkChangeOffline(change);
    } catch (err) {
      problem(`${String(change?.change)}: malformed (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  return out;

  function checkChangeOffline(change: BundleChange): void {
    const events = change.audit.events.map(revive).sort((a, b) => a.seq - b.seq);
    out.events += events.length;
    const id = change.change;
    if (events.length === 0) {
      problem(`${id}: no events`);
      return;
    }
    if (formatChangeId(events[0]!.changeNumber) !== id) problem(`${id}: its events belong to another change`);
    const broken = verifyChain(events);
    if (broken)
      problem(`${id}: hash chain breaks at event ${broken.seq} (${broken.problem.replace(/_/g, ' ')})`);
    const bySeq = new Map(change.audit.ledger.map((l) => [l.seq, l]));
    for (const e of events) {
      const l = bySeq.get(e.seq);
      if (!l) {
        if (sealValid(ring, e)) out.notes.push(`${id} event ${e.seq} is signed but not yet in the ledger`);
        else problem(`${id} event ${e.seq} is not signed by Changegate`);
        continue;
      }
      const leaf: LedgerLeaf = {
        index: l.index,
        changeNumber: e.changeNumber,
        seq: e.seq,
        eventHash: e.hash,
        contentHash: eventContentHash(e),
      };
      if (!ring.verify(l.keyId, entryBytes(leaf), l.sig)) {
        problem(`${id} event ${e.seq}: its ledger entry's signature does not verify`);
        continue;
      }
      if (!cp || !cpValid) continue;
      if (l.index >= cp.body.treeSize || !l.proof) {
        out.notes.push(`${id} event ${e.seq} is newer than checkpoint #${cp.body.number}`);
        continue;
      }
      if (verifyInclusion(entryLeaf(leaf), l.index, cp.body.treeSize, l.proof, cp.body.rootHash))
        out.proven++;
      else problem(`${id} event ${e.seq}: its inclusion proof does not match checkpoint #${cp.body.number}`);
    }
    const state = foldEvents(events);
    if (!state) {
      problem(`${id}: its events do not make a change`);
      return;
    }
    const { audit: _audit, ...row } = change;
    const expected = evidenceRow(state, events.at(-1)!.hash, generatedAt, row.integrity);
    const drift = (Object.keys(expected) as (keyof EvidenceRow)[]).filter(
      (k) => canonicalJson(expected[k]) !== canonicalJson(row[k]),
    );
    for (const k of Object.keys(row)) if (!(k in expected)) drift.push(k as keyof EvidenceRow);
    if (drift.length > 0) problem(`${id}: the row's ${drift.join(', ')} differ from its events`);
    if (!row.integrity.startsWith('verified')) problem(`${id}: Changegate reported it as ${row.integrity}`);
  }
}
