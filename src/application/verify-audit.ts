import { canonicalJson } from '../domain/audit.js';
import { checkMinutesLog } from '../domain/board.js';
import { checkDelegationLog } from '../domain/delegation.js';
import { type Finding, finding, type SignedCheckpoint } from '../domain/ledger.js';
import {
  type ChangeEvidence,
  checkChange,
  checkCheckpoints,
  LedgerScan,
  NumberTrail,
  type StoredProjection,
} from '../domain/ledger-verify.js';
import { foldEvents, type StoredChangeEvent } from '../domain/lifecycle.js';
import { checkPolicyHistory, type PolicyVersionRecord } from '../domain/policy-admin.js';
import { addContribution, contribution, type DayPart } from '../domain/rollup.js';
import { checkLogHead } from '../domain/sealed-log.js';
import { checkpointNow, keyRing } from './audit-ledger.js';
import { BACKGROUND_SHARE, Pacer } from './pacer.js';
import type { AuditDeps, CheckpointRecord } from './ports.js';
import { deliverOnce, type ReminderDeps } from './reminder-sweep.js';
import { checkRollups, rollupSnapshot } from './rollups.js';

/** Findings kept in a report (the rest are counted). */
const MAX_FINDINGS = 1000;

export interface AuditReport {
  /** Nothing was found. */
  intact: boolean;
  checkedChanges: number;
  checkedEvents: number;
  ledgerSize: number;
  checkpoints: number;
  latestCheckpoint: { number: number; treeSize: number; rootHash: string; time: string } | null;
  /** Whether the checkpoints were compared with the audit channel. */
  witness: 'compared' | 'not_configured' | 'unreadable';
  findings: Finding[];
  findingsOmitted: number;
  /** Events the app sealed that have no entry yet (the daily run enters them): not tampering. */
  unledgered: number;
  /** The first of those (at most 10,000), for the daily run to enter. */
  pendingEntries: StoredChangeEvent[];
  /** The trusted keys the signatures were checked against. */
  keys: string[];
  verifiedAt: Date;
}

export interface VerifyOptions {
  /** Check every entry's signature, also those a checkpoint's signed root already covers. */
  allSignatures?: boolean;
  /** Public keys (PEM) to trust besides the process's own. */
  trust?: readonly string[];
  /** Stops the verification early (a graceful shutdown): it then throws. */
  signal?: AbortSignal;
  /**
   * The share of the time the verification works (0 < share <= 1, default 1): below 1 it pauses
   * between stretches of work (see Pacer), as the scheduled daily run does beside live traffic.
   */
  share?: number;
}

/**
 * Verifies the whole audit trail: the checkpoint chain (against the audit channel's copy), the
 * ledger (signatures, no hole, each checkpoint's root recomputed), then each change (events against
 * their signed entries, hash chain, record against the fold of its events) and the change numbers.
 * Everything is streamed: memory holds one change and log2(ledger size) hashes.
 */
export async function verifyAudit(deps: AuditDeps, opts: VerifyOptions = {}): Promise<AuditReport> {
  const verifiedAt = deps.clock.now();
  const findings: Finding[] = [];
  let omitted = 0;
  const add = (fs: Iterable<Finding>) => {
    for (const f of fs) {
      if (findings.length < MAX_FINDINGS) findings.push(f);
      else omitted++;
    }
  };

  // 1. Checkpoints: the database's and the witness's.
  const stored: CheckpointRecord[] = [];
  for await (const r of deps.ledger.checkpoints()) stored.push(r);
  const witnessed = deps.witness.configured ? await deps.witness.read() : null;
  const witness: AuditReport['witness'] = !deps.witness.configured
    ? 'not_configured'
    : witnessed === null
      ? 'unreadable'
      : 'compared';
  const chain = mergeWitness(stored, witnessed, add, verifiedAt);
  const ring = await keyRing(deps, opts.trust ?? [], chain);
  const checked = checkCheckpoints(ring, chain);
  add(checked.findings);

  // 2. The ledger in index order.
  const pacer = new Pacer(opts.share ?? 1, opts.signal);
  let scan = await scanLedger(deps, ring, checked.valid, opts.allSignatures ?? false, pacer);
  if (scan.rootMismatch && !opts.allSignatures)
    scan = await scanLedger(deps, ring, checked.valid, true, pacer);
  add(scan.findings);

  // 3. Each change, and the numbers; the change log's rollups are recomputed from the same stream.
  const rollupsBefore = await rollupSnapshot(deps);
  const recomputed = rollupsBefore ? new Map<string, DayPart>() : null;
  const trail = new NumberTrail();
  let checkedChanges = 0;
  let checkedEvents = 0;
  let unledgered = 0;
  const pendingEntries: StoredChangeEvent[] = [];
  for await (const c of changesOf(deps)) {
    await pacer.step();
    trail.see(c.number);
    if (c.events.length > 0 || (c.record && !c.record.released && c.record.head.seq > 0)) checkedChanges++;
    checkedEvents += c.events.length;
    if (recomputed) {
      const state = foldEvents(c.events);
      if (state) addContribution(recomputed, contribution(state, deps.policy.policy));
    }
    const r = checkChange(ring, c, scan.untrusted);
    unledgered += r.unledgered.length;
    for (const e of r.unledgered) if (pendingEntries.length < 10_000) pendingEntries.push(e);
    add(r.findings);
  }
  add(trail.findings);
  // The rollups hold what the events add up to (days that moved while the log was read are skipped).
  const mismatched = recomputed ? await checkRollups(deps, rollupsBefore, recomputed) : null;
  if (mismatched && mismatched.length > 0)
    add(
      mismatched.map((day) =>
        finding(
          'rollup_mismatch',
          `the change-log rollup of ${day} differs from what the events add up to (npm run rollups:rebuild rebuilds it)`,
        ),
      ),
    );

  // 4. The policy's version history: chained, sealed, and its latest version the one in force.
  const versions: PolicyVersionRecord[] = [];
  for await (const v of deps.policies.store.all()) versions.push(v);
  add(checkPolicyHistory(ring, versions));
  // 5. The delegation log: chained and sealed.
  const delegations = await deps.delegations.log();
  add(checkDelegationLog(ring, delegations));
  // 6. Board minutes: chained and sealed.
  const minutes = await deps.boards.minutesAfter(0);
  add(checkMinutesLog(ring, minutes));
  // The logs still hold the heads the latest signed checkpoint committed to.
  const committed = checked.valid.at(-1);
  if (committed) {
    add(checkLogHead('board_minutes', minutes, committed.body.logs?.board_minutes, committed.body.number));
    add(checkLogHead('policy_history', versions, committed.body.logs?.policy_history, committed.body.number));
    add(checkLogHead('delegations', delegations, committed.body.logs?.delegations, committed.body.number));
  }

  await deps.policies.refresh();
  const head = versions.at(-1);
  const inForce = deps.policies.number;
  if (inForce > (head?.number ?? 0))
    add([
      finding(
        'truncated',
        `policy version ${inForce} is in force but the history ends at version ${head?.number ?? 0}`,
      ),
    ]);
  else if (
    head &&
    head.number === inForce &&
    head.hash !== deps.policies.published().hash &&
    !deps.policies.readOnly
  )
    add([
      finding(
        'edited',
        `the policy in force (${deps.policies.published().hash}) is not what version ${head.number} recorded (${head.hash})`,
      ),
    ]);

  const latest = chain.at(-1)?.body ?? null;
  return {
    intact: findings.length === 0,
    checkedChanges,
    checkedEvents,
    ledgerSize: scan.size,
    checkpoints: chain.length,
    latestCheckpoint: latest
      ? { number: latest.number, treeSize: latest.treeSize, rootHash: latest.rootHash, time: latest.time }
      : null,
    witness,
    findings,
    findingsOmitted: omitted,
    unledgered,
    pendingEntries,
    keys: ring.ids(),
    verifiedAt,
  };
}

async function scanLedger(
  deps: AuditDeps,
  ring: Awaited<ReturnType<typeof keyRing>>,
  checkpoints: SignedCheckpoint[],
  allSignatures: boolean,
  pacer: Pacer,
): Promise<LedgerScan> {
  const scan = new LedgerScan(ring, checkpoints, allSignatures);
  for await (const e of deps.ledger.allEntries()) {
    if (e.position % 10 === 0) await pacer.step();
    scan.add(e);
  }
  scan.finish();
  return scan;
}

/**
 * How long a checkpoint whose post to the audit channel is not confirmed may be missing there: its
 * post may be queued behind Slack's pacing (thousands of reminders going out), and a failed one is
 * retried with the next checkpoint (every CHANGEGATE_CHECKPOINT_INTERVAL). Past that, reported.
 */
const WITNESS_GRACE_MS = 60 * 60_000;

/**
 * The checkpoints to verify: the database's, completed by those only the witness holds (a
 * checkpoint deleted from the database still proves how long the ledger was). Differences are
 * findings, but for a checkpoint not posted yet (see WITNESS_GRACE_MS).
 */
function mergeWitness(
  records: CheckpointRecord[],
  slack: SignedCheckpoint[] | null,
  add: (fs: Finding[]) => void,
  now: Date,
): SignedCheckpoint[] {
  const db = records.map((r) => r.checkpoint);
  if (slack === null) return db;
  const inSlack = new Map(slack.map((c) => [c.body.number, c]));
  const inDb = new Map(db.map((c) => [c.body.number, c]));
  const posting = (r: CheckpointRecord) =>
    r.witness === null && now.getTime() - Date.parse(r.checkpoint.body.time) < WITNESS_GRACE_MS;
  const out: Finding[] = [];
  for (const r of records) {
    const c = r.checkpoint;
    const s = inSlack.get(c.body.number);
    if (!s && posting(r)) continue;
    if (!s)
      out.push(
        finding('checkpoint_missing_in_slack', `checkpoint #${c.body.number} is not in the audit channel`, {
          checkpoint: c.body.number,
        }),
      );
    else if (canonicalJson(s) !== canonicalJson(c))
      out.push(
        finding(
          'checkpoint_invalid',
          `checkpoint #${c.body.number} in the database differs from the one posted to the audit channel`,
          { checkpoint: c.body.number },
        ),
      );
  }
  const merged = [...db];
  for (const s of slack)
    if (!inDb.has(s.body.number)) {
      out.push(
        finding(
          'checkpoint_missing_in_database',
          `checkpoint #${s.body.number} (${s.body.treeSize} entries) is in the audit channel but not in the database`,
          { checkpoint: s.body.number },
        ),
      );
      merged.push(s);
    }
  add(out);
  return merged.sort((a, b) => a.body.number - b.body.number);
}

/**
 * Every change's events, entries and record, by merging three streams ordered by change number:
 * only one change is held at a time.
 */
async function* changesOf(deps: AuditDeps): AsyncGenerator<ChangeEvidence> {
  const events = deps.changes.allEvents()[Symbol.asyncIterator]();
  const entries = deps.ledger.entriesByChange()[Symbol.asyncIterator]();
  const records = deps.changes.projections()[Symbol.asyncIterator]();
  try {
    let e = await events.next();
    let l = await entries.next();
    let r = await records.next();
    for (;;) {
      const heads = [
        e.done ? null : e.value.changeNumber,
        l.done ? null : l.value.changeNumber,
        r.done ? null : r.value.number,
      ].filter((n): n is number => n !== null);
      if (heads.length === 0) return;
      const number = Math.min(...heads);
      const mine: StoredChangeEvent[] = [];
      while (!e.done && e.value.changeNumber === number) {
        mine.push(e.value);
        e = await events.next();
      }
      const ledgered: ChangeEvidence['entries'][number][] = [];
      while (!l.done && l.value.changeNumber === number) {
        ledgered.push(l.value);
        l = await entries.next();
      }
      let record: StoredProjection | null = null;
      while (!r.done && r.value.number === number) {
        record = r.value;
        r = await records.next();
      }
      yield { number, events: mine, entries: ledgered, record };
    }
  } finally {
    // The consumer stopped early (a stop, an error): every cursor is closed, not left to the connection.
    await Promise.all(
      [events, entries, records].map((it) => Promise.resolve(it.return?.(undefined)).catch(() => undefined)),
    );
  }
}

/**
 * The daily verification: signs a checkpoint, verifies everything, enters the sealed events an
 * interrupted write left out of the ledger, and when anything is found posts it to the audit
 * channel and the security roles. It works BACKGROUND_SHARE of the time (see Pacer).
 * Once per day across replicas (the job runs hourly; a run that fails is retried the next hour).
 */
export async function verifyDaily(
  rd: ReminderDeps,
): Promise<{ outcome: 'verified' | 'skipped' | 'failed'; report: AuditReport | null }> {
  if (rd.stopping?.aborted) return { outcome: 'skipped', report: null };
  const day = rd.clock.now().toISOString().slice(0, 10);
  let report: AuditReport | null = null;
  const outcome = await deliverOnce(rd, `audit-verify:${day}`, async () => {
    if (rd.audit) await checkpointNow(rd);
    report = await verifyAudit(rd, { signal: rd.stopping, share: BACKGROUND_SHARE });
    // Sealed events whose entry a crash lost (older than a minute: younger ones are being written).
    const old = rd.clock.now().getTime() - 60_000;
    const lost = report.pendingEntries.filter((e) => e.at.getTime() < old);
    if (rd.audit && lost.length > 0) {
      await rd.ledger.ledger(lost);
      await rd.ledger.flush();
      rd.logger.warn('entered events whose ledger entry an interrupted write had lost', {
        component: 'ledger',
        events: lost.length,
      });
    }
    if (!report.intact) {
      rd.logger.error('the audit trail failed verification', {
        component: 'ledger',
        findings: report.findings.length + report.findingsOmitted,
        first: report.findings[0]?.detail,
      });
      await rd.witness.alert(report);
    } else rd.logger.info('audit trail verified', { component: 'ledger', events: report.checkedEvents });
  });
  return { outcome: outcome === 'sent' ? 'verified' : outcome, report };
}
