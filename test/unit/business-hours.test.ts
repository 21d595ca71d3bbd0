import { describe, expect, it } from 'vitest';
import {
  addBusinessHours,
  isWithinWorkingHours,
  nextWorkingInstant,
} from '../../src/domain/business-hours.js';
import type { WorkingHours } from '../../src/domain/policy.js';

const WH: WorkingHours = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' };

describe('working hours in the recipient time zone', () => {
  it('knows 3 a.m. is outside working hours and 10 a.m. inside, per zone', () => {
    // Tuesday 2026-03-10 10:00 UTC is 03:00 in Los Angeles and 11:00 in Berlin.
    const t = new Date('2026-03-10T10:00:00Z');
    expect(isWithinWorkingHours(t, WH, 'America/Los_Angeles')).toBe(false);
    expect(isWithinWorkingHours(t, WH, 'Europe/Berlin')).toBe(true);
  });

  it('defers to the next working morning, skipping the weekend', () => {
    // Friday 2026-03-13 18:00 in New York → Monday 09:00 New York (13:00 UTC, EDT).
    expect(nextWorkingInstant(new Date('2026-03-13T22:00:00Z'), WH, 'America/New_York').toISOString()).toBe(
      '2026-03-16T13:00:00.000Z',
    );
    // Before the day starts: same day 09:00.
    expect(nextWorkingInstant(new Date('2026-03-10T06:00:00Z'), WH, 'Europe/London').toISOString()).toBe(
      '2026-03-10T09:00:00.000Z',
    );
  });

  it('adds business hours across evenings and weekends', () => {
    // Friday 15:00 London + 4 business hours = Monday 11:00.
    expect(addBusinessHours(new Date('2026-03-13T15:00:00Z'), 4, WH, 'Europe/London').toISOString()).toBe(
      '2026-03-16T11:00:00.000Z',
    );
    // Saturday + 1 hour = Monday 10:00.
    expect(addBusinessHours(new Date('2026-03-14T12:00:00Z'), 1, WH, 'Europe/London').toISOString()).toBe(
      '2026-03-16T10:00:00.000Z',
    );
    // Within one day.
    expect(addBusinessHours(new Date('2026-03-10T09:30:00Z'), 2.5, WH, 'Europe/London').toISOString()).toBe(
      '2026-03-10T12:00:00.000Z',
    );
  });
});
