import type { Clock } from '../../src/domain/time.js';

/** A clock the test moves by hand. */
export class TestClock implements Clock {
  private t: number;
  constructor(start: Date | string = '2026-03-10T10:00:00Z') {
    this.t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  set(d: Date | string): void {
    this.t = new Date(d).getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
  advanceHours(h: number): void {
    this.t += h * 3_600_000;
  }
}
