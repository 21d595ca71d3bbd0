import { canonicalJson, eventContentHash, eventSealBytes, type StoredEvent, verifyChain } from './audit.js';
import { formatChangeId } from './change.js';
import {
  checkpointBytes,
  checkpointHash,
  entryBytes,
  entryLeaf,
  type Finding,
  finding,
  type KeyRing,
  type LedgerEntry,
  type SignedCheckpoint,
  type StoredLedgerEntry,
} from './ledger.js';
import { type ChangeState, foldEvents, type StoredChangeEvent } from './lifecycle.js';
import { MerkleFrontier } from './merkle.js';
import { type ProjectionSummary, projectionSummary, summaryDrift } from './projection.js';

/**
 * Verification of the audit ledger, as pure streaming steps: the checkpoint chain, one pass over
 * the ledger in index order (signatures, contiguity, Merkle roots), then one change at a time (its
 * events against its signed entries, its chain, its stored record against the fold of its events).
 * Memory stays bounded by one change and log2(ledger size) hashes.
 */

/** Checks the chain of checkpoints (in number order); returns those whose signature holds. */
export function checkCheckpoints(
  ring: KeyRing,
  checkpoints: readonly SignedCheckpoint[],
): { valid: SignedCheckpoint[]; findings: Finding[] } {
  const findings: Finding[] = [];
  const valid: SignedCheckpoint[] = [];
  let prev: SignedCheckpoint | null = null;
  for (const c of checkpoints) {
    const at = { checkpoint: c.body.number };
    const expected = (prev?.body.number ?? 0) + 1;
    if (c.body.number > expected)
      findings.push(
        finding(
          'checkpoint_missing_in_database',
          c.body.number - expected === 1
            ? `checkpoint #${expected} is missing`
            : `checkpoints #${expected}–#${c.body.number - 1} are missing`,
          { checkpoint: expected },
        ),
      );
    const signed = ring.verify(c.body.keyId, checkpointBytes(c.body), c.sig);
    if (!signed) {
      findings.push(
        finding(
          'checkpoint_invalid',
          ring.has(c.body.keyId)
            ? `checkpoint #${c.body.number}'s signature does not verify`
            : `checkpoint #${c.body.number} is signed by key ${c.body.keyId}, which is not trusted`,
          at,
        ),
      );
    } else if (c.body.kind === 'key_rotation' && !c.rotationSig) {
      findings.push(
        finding(
          'checkpoint_invalid',
          `key rotation #${c.body.number} lacks the outgoing key's signature`,
          at,
        ),
      );
    }
    if (prev && c.body.number === expected) {
      if (c.body.previous !== checkpointHash(prev))
        findings.push(
          finding(
            'checkpoint_invalid',
            `checkpoint #${c.body.number} does not chain to #${prev.body.number}`,
            at,
          ),
        );
      if (c.body.treeSize < prev.body.treeSize)
        findings.push(
          finding(
            'checkpoint_invalid',
            `checkpoint #${c.body.number} has ${c.body.treeSize} entries, fewer than #${prev.body.number} (${prev.body.treeSize})`,
            at,
          ),
        );
    } else if (!prev && c.body.number === 1 && c.body.previous !== null) {
      findings.push(finding('checkpoint_invalid', 'checkpoint #1 names a predecessor', at));
    }
    if (signed) valid.push(c);
    prev = c;
  }
  return { valid, findings };
}

const range = (from: number, to: number) => (from === to ? `${from}` : `${from}–${to}`);

/**
 * One pass over the ledger in index order: every entry where it should be, signed by a trusted key
 * (entries a valid checkpoint covers are authenticated by its signed root; `allSignatures` checks
 * theirs too), and the Merkle root at each checkpoint's size equal to the root it signed.
 */
export class LedgerScan {
  readonly findings: Finding[] = [];
  /** Entries whose signature or place does not hold: they prove nothing about their event. */
  readonly untrusted = new Set<string>();
  /** A checkpoint's root differed: entries it covers were not individually checked (see allSignatures). */
  rootMismatch = false;
  private readonly frontier = new MerkleFrontier();
  private readonly due: SignedCheckpoint[];
  private readonly covered: number;
  private holeAt: number | null = null;

  constructor(
    private readonly ring: KeyRing,
    checkpoints: readonly SignedCheckpoint[],
    private readonly allSignatures = false,
  ) {
    this.due = [...checkpoints].sort((a, b) => a.body.treeSize - b.body.treeSize);
    this.covered = this.due.at(-1)?.body.treeSize ?? 0;
    this.settle();
  }

  get size(): number {
    return this.frontier.size;
  }

  add(e: StoredLedgerEntry): void {
    if (e.position > this.frontier.size) {
      const from = this.frontier.size;
      this.findings.push(
        finding('deleted', `ledger entries ${range(from, e.position - 1)} are missing`, { index: from }),
      );
      this.holeAt ??= from;
      // Later roots cannot be recomputed without the missing leaves: only the hole is reported.
      this.frontier.size = e.position;
    }
    const at = { change: e.changeNumber || null, seq: e.changeNumber ? e.seq : null, index: e.position };
    const where = e.changeNumber ? `${formatChangeId(e.changeNumber)} event ${e.seq}` : 'a filler';
    if (e.index !== e.position) {
      this.findings.push(
        finding(
          'reordered',
          `the entry at ${e.position} (for ${where}) was signed for position ${e.index}`,
          at,
        ),
      );
      this.untrusted.add(entryKey(e));
    } else if (this.allSignatures || e.position >= this.covered) {
      if (!this.ring.has(e.keyId)) {
        this.findings.push(
          finding('inserted', `the entry at ${e.position} (for ${where}) is signed by an unknown key`, at),
        );
        this.untrusted.add(entryKey(e));
      } else if (!this.ring.verify(e.keyId, entryBytes(e), e.sig)) {
        this.findings.push(
          finding('edited', `the entry at ${e.position} (for ${where}) does not match its signature`, at),
        );
        this.untrusted.add(entryKey(e));
      }
    }
    if (this.holeAt === null) this.frontier.push(entryLeaf({ ...e, index: e.position }));
    else this.frontier.size++;
    this.settle();
  }

  /** Compares the root with each checkpoint whose size the scan has reached. */
  private settle(): void {
    while (this.due.length > 0 && this.due[0]!.body.treeSize <= this.frontier.size) {
      const c = this.due.shift()!;
      if (this.holeAt !== null && this.holeAt < c.body.treeSize) continue;
      if (c.body.treeSize === this.frontier.size && this.frontier.root() !== c.body.rootHash) {
        this.rootMismatch = true;
        this.findings.push(
          finding(
            'checkpoint_invalid',
            `the first ${c.body.treeSize} ledger entries no longer hash to the root checkpoint #${c.body.number} signed`,
            { checkpoint: c.body.number },
          ),
        );
      }
    }
  }

  finish(): void {
    const longest = this.due.at(-1);
    if (longest && longest.body.treeSize > this.frontier.size)
      this.findings.push(
        finding(
          'truncated',
          `the ledger has ${this.frontier.size} entries; checkpoint #${longest.body.number} signed ${longest.body.treeSize}`,
          { index: this.frontier.size, checkpoint: longest.body.number },
        ),
      );
    this.due.length = 0;
  }

  /** The root over what was read (only meaningful when nothing was missing). */
  root(): string {
    return this.frontier.root();
  }
}

export const entryKey = (e: { changeNumber: number; seq: number; position?: number; index: number }) =>
  `${e.position ?? e.index}:${e.changeNumber}:${e.seq}`;

/** A change's stored record, as verification sees it. */
export interface StoredProjection {
  number: number;
  head: { seq: number; hash: string };
  /** The stored state (null on a placeholder). */
  state: ChangeState | null;
  summary: ProjectionSummary | null;
  /** A number given back by a submission that never completed. */
  released: boolean;
}

export interface ChangeEvidence {
  number: number;
  /** In seq order. */
  events: readonly StoredChangeEvent[];
  /** The entries naming this change. */
  entries: readonly (LedgerEntry & { position: number })[];
  /** The stored record; undefined: not checked (the events alone are). */
  record: StoredProjection | null | undefined;
}

export interface ChangeCheck {
  findings: Finding[];
  /** Events the app sealed that have no entry yet (a write interrupted): the catch-up ledgers them. */
  unledgered: StoredChangeEvent[];
}

/** Whether the app's key sealed this event (for events not in the ledger yet). */
export function sealValid(ring: KeyRing, e: StoredEvent): boolean {
  return !!e.seal && ring.verify(e.seal.keyId, eventSealBytes(e), e.seal.sig);
}

/**
 * One change: each event against its signed entry, the chain, entries without their event, and the
 * stored record against the fold of the events it claims to reflect. `untrusted` are entries the
 * ledger scan rejected.
 */
export function checkChange(ring: KeyRing, c: ChangeEvidence, untrusted: ReadonlySet<string>): ChangeCheck {
  const findings: Finding[] = [];
  const unledgered: StoredChangeEvent[] = [];
  const id = formatChangeId(c.number);
  const trusted = new Map<number, LedgerEntry & { position: number }>();
  for (const e of c.entries) if (!untrusted.has(entryKey(e)) && !trusted.has(e.seq)) trusted.set(e.seq, e);
  const contentAt = new Map<string, number>();
  for (const e of trusted.values()) contentAt.set(e.contentHash, e.seq);
  const flagged = new Set<number>();
  const flag = (f: Finding) => {
    findings.push(f);
    if (f.seq !== null) flagged.add(f.seq);
  };

  if (c.events.length === 0 && trusted.size > 0) {
    if (c.record === null || c.record?.released)
      flag(
        finding(
          'change_removed',
          `${id} is gone: its ${trusted.size} signed event(s) and its record were removed`,
          { change: c.number },
        ),
      );
    else
      flag(
        finding('deleted', `every event of ${id} was removed (${trusted.size} signed)`, {
          change: c.number,
          seq: 1,
        }),
      );
    return { findings, unledgered };
  }

  const seqs = new Set<number>();
  for (const e of c.events) {
    seqs.add(e.seq);
    const at = { change: c.number, seq: e.seq };
    const entry = trusted.get(e.seq);
    if (!entry) {
      if (sealValid(ring, e)) unledgered.push(e);
      else
        flag(
          finding(
            'inserted',
            `${id} event ${e.seq} (${e.type} by ${e.actor}) was never signed by Changegate`,
            at,
          ),
        );
      continue;
    }
    const content = eventContentHash(e);
    if (entry.eventHash === e.hash && entry.contentHash === content) continue;
    // Its content is as signed and only its chain hash moved: the cause is an earlier finding.
    if (entry.contentHash === content && flagged.size > 0) continue;
    const movedFrom = contentAt.get(content);
    if (movedFrom !== undefined && movedFrom !== e.seq)
      flag(finding('reordered', `${id} event ${e.seq} is the event signed as event ${movedFrom}`, at));
    else flag(finding('edited', `${id} event ${e.seq} (${e.type}) differs from what was signed`, at));
  }
  for (const [seq, entry] of trusted)
    if (!seqs.has(seq))
      flag(
        finding('deleted', `${id} event ${seq} was removed (signed at ledger index ${entry.position})`, {
          change: c.number,
          seq,
          index: entry.position,
        }),
      );

  const broken = verifyChain(c.events);
  if (broken && !flagged.has(broken.seq))
    flag(
      finding(
        broken.problem === 'sequence_gap' ? 'deleted' : 'edited',
        `${id}'s hash chain breaks at event ${broken.seq} (${broken.problem.replace(/_/g, ' ')})`,
        { change: c.number, seq: broken.seq },
      ),
    );

  const problem = projectionProblem(c);
  if (problem) flag(finding('projection_mismatch', `${id}: ${problem}`, { change: c.number }));
  return { findings, unledgered };
}

/** Why a change's stored record is not the fold of its events (null: it is, or it lags behind). */
function projectionProblem(c: ChangeEvidence): string | null {
  const r = c.record;
  if (r === undefined) return null;
  if (!r) return c.events.length > 0 ? 'its record is missing' : null;
  if (r.released) return c.events.length > 0 ? 'its record says the number was never used' : null;
  if (r.head.seq === 0) return null; // a submission being written (the repair completes it)
  const prefix = c.events.filter((e) => e.seq <= r.head.seq);
  const last = prefix.at(-1);
  if (prefix.length !== r.head.seq || !last || last.hash !== r.head.hash)
    return `its record claims event ${r.head.seq} (${r.head.hash.slice(0, 12)}…), which its events do not have`;
  const folded = foldEvents(prefix);
  if (!folded || !r.state) return 'its record holds no state';
  if (canonicalJson(r.state) !== canonicalJson(folded))
    return 'its stored state is not the fold of its events';
  const drift = r.summary ? summaryDrift(r.summary, projectionSummary(folded)) : [];
  return drift.length > 0 ? `its record's ${drift.join(', ')} differ from its events` : null;
}

/** Change numbers are claimed in order: a number nobody has (no record, event or entry) was removed. */
export class NumberTrail {
  readonly findings: Finding[] = [];
  private last = 0;

  see(n: number): void {
    if (n <= this.last) return;
    if (n > this.last + 1) {
      const from = this.last + 1;
      const to = n - 1;
      for (let k = from; k <= Math.min(to, from + 99); k++)
        this.findings.push(
          finding('change_removed', `${formatChangeId(k)} is gone: no record, no events, no ledger entry`, {
            change: k,
          }),
        );
      if (to - from >= 100)
        this.findings.push(
          finding('change_removed', `…and ${to - from - 99} more numbers up to ${formatChangeId(to)}`, {
            change: to,
          }),
        );
    }
    this.last = n;
  }
}

/**
 * One change from its events alone: each sealed by the audit key, the chain intact, and no signed
 * entry for an event after its last (which would be one removed from its end). Cheaper than
 * matching every event with its entry, and as strict about what the events say.
 */
export function checkSealedEvents(
  ring: KeyRing,
  number: number,
  events: readonly StoredChangeEvent[],
  entryAfterLast: boolean,
): Finding[] {
  const id = formatChangeId(number);
  const findings: Finding[] = [];
  const broken = verifyChain(events);
  if (broken)
    findings.push(
      finding(
        broken.problem === 'sequence_gap' ? 'deleted' : 'edited',
        `${id}'s hash chain breaks at event ${broken.seq} (${broken.problem.replace(/_/g, ' ')})`,
        { change: number, seq: broken.seq },
      ),
    );
  for (const e of events)
    if (!sealValid(ring, e))
      findings.push(
        finding('inserted', `${id} event ${e.seq} (${e.type} by ${e.actor}) is not sealed by Changegate`, {
          change: number,
          seq: e.seq,
        }),
      );
  const last = events.at(-1)?.seq ?? 0;
  if (entryAfterLast)
    findings.push(
      finding('deleted', `${id} event ${last + 1} was signed in the ledger and is gone`, {
        change: number,
        seq: last + 1,
      }),
    );
  return findings;
}
