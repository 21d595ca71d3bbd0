import type { LoadedChange } from '../infra/db/change-repository.js';
import type { Deps } from './ports.js';

/** A change with its full history, read from the event log (always current). */
export function getChange(deps: Deps, changeNumber: number): Promise<LoadedChange | null> {
  return deps.changes.load(changeNumber);
}
