import { insertOnce, retryTransient } from './connection.js';
import type { Models } from './models.js';

export type Claim = { claimed: true; attempt: number } | { claimed: false; reason: 'sent' | 'in_progress' };

/**
 * Exactly-once bookkeeping for outgoing reminders (see DeliveryDoc). Leases use real time, not the
 * injected clock: they are about whether the claiming process is still alive.
 */
export class DeliveryLedger {
  constructor(
    private readonly models: Models,
    private readonly leaseMs: number,
  ) {}

  async claim(key: string): Promise<Claim> {
    const now = new Date();
    const first = { _id: key, state: 'claimed', attempt: 1, claimedAt: now, sentAt: null };
    if (await insertOnce(this.models.Delivery, first)) return { claimed: true, attempt: 1 };
    const existing = await this.models.Delivery.findById(key).lean();
    if (!existing || existing.state === 'sent') return { claimed: false, reason: 'sent' };
    if (now.getTime() - existing.claimedAt.getTime() < this.leaseMs)
      return { claimed: false, reason: 'in_progress' };
    // The claimer died before sending: take over, exactly once across replicas.
    const attempt = existing.attempt + 1;
    const takeover = {
      _id: `${key}#takeover:${attempt}`,
      state: 'takeover',
      attempt,
      claimedAt: now,
      sentAt: null,
    };
    if (!(await insertOnce(this.models.Delivery, takeover))) return { claimed: false, reason: 'in_progress' };
    await retryTransient(() =>
      this.models.Delivery.updateOne({ _id: key }, { $set: { attempt, claimedAt: now } }),
    );
    return { claimed: true, attempt };
  }

  async markSent(key: string): Promise<void> {
    await retryTransient(() =>
      this.models.Delivery.updateOne({ _id: key }, { $set: { state: 'sent', sentAt: new Date() } }),
    );
  }

  /** Gives a claim back after a failed send, so the next sweep tries again. */
  async release(key: string, attempt: number): Promise<void> {
    await this.models.Delivery.deleteMany({ _id: { $in: [key, `${key}#takeover:${attempt}`] } });
  }

  async isSent(key: string): Promise<boolean> {
    return (await this.models.Delivery.exists({ _id: key, state: 'sent' })) !== null;
  }
}
