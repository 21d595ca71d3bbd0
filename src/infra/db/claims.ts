import { insertOnce } from './connection.js';
import type { Models } from './models.js';

/**
 * Claims `key` for `ttlMs` by inserting it under its unique _id (atomic on MongoDB and FerretDB):
 * true for the one caller that claimed it. A claim whose time ran out is taken over (its holder
 * died); the delete and the new insert keep that to one taker.
 */
export async function claimKey(
  models: Models,
  key: string,
  ttlMs: number,
  now = new Date(),
): Promise<boolean> {
  const insert = () =>
    insertOnce(models.IdempotencyKey, { _id: key, at: now, expiresAt: new Date(now.getTime() + ttlMs) });
  if (await insert()) return true;
  const expired = await models.IdempotencyKey.deleteOne({ _id: key, expiresAt: { $lt: now } });
  return expired.deletedCount > 0 && (await insert());
}
