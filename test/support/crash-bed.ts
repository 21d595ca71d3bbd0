import { afterAll, beforeAll } from 'vitest';
import { type ChildApp, startChildApp } from './child.js';
import { TestClock } from './clock.js';
import { childAppEnv, startTestApp, type TestApp } from './harness.js';

/**
 * For crash tests: an in-process test app (clock at `now`, its fake Slack and database) and app
 * processes started on the same fake Slack and database, killed after the file's tests.
 */
export function crashTestBed(fileUrl: string, now: string) {
  const children: ChildApp[] = [];
  const bed = {
    t: undefined as unknown as TestApp,
    /** Environment for a child app on the test app's fake Slack and database. */
    env: (extra: Record<string, string>) =>
      childAppEnv({ apiUrl: bed.t.fake.apiUrl, mongoUri: bed.t.mongoUri, dbName: bed.t.dbName }, extra),
    start: async (env: Record<string, string>): Promise<ChildApp> => {
      const child = await startChildApp(env);
      children.push(child);
      return child;
    },
  };
  beforeAll(async () => {
    bed.t = await startTestApp(fileUrl, { clock: new TestClock(now) });
  });
  afterAll(async () => {
    for (const c of children) await c.kill();
    await bed.t.stop();
  });
  return bed;
}
