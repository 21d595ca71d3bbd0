import { canonicalJson, eventSealBytes } from '../domain/audit.js';
import {
  type CheckpointBody,
  checkpointBytes,
  checkpointHash,
  entryBytes,
  entryLeaf,
  type Finding,
  fillerLeaf,
  KeyRing,
  type LogHead,
  type SignedCheckpoint,
  type StoredLedgerEntry,
} from '../domain/ledger.js';
import { checkChange, checkSealedEvents, entryKey, sealValid } from '../domain/ledger-verify.js';
import type { StoredChangeEvent } from '../domain/lifecycle.js';
import { MerkleFrontier } from '../domain/merkle.js';
import type { AuditDeps, AuditKeys, CheckpointRecord, LedgerStore, LoadedChange } from './ports.js';

/** How far past a missing index the checkpoint looks for later entries (a writer's batch at most). */
const HOLE_WINDOW = 400;

/** Key rotations read from the checkpoints, per store, reread at most once a minute. */
const rotationCache = new WeakMap<LedgerStore, { at: number; rotations: SignedCheckpoint[] }>();

async function rotationsOf(ledger: LedgerStore): Promise<SignedCheckpoint[]> {
  const hit = rotationCache.get(ledger);
  if (hit && Date.now() - hit.at < 60_000) return hit.rotations;
  const rotations: SignedCheckpoint[] = [];
  for await (const r of ledger.checkpoints())
    if (r.checkpoint.body.kind === 'key_rotation') rotations.push(r.checkpoint);
  rotationCache.set(ledger, { at: Date.now(), rotations });
  return rotations;
}

/**
 * The keys a verifier in this process trusts: the audit key, the key being rotated out, any public
 * keys given, and every key a trusted key took over from in a rotation both keys signed.
 */
export async function keyRing(
  deps: { ledger: LedgerStore; audit: AuditKeys | null },
  extra: readonly string[] = [],
  checkpoints?: readonly SignedCheckpoint[],
): Promise<KeyRing> {
  const ring = new KeyRing(extra);
  if (deps.audit) {
    ring.add(deps.audit.signer.publicKey);
    if (deps.audit.previous) ring.add(deps.audit.previous.publicKey);
  }
  ring.acceptRotations(checkpoints ?? (await rotationsOf(deps.ledger)));
  return ring;
}

export type CheckpointOutcome =
  | { kind: 'signed'; checkpoint: SignedCheckpoint; witnessed: boolean }
  | { kind: 'unchanged'; checkpoint: SignedCheckpoint | null }
  | { kind: 'taken' }
  | { kind: 'refused'; reason: string };

/**
 * Signs a checkpoint over the ledger as it stands: extends the last checkpoint's tree with the
 * entries since (each checked against the key first, so a forged entry is never signed over),
 * stores it with the tree's new nodes, and posts it to the audit channel. A change of key is
 * recorded as a rotation signed by both keys. A hole is closed with a signed filler only where this
 * process's own write failed; any other hole stays, and verification reports it.
 */
export async function checkpointNow(deps: AuditDeps): Promise<CheckpointOutcome> {
  const log = deps.logger.child({ component: 'ledger' });
  if (!deps.audit) return { kind: 'refused', reason: 'this process has no audit key' };
  const { signer, previous } = deps.audit;
  await deps.ledger.flush();
  await witnessPending(deps);
  const latest = await deps.ledger.latestCheckpoint();
  const ring = await keyRing(deps);

  let kind: CheckpointBody['kind'] = 'checkpoint';
  if (latest && latest.checkpoint.body.keyId !== signer.keyId) {
    if (!previous || previous.keyId !== latest.checkpoint.body.keyId) {
      const reason = `the ledger was last signed by key ${latest.checkpoint.body.keyId}; to hand it over to key ${signer.keyId}, set CHANGEGATE_AUDIT_KEY_PREVIOUS to the old key for one checkpoint`;
      log.error(`checkpoint refused: ${reason}`);
      return { kind: 'refused', reason };
    }
    kind = 'key_rotation';
  }

  const frontier = await startingFrontier(deps, latest, ring);
  if (!frontier) {
    const reason = `the ledger's first ${latest!.checkpoint.body.treeSize} entries no longer hash to checkpoint #${latest!.checkpoint.body.number}: run the audit verification`;
    log.error(`checkpoint refused: ${reason}`);
    return { kind: 'refused', reason };
  }
  const nodes: { height: number; index: number; hash: string }[] = [];
  const onNode = (height: number, index: number, hash: string) => nodes.push({ height, index, hash });
  const covered: StoredLedgerEntry[] = [];
  const abandoned = new Set(deps.ledger.abandoned());
  for (;;) {
    const batch = await deps.ledger.entriesFrom(frontier.size, 500);
    for (const e of batch) {
      if (e.index !== e.position || !ring.verify(e.keyId, entryBytes(e), e.sig)) {
        const reason = `ledger entry ${e.position} does not carry a valid signature: run the audit verification`;
        log.error(`checkpoint stops before entry ${e.position}: ${reason}`);
        return finish();
      }
      frontier.push(entryLeaf(e), onNode);
      covered.push(e);
    }
    if (batch.length === 500) continue;
    const hole = frontier.size;
    if (!abandoned.has(hole) || (await deps.ledger.nextPresent(hole, HOLE_WINDOW)) === null) break;
    if (await deps.ledger.fill(fillerLeaf(hole)))
      log.warn('closed a hole a failed ledger write left, with a signed filler', { index: hole });
  }
  return finish();

  async function finish(): Promise<CheckpointOutcome> {
    const before = latest?.checkpoint ?? null;
    const logs = await logHeads(deps);
    const sameLogs = canonicalJson(logs) === canonicalJson(before?.body.logs ?? {});
    if (before && frontier!.size === before.body.treeSize && kind === 'checkpoint' && sameLogs)
      return { kind: 'unchanged', checkpoint: before };
    if (!before && frontier!.size === 0 && Object.keys(logs).length === 0)
      return { kind: 'unchanged', checkpoint: null };
    await deps.ledger.mapEntries(covered);
    const body: CheckpointBody = {
      kind,
      number: (before?.body.number ?? 0) + 1,
      treeSize: frontier!.size,
      rootHash: frontier!.root(),
      time: deps.clock.now().toISOString(),
      previous: before ? checkpointHash(before) : null,
      keyId: signer.keyId,
      ...(kind === 'key_rotation'
        ? { previousKeyId: previous!.keyId, previousPublicKey: previous!.publicKey }
        : {}),
      ...(Object.keys(logs).length > 0 ? { logs } : {}),
    };
    const checkpoint: SignedCheckpoint = {
      body,
      sig: signer.sign(checkpointBytes(body)),
      ...(kind === 'key_rotation' ? { rotationSig: previous!.sign(checkpointBytes(body)) } : {}),
    };
    const stored = await deps.ledger.addCheckpoint(
      { checkpoint, frontier: frontier!.toJSON(), witness: null },
      nodes,
    );
    if (stored === 'taken') return { kind: 'taken' };
    if (kind === 'key_rotation') rotationCache.delete(deps.ledger);
    log.info('audit checkpoint signed', { number: body.number, treeSize: body.treeSize, kind });
    return { kind: 'signed', checkpoint, witnessed: await witness(deps, checkpoint) };
  }
}

/** The heads of the sealed logs outside changes, for the next checkpoint to commit to. */
export async function logHeads(deps: AuditDeps): Promise<Record<string, LogHead>> {
  const out: Record<string, LogHead> = {};
  const policy = await deps.policies.store.head();
  if (policy) out.policy_history = { number: policy.number, hash: policy.recordHash };
  const delegation = (await deps.delegations.log()).at(-1);
  if (delegation) out.delegations = { number: delegation.number, hash: delegation.recordHash };
  const minutes = await deps.boards.lastMinutes();
  if (minutes) out.board_minutes = { number: minutes.number, hash: minutes.recordHash };
  return out;
}

/**
 * The tree as the last checkpoint left it: its stored frontier if that gives the signed root, else
 * rebuilt from the entries; null when the entries no longer give the signed root.
 */
async function startingFrontier(
  deps: AuditDeps,
  latest: CheckpointRecord | null,
  ring: KeyRing,
): Promise<MerkleFrontier | null> {
  if (!latest) return new MerkleFrontier();
  const body = latest.checkpoint.body;
  if (!ring.verify(body.keyId, checkpointBytes(body), latest.checkpoint.sig)) return null;
  const stored = MerkleFrontier.from(latest.frontier);
  if (stored.size === body.treeSize && stored.root() === body.rootHash) return stored;
  const rebuilt = new MerkleFrontier();
  while (rebuilt.size < body.treeSize) {
    const batch = await deps.ledger.entriesFrom(rebuilt.size, Math.min(500, body.treeSize - rebuilt.size));
    if (batch.length === 0) return null;
    for (const e of batch) rebuilt.push(entryLeaf(e));
  }
  return rebuilt.root() === body.rootHash ? rebuilt : null;
}

async function witness(deps: AuditDeps, checkpoint: SignedCheckpoint): Promise<boolean> {
  if (!deps.witness.configured) return false;
  try {
    const ref = await deps.witness.post(checkpoint);
    await deps.ledger.setWitness(checkpoint.body.number, ref);
    return true;
  } catch (err) {
    deps.logger.warn('could not post the audit checkpoint to the audit channel; it is retried', {
      component: 'ledger',
      number: checkpoint.body.number,
      err,
    });
    return false;
  }
}

/** Posts checkpoints whose post to the audit channel failed. */
export async function witnessPending(deps: AuditDeps): Promise<number> {
  if (!deps.witness.configured) return 0;
  let posted = 0;
  for (const r of await deps.ledger.unwitnessed(50)) if (await witness(deps, r.checkpoint)) posted++;
  return posted;
}

export interface CatchUp {
  /** Events the app sealed whose entry was never written (a crash between the two writes). */
  ledgered: number;
  /** Events from before the ledger, sealed and ledgered by the migration. */
  migrated: number;
  /** Events neither sealed by the app nor ledgered: left for verification to report. */
  rejected: number;
  /** Numbers released before the ledger, kept as released by the migration. */
  released: number;
  /** Sealed, unledgered events younger than a minute, left to their writer (or the next run). */
  young: number;
  migration: 'done_now' | 'done_before';
}

/**
 * The one-time migration, when it has not run: events written before the ledger existed are sealed
 * and entered (in change order), sealed events without an entry are entered, numbers given back
 * before it are kept as released, and the migration is recorded. Idempotent, and safe while the app
 * serves: events younger than a minute are left to their writer. An event with a seal that does not
 * verify is never adopted. (Entries a crash leaves out later are entered by the daily verification.)
 */
export async function catchUpLedger(deps: AuditDeps, signal?: AbortSignal): Promise<CatchUp> {
  if (!deps.audit) throw new Error('no audit key: this process cannot write the ledger');
  if (await deps.ledger.migration())
    return { ledgered: 0, migrated: 0, rejected: 0, released: 0, young: 0, migration: 'done_before' };
  return migrate(deps, signal);
}

/**
 * The one-time migration: every event is compared with the ledger (two streams in change order);
 * events from before the ledger are sealed and entered, sealed events a crash left out are entered,
 * numbers given back before it are kept as released, and the migration is recorded.
 */
async function migrate(deps: AuditDeps, signal?: AbortSignal): Promise<CatchUp> {
  const { signer } = deps.audit!;
  const ring = await keyRing(deps);
  const startedAt = deps.clock.now();
  const youngest = startedAt.getTime() - 60_000;
  const out: CatchUp = {
    ledgered: 0,
    migrated: 0,
    rejected: 0,
    released: 0,
    young: 0,
    migration: 'done_now',
  };
  const entries = deps.ledger.entriesByChange()[Symbol.asyncIterator]();
  let entry = await entries.next();
  let pending: StoredChangeEvent[] = [];
  let top = 0;
  const drain = async () => {
    await deps.ledger.ledger(pending);
    pending = [];
  };
  try {
    for await (const e of deps.changes.allEvents()) {
      if (e.seq === 1) signal?.throwIfAborted();
      top = Math.max(top, e.changeNumber);
      while (
        !entry.done &&
        (entry.value.changeNumber < e.changeNumber ||
          (entry.value.changeNumber === e.changeNumber && entry.value.seq < e.seq))
      )
        entry = await entries.next();
      if (!entry.done && entry.value.changeNumber === e.changeNumber && entry.value.seq === e.seq) continue;
      if (sealValid(ring, e)) {
        if (e.at.getTime() > youngest) {
          out.young++;
          continue;
        }
        pending.push(e);
        out.ledgered++;
      } else if (!e.seal) {
        const seal = { keyId: signer.keyId, sig: signer.sign(eventSealBytes(e)) };
        if (await deps.changes.sealLegacyEvent(e.changeNumber, e.seq, seal)) {
          pending.push({ ...e, seal });
          out.migrated++;
        }
      } else {
        out.rejected++;
      }
      if (pending.length >= 200) await drain();
    }
  } finally {
    // Stopped early (a stop, an error): the entries' cursor is closed too, not left to the connection.
    await Promise.resolve(entries.return?.(undefined)).catch(() => undefined);
  }
  await drain();
  await deps.ledger.flush();
  out.released = await deps.changes.markReleasedBefore(top);
  await deps.ledger.recordMigration({ at: startedAt, events: out.migrated });
  deps.logger.info('audit ledger migration done', { component: 'ledger', ...out });
  return out;
}

export interface ChangeIntegrity {
  ok: boolean;
  /** `verified`, or `NOT VERIFIED: …` with each problem. */
  integrity: string;
  /** The change's ledger entries whose signature holds. */
  trusted: StoredLedgerEntry[];
}

/**
 * Whether one change's events are the ones Changegate signed. By default from the events alone
 * (each sealed by the audit key, the chain intact, no signed entry past its last event); with
 * `entries`, each event is also matched with its signed ledger entry, which the export needs for
 * its proofs. Every door that relies on a change's history (the gate, the trail, the export) asks.
 */
export async function changeIntegrity(
  deps: { ledger: LedgerStore; audit: AuditKeys | null },
  change: Pick<LoadedChange, 'events' | 'state'>,
  opts: { entries?: boolean; ring?: KeyRing } = {},
): Promise<ChangeIntegrity> {
  const keys = opts.ring ?? (await keyRing(deps));
  const number = change.state.number;
  const lastSeq = change.events.at(-1)?.seq ?? 0;
  if (!opts.entries) {
    const after = await deps.ledger.indexOf(number, lastSeq + 1);
    return verdict(checkSealedEvents(keys, number, change.events, after !== null), 0, []);
  }
  const found = await Promise.all(
    [...change.events.map((e) => e.seq), lastSeq + 1].map(async (seq) => {
      const index = await deps.ledger.indexOf(number, seq);
      const entry = index === null ? null : await deps.ledger.entryAt(index);
      return entry && entry.changeNumber === number && entry.seq === seq ? entry : null;
    }),
  );
  const entries = found.filter((e): e is StoredLedgerEntry => e !== null);
  const trusted = entries.filter((e) => e.index === e.position && keys.verify(e.keyId, entryBytes(e), e.sig));
  const untrusted = new Set(entries.filter((e) => !trusted.includes(e)).map(entryKey));
  const check = checkChange(keys, { number, events: change.events, entries, record: undefined }, untrusted);
  return verdict(check.findings, check.unledgered.length, trusted);
}

function verdict(findings: Finding[], unledgered: number, trusted: StoredLedgerEntry[]): ChangeIntegrity {
  if (findings.length > 0)
    return {
      ok: false,
      integrity: `NOT VERIFIED: ${findings.map((f) => `${f.kind.replace(/_/g, ' ')}: ${f.detail}`).join('; ')}`,
      trusted,
    };
  return {
    ok: true,
    integrity: unledgered > 0 ? `verified (${unledgered} signed event(s) not in the ledger yet)` : 'verified',
    trusted,
  };
}
