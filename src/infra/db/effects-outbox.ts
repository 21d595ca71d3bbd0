import type { EffectKey, EffectsOutbox, PendingEffect } from '../../application/ports.js';
import { claimKey } from './claims.js';
import { isDuplicateKey, retryTransient } from './connection.js';
import type { Models, SlackEffectDoc } from './models.js';

const idOf = (k: EffectKey) => `${k.changeNumber}:${k.seq}`;

/** The pending Slack effects of change events, in the `slack_effects` collection. */
export class MongoEffectsOutbox implements EffectsOutbox {
  constructor(private readonly m: Models) {}

  async add(key: EffectKey, ownedUntil: Date, now: Date): Promise<void> {
    try {
      await retryTransient(() =>
        this.m.SlackEffect.create({
          _id: idOf(key),
          changeNumber: key.changeNumber,
          seq: key.seq,
          attempts: 0,
          replied: false,
          nextAttemptAt: ownedUntil,
          lastError: null,
          createdAt: now,
        }),
      );
    } catch (err) {
      if (!isDuplicateKey(err)) throw err; // already pending (a retried write): one entry is enough
    }
  }

  async done(key: EffectKey): Promise<void> {
    await retryTransient(() => this.m.SlackEffect.deleteOne({ _id: idOf(key) }));
  }

  async failed(
    key: EffectKey,
    state: { attempts: number; replied: boolean; retryAt: Date; error: string },
  ): Promise<void> {
    await retryTransient(() =>
      this.m.SlackEffect.updateOne(
        { _id: idOf(key) },
        {
          $set: {
            attempts: state.attempts,
            replied: state.replied,
            nextAttemptAt: state.retryAt,
            lastError: state.error.slice(0, 500),
          },
        },
      ),
    );
  }

  async due(now: Date, limit: number): Promise<PendingEffect[]> {
    const docs = await this.m.SlackEffect.find({ nextAttemptAt: { $lte: now } })
      .sort({ nextAttemptAt: 1 })
      .limit(limit)
      .lean<SlackEffectDoc[]>();
    return docs.map((d) => ({
      changeNumber: d.changeNumber,
      seq: d.seq,
      attempts: d.attempts,
      replied: d.replied,
    }));
  }

  claim(key: EffectKey, attempts: number, leaseMs: number): Promise<boolean> {
    return claimKey(this.m, `effect:${idOf(key)}:${attempts}`, leaseMs);
  }

  async count(): Promise<number> {
    return this.m.SlackEffect.countDocuments({});
  }
}
