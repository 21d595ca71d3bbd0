import { parseChangeId } from '../../domain/change.js';
import { type Period, parsePeriod } from '../../domain/period.js';
import { sanitizeLine } from '../../domain/text.js';

export type ChangeLogCommand =
  | { kind: 'summary'; period: Period; public: boolean }
  | { kind: 'trail'; n: number; public: boolean }
  | { kind: 'export'; period: Period; format: 'csv' | 'json' }
  | { kind: 'policy' }
  | { kind: 'help' }
  | { kind: 'invalid'; message: string };

/** `/change-log [period | CR-42 | policy | export <period> [csv|json]] [public]`. */
export function parseChangeLogCommand(raw: string, now: Date, tz: string): ChangeLogCommand {
  let words = sanitizeLine(raw ?? '')
    .slice(0, 200)
    .toLowerCase()
    .split(' ')
    .filter(Boolean);
  if (words[0] === 'help') return { kind: 'help' };
  if (words.length === 1 && words[0] === 'policy') return { kind: 'policy' };
  const isPublic = words.includes('public');
  words = words.filter((w) => w !== 'public');
  if (words[0] === 'export') {
    let format: 'csv' | 'json' = 'csv';
    const last = words[words.length - 1];
    if (last === 'csv' || last === 'json') {
      format = last;
      words = words.slice(0, -1);
    }
    const p = parsePeriod(words.slice(1).join(' '), now, tz);
    return p.ok ? { kind: 'export', period: p.period, format } : { kind: 'invalid', message: p.message };
  }
  if (words.length === 1) {
    const n = /^(cr-?|#)\d+$/.test(words[0]!) ? parseChangeId(words[0]!) : null;
    if (n) return { kind: 'trail', n, public: isPublic };
  }
  const p = parsePeriod(words.join(' '), now, tz);
  return p.ok
    ? { kind: 'summary', period: p.period, public: isPublic }
    : { kind: 'invalid', message: p.message };
}
