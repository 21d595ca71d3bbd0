import dayjs from 'dayjs';
import timezone from 'dayjs/plugin/timezone.js';
import utc from 'dayjs/plugin/utc.js';
import type { Weekday } from './policy.js';

dayjs.extend(utc);
dayjs.extend(timezone);

/** What time it is. Injected everywhere so tests can move time without sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * A wall-clock date-time (`YYYY-MM-DDTHH:mm` or `YYYY-MM-DD`) in `tz`, as an instant. The same few
 * values (freeze boundaries, working-hour edges) are asked for on every decision, and dayjs'
 * time-zone conversion is slow, so results are kept (a bounded cache of pure results).
 */
export function zonedToInstant(local: string, tz: string): Date {
  const key = `${tz}|${local}`;
  let ms = instantCache.get(key);
  if (ms === undefined) {
    ms = dayjs.tz(local, tz).valueOf();
    if (instantCache.size >= 10_000) instantCache.clear();
    instantCache.set(key, ms);
  }
  return new Date(ms);
}
const instantCache = new Map<string, number>();

const WEEKDAY_BY_INDEX: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const WEEKDAY_BY_SHORT: Record<string, Weekday> = {
  Sun: 'sun',
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
};

export interface ZonedParts {
  year: number;
  month: number; // 1-12
  day: number;
  weekday: Weekday;
  minuteOfDay: number;
  date: string; // YYYY-MM-DD
}

/** One formatter per time zone: building an Intl.DateTimeFormat is the expensive part. */
const partsFormatters = new Map<string, Intl.DateTimeFormat>();
function partsFormatter(tz: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
    partsFormatters.set(tz, f);
  }
  return f;
}

/** The calendar fields of `instant` on a wall clock in `tz`. */
export function zonedParts(instant: Date, tz: string): ZonedParts {
  const p: Record<string, string> = {};
  for (const part of partsFormatter(tz).formatToParts(instant)) p[part.type] = part.value;
  const year = Number(p.year);
  const month = Number(p.month);
  const day = Number(p.day);
  return {
    year,
    month,
    day,
    weekday: WEEKDAY_BY_SHORT[p.weekday ?? ''] ?? WEEKDAY_BY_INDEX[instant.getUTCDay()]!,
    minuteOfDay: Number(p.hour) * 60 + Number(p.minute),
    date: `${String(year).padStart(4, '0')}-${p.month}-${p.day}`,
  };
}

/** Midnight-relative minutes of `HH:mm`. */
export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** The instant at `minuteOfDay` on the local calendar day `date` (YYYY-MM-DD) in `tz`. */
export function atLocalMinute(date: string, minuteOfDay: number, tz: string): Date {
  const hh = String(Math.floor(minuteOfDay / 60)).padStart(2, '0');
  const mm = String(minuteOfDay % 60).padStart(2, '0');
  return zonedToInstant(`${date}T${hh}:${mm}`, tz);
}

export function addLocalDays(date: string, days: number): string {
  return dayjs.utc(date).add(days, 'day').format('YYYY-MM-DD');
}

export function formatInZone(instant: Date, tz: string, format = 'YYYY-MM-DD HH:mm'): string {
  return dayjs(instant).tz(tz).format(format);
}

export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;
