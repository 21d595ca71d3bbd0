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

/** A wall-clock date-time (`YYYY-MM-DDTHH:mm` or `YYYY-MM-DD`) in `tz`, as an instant. */
export function zonedToInstant(local: string, tz: string): Date {
  return dayjs.tz(local, tz).toDate();
}

const WEEKDAY_BY_INDEX: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export interface ZonedParts {
  year: number;
  month: number; // 1-12
  day: number;
  weekday: Weekday;
  minuteOfDay: number;
  date: string; // YYYY-MM-DD
}

export function zonedParts(instant: Date, tz: string): ZonedParts {
  const d = dayjs(instant).tz(tz);
  return {
    year: d.year(),
    month: d.month() + 1,
    day: d.date(),
    weekday: WEEKDAY_BY_INDEX[d.day()]!,
    minuteOfDay: d.hour() * 60 + d.minute(),
    date: d.format('YYYY-MM-DD'),
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
