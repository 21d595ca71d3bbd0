import { resolve } from 'node:path';
import { inject } from 'vitest';
import { type Changegate, type StartOptions, startChangegate } from '../../src/app.js';
import { loadConfig } from '../../src/config/env.js';
import { type LoadedPolicy, loadPolicy } from '../../src/config/policy.js';
import { createLogger } from '../../src/infra/logger.js';
import { TestClock } from './clock.js';
import { FakeSlack } from './fake-slack/server.js';
import { TEST_POLICY_YAML, testPolicy } from './harness-policy.js';
import { testDbName } from './mongo.js';
import { ALL_PEOPLE, ERIN, SECURITY_GROUP } from './people.js';
import { SlackRequests } from './slack-requests.js';

export const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
export const BOT_TOKEN = 'xoxb-test-token';
/** The audit key of every test app (a test key: it signs nothing outside the tests). */
export const AUDIT_KEY = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEII0vfp0CTjEFTbv1AX7LNSfqrG5Z+JAQhzSnT9XXtF9M
-----END PRIVATE KEY-----
`;
export { TEST_POLICY_YAML, testPolicy };

export interface TestApp {
  app: Changegate;
  fake: FakeSlack;
  slack: SlackRequests;
  clock: TestClock;
  policy: LoadedPolicy;
  dbName: string;
  mongoUri: string;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  policyYaml?: string;
  clock?: TestClock;
  /** Share a fake Slack between app instances (two replicas). */
  fake?: FakeSlack;
  /** Reuse a database (two replicas, restart). */
  dbName?: string;
  mongoUri?: string;
  scheduler?: StartOptions['scheduler'];
  slack?: StartOptions['slack'];
  reminders?: StartOptions['reminders'];
  rollups?: StartOptions['rollups'];
  env?: Record<string, string>;
  /** `database`: no policy file; the built-in policy starts a new database and setup edits it. */
  policySource?: StartOptions['policySource'];
}

/** A fake Slack workspace with the test people and the security user group. */
export async function startFakeSlack(): Promise<FakeSlack> {
  const fake = await new FakeSlack().start();
  for (const u of ALL_PEOPLE) fake.addUser(u, { tz: 'America/Los_Angeles' });
  fake.setGroup(SECURITY_GROUP, [ERIN]);
  return fake;
}

/** The real app (Bolt over HTTP, real database) on an ephemeral port, talking to the fake Slack. */
export async function startTestApp(fileUrl: string, opts: TestAppOptions = {}): Promise<TestApp> {
  const mongo = inject('mongo');
  const ownFake = !opts.fake;
  const fake = opts.fake ?? (await startFakeSlack());
  const result = loadConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fake.apiUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    CHANGEGATE_SCHEDULER: 'off',
    CHANGEGATE_AUDIT_KEY: AUDIT_KEY,
    ...opts.env,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const logger = createLogger({ level: result.config.logLevel, format: 'pretty' });
  const clock = opts.clock ?? new TestClock();
  const policy = opts.policySource === 'database' ? loadPolicy(undefined) : testPolicy(opts.policyYaml);
  const dbName = opts.dbName ?? testDbName(fileUrl);
  const mongoUri = opts.mongoUri ?? mongo.uri;
  const app = await startChangegate({
    config: result.config,
    logger,
    policy,
    policySource: opts.policySource,
    mongoUri,
    dbName,
    clock,
    // Slack's real pacing (1 message/s per channel) is tested on its own; here it would only slow tests down.
    slack: { webApiRetries: 0, rateScale: 100, ...opts.slack },
    scheduler: opts.scheduler ?? { enabled: false },
    reminders: opts.reminders,
    rollups: opts.rollups,
  });
  const slack = new SlackRequests(app.url, SIGNING_SECRET, fake);
  return {
    app,
    fake,
    slack,
    clock,
    policy,
    dbName,
    mongoUri,
    async stop() {
      await app.stop();
      if (ownFake) await fake.stop();
    },
  };
}

/** Drops a test database through a short-lived connection. */
export async function dropDatabase(uri: string, dbName: string): Promise<void> {
  const { MongoClient } = await import('mongodb');
  const client = await MongoClient.connect(uri);
  try {
    await client.db(dbName).dropDatabase();
  } finally {
    await client.close();
  }
}

/** The environment of a command-line tool (dist/cli/…) on a database: the test audit key and policy. */
export function cliEnv(mongoUri: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MONGODB_URI: mongoUri,
    CHANGEGATE_AUDIT_KEY: AUDIT_KEY,
    CHANGEGATE_POLICY: resolve(import.meta.dirname, '../fixtures/policies/test-policy.yml'),
    LOG_LEVEL: 'error',
  };
}

/** The environment of a child app process (test/support/child-app.ts) on this fake Slack and database. */
export function childAppEnv(
  target: { apiUrl: string; mongoUri: string; dbName: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: target.apiUrl,
    CHANGEGATE_AUDIT_KEY: AUDIT_KEY,
    TEST_MONGO_URI: target.mongoUri,
    TEST_DB_NAME: target.dbName,
    ...extra,
  };
}
