import { createHash } from 'node:crypto';
import { conditionHolds } from './change.js';
import type { ChangeLogSummary, LogItem, Percentiles, TopList } from './change-log.js';
import { compareItems, TOP } from './change-log.js';
import { blockingFreezes } from './freeze.js';
import { type ChangeState, type ChangeStatus, deploysTheChange, nextPir } from './lifecycle.js';
import type { Period } from './period.js';
import type { Policy } from './policy.js';
import { addLocalDays, HOUR_MS, zonedParts, zonedToInstant } from './time.js';

/**
 * Per-day and per-month rollups of the change log: what each change contributes to each day (and so
 * to each month) of the policy's calendar, in a form that adds up. A period's summary is the sum of
 * its whole months and its other days (at most ~60 of them), so its cost depends on the period's
 * length, not on how many changes there are: a month's histograms hold at most one bucket per 0.01 h
 * of range however busy the month.
 *
 * - Counters add (`raised`, `outcome␟deployed`, …). Durations go into histograms of 0.01-hour
 *   buckets (`h␟lead_approval␟<centi-hours>`): a percentile of the buckets is the exact percentile
 *   rounded to the 0.01 h the summary shows (rounding is monotonic), so the stated error is zero at
 *   the precision shown, and a histogram has at most one bucket per 36 s of range.
 * - Lists keep each day's most recent TOP items (their merge is the period's most recent TOP).
 * - What depends on the moment the summary is read (a retrospective pending or overdue, a review
 *   overdue) or counts a change once over several days (deployed on two days) is kept as small open
 *   records, evaluated when read.
 *
 * A change's contribution is a pure function of its state; the rollup moves by the difference
 * between its contribution before and after each event. `ChangeLogAccumulator` (the full scan) is the
 * reference the rollups are tested and verified against.
 */

/** Bumped whenever what a contribution holds changes: older rollups are rebuilt. */
export const ROLLUP_VERSION = 2;

const SEP = '\u001f';
/** Separators of the stored counters: between records, and between a key and its count. */
const RS = '\u001e';
const GS = '\u001d';

/** What of the policy the rollups depend on: its clock, report counts, freezes, production. */
export function rollupFingerprint(policy: Policy): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        v: ROLLUP_VERSION,
        tz: policy.timezone,
        counts: policy.reports.counts,
        freezes: policy.freezes,
        production: policy.productionEnvironments,
      }),
    )
    .digest('hex')
    .slice(0, 16);
}

export type ItemList = 'approvals' | 'freeze' | 'rollbacks' | 'unauthorised' | 'late_retro';

export interface RollupItem extends Omit<LogItem, 'permalink'> {
  list: ItemList;
  /** Identifies the item within its change (a decision, a deployment, a freeze). */
  key: string;
}

/** Records evaluated when read: they depend on `now` or count a change once across days. */
export type OpenRecord =
  | { kind: 'retro'; number: number; dueAt: Date; item: Omit<LogItem, 'permalink'> }
  | { kind: 'pir'; number: number; dueAt: Date }
  | { kind: 'never_verified'; number: number; item: Omit<LogItem, 'permalink'> }
  | {
      kind: 'multi';
      number: number;
      /** Days with a production deployment that succeeded, and that failed. */
      succeeded: string[];
      failed: string[];
      /** Days of deployments that deliver the change (the report counts' `deployed`). */
      delivered: string[];
      rolledBack: boolean;
      neverVerified: Omit<LogItem, 'permalink'> | null;
      /** Report counts (by index) with a `deployed` event whose condition the change meets. */
      counts: number[];
    };

export interface DayPart {
  counters: Map<string, number>;
  /** Capped lists, by `${list}␟${key}`. */
  items: Map<string, RollupItem>;
  /** By `${kind}␟${number}`. */
  open: Map<string, OpenRecord>;
}

export const emptyPart = (): DayPart => ({ counters: new Map(), items: new Map(), open: new Map() });

/** The day's part in `days`, added empty when missing. */
export function dayIn(days: Map<string, DayPart>, day: string): DayPart {
  const found = days.get(day);
  if (found) return found;
  const made = emptyPart();
  days.set(day, made);
  return made;
}

const dayCache = new Map<string, string>();

/**
 * A local calendar day (YYYY-MM-DD) of the policy's clock. Remembered per quarter hour (every time
 * zone's offset is a whole number of quarter hours), as the rebuild asks for millions.
 */
export function dayOf(at: Date, tz: string): string {
  const key = `${tz}|${Math.floor(at.getTime() / 900_000)}`;
  let day = dayCache.get(key);
  if (day === undefined) {
    if (dayCache.size > 200_000) dayCache.clear();
    day = zonedParts(at, tz).date;
    dayCache.set(key, day);
  }
  return day;
}

/** The local days a period covers (periods start and end at local midnight). */
export function periodDays(period: Period, tz: string): string[] {
  const out: string[] = [];
  const last = dayOf(new Date(period.to.getTime() - 1), tz);
  for (let d = dayOf(period.from, tz); d <= last; d = addLocalDays(d, 1)) out.push(d);
  return out;
}

/** Whether the period starts and ends at local midnight, so that it is made of whole days. */
export function wholeDays(period: Period, tz: string): boolean {
  const midnight = (at: Date) => zonedToInstant(dayOf(at, tz), tz).getTime() === at.getTime();
  return midnight(period.from) && midnight(period.to);
}

const centiHours = (ms: number) => Math.round((ms / HOUR_MS) * 100);
const histKey = (name: string, ms: number) => `h${SEP}${name}${SEP}${centiHours(ms)}`;
const itemId = (i: RollupItem) => `${i.list}${SEP}${i.number}${SEP}${i.key}`;
const openId = (r: OpenRecord) => `${r.kind}${SEP}${r.number}`;

/** What one change contributes to each day, under the policy's clock, counts and freezes. */
export function contribution(s: ChangeState, policy: Policy): Map<string, DayPart> {
  const tz = policy.timezone;
  const parts = new Map<string, DayPart>();
  const part = (day: string) => dayIn(parts, day);
  const inc = (at: Date, key: string, by = 1) => {
    const c = part(dayOf(at, tz)).counters;
    c.set(key, (c.get(key) ?? 0) + by);
  };
  /** An item of a list, on the day of `at` unless the list counts it on another day (`on`). */
  const item = (at: Date, list: ItemList, key: string, detail: string, who: string | null, on = at) => {
    const i: RollupItem = { list, key, number: s.number, title: s.request.title, at, detail, who };
    part(dayOf(on, tz)).items.set(itemId(i), i);
  };
  const open = (day: string, r: OpenRecord) => part(day).open.set(openId(r), r);
  const logItem = (at: Date, detail: string, who: string | null) => ({
    number: s.number,
    title: s.request.title,
    at,
    detail,
    who,
  });

  // The day it was raised: counts by type and outcome, lead times, emergencies.
  const raised = s.submittedAt;
  inc(raised, 'raised');
  inc(raised, `type${SEP}${s.type}${SEP}${s.typeName}`);
  inc(raised, `outcome${SEP}${s.status}`);
  if (s.approvedAt) inc(raised, histKey('lead_approval', s.approvedAt.getTime() - raised.getTime()));
  if (s.deployedAt) inc(raised, histKey('lead_deploy', s.deployedAt.getTime() - raised.getTime()));
  if (s.request.securityFlags.length > 0) inc(raised, 'security');
  if (s.refusedAttempts > 0) inc(raised, 'refused', s.refusedAttempts);
  if (s.emergency) {
    inc(raised, 'em_total');
    if (s.retroReview.status === 'pending' || s.retroReview.status === 'questions')
      inc(raised, 'em_review_pending');
    const due = s.retro.dueAt;
    if (s.retroDueHours !== null && due) {
      if (s.retro.submittedAt) {
        const late = s.retro.submittedAt > due;
        inc(raised, late ? 'em_late' : 'em_on_time');
        if (late) item(due, 'late_retro', '', 'retrospective submitted late', s.requester, raised);
      } else {
        open(dayOf(raised, tz), {
          kind: 'retro',
          number: s.number,
          dueAt: due,
          item: logItem(due, 'retrospective overdue', s.requester),
        });
      }
    }
  }

  // Decisions: approvals (and how long each stage waited), rejections.
  let stageStart = s.submittedAt;
  [...s.decisions]
    .sort((a, b) => a.stageIndex - b.stageIndex)
    .forEach((d, i) => {
      if (d.outcome === 'approved') {
        inc(d.at, 'approvals');
        item(d.at, 'approvals', String(i), `${d.stageName} approved`, d.by);
        inc(d.at, histKey(`stage${SEP}${d.stageName}`, d.at.getTime() - stageStart.getTime()));
      } else {
        inc(d.at, 'rejections');
      }
      stageStart = d.at;
    });

  // Production deployments: failures, unauthorised ones, those inside a freeze.
  const succeededDays = new Set<string>();
  const failedDays = new Set<string>();
  const deliveredDays = new Set<string>();
  s.deployments.forEach((d, j) => {
    if (!d.production) return;
    const day = dayOf(d.at, tz);
    if (d.unauthorised) {
      inc(d.at, 'unauthorised');
      item(
        d.at,
        'unauthorised',
        String(j),
        `${d.environment}: ${d.reasons.join(', ').replace('not_approved', 'not approved')}`,
        d.by,
      );
    }
    if (d.status === 'failed') {
      inc(d.at, 'failed_deployments');
      failedDays.add(day);
    }
    if (d.status !== 'succeeded') return;
    succeededDays.add(day);
    if (deploysTheChange(d.reasons)) deliveredDays.add(day);
    for (const f of blockingFreezes(policy, s.type, d.at)) {
      const x = s.exceptions.find((e) => e.freeze === f.name);
      inc(d.at, 'freeze');
      item(
        d.at,
        'freeze',
        `${j}${SEP}${f.name}`,
        x ? `${f.name}: exception: ${x.reason}` : `${f.name}: no exception`,
        x?.by ?? null,
      );
    }
  });

  // Verification and the reviews after it.
  const v = s.verification;
  if (v?.outcome === 'rolled_back') {
    inc(v.at, 'rollbacks');
    item(v.at, 'rollbacks', '', v.issues, v.by);
  }
  if (v) {
    const next = nextPir(s);
    if (next) open(dayOf(v.at, tz), { kind: 'pir', number: s.number, dueAt: next.dueAt });
  }
  for (const a of s.pir.answers) if (a) inc(a.at, 'pir_answered');

  // The policy's report counts.
  const deployedCounts: number[] = [];
  policy.reports.counts.forEach((c, i) => {
    const { types, emergency, ...condition } = c.when;
    if (types && !types.includes(s.type)) return;
    if (emergency !== undefined && emergency !== s.emergency) return;
    if (!conditionHolds(condition, s.request)) return;
    const key = `count${SEP}${i}`;
    if (c.event === 'raised') inc(raised, key);
    else if (c.event === 'verified' && v?.outcome === 'ok') inc(v.at, key);
    else if (c.event === 'rolled_back' && v?.outcome === 'rolled_back') inc(v.at, key);
    else if (c.event === 'deployed') deployedCounts.push(i);
  });

  // A change counts once as deployed (failed, never verified, each `deployed` count) in a period
  // with any of its deployments: by counters when they all fell on one day, else by an open record.
  const days = new Set([...succeededDays, ...failedDays]);
  const rolledBack = v?.outcome === 'rolled_back';
  const neverVerified =
    succeededDays.size > 0 && s.status === 'deployed'
      ? logItem(
          s.deployedAt ?? s.deployments.find((d) => d.production && d.status === 'succeeded')!.at,
          'not verified',
          s.deployedBy,
        )
      : null;
  if (days.size === 1) {
    const [day] = days as unknown as [string];
    const c = part(day).counters;
    const add = (key: string) => c.set(key, (c.get(key) ?? 0) + 1);
    add('deployed_changes');
    if (rolledBack || failedDays.size > 0) add('failed_changes');
    if (neverVerified) open(day, { kind: 'never_verified', number: s.number, item: neverVerified });
    if (deliveredDays.size > 0) for (const i of deployedCounts) add(`count${SEP}${i}`);
  } else if (days.size > 1) {
    const record: OpenRecord = {
      kind: 'multi',
      number: s.number,
      succeeded: [...succeededDays].sort(),
      failed: [...failedDays].sort(),
      delivered: [...deliveredDays].sort(),
      rolledBack,
      neverVerified,
      counts: deployedCounts,
    };
    for (const day of days) open(day, record);
  }
  return withMonths(parts);
}

// ---- the arithmetic of rollups ---------------------------------------------------------------

/** A day's month (YYYY-MM), the key of the month's rollup. */
const monthOf = (day: string) => day.slice(0, 7);

/**
 * Each day's part is also added to its month's part: a month is the sum of its days (counters and
 * histogram buckets add; the lists keep the month's latest; a record held on several days is held
 * once), so a period reads its whole months as one rollup each and only its edge days one by one.
 * A month's histograms hold at most one bucket per 0.01 h of the range the times span, however many
 * changes the month has.
 */
function withMonths(days: Map<string, DayPart>): Map<string, DayPart> {
  const out = new Map(days);
  for (const [day, part] of days) applyDifference(dayIn(out, monthOf(day)), undefined, part);
  return out;
}

/**
 * The rollups that make up a period of whole days: each month it covers entirely, and each day of
 * the months it covers in part. Their parts add up to the period's (no day counted twice).
 */
export function periodKeys(period: Period, tz: string): string[] {
  const byMonth = new Map<string, string[]>();
  for (const day of periodDays(period, tz)) {
    const month = monthOf(day);
    byMonth.set(month, [...(byMonth.get(month) ?? []), day]);
  }
  return [...byMonth].flatMap(([month, days]) => (days.length === daysInMonth(month) ? [month] : days));
}

function daysInMonth(month: string): number {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y!, m!, 0)).getUTCDate();
}

/** Keeps a list's most recent TOP items. */
function trimItems(items: Map<string, RollupItem>): void {
  const byList = new Map<ItemList, RollupItem[]>();
  for (const i of items.values()) byList.set(i.list, [...(byList.get(i.list) ?? []), i]);
  for (const list of byList.values()) {
    if (list.length <= TOP) continue;
    list.sort(compareItems);
    for (const i of list.slice(TOP)) items.delete(itemId(i));
  }
}

/**
 * Moves a day's rollup by one change's difference: its contribution to that day before (`before`)
 * and after (`after`) an event. Either may be empty (the change did not touch the day).
 */
export function applyDifference(day: DayPart, before: DayPart | undefined, after: DayPart | undefined): void {
  for (const [k, n] of before?.counters ?? []) day.counters.set(k, (day.counters.get(k) ?? 0) - n);
  for (const [k, n] of after?.counters ?? []) day.counters.set(k, (day.counters.get(k) ?? 0) + n);
  for (const [k, n] of day.counters) if (n === 0) day.counters.delete(k);
  for (const k of before?.items.keys() ?? []) if (!after?.items.has(k)) day.items.delete(k);
  for (const [k, i] of after?.items ?? []) day.items.set(k, i);
  trimItems(day.items);
  for (const k of before?.open.keys() ?? []) day.open.delete(k);
  for (const [k, r] of after?.open ?? []) day.open.set(k, r);
}

/** Adds a whole contribution (a change seen for the first time, as the rebuild does). */
export function addContribution(days: Map<string, DayPart>, c: Map<string, DayPart>): void {
  for (const [day, p] of c) applyDifference(dayIn(days, day), undefined, p);
}

/** Moves the rollup by a change's difference between two states (null: not recorded yet). */
export function applyChange(
  days: Map<string, DayPart>,
  before: ChangeState | null,
  after: ChangeState,
  policy: Policy,
): void {
  const b = before ? contribution(before, policy) : new Map<string, DayPart>();
  const a = contribution(after, policy);
  for (const day of new Set([...b.keys(), ...a.keys()]))
    applyDifference(dayIn(days, day), b.get(day), a.get(day));
}

/** Whether two days hold the same figures (the audit verification's comparison). */
export function sameDay(a: DayPart | undefined, b: DayPart | undefined): boolean {
  const x = a ?? emptyPart();
  const y = b ?? emptyPart();
  const norm = (p: DayPart) =>
    JSON.stringify({
      c: [...p.counters].filter(([, n]) => n !== 0).sort(([k1], [k2]) => (k1 < k2 ? -1 : 1)),
      i: [...p.items.keys()].sort(),
      o: [...p.open.values()].map((r) => JSON.stringify(r)).sort(),
    });
  return norm(x) === norm(y);
}

// ---- reading a period ------------------------------------------------------------------------

function percentiles(hist: Map<number, number>): Percentiles {
  const keys = [...hist.keys()].sort((a, b) => a - b);
  const n = keys.reduce((t, k) => t + hist.get(k)!, 0);
  if (n === 0) return { n: 0, medianHours: null, p90Hours: null };
  const at = (p: number) => {
    const rank = Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1));
    let seen = 0;
    for (const k of keys) {
      seen += hist.get(k)!;
      if (seen > rank) return k / 100;
    }
    return keys.at(-1)! / 100;
  };
  return { n, medianHours: at(0.5), p90Hours: at(0.9) };
}

type Permalinks = ReadonlyMap<number, string | null>;

const top = (items: Omit<LogItem, 'permalink'>[]): LogItem[] =>
  [...items]
    .sort(compareItems)
    .slice(0, TOP)
    .map((i) => ({
      number: i.number,
      title: i.title,
      at: i.at,
      detail: i.detail,
      who: i.who,
      permalink: null,
    }));

/** The lists of a summary whose items link to their change. */
const listsOf = (s: ChangeLogSummary) => [
  s.approvals,
  s.freezeDeployments,
  s.rollbacks,
  s.neverVerified,
  s.unauthorised,
  { items: s.emergencies.items },
];

/** The numbers of the changes a summary's lists show (their permalinks are looked up). */
export function shownNumbers(summary: ChangeLogSummary): number[] {
  return [...new Set(listsOf(summary).flatMap((l) => l.items.map((i) => i.number)))];
}

/** The summary with each listed change's permalink. */
export function withPermalinks(summary: ChangeLogSummary, permalinks: Permalinks): ChangeLogSummary {
  for (const l of listsOf(summary)) for (const i of l.items) i.permalink = permalinks.get(i.number) ?? null;
  return summary;
}

/**
 * The change log of a period made of whole days, from its rollups (periodKeys), as of `now`: the same
 * figures as ChangeLogAccumulator over the same changes (permalinks added by withPermalinks).
 */
export function summarise(
  days: DayPart[],
  period: Period,
  now: Date,
  tz: string,
  policy: Pick<Policy, 'reports'>,
): ChangeLogSummary {
  const inPeriod = new Set(periodDays(period, tz));
  const c = new Map<string, number>();
  const items = new Map<ItemList, RollupItem[]>();
  const open = new Map<string, OpenRecord>();
  for (const d of days) {
    for (const [k, n] of d.counters) c.set(k, (c.get(k) ?? 0) + n);
    for (const i of d.items.values()) items.set(i.list, [...(items.get(i.list) ?? []), i]);
    for (const [k, r] of d.open) open.set(k, r);
  }
  const get = (k: string) => c.get(k) ?? 0;
  const byPrefix = (prefix: string) =>
    [...c]
      .filter(([k, n]) => k.startsWith(`${prefix}${SEP}`) && n !== 0)
      .map(([k, n]) => [k.slice(prefix.length + 1).split(SEP), n] as const);
  const hist = (name: string) => {
    const h = new Map<number, number>();
    for (const [[bucket], n] of byPrefix(`h${SEP}${name}`)) h.set(Number(bucket), n);
    return h;
  };

  const types = new Map<string, Map<string, number>>();
  for (const [[type, name], n] of byPrefix('type')) {
    const names = types.get(type!) ?? new Map<string, number>();
    names.set(name!, (names.get(name!) ?? 0) + n);
    types.set(type!, names);
  }
  const byOutcome: Partial<Record<ChangeStatus, number>> = {};
  for (const [[status], n] of byPrefix('outcome')) byOutcome[status as ChangeStatus] = n;
  const stages = new Map<string, Map<number, number>>();
  for (const [[stage, bucket], n] of byPrefix(`h${SEP}stage`)) {
    const h = stages.get(stage!) ?? new Map<number, number>();
    h.set(Number(bucket), n);
    stages.set(stage!, h);
  }

  let deployed = get('deployed_changes');
  let failedChanges = get('failed_changes');
  const neverVerified: Omit<LogItem, 'permalink'>[] = [];
  const counts = new Map<number, number>();
  let overdueRetros = 0;
  const overdueItems: Omit<LogItem, 'permalink'>[] = [];
  let pirOverdue = 0;
  const anyIn = (ds: string[]) => ds.some((d) => inPeriod.has(d));
  for (const r of open.values()) {
    switch (r.kind) {
      case 'retro':
        if (now > r.dueAt) {
          overdueRetros++;
          overdueItems.push(r.item);
        }
        break;
      case 'pir':
        if (r.dueAt < now) pirOverdue++;
        break;
      case 'never_verified':
        neverVerified.push(r.item);
        break;
      case 'multi': {
        if (!anyIn([...r.succeeded, ...r.failed])) break;
        deployed++;
        if (r.rolledBack || anyIn(r.failed)) failedChanges++;
        if (r.neverVerified && anyIn(r.succeeded)) neverVerified.push(r.neverVerified);
        if (anyIn(r.delivered)) for (const i of r.counts) counts.set(i, (counts.get(i) ?? 0) + 1);
        break;
      }
    }
  }
  const list = (l: ItemList): TopList => ({ total: get(l), items: top(items.get(l) ?? []) });
  const emTotal = get('em_total');
  const onTime = get('em_on_time');
  const late = get('em_late');
  const labels = policy.reports.counts;
  return {
    period,
    raised: get('raised'),
    byType: [...types]
      .map(([type, names]) => {
        const [name] = [...names].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))[0]!;
        return { type, name, count: [...names.values()].reduce((t, n) => t + n, 0) };
      })
      .sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : 1)),
    byOutcome,
    deployed,
    approvals: list('approvals'),
    rejections: get('rejections'),
    refusedAttempts: get('refused'),
    freezeDeployments: { total: get('freeze'), items: top(items.get('freeze') ?? []) },
    emergencies: {
      total: emTotal,
      onTime,
      late,
      overdue: overdueRetros,
      pending: emTotal - onTime - late - overdueRetros,
      reviewPending: get('em_review_pending'),
      items: top([...(items.get('late_retro') ?? []), ...overdueItems]),
    },
    rollbacks: list('rollbacks'),
    failedDeployments: get('failed_deployments'),
    changeFailureRate: deployed === 0 ? null : Math.round((failedChanges / deployed) * 10_000) / 10_000,
    leadTimeToApproval: percentiles(hist('lead_approval')),
    leadTimeToDeploy: percentiles(hist('lead_deploy')),
    stageWait: [...stages]
      .map(([stage, h]) => ({ stage, wait: percentiles(h) }))
      .sort((a, b) => (a.stage < b.stage ? -1 : 1)),
    neverVerified: { total: neverVerified.length, items: top(neverVerified) },
    unauthorised: list('unauthorised'),
    securityChanges: get('security'),
    counts: labels.map((l, i) => ({ label: l.label, count: get(`count${SEP}${i}`) + (counts.get(i) ?? 0) })),
    postImplementation: { answered: get('pir_answered'), overdue: pirOverdue },
  };
}

// ---- storage form ----------------------------------------------------------------------------

/**
 * A day's rollup as a plain document, dates as dates. Its counters (hundreds a day: most are
 * histogram buckets) are one string (see encodeCounters): a database reads and writes one string far
 * faster than as many small documents, and keys hold any text.
 */
export interface StoredDay {
  counters: string;
  items: RollupItem[];
  open: OpenRecord[];
}

/**
 * Counters as one string of records separated by ␞: `key␝count`, and for a histogram its name once
 * with every bucket, `h␟name␝bucket:count,bucket:count`.
 */
export function encodeCounters(counters: ReadonlyMap<string, number>): string {
  const plain: string[] = [];
  const hists = new Map<string, string[]>();
  for (const [k, n] of counters) {
    if (n === 0) continue;
    if (k.startsWith(`h${SEP}`)) {
      const at = k.lastIndexOf(SEP);
      const name = k.slice(0, at);
      hists.set(name, [...(hists.get(name) ?? []), `${k.slice(at + 1)}:${n}`]);
    } else plain.push(`${k}${GS}${n}`);
  }
  return [...plain, ...[...hists].map(([name, buckets]) => `${name}${GS}${buckets.join(',')}`)].join(RS);
}

export function decodeCounters(text: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!text) return out;
  for (const r of text.split(RS)) {
    const at = r.lastIndexOf(GS);
    const key = r.slice(0, at);
    const value = r.slice(at + 1);
    if (!key.startsWith(`h${SEP}`)) {
      out.set(key, Number(value));
      continue;
    }
    for (const b of value.split(',')) {
      const colon = b.lastIndexOf(':');
      out.set(`${key}${SEP}${b.slice(0, colon)}`, Number(b.slice(colon + 1)));
    }
  }
  return out;
}

export const dayToStored = (p: DayPart): StoredDay => ({
  counters: encodeCounters(p.counters),
  items: [...p.items.values()],
  open: [...p.open.values()],
});

export function dayFromStored(s: StoredDay): DayPart {
  const date = (x: unknown) => new Date(x as string | Date);
  const item = <T extends { at: Date }>(i: T): T => ({ ...i, at: date(i.at) });
  return {
    counters: decodeCounters(s.counters),
    items: new Map(s.items.map((i) => [itemId(i), item(i)])),
    open: new Map(
      s.open.map((r) => {
        const x: OpenRecord =
          r.kind === 'retro'
            ? { ...r, dueAt: date(r.dueAt), item: item(r.item) }
            : r.kind === 'pir'
              ? { ...r, dueAt: date(r.dueAt) }
              : r.kind === 'never_verified'
                ? { ...r, item: item(r.item) }
                : { ...r, neverVerified: r.neverVerified ? item(r.neverVerified) : null };
        return [openId(x), x];
      }),
    ),
  };
}
