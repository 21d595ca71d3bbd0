import type { ChangeRecord, ChangeSearch, ReadDeps } from './ports.js';

export type { ChangeSearch };

/** Filtered, newest-first pages of changes for dashboards and scripts (`before` is the cursor). */
export function searchChanges(
  deps: ReadDeps,
  q: ChangeSearch,
): Promise<{ items: ChangeRecord[]; nextBefore: number | null }> {
  return deps.changes.search(q);
}
