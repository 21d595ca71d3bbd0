import type { LoadedChange, ReadDeps } from './ports.js';

/** A change with its full history, read from the event log (always current). */
export function getChange(deps: ReadDeps, changeNumber: number): Promise<LoadedChange | null> {
  return deps.changes.load(changeNumber);
}
