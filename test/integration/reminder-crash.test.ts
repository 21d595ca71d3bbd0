import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildApp, startChildApp } from '../support/child.js';
import { TestClock } from '../support/clock.js';
import { submitRequest } from '../support/flows.js';
import { childAppEnv, startTestApp, type TestApp } from '../support/harness.js';
import { BOB, ERIN, FRANK } from '../support/people.js';

describe('a process killed with reminders due', () => {
  let t: TestApp;
  const children: ChildApp[] = [];
  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { clock: new TestClock('2026-03-10T17:00:00Z') });
  });
  afterAll(async () => {
    for (const c of children) await c.kill();
    await t.stop();
  });

  it('after SIGKILL mid-delivery and a restart, every due reminder is sent exactly once', async () => {
    const reviewers = [BOB, FRANK, ERIN];
    const numbers: number[] = [];
    for (let i = 0; i < 8; i++) numbers.push(await submitRequest(t, { reviewers, title: `Crash ${i}` }));
    const expected = numbers.length * reviewers.length;
    t.fake.clear();
    t.fake.latencyMs = 150; // Slack is slow, so the kill lands while deliveries are in flight

    const env = childAppEnv(
      { apiUrl: t.fake.apiUrl, mongoUri: t.mongoUri, dbName: t.dbName },
      {
        TEST_NOW: '2026-03-10T21:00:00Z', // 4 business hours later: every reminder is due
        TEST_LEASE_MS: '1500',
      },
    );
    const first = await startChildApp(env);
    children.push(first);
    const delivered = () => reviewers.reduce((sum, u) => sum + t.fake.dms(u).length, 0);
    // Kill while some deliveries are in flight at Slack and those already answered had time to be
    // marked sent. (A kill in the milliseconds between Slack accepting a message and the sent-mark
    // can repeat that one reminder: chat.postMessage has no idempotency key. See README.)
    await t.fake.waitFor(
      () => delivered() >= 3 && t.fake.pending > 0 && Date.now() - t.fake.lastStoredAt > 40,
      30_000,
    );
    await first.kill('SIGKILL');
    const beforeRestart = delivered();
    expect(beforeRestart).toBeLessThan(expected);

    const second = await startChildApp(env);
    children.push(second);
    await t.fake.waitFor(() => delivered() >= expected, 60_000);
    await new Promise((r) => setTimeout(r, 2500)); // more sweeps: nothing else may arrive
    await second.kill('SIGTERM');

    // Claims the killed process held were taken over after their lease, not lost.
    expect(await t.app.models.Delivery.countDocuments({ state: 'takeover' })).toBeGreaterThan(0);
    for (const user of reviewers) {
      const texts = t.fake.dms(user).map((m) => m.text);
      expect(texts).toHaveLength(numbers.length);
      for (const n of numbers) expect(texts.filter((x) => x.includes(`CR-${n}`))).toHaveLength(1);
    }
    t.fake.latencyMs = 0;
  });

  it('a graceful stop mid-sweep finishes what it claimed, and a restart sends the rest once', async () => {
    const reviewers = [BOB, FRANK, ERIN];
    const numbers: number[] = [];
    for (let i = 0; i < 8; i++) numbers.push(await submitRequest(t, { reviewers, title: `Stop ${i}` }));
    const expected = numbers.length * reviewers.length;
    t.fake.clear();
    t.fake.latencyMs = 150;
    const env = childAppEnv(
      { apiUrl: t.fake.apiUrl, mongoUri: t.mongoUri, dbName: t.dbName },
      { TEST_NOW: '2026-03-10T21:00:00Z', TEST_LEASE_MS: '60000' }, // no takeover: a lease outlives the test
    );
    const ours = (text: string) => numbers.some((n) => text.includes(`CR-${n}`));
    const delivered = () => reviewers.flatMap((u) => t.fake.dms(u)).filter((m) => ours(m.text)).length;

    const first = await startChildApp(env);
    children.push(first);
    await t.fake.waitFor(() => delivered() >= 3 && t.fake.pending > 0, 30_000);
    await first.kill('SIGTERM');
    const beforeRestart = delivered();
    expect(beforeRestart).toBeLessThan(expected);
    // Every reminder it had claimed was sent and recorded before the database closed.
    expect(await t.app.models.Delivery.countDocuments({ state: 'claimed' })).toBe(0);
    expect(first.output()).not.toMatch(/job failed|MongoClientClosedError/);

    const second = await startChildApp(env);
    children.push(second);
    await t.fake.waitFor(() => delivered() >= expected, 60_000);
    await new Promise((r) => setTimeout(r, 2500)); // more sweeps: nothing else may arrive
    await second.kill('SIGTERM');
    for (const user of reviewers) {
      const texts = t.fake.dms(user).map((m) => m.text);
      for (const n of numbers) expect(texts.filter((x) => x.includes(`CR-${n}`))).toHaveLength(1);
    }
    t.fake.latencyMs = 0;
  });
});
