/**
 * Runs the real app in a child process for crash tests (SIGKILL and restart), with a fixed clock and
 * a fast scheduler. Configured by environment; prints "READY <port>" once serving.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import mongoose from 'mongoose';
import { type StartOptions, startChangegate } from '../../src/app.js';
import { loadConfig } from '../../src/config/env.js';
import { systemClock } from '../../src/domain/time.js';
import { createLogger } from '../../src/infra/logger.js';
import { TestClock } from './clock.js';
import { testPolicy } from './harness-policy.js';

const env = process.env;
const result = loadConfig({ ...env, PORT: '0', HOST: '127.0.0.1', CHANGEGATE_SCHEDULER: 'on' });
if (!result.ok) throw new Error(JSON.stringify(result.problems));
const logger = createLogger({ level: env.LOG_LEVEL ?? 'warn', format: 'pretty' });
/** Optional JSON overrides (the benchmark uses them): Slack limits, scheduler, reminder settings. */
const overrides = JSON.parse(env.CHILD_OPTIONS ?? '{}') as Partial<
  Pick<StartOptions, 'slack' | 'scheduler' | 'reminders' | 'repair'>
>;
const app = await startChangegate({
  config: result.config,
  logger,
  policy: testPolicy(),
  mongoUri: env.TEST_MONGO_URI!,
  dbName: env.TEST_DB_NAME!,
  clock: env.TEST_NOW ? new TestClock(env.TEST_NOW) : systemClock,
  slack: { webApiRetries: 0, rateScale: Number(env.TEST_RATE_SCALE ?? '100'), ...overrides.slack },
  scheduler: { enabled: true, processEvery: 100, name: `child-${process.pid}`, ...overrides.scheduler },
  reminders: {
    interval: '1 second',
    leaseMs: Number(env.TEST_LEASE_MS ?? '2000'),
    // Small for the crash tests; the benchmark measures the app's own sizing.
    concurrency: env.TEST_REMINDER_CONCURRENCY === 'app-default' ? undefined : 4,
    ...overrides.reminders,
  },
  repair: overrides.repair,
});
process.stdout.write(`READY ${app.port}\n`);
// Event-loop delay, reported on exit when asked (benchmark diagnostics).
const eld = env.CHILD_ELD ? monitorEventLoopDelay({ resolution: 5 }) : null;
if (eld) {
  eld.enable();
  // Server-side time from a request's arrival to its response being written, per interval.
  let served: number[] = [];
  let dbCalls: Record<string, number> = {};
  mongoose.set('debug', (coll: string, method: string) => {
    dbCalls[`${coll}.${method}`] = (dbCalls[`${coll}.${method}`] ?? 0) + 1;
  });
  let connections = 0;
  app.http.server.on('connection', () => connections++);
  app.http.server.on('request', (_req, res) => {
    const t = performance.now();
    res.once('finish', () => served.push(performance.now() - t));
  });
  // How often the Slack sender had nothing queued (sampled every 20 ms): a pipeline that keeps
  // Slack's pace busy leaves it idle only when there is nothing to send.
  let sendSamples = 0;
  let sendIdle = 0;
  setInterval(() => {
    sendSamples++;
    if (app.sender.queued() === 0) sendIdle++;
  }, 20).unref();
  setInterval(() => {
    if (sendSamples) {
      process.stderr.write(`SND t=${Date.now()} idle=${Math.round((100 * sendIdle) / sendSamples)}%\n`);
      sendSamples = sendIdle = 0;
    }
    if (served.length) {
      served.sort((a, b) => a - b);
      process.stderr.write(
        `SRV t=${Date.now()} n=${served.length} connections=${connections} p50=${served[Math.floor(served.length / 2)]!.toFixed(1)}ms max=${served.at(-1)!.toFixed(1)}ms\n`,
      );
      served = [];
    }
    if (Object.keys(dbCalls).length) {
      process.stderr.write(`DB t=${Date.now()} ${JSON.stringify(dbCalls)}\n`);
      dbCalls = {};
    }
    process.stderr.write(
      `ELD t=${Date.now()} now=${performance.now().toFixed(0)} p50=${(eld.percentile(50) / 1e6).toFixed(1)}ms p99=${(eld.percentile(99) / 1e6).toFixed(1)}ms max=${(eld.max / 1e6).toFixed(1)}ms\n`,
    );
    eld.reset();
  }, Number(env.CHILD_ELD) || 2000).unref();
}
process.on('SIGTERM', () => {
  void app.stop().then(() => process.exit(0));
});
