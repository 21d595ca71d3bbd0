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
  return (await claimOrTakeOver(models, key, ttlMs, now)) !== null;
}

/**
 * `claimKey`, telling a first claim from the takeover of a claim whose holder ran out of time
 * (that holder may have done part of the work before it stopped; its time ran out at
 * `previousUntil`), with the time the claim runs out.
 */
export async function claimOrTakeOver(
  models: Models,
  key: string,
  ttlMs: number,
  now = new Date(),
): Promise<
  { kind: 'claimed'; until: Date } | { kind: 'taken_over'; until: Date; previousUntil: Date } | null
> {
  const until = new Date(now.getTime() + ttlMs);
  const insert = () => insertOnce(models.IdempotencyKey, { _id: key, at: now, expiresAt: until });
  if (await insert()) return { kind: 'claimed', until };
  const held = await models.IdempotencyKey.findById(key).lean<{ expiresAt?: Date | null }>();
  const previousUntil = held?.expiresAt;
  if (!previousUntil || previousUntil >= now) return null;
  const expired = await models.IdempotencyKey.deleteOne({ _id: key, expiresAt: { $lt: now } });
  return expired.deletedCount > 0 && (await insert()) ? { kind: 'taken_over', until, previousUntil } : null;
}
