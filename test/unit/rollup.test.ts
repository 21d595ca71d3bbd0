import { describe, expect, it } from 'vitest';
import { ChangeLogAccumulator } from '../../src/domain/change-log.js';
import { applyEvent, type ChangeState } from '../../src/domain/lifecycle.js';
import { parsePeriod } from '../../src/domain/period.js';
import {
  addContribution,
  applyChange,
  applyDifference,
  contribution,
  type DayPart,
  dayFromStored,
  dayToStored,
  periodDays,
  periodKeys,
  sameDay,
  summarise,
  wholeDays,
} from '../../src/domain/rollup.js';
import { TEST_POLICY_YAML, testPolicy } from '../support/harness-policy.js';
import { type GeneratedChange, generateHistories, prng } from '../support/histories.js';

// The test policy, with post-implementation reviews on normal changes and a report count of each kind.
const loaded = testPolicy(
  TEST_POLICY_YAML.replace(
    '  normal:\n    name: Normal\n',
    "  normal:\n    name: Normal\n    postImplementationReviews:\n      - { name: One week on, afterHours: 168, questions: ['Did it do what it should?'] }\n",
  ).concat(
    [
      'reports:',
      '  counts:',
      '    - { label: Deployed, event: deployed, when: {} }',
      '    - { label: Security raised, event: raised, when: { securityFlags: any } }',
      '    - { label: Emergencies deployed, event: deployed, when: { emergency: true } }',
      '    - { label: Verified, event: verified, when: { types: [normal] } }',
      '    - { label: Rolled back, event: rolled_back, when: {} }',
      '',
    ].join('\n'),
  ),
);
const policy = loaded.policy;
const tz = policy.timezone;
const END = new Date('2026-11-20T18:00:00Z');

function histories(seed: number, changes: number): GeneratedChange[] {
  return [
    ...generateHistories(loaded, {
      changes,
      months: 4,
      end: END,
      seed,
      groups: { S0SECURITY: ['U0123ERIN'] },
    }),
  ];
}

/** Today's full scan: the accumulator over every change's final state. */
function fullScan(changes: GeneratedChange[], period: string, now: Date) {
  const p = parsePeriod(period, now, tz);
  if (!p.ok) throw new Error(p.message);
  const acc = new ChangeLogAccumulator(p.period, policy, now);
  for (const c of changes) acc.add(c.state);
  return { period: p.period, summary: acc.result() };
}

/** The rollups a period reads: its whole months and edge days (or, `byDay`, every day of it). */
const inPeriod = (
  days: Map<string, DayPart>,
  period: { from: Date; to: Date; label: string },
  byDay = false,
) =>
  (byDay ? periodDays(period, tz) : periodKeys(period, tz))
    .map((d) => days.get(d))
    .filter((d): d is DayPart => !!d);

describe('per-day rollups of the change log', () => {
  it('periods are whole days of the policy calendar, so days answer them', () => {
    for (const text of [
      '',
      '7d',
      '90d',
      '12m',
      '1y',
      '2026-10',
      '2026-Q3',
      'from 2026-09-01 to 2026-09-30',
    ]) {
      const p = parsePeriod(text, END, tz);
      expect(p.ok && wholeDays(p.period, tz)).toBe(true);
    }
  });

  it('a period reads its whole months as one rollup each and its other days one by one', () => {
    const keys = (text: string) => {
      const p = parsePeriod(text, END, tz);
      if (!p.ok) throw new Error(p.message);
      return periodKeys(p.period, tz);
    };
    expect(keys('2026-Q3')).toEqual(['2026-07', '2026-08', '2026-09']);
    expect(keys('2026-02')).toEqual(['2026-02']);
    expect(keys('7d')).toEqual([
      '2026-11-14',
      '2026-11-15',
      '2026-11-16',
      '2026-11-17',
      '2026-11-18',
      '2026-11-19',
      '2026-11-20',
    ]);
    // A year to today: the rest of November 2025, eleven months, and November 2026 so far.
    const year = keys('12m');
    expect(year.filter((k) => k.length === 7)).toEqual([
      '2025-12',
      '2026-01',
      '2026-02',
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
      '2026-09',
      '2026-10',
    ]);
    expect(year.filter((k) => k.length === 10)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `2025-11-${String(21 + i)}`),
      ...Array.from({ length: 20 }, (_, i) => `2026-11-${String(1 + i).padStart(2, '0')}`),
    ]);
  });

  it.each([1, 2, 3])('equal the full scan for a random history (seed %i), event by event', (seed) => {
    const changes = histories(seed, 1500);
    // Events are applied one by one, changes interleaved at random, as writers record them.
    const rnd = prng(seed * 7919);
    const cursors = changes.map((c) => ({ c, next: 0, state: null as ChangeState | null }));
    const days = new Map<string, DayPart>();
    let live = cursors.filter((x) => x.c.events.length > 0);
    while (live.length > 0) {
      const x = live[Math.floor(rnd() * live.length)]!;
      const after = applyEvent(x.state, x.c.events[x.next]!);
      applyChange(days, x.state, after, policy);
      x.state = after;
      x.next++;
      if (x.next === x.c.events.length) live = live.filter((y) => y !== x);
    }
    // …and the rebuild from the final states gives the same days.
    const rebuilt = new Map<string, DayPart>();
    for (const c of changes) addContribution(rebuilt, contributionOf(c.state));
    for (const day of new Set([...days.keys(), ...rebuilt.keys()]))
      expect(sameDay(days.get(day), rebuilt.get(day)), day).toBe(true);

    for (const period of ['', '7d', '90d', '12m', '2026-09', '2026-Q3', 'from 2026-08-14 to 2026-10-02']) {
      for (const now of [END, new Date(END.getTime() + 30 * 86_400_000)]) {
        const scan = fullScan(changes, period, now);
        const fromMonths = summarise(inPeriod(days, scan.period), scan.period, now, tz, policy);
        expect(fromMonths, `${period} at ${now.toISOString()}`).toEqual(scan.summary);
        const fromDays = summarise(inPeriod(days, scan.period, true), scan.period, now, tz, policy);
        expect(fromDays, `${period} by day at ${now.toISOString()}`).toEqual(scan.summary);
      }
    }
    // The history exercises what the rollups must get right.
    const year = fullScan(changes, '12m', END).summary;
    expect(year.raised).toBe(1500);
    expect(year.emergencies.overdue + year.emergencies.late).toBeGreaterThan(0);
    expect(year.postImplementation.answered).toBeGreaterThan(0);
    expect(year.postImplementation.overdue).toBeGreaterThan(0);
    expect(year.failedDeployments).toBeGreaterThan(0);
    expect(year.freezeDeployments.total).toBeGreaterThan(0);
    expect(year.rollbacks.total).toBeGreaterThan(0);
    expect(year.neverVerified.total).toBeGreaterThan(0);
    expect(
      changes.some((c) => {
        const prod = c.state.deployments.filter((d) => d.production);
        return new Set(prod.map((d) => d.at.toISOString().slice(0, 10))).size > 1;
      }),
    ).toBe(true);
  });

  it('survive their storage form', () => {
    const changes = histories(9, 300);
    const days = new Map<string, DayPart>();
    for (const c of changes) applyChange(days, null, c.state, policy);
    for (const [day, part] of days) {
      const stored = JSON.parse(JSON.stringify(dayToStored(part)));
      expect(sameDay(dayFromStored(stored), part), day).toBe(true);
    }
    const p = parsePeriod('12m', END, tz);
    if (!p.ok) throw new Error();
    const back = new Map(
      [...days].map(([d, x]) => [d, dayFromStored(JSON.parse(JSON.stringify(dayToStored(x))))]),
    );
    expect(summarise(inPeriod(back, p.period), p.period, END, tz, policy)).toEqual(
      fullScan(changes, '12m', END).summary,
    );
  });

  it('moving back by a difference undoes it', () => {
    const [c] = histories(4, 1);
    const days = new Map<string, DayPart>();
    applyChange(days, null, c!.state, policy);
    for (const [day, part] of contributionOf(c!.state)) applyChangeBack(days, day, part);
    for (const part of days.values()) expect(sameDay(part, undefined)).toBe(true);
  });
});

function contributionOf(s: ChangeState) {
  return contribution(s, policy);
}

function applyChangeBack(days: Map<string, DayPart>, day: string, part: DayPart) {
  applyDifference(days.get(day)!, part, undefined);
}
