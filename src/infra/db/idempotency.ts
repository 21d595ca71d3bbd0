import type { Clock } from '../../domain/time.js';
import { insertOnce, retryTransient } from './connection.js';
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

  /**
   * Records what the key's work produced, once it did: a repeat that finds the key can tell work
   * that is done from work still running (or stopped without giving the key back).
   */
  async settle(key: string, outcome: string): Promise<void> {
    await retryTransient(() => this.models.IdempotencyKey.updateOne({ _id: key }, { $set: { outcome } }));
  }

  /** The outcome settled on a claimed key; null while there is none. */
  async outcome(key: string): Promise<string | null> {
    const doc = await this.models.IdempotencyKey.findById(key, { outcome: 1 }).lean<{ outcome?: string }>();
    return doc?.outcome ?? null;
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
