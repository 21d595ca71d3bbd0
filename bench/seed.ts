import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { databaseForTool } from '../src/cli/context.js';
import { loadPolicy, parsePolicy } from '../src/config/policy.js';
import { createModels, ensureIndexes } from '../src/infra/db/models.js';
import { createLogger } from '../src/infra/logger.js';
import { seedHistory } from './seed-history.js';

/**
 * `npm run seed -- --changes 200000 --months 13 [--uri mongodb://…/db] [--policy file] [--drop]`
 * Fills a database with a realistic change history (see seed-history.ts). Without --policy it uses
 * the test policy (named people, a security user group, the peak-season freeze).
 */
const { values } = parseArgs({
  options: {
    changes: { type: 'string', default: '200000' },
    months: { type: 'string', default: '13' },
    uri: { type: 'string' },
    policy: { type: 'string' },
    end: { type: 'string' },
    drop: { type: 'boolean', default: false },
    seed: { type: 'string', default: '42' },
  },
});
// --uri, MONGODB_URI, or the embedded database of npm start (the running app's, or started for this).
const target = values.uri
  ? { uri: values.uri, stopDatabase: async () => undefined }
  : await databaseForTool(createLogger({ level: 'warn', format: 'pretty' }), true);
const uri = target.uri;
const policy = values.policy
  ? loadPolicy(values.policy)
  : parsePolicy(
      readFileSync(new URL('../test/fixtures/policies/test-policy.yml', import.meta.url), 'utf8'),
      'test-policy.yml',
    );
const conn = await mongoose.createConnection(uri, { autoIndex: false }).asPromise();
const db = /^mongodb(\+srv)?:\/\/[^/]+\/[^?]+/.test(uri)
  ? conn
  : conn.useDb('changegate', { useCache: true });
const models = createModels(db);
if (values.drop) await db.dropDatabase();
else {
  // Seeding into a history would mix two: say so, and how to replace it, rather than fail midway.
  const existing = await models.Change.estimatedDocumentCount();
  if (existing > 0) {
    process.stderr.write(
      `The database "${db.name}" already holds ${existing} change records; seeding would mix two histories.\n` +
        'Run again with --drop to replace them (it deletes everything in that database), or give another --uri.\n',
    );
    await conn.close();
    await target.stopDatabase();
    process.exit(2);
  }
}
await ensureIndexes(Object.values(models));
const started = Date.now();
// Rollups an earlier start built (of an empty history) are forgotten: the next start builds them
// from the seeded events.
await models.Setting.deleteMany({ _id: { $regex: '^rollup:' } });
await models.RollupDay.deleteMany({});
const result = await seedHistory(models, policy, {
  changes: Number(values.changes),
  months: Number(values.months),
  end: values.end ? new Date(values.end) : new Date(),
  seed: Number(values.seed),
  groups: { S0SECURITY: ['U0123ERIN'] },
  onProgress: (done) => process.stderr.write(`\r${done} changes…`),
});
process.stderr.write(
  `\nSeeded ${result.changes} changes and ${result.events} events into ${db.name} in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`,
);
await conn.close();
await target.stopDatabase();
