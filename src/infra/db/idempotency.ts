import type { Clock } from '../../domain/time.js';
import { insertOnce } from './connection.js';
import type { Models } from './models.js';

/**
 * Claim-before-side-effect keys (Slack retries, repeated deliveries, reminder slots). A claim is an
 * insert on `_id`, unique on MongoDB and FerretDB alike; expired keys are removed by a cleanup job
 * (no TTL indexes on FerretDB).
 */
export class IdempotencyStore {
  constructor(
    private readonly models: Models,
    private readonly clock: Clock,
  ) {}

  /** True when this caller claimed the key first; false when it was already claimed. */
  async claim(key: string, ttlMs: number): Promise<boolean> {
    const at = this.clock.now();
    return insertOnce(this.models.IdempotencyKey, {
      _id: key,
      at,
      expiresAt: new Date(at.getTime() + ttlMs),
    });
  }

  async release(key: string): Promise<void> {
    await this.models.IdempotencyKey.deleteOne({ _id: key });
  }

  async exists(key: string): Promise<boolean> {
    return (await this.models.IdempotencyKey.exists({ _id: key })) !== null;
  }

  async cleanup(): Promise<number> {
    const res = await this.models.IdempotencyKey.deleteMany({ expiresAt: { $lt: this.clock.now() } });
    return res.deletedCount;
  }
}
