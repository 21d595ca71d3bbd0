/**
 * Runs the real app in a child process for crash tests (SIGKILL and restart), with a fixed clock and
 * a fast scheduler. Configured by environment; prints "READY <port>" once serving.
 */
import { startChangegate } from '../../src/app.js';
import { loadConfig } from '../../src/config/env.js';
import { createLogger } from '../../src/infra/logger.js';
import { TestClock } from './clock.js';
import { testPolicy } from './harness-policy.js';

const env = process.env;
const result = loadConfig({ ...env, PORT: '0', HOST: '127.0.0.1', CHANGEGATE_SCHEDULER: 'on' });
if (!result.ok) throw new Error(JSON.stringify(result.problems));
const logger = createLogger({ level: env.LOG_LEVEL ?? 'warn', format: 'pretty' });
const app = await startChangegate({
  config: result.config,
  logger,
  policy: testPolicy(),
  mongoUri: env.TEST_MONGO_URI!,
  dbName: env.TEST_DB_NAME!,
  clock: new TestClock(env.TEST_NOW ?? new Date().toISOString()),
  slack: { webApiRetries: 0, rateScale: Number(env.TEST_RATE_SCALE ?? '100') },
  scheduler: { enabled: true, processEvery: 100, name: `child-${process.pid}` },
  reminders: { interval: '1 second', leaseMs: Number(env.TEST_LEASE_MS ?? '2000'), concurrency: 4 },
});
process.stdout.write(`READY ${app.port}\n`);
process.on('SIGTERM', () => {
  void app.stop().then(() => process.exit(0));
});
