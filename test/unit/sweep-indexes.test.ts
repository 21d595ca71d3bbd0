import mongoose from 'mongoose';
import { describe, expect, it } from 'vitest';
import { CANDIDATE_SETS, candidateFilter } from '../../src/infra/db/change-repository.js';
import { createModels } from '../../src/infra/db/models.js';

/**
 * MongoDB narrows a query by an index only through its leading key, and an `$or` only when every
 * branch is narrowed; without one a sweep reads every change ever recorded each minute. Here, with
 * no database: each branch of each sweep's query constrains the leading key of some index declared
 * on changes (the benchmark prints the plans MongoDB actually picks when run there).
 */
describe("the sweeps' queries on MongoDB", () => {
  const { Change, RollupMark } = createModels(mongoose.createConnection());
  const leadingKeys = new Set(Change.schema.indexes().map(([fields]) => Object.keys(fields)[0]!));
  const narrows = (condition: unknown) =>
    condition === null ||
    typeof condition !== 'object' ||
    condition instanceof Date ||
    Object.keys(condition).every((op) => ['$in', '$lt', '$lte', '$gt', '$gte', '$ne'].includes(op));
  const branches = (filter: Record<string, unknown>): Record<string, unknown>[] =>
    Array.isArray(filter.$or) ? (filter.$or as Record<string, unknown>[]) : [filter];

  it.each(CANDIDATE_SETS)('%s: every branch has an index to start from', (set) => {
    const filter = candidateFilter(set, new Date('2026-03-10T12:00:00Z')) as Record<string, unknown>;
    for (const branch of branches(filter)) {
      const usable = Object.entries(branch).filter(([field, c]) => leadingKeys.has(field) && narrows(c));
      expect(
        usable.map(([field]) => field),
        JSON.stringify(branch),
      ).not.toEqual([]);
    }
  });

  it('the rollups read their oldest marks through an index', () => {
    expect(RollupMark.schema.indexes().map(([fields]) => Object.keys(fields)[0])).toContain('at');
  });
});
