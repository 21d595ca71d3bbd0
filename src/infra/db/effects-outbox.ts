import type { EffectKey, EffectsOutbox, PendingEffect } from '../../application/ports.js';
import { WriteBatcher } from './batcher.js';
import { claimKey } from './claims.js';
import { onlyDuplicates, retryTransient } from './connection.js';
import type { Models, SlackEffectDoc } from './models.js';

const idOf = (k: EffectKey) => `${k.changeNumber}:${k.seq}`;

/**
 * The pending Slack effects of change events, in the `slack_effects` collection. Writes that arrive
 * together share one call (a burst of decisions would otherwise double the writes the database
 * serialises): an entry is durable before `add` resolves; a delivered entry is removed in the next
 * batch, 50 ms at most later.
 */
export class MongoEffectsOutbox implements EffectsOutbox {
  private readonly adds: WriteBatcher<SlackEffectDoc>;
  private readonly removals: WriteBatcher<string>;

  constructor(private readonly m: Models) {
    this.adds = new WriteBatcher(async (docs) => {
      try {
        await retryTransient(() => this.m.SlackEffect.insertMany(docs, { ordered: false, lean: true }));
      } catch (err) {
        if (!onlyDuplicates(err)) throw err;
      }
    }, 5);
    this.removals = new WriteBatcher(async (ids) => {
      await retryTransient(() => this.m.SlackEffect.deleteMany({ _id: { $in: ids } }));
    }, 50);
  }

  add(key: EffectKey, ownedUntil: Date, now: Date): Promise<void> {
    return this.adds.add({
      _id: idOf(key),
      changeNumber: key.changeNumber,
      seq: key.seq,
      attempts: 0,
      replied: false,
      nextAttemptAt: ownedUntil,
      lastError: null,
      createdAt: now,
    });
  }

  done(key: EffectKey): Promise<void> {
    return this.removals.add(idOf(key));
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
