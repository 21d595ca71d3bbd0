import { isDuplicateKey, retryTransient } from './connection.js';
import type { Models } from './models.js';

/** Whether the one-time migration `key` was recorded done (a settings document). */
export async function migrationDone(m: Models, key: string): Promise<boolean> {
  return (await retryTransient(() => m.Setting.findById(key).lean())) !== null;
}

/** Records the one-time migration `key` done; another replica recording it first is as good. */
export async function recordMigration(m: Models, key: string): Promise<void> {
  await retryTransient(() =>
    m.Setting.updateOne({ _id: key }, { $setOnInsert: { value: 'done', at: new Date() } }, { upsert: true }),
  ).catch((err) => {
    if (!isDuplicateKey(err)) throw err;
  });
}
