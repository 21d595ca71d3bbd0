import { canonicalJson, type EventSeal, sha256Hex } from './audit.js';
import { type Finding, finding, type KeyRing } from './ledger.js';

/**
 * A small append-only log of records outside any change (policy versions, delegations): each record
 * has a gap-free number (claimed by a unique insert), is hash-chained to the record before, and is
 * sealed with the audit key, so an edit, a forgery or a removal inside the log is found without
 * trusting the database.
 */
export interface Link {
  number: number;
  /** The record before's `recordHash` (GENESIS for the first). */
  prevRecordHash: string;
  /** Covers the record's body and `prevRecordHash`. */
  recordHash: string;
  seal: EventSeal | null;
}

export const LOG_GENESIS = '0'.repeat(64);

type Body<T> = Omit<T, 'prevRecordHash' | 'recordHash' | 'seal'>;

function bodyOf<T extends Link>(r: T): Body<T> {
  const { prevRecordHash: _p, recordHash: _r, seal: _s, ...rest } = r;
  return rest;
}

export function recordHash(log: string, prevRecordHash: string, body: object): string {
  return sha256Hex(`${log}\n${prevRecordHash}\n${canonicalJson(body)}`);
}

export function sealBytes(log: string, r: { number: number; recordHash: string }): string {
  return canonicalJson({ v: 1, kind: `changegate.${log}`, number: r.number, hash: r.recordHash });
}

/** The next record of `log`, numbered and chained after `previous` and sealed by `sign`. */
export function appendRecord<T extends Link>(
  log: string,
  previous: Link | null,
  body: Omit<Body<T>, 'number'>,
  sign: (bytes: string) => EventSeal,
): T {
  const { prevRecordHash: _p, recordHash: _r, seal: _s, ...fields } = body as Partial<Link>;
  const full = { ...fields, number: (previous?.number ?? 0) + 1 };
  const prevRecordHash = previous?.recordHash ?? LOG_GENESIS;
  const hash = recordHash(log, prevRecordHash, full);
  return {
    ...full,
    prevRecordHash,
    recordHash: hash,
    seal: sign(sealBytes(log, { number: full.number, recordHash: hash })),
  } as unknown as T;
}

/** Verifies a log (any order): numbers without a gap, the chain, each body as hashed, each seal. */
export function checkLog<T extends Link>(
  log: string,
  ring: KeyRing,
  records: readonly T[],
  describe: (r: T) => string,
): Finding[] {
  const out: Finding[] = [];
  let prev = LOG_GENESIS;
  let expected = 1;
  for (const r of [...records].sort((a, b) => a.number - b.number)) {
    const name = describe(r);
    if (r.number !== expected)
      out.push(finding('deleted', `${log}: records ${expected}–${r.number - 1} are missing`, {}));
    else if (r.prevRecordHash !== prev)
      out.push(finding('edited', `${log}: ${name} does not chain to the record before it`, {}));
    if (recordHash(log, r.prevRecordHash, bodyOf(r)) !== r.recordHash)
      out.push(finding('edited', `${log}: ${name} differs from what was recorded`, {}));
    else if (!r.seal || !ring.verify(r.seal.keyId, sealBytes(log, r), r.seal.sig))
      out.push(finding('inserted', `${log}: ${name} was never signed by Changegate`, {}));
    prev = r.recordHash;
    expected = r.number + 1;
  }
  return out;
}

/**
 * A log against the head a signed checkpoint committed to: the record must still be there, as it
 * was. (Records after it are newer than the checkpoint; a removed newest record is found once a
 * checkpoint covers it.)
 */
export function checkLogHead(
  log: string,
  records: readonly Link[],
  head: { number: number; hash: string } | undefined,
  checkpoint: number,
): Finding[] {
  if (!head) return [];
  const r = records.find((x) => x.number === head.number);
  if (!r)
    return [
      finding(
        'truncated',
        `${log}: checkpoint #${checkpoint} signed record ${head.number}, which is gone (the log has ${records.length})`,
        { checkpoint },
      ),
    ];
  if (r.recordHash !== head.hash)
    return [
      finding('edited', `${log}: record ${head.number} is not the one checkpoint #${checkpoint} signed`, {
        checkpoint,
      }),
    ];
  return [];
}
