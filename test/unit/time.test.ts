import dayjs from 'dayjs';
import { describe, expect, it } from 'vitest';
import { zonedParts, zonedToInstant } from '../../src/domain/time.js';

const ZONES = [
  'UTC',
  'America/Los_Angeles',
  'Europe/London',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
];

describe('zonedParts', () => {
  it('agrees with dayjs for instants across years, DST changes and odd offsets', () => {
    // Every 7 h 13 min over two years: crosses every DST change in these zones at varied minutes.
    const start = Date.UTC(2025, 0, 1);
    for (let t = start; t < start + 2 * 366 * 86_400_000; t += (7 * 60 + 13) * 60_000) {
      for (const tz of ZONES) {
        const d = dayjs(t).tz(tz);
        expect(zonedParts(new Date(t), tz), `${new Date(t).toISOString()} ${tz}`).toEqual({
          year: d.year(),
          month: d.month() + 1,
          day: d.date(),
          weekday: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][d.day()],
          minuteOfDay: d.hour() * 60 + d.minute(),
          date: d.format('YYYY-MM-DD'),
        });
      }
    }
  });

  it('zonedToInstant returns a fresh Date each time (the cache keeps numbers, not shared objects)', () => {
    const a = zonedToInstant('2026-12-24T00:00', 'Europe/London');
    a.setTime(0);
    expect(zonedToInstant('2026-12-24T00:00', 'Europe/London').toISOString()).toBe(
      '2026-12-24T00:00:00.000Z',
    );
  });
});
