import { describe, expect, it } from 'vitest';
import { parsePeriod, previousMonth } from '../../src/domain/period.js';

const NOW = new Date('2026-11-21T12:00:00Z');
const TZ = 'America/Los_Angeles';
const p = (text: string) => {
  const r = parsePeriod(text, NOW, TZ);
  if (!r.ok) throw new Error(r.message);
  return { from: r.period.from.toISOString(), to: r.period.to.toISOString(), label: r.period.label };
};

describe('periods', () => {
  it.each([
    ['', '2026-10-23T07:00:00.000Z', '2026-11-22T08:00:00.000Z', 'the last 30 days'],
    ['7d', '2026-11-15T08:00:00.000Z', '2026-11-22T08:00:00.000Z', 'the last 7 days'],
    ['90d', '2026-08-24T07:00:00.000Z', '2026-11-22T08:00:00.000Z', 'the last 90 days'],
    // Whole days on the policy's clock (today included): midnight in Los Angeles, summer time in August.
    ['12m', '2025-11-22T08:00:00.000Z', '2026-11-22T08:00:00.000Z', 'the last 12 months'],
    ['1y', '2025-11-22T08:00:00.000Z', '2026-11-22T08:00:00.000Z', 'the last year'],
    ['3m', '2026-08-22T07:00:00.000Z', '2026-11-22T08:00:00.000Z', 'the last 3 months'],
    ['13M', '2025-10-22T07:00:00.000Z', '2026-11-22T08:00:00.000Z', 'the last 13 months'],
    ['2026-10', '2026-10-01T07:00:00.000Z', '2026-11-01T07:00:00.000Z', '2026-10'],
    ['2026-12', '2026-12-01T08:00:00.000Z', '2027-01-01T08:00:00.000Z', '2026-12'],
    ['2026-Q3', '2026-07-01T07:00:00.000Z', '2026-10-01T07:00:00.000Z', '2026-Q3'],
    ['2026-q4', '2026-10-01T07:00:00.000Z', '2027-01-01T08:00:00.000Z', '2026-Q4'],
    [
      'from 2026-09-01 to 2026-09-30',
      '2026-09-01T07:00:00.000Z',
      '2026-10-01T07:00:00.000Z',
      '2026-09-01 to 2026-09-30',
    ],
  ])('%j in the policy time zone', (text, from, to, label) => {
    expect(p(text)).toEqual({ from, to, label });
  });

  it.each([
    'last week',
    '2026-13',
    '2026-Q5',
    'from 2026-09-31 to 2026-10-01',
    'from 2026-10-01 to 2026-09-01',
    '0d',
    '5000d',
    'from 2020-01-01 to 2026-01-01',
    '14m',
    '0m',
    '2y',
  ])('refuses %j with a message', (text) => {
    const r = parsePeriod(text, NOW, TZ);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message.length).toBeGreaterThan(10);
  });

  it('knows the previous month, across the new year', () => {
    expect(previousMonth(new Date('2026-11-01T17:00:00Z'), TZ).label).toBe('2026-10');
    expect(previousMonth(new Date('2027-01-01T17:00:00Z'), TZ)).toMatchObject({
      label: '2026-12',
      from: new Date('2026-12-01T08:00:00Z'),
    });
  });
});
