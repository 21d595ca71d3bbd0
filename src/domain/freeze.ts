import type { FreezeDef, Policy } from './policy.js';
import { zonedParts, zonedToInstant } from './time.js';

export interface FreezeOccurrence {
  name: string;
  start: Date;
  end: Date; // exclusive
  def: FreezeDef;
}

/** Occurrences of one freeze that may touch the years [fromYear, toYear]. */
function occurrences(def: FreezeDef, fromYear: number, toYear: number): FreezeOccurrence[] {
  const w = def.window;
  if (w.kind === 'fixed') {
    return [
      {
        name: def.name,
        start: zonedToInstant(w.start, def.timezone),
        end: zonedToInstant(w.end, def.timezone),
        def,
      },
    ];
  }
  const out: FreezeOccurrence[] = [];
  const wraps = w.end <= w.start;
  for (let y = fromYear - 1; y <= toYear; y++) {
    const start = zonedToInstant(`${y}-${w.start}`, def.timezone);
    const end = zonedToInstant(`${wraps ? y + 1 : y}-${w.end}`, def.timezone);
    out.push({ name: def.name, start, end, def });
  }
  return out;
}

/** Freeze occurrences blocking `type` that overlap [from, to] (a single instant when from === to). */
export function blockingFreezes(
  policy: Policy,
  type: string,
  from: Date,
  to: Date = from,
): FreezeOccurrence[] {
  const result: FreezeOccurrence[] = [];
  for (const def of policy.freezes) {
    if (!def.blocks.includes(type)) continue;
    const y0 = zonedParts(from, def.timezone).year;
    const y1 = zonedParts(to, def.timezone).year;
    for (const occ of occurrences(def, y0, y1)) {
      const overlaps =
        from.getTime() === to.getTime()
          ? occ.start <= from && from < occ.end
          : occ.start < to && from < occ.end;
      if (overlaps) {
        result.push(occ);
        break;
      }
    }
  }
  return result;
}

/** Every freeze in force at `at`, whatever it blocks (for display). */
export function activeFreezes(policy: Policy, at: Date): FreezeOccurrence[] {
  const result: FreezeOccurrence[] = [];
  for (const def of policy.freezes) {
    const y = zonedParts(at, def.timezone).year;
    const occ = occurrences(def, y, y).find((o) => o.start <= at && at < o.end);
    if (occ) result.push(occ);
  }
  return result;
}
