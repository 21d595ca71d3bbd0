import type { ChangeLogSummary } from '../domain/change-log.js';
import { type ChangeState, foldEvents, type StoredChangeEvent } from '../domain/lifecycle.js';
import type { Period } from '../domain/period.js';
import type { Policy } from '../domain/policy.js';
import {
  addContribution,
  applyDifference,
  contribution,
  type DayPart,
  emptyPart,
  periodKeys,
  rollupFingerprint,
  sameDay,
  shownNumbers,
  summarise,
  wholeDays,
  withPermalinks,
} from '../domain/rollup.js';
import { Pacer } from './pacer.js';
import type { Deps, RollupMark, StoredRollupDay } from './ports.js';

/**
 * The change log's per-day and per-month rollups (domain/rollup.ts; a month is one more key that each
 * of its days' contributions also moves), kept with every event:
 * - each event's mark is written before the event (infra); `foldRollups` moves the days by each
 *   marked event's difference (the change's contribution after it minus before it, computed from
 *   the event log) and removes the marks. A day records the marks it already holds, so a fold that
 *   stopped half way is finished, never counted twice; one fold at a time across replicas (a lease);
 * - `rebuildRollups` computes every day from the event log (a command, the first start, a policy
 *   whose clock, counts or freezes changed);
 * - `rollupSummary` answers a period from its whole months and other days (plus marks not folded yet);
 * - `checkRollups` compares them with a full recomputation (the audit verification).
 */

type RollupDeps = Pick<Deps, 'clock' | 'logger' | 'policy' | 'changes' | 'rollups'>;

/** Folds run one at a time across replicas: the lease is held for a period of this length. */
const LEASE_MS = 15_000;
/** A fold starts only with this much of its lease period left, so it ends within it. */
const FOLD_MARGIN_MS = 5_000;
const FOLD_BATCH = 200;
/** A rebuild another process started this long ago and never finished is started again. */
const REBUILD_STALE_MS = 60 * 60_000;

interface Difference {
  mark: RollupMark;
  before: Map<string, DayPart>;
  after: Map<string, DayPart>;
}

const touchedDays = (d: Difference) => new Set([...d.before.keys(), ...d.after.keys()]);

/**
 * Each mark's difference, from the change's event log: `ready` (its event is recorded), `drop`
 * (another writer won that seq, or a stale mark never got its event), `waiting` (being written).
 */
async function differences(
  deps: Pick<RollupDeps, 'changes'>,
  marks: RollupMark[],
  policy: Policy,
): Promise<{ ready: Difference[]; drop: string[] }> {
  // Each change's log as far as its last mark (read once per change).
  const through = new Map<number, number>();
  for (const m of marks) through.set(m.changeNumber, Math.max(m.seq, through.get(m.changeNumber) ?? 0));
  const events = new Map<number, StoredChangeEvent[]>();
  for (const [n, seq] of through) events.set(n, await deps.changes.eventsThrough(n, seq));
  const ready: Difference[] = [];
  const drop: string[] = [];
  for (const m of marks) {
    const log = events.get(m.changeNumber)!;
    const e = log[m.seq - 1];
    if (!e || e.seq !== m.seq) {
      if (m.stale) drop.push(m.id);
      continue;
    }
    if (e.hash !== m.hash) {
      drop.push(m.id);
      continue;
    }
    const before: ChangeState | null = m.seq === 1 ? null : foldEvents(log.slice(0, m.seq - 1));
    const after = foldEvents(log.slice(0, m.seq))!;
    ready.push({
      mark: m,
      before: before ? contribution(before, policy) : new Map(),
      after: contribution(after, policy),
    });
  }
  return { ready, drop };
}

interface WorkingDay {
  part: DayPart;
  folded: Set<string>;
}

function working(stored: StoredRollupDay[]): Map<string, WorkingDay> {
  return new Map(stored.map((s) => [s.day, { part: s.part, folded: new Set(s.folded) }]));
}

/** Moves the days by each difference they do not hold yet, and records that they hold it. */
function applyAll(days: Map<string, WorkingDay>, diffs: Difference[]): void {
  for (const d of diffs)
    for (const day of touchedDays(d)) {
      let w = days.get(day);
      if (!w) {
        w = { part: emptyPart(), folded: new Set() };
        days.set(day, w);
      }
      if (w.folded.has(d.mark.id)) continue;
      applyDifference(w.part, d.before.get(day), d.after.get(day));
      w.folded.add(d.mark.id);
    }
}

/** Work on one store's rollups runs one piece at a time in a process (a fold, a rebuild). */
const queues = new WeakMap<object, Promise<unknown>>();
function exclusive<T>(deps: Pick<RollupDeps, 'rollups'>, work: () => Promise<T>): Promise<T> {
  const run = (queues.get(deps.rollups) ?? Promise.resolve()).then(work, work);
  queues.set(
    deps.rollups,
    run.catch(() => undefined),
  );
  return run;
}

/**
 * Folds pending marks into the days (at most FOLD_BATCH per call). Null when the rollups of the
 * policy in force are not built, or another replica holds the fold.
 */
export function foldRollups(deps: RollupDeps): Promise<{ folded: number; dropped: number } | null> {
  return exclusive(deps, async () => {
    const policy = deps.policy.policy;
    const fp = rollupFingerprint(policy);
    if ((await deps.rollups.state(fp))?.state !== 'ready') return null;
    if ((await deps.rollups.marks(1)).length === 0) return { folded: 0, dropped: 0 };
    const lease = await deps.rollups.lease('rollup-fold', LEASE_MS);
    if (!lease || lease.remainingMs() < FOLD_MARGIN_MS) return null;
    const marks = await deps.rollups.marks(FOLD_BATCH);
    const { ready, drop } = await differences(deps, marks, policy);
    const touched = new Set(ready.flatMap((d) => [...touchedDays(d)]));
    const days = working(await deps.rollups.days(fp, [...touched]));
    applyAll(days, ready);
    if (marks.length < FOLD_BATCH) {
      // Every pending mark was read: a day's list keeps only marks that still exist.
      const pending = new Set(marks.map((m) => m.id));
      for (const w of days.values()) for (const id of w.folded) if (!pending.has(id)) w.folded.delete(id);
    }
    // Written only while this fold still holds the lease and no rebuild began meanwhile.
    if (lease.remainingMs() <= 0 || (await deps.rollups.state(fp))?.state !== 'ready') return null;
    await deps.rollups.saveDays(
      fp,
      [...touched].map((day) => ({ day, part: days.get(day)!.part, folded: [...days.get(day)!.folded] })),
      deps.clock.now(),
    );
    await deps.rollups.dropMarks([...ready.map((d) => d.mark.id), ...drop]);
    return { folded: ready.length, dropped: drop.length };
  });
}

export interface RebuildResult {
  outcome: 'rebuilt' | 'skipped';
  changes: number;
  events: number;
  days: number;
}

/**
 * Rebuilds every day of the policy's rollups from the event log. Marks of events the rebuild read
 * are recorded as held by their days (the next fold removes them); later ones are folded as usual.
 * `force`: even when another process is rebuilding (the command).
 */
export function rebuildRollups(
  deps: RollupDeps,
  opts: { signal?: AbortSignal; force?: boolean } = {},
): Promise<RebuildResult> {
  return exclusive(deps, async () => {
    const policy = deps.policy.policy;
    const fp = rollupFingerprint(policy);
    const skipped: RebuildResult = { outcome: 'skipped', changes: 0, events: 0, days: 0 };
    const state = await deps.rollups.state(fp);
    const now = deps.clock.now();
    if (!opts.force && state?.state === 'rebuilding' && now.getTime() - state.at.getTime() < REBUILD_STALE_MS)
      return skipped;
    // The fold's lease for this period: no fold of another process writes while this one starts.
    let lease = await deps.rollups.lease('rollup-fold', LEASE_MS);
    for (let i = 0; !lease && i < (LEASE_MS / 500) * 2; i++) {
      await new Promise((r) => setTimeout(r, 500));
      opts.signal?.throwIfAborted();
      lease = await deps.rollups.lease('rollup-fold', LEASE_MS);
    }
    if (!lease) return skipped;
    await deps.rollups.setState(fp, 'rebuilding', now);
    deps.logger.info('rebuilding the change-log rollups', { component: 'rollups', fingerprint: fp });

    const days = new Map<string, DayPart>();
    const seen = new Map<number, number>();
    let changes = 0;
    let events = 0;
    let current: StoredChangeEvent[] = [];
    const flush = () => {
      const state = foldEvents(current);
      if (state) {
        addContribution(days, contribution(state, policy));
        seen.set(state.number, current.at(-1)!.seq);
        changes++;
      }
      current = [];
    };
    // At full speed, but letting the event loop through: a first start or a new policy rebuilds
    // while the app serves.
    const pacer = new Pacer(1, opts.signal);
    for await (const e of deps.changes.allEvents()) {
      if (current.length > 0 && current[0]!.changeNumber !== e.changeNumber) {
        flush();
        await pacer.step();
      }
      current.push(e);
      events++;
    }
    flush();

    // Marks of events the log stream read: their days hold them already.
    const marks = (await deps.rollups.marks(1_000_000)).filter(
      (m) => (seen.get(m.changeNumber) ?? 0) >= m.seq,
    );
    const held = new Map<string, string[]>();
    for (const d of (await differences(deps, marks, policy)).ready)
      for (const day of touchedDays(d)) {
        if (!days.has(day)) days.set(day, emptyPart());
        held.set(day, [...(held.get(day) ?? []), d.mark.id]);
      }
    await deps.rollups.saveDays(
      fp,
      [...days].map(([day, part]) => ({ day, part, folded: held.get(day) ?? [] })),
      deps.clock.now(),
    );
    await deps.rollups.removeDaysExcept(fp, new Set(days.keys()));
    await deps.rollups.setState(fp, 'ready', deps.clock.now());
    // Their days hold them (and say so): removed now rather than re-read by the next fold.
    await deps.rollups.dropMarks([...new Set([...held.values()].flat())]);
    deps.logger.info('change-log rollups rebuilt', {
      component: 'rollups',
      fingerprint: fp,
      changes,
      events,
      days: days.size,
    });
    return { outcome: 'rebuilt', changes, events, days: days.size };
  });
}

/**
 * Keeps the rollups of the policy in force: builds them when missing (the first start, a policy
 * whose clock, counts or freezes changed), else folds what is pending.
 */
export async function maintainRollups(deps: RollupDeps, signal?: AbortSignal): Promise<void> {
  const fp = rollupFingerprint(deps.policy.policy);
  const state = await deps.rollups.state(fp);
  if (
    !state ||
    (state.state === 'rebuilding' && deps.clock.now().getTime() - state.at.getTime() >= REBUILD_STALE_MS)
  )
    await rebuildRollups(deps, { signal });
  else if (state.state === 'ready') await foldRollups(deps);
}

/**
 * A period's change log from its months' and days' rollups (and the marks not folded yet), as of now. Null when
 * the rollups cannot answer: not built for the policy in force, or a period not made of whole days.
 */
export async function rollupSummary(
  deps: Pick<Deps, 'clock' | 'logger' | 'policy' | 'changes' | 'rollups'>,
  period: Period,
): Promise<ChangeLogSummary | null> {
  const policy = deps.policy.policy;
  const tz = policy.timezone;
  const fp = rollupFingerprint(policy);
  if (!wholeDays(period, tz) || (await deps.rollups.state(fp))?.state !== 'ready') return null;
  // Up to date first when this process may fold; otherwise pending marks are added as read.
  await foldRollups(deps).catch((err) =>
    deps.logger.warn('could not fold the change-log rollups', { component: 'rollups', err }),
  );
  const list = periodKeys(period, tz);
  const days = working(await deps.rollups.days(fp, list));
  applyAll(days, (await differences(deps, await deps.rollups.marks(FOLD_BATCH * 10), policy)).ready);
  const wanted = new Set(list);
  const parts = [...days].filter(([day]) => wanted.has(day)).map(([, w]) => w.part);
  const summary = summarise(parts, period, deps.clock.now(), tz, policy);
  const permalinks = new Map<number, string | null>();
  await Promise.all(
    shownNumbers(summary).map(async (n) =>
      permalinks.set(n, (await deps.changes.record(n))?.slack?.permalink ?? null),
    ),
  );
  return withPermalinks(summary, permalinks);
}

/**
 * The audit verification's check: the stored rollups (with pending marks) against the days
 * recomputed from the event log (`computed`, from the same stream the verification reads). Days that
 * changed while the log was read (`before` is the snapshot taken first) are not compared.
 */
export async function checkRollups(
  deps: RollupDeps,
  before: StoredRollupDay[] | null,
  computed: Map<string, DayPart>,
): Promise<string[] | null> {
  if (!before) return null;
  const fp = rollupFingerprint(deps.policy.policy);
  const after = await deps.rollups.days(fp);
  const unchanged = (a: StoredRollupDay, b: StoredRollupDay) =>
    sameDay(a.part, b.part) && [...a.folded].sort().join() === [...b.folded].sort().join();
  const then = new Map(before.map((d) => [d.day, d]));
  const pending = await differences(deps, await deps.rollups.marks(1_000_000), deps.policy.policy);
  const moving = new Set(pending.ready.flatMap((d) => [...touchedDays(d)]));
  const stored = new Map(after.map((d) => [d.day, d]));
  const mismatched: string[] = [];
  for (const day of new Set([...stored.keys(), ...computed.keys()])) {
    const a = stored.get(day);
    const b = then.get(day);
    if (moving.has(day) || (a && b && !unchanged(a, b)) || !a !== !b) continue;
    if (!sameDay(a?.part, computed.get(day))) mismatched.push(day);
  }
  return mismatched.sort();
}

/** The rollups the verification compares: a snapshot taken before it reads the log (null: not built). */
export async function rollupSnapshot(deps: RollupDeps): Promise<StoredRollupDay[] | null> {
  const fp = rollupFingerprint(deps.policy.policy);
  if ((await deps.rollups.state(fp))?.state !== 'ready') return null;
  return deps.rollups.days(fp);
}
