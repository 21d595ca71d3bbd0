import type { WorkingHours } from './policy.js';
import { addLocalDays, atLocalMinute, MINUTE_MS, minutesOf, zonedParts } from './time.js';

/**
 * Working-hours arithmetic in a recipient's time zone: nothing is sent at 3 a.m. their time.
 */
export function isWithinWorkingHours(at: Date, hours: WorkingHours, tz: string): boolean {
  const p = zonedParts(at, tz);
  if (!hours.days.includes(p.weekday)) return false;
  return p.minuteOfDay >= minutesOf(hours.start) && p.minuteOfDay < minutesOf(hours.end);
}

/** The first instant at or after `at` that falls within working hours. */
export function nextWorkingInstant(at: Date, hours: WorkingHours, tz: string): Date {
  if (isWithinWorkingHours(at, hours, tz)) return at;
  const start = minutesOf(hours.start);
  let p = zonedParts(at, tz);
  let date = p.date;
  if (hours.days.includes(p.weekday) && p.minuteOfDay < start) return atLocalMinute(date, start, tz);
  for (let i = 0; i < 14; i++) {
    date = addLocalDays(date, 1);
    const candidate = atLocalMinute(date, start, tz);
    p = zonedParts(candidate, tz);
    if (hours.days.includes(p.weekday)) return candidate;
  }
  return at; // no working days configured: never defer forever
}

/** `from` plus `hours` of working time in `tz`. */
export function addBusinessHours(from: Date, hours: number, wh: WorkingHours, tz: string): Date {
  let remaining = Math.round(hours * 60); // minutes
  let cursor = nextWorkingInstant(from, wh, tz);
  const end = minutesOf(wh.end);
  for (let guard = 0; guard < 1000 && remaining > 0; guard++) {
    const p = zonedParts(cursor, tz);
    const available = end - p.minuteOfDay;
    if (remaining <= available) return new Date(cursor.getTime() + remaining * MINUTE_MS);
    remaining -= available;
    cursor = nextWorkingInstant(atLocalMinute(p.date, end, tz), wh, tz);
  }
  return cursor;
}
