import { addLocalDays, DAY_MS, zonedParts, zonedToInstant } from './time.js';

/** A reporting period: [from, to) with a label people recognise. */
export interface Period {
  from: Date;
  to: Date;
  label: string;
}

export type PeriodParse = { ok: true; period: Period } | { ok: false; message: string };

const MAX_DAYS = 800;

function monthStart(year: number, month: number, tz: string): Date {
  return zonedToInstant(`${year}-${String(month).padStart(2, '0')}-01`, tz);
}

function nextMonth(year: number, month: number): [number, number] {
  return month === 12 ? [year + 1, 1] : [year, month + 1];
}

function validDate(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/**
 * Parses the period of `/change-log` and the export APIs, in the policy's time zone: nothing (the
 * last 30 days), `7d`, `90d`, `12m` / `1y` (the last months or year), `2026-10`, `2026-Q3`,
 * `from 2026-09-01 to 2026-09-30` (inclusive).
 */
export function parsePeriod(text: string, now: Date, tz: string): PeriodParse {
  const t = text.trim().toLowerCase();
  // Every period is made of whole days of the policy's calendar (so that per-day rollups answer it):
  // the last N days are today and the N - 1 days before it.
  const today = zonedParts(now, tz).date;
  const tomorrow = zonedToInstant(addLocalDays(today, 1), tz);
  const lastDays = (days: number): Period => ({
    from: zonedToInstant(addLocalDays(today, 1 - days), tz),
    to: tomorrow,
    label: `the last ${days} days`,
  });
  if (!t) return { ok: true, period: lastDays(30) };
  let m = /^(\d{1,3})d$/.exec(t);
  if (m) {
    const days = Number(m[1]);
    if (days < 1 || days > MAX_DAYS) return { ok: false, message: `Choose between 1d and ${MAX_DAYS}d.` };
    return { ok: true, period: lastDays(days) };
  }
  // `12m`, `1y`: the last N calendar months (or years) up to now, on the policy's clock.
  m = /^(\d{1,2})(m|mo|y)$/.exec(t);
  if (m) {
    const months = Number(m[1]) * (m[2] === 'y' ? 12 : 1);
    if (months < 1 || months > 13) return { ok: false, message: 'Choose between 1m and 13m (or 1y).' };
    const p = zonedParts(now, tz);
    const monthIndex = p.year * 12 + (p.month - 1) - months;
    const y = Math.floor(monthIndex / 12);
    const mo = (monthIndex % 12) + 1;
    // From the day after the same day of that month (or its last, for the 31st of a shorter month).
    const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    const date = `${y}-${String(mo).padStart(2, '0')}-${String(Math.min(p.day, last)).padStart(2, '0')}`;
    const from = zonedToInstant(addLocalDays(date, 1), tz);
    const unit =
      m[2] === 'y' ? (Number(m[1]) === 1 ? 'year' : 'years') : Number(m[1]) === 1 ? 'month' : 'months';
    return {
      ok: true,
      period: { from, to: tomorrow, label: `the last ${Number(m[1]) === 1 ? '' : `${m[1]} `}${unit}` },
    };
  }
  m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(t);
  if (m) {
    const [y, mo] = [Number(m[1]), Number(m[2])];
    const [ny, nm] = nextMonth(y, mo);
    return {
      ok: true,
      period: { from: monthStart(y, mo, tz), to: monthStart(ny, nm, tz), label: `${m[1]}-${m[2]}` },
    };
  }
  m = /^(\d{4})-q([1-4])$/.exec(t);
  if (m) {
    const y = Number(m[1]);
    const q = Number(m[2]);
    const first = (q - 1) * 3 + 1;
    const [ny, nm] = q === 4 ? [y + 1, 1] : [y, first + 3];
    return {
      ok: true,
      period: { from: monthStart(y, first, tz), to: monthStart(ny, nm, tz), label: `${y}-Q${q}` },
    };
  }
  m = /^from (\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2})$/.exec(t);
  if (m) {
    const [a, b] = [m[1]!, m[2]!];
    if (!validDate(a) || !validDate(b)) return { ok: false, message: 'Those are not real dates.' };
    if (b < a) return { ok: false, message: 'The end date is before the start date.' };
    const from = zonedToInstant(a, tz);
    const to = zonedToInstant(addLocalDays(b, 1), tz);
    if (to.getTime() - from.getTime() > MAX_DAYS * DAY_MS)
      return { ok: false, message: `A period can span at most ${MAX_DAYS} days.` };
    return { ok: true, period: { from, to, label: `${a} to ${b}` } };
  }
  return {
    ok: false,
    message:
      'I did not understand the period. Use 7d, 90d, 12m, 1y, 2026-10, 2026-Q3, or from 2026-09-01 to 2026-09-30.',
  };
}

/** The calendar month before the one containing `now`, in `tz` (for the monthly report). */
export function previousMonth(now: Date, tz: string): Period {
  const p = zonedParts(now, tz);
  const [y, m] = p.month === 1 ? [p.year - 1, 12] : [p.year, p.month - 1];
  const label = `${y}-${String(m).padStart(2, '0')}`;
  return { from: monthStart(y, m, tz), to: monthStart(p.year, p.month, tz), label };
}
