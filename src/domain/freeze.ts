import type { FreezeDef, MaintenanceWindowDef, Policy, Weekday } from './policy.js';
import { minutesOf, zonedParts, zonedToInstant } from './time.js';

export interface FreezeOccurrence {
  name: string;
  start: Date;
  end: Date; // exclusive
  def: FreezeDef;
}

/** What a deployment touches: its environment and the change's systems (both optional for display). */
export interface DeployScope {
  environment?: string;
  systems?: readonly string[];
}

function scopeCovers(
  policy: Policy,
  def: { environments: string[] | null; systems: string[] },
  scope: DeployScope,
): boolean {
  if (scope.environment !== undefined) {
    const envs = def.environments ?? policy.productionEnvironments;
    if (!envs.includes(scope.environment.toLowerCase())) return false;
  }
  if (def.systems.length > 0 && scope.systems !== undefined) {
    const named = new Set(scope.systems.map((s) => s.toLowerCase()));
    if (!def.systems.some((s) => named.has(s.toLowerCase()))) return false;
  }
  return true;
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

/**
 * Freeze occurrences blocking `type` that overlap [from, to] (a single instant when from === to),
 * within the scope given (an environment, the change's systems); no environment: the production ones.
 */
export function blockingFreezes(
  policy: Policy,
  type: string,
  from: Date,
  to: Date = from,
  scope: DeployScope = {},
): FreezeOccurrence[] {
  const result: FreezeOccurrence[] = [];
  const where = {
    environment: scope.environment ?? policy.productionEnvironments[0],
    systems: scope.systems,
  };
  for (const def of policy.freezes) {
    if (!def.blocks.includes(type) || !scopeCovers(policy, def, where)) continue;
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

const WEEK: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Whether `at` lies inside one of the window's occurrences (a window past midnight belongs to its start day). */
export function insideMaintenanceWindow(def: MaintenanceWindowDef, at: Date): boolean {
  const p = zonedParts(at, def.timezone);
  const start = minutesOf(def.start);
  const end = minutesOf(def.end);
  const wraps = end <= start;
  if (def.days.includes(p.weekday) && p.minuteOfDay >= start && (wraps || p.minuteOfDay < end)) return true;
  if (!wraps) return false;
  const yesterday = WEEK[(WEEK.indexOf(p.weekday) + 6) % 7]!;
  return def.days.includes(yesterday) && p.minuteOfDay < end;
}

/** The maintenance windows that govern a deployment of `type` in this scope (exempt types: none). */
export function applicableMaintenanceWindows(
  policy: Policy,
  type: string,
  scope: Required<Pick<DeployScope, 'environment'>> & DeployScope,
): MaintenanceWindowDef[] {
  return policy.maintenanceWindows.filter((w) => !w.exempt.includes(type) && scopeCovers(policy, w, scope));
}

/**
 * Why deploying now is outside the maintenance windows: the windows that govern it when `at` lies
 * in none of them (empty: inside one, or none governs it).
 */
export function maintenanceWindowsMissed(
  policy: Policy,
  type: string,
  at: Date,
  scope: Required<Pick<DeployScope, 'environment'>> & DeployScope,
): MaintenanceWindowDef[] {
  const windows = applicableMaintenanceWindows(policy, type, scope);
  if (windows.length === 0 || windows.some((w) => insideMaintenanceWindow(w, at))) return [];
  return windows;
}
