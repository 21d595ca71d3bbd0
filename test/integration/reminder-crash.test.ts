import { describe, expect, it } from 'vitest';
import { sentId } from '../../src/infra/db/delivery-ledger.js';
import { crashTestBed } from '../support/crash-bed.js';
import { submitRequest } from '../support/flows.js';
import { BOB, ERIN, FRANK } from '../support/people.js';

/** Each test starts child apps and waits on deliveries paced by a slow Slack: not a timing check. */
const HEAVY_MS = 150_000;

describe('a process killed with reminders due', () => {
  const bed = crashTestBed(import.meta.url, '2026-03-10T17:00:00Z');
  const reviewers = [BOB, FRANK, ERIN];

  /**
   * Eight changes waiting on three reviewers, a slow Slack (so a stop lands while deliveries are in
   * flight) and a child-app environment 4 business hours later, when every reminder is due.
   */
  async function dueReminders(title: string, leaseMs: string) {
    const { t } = bed;
    const numbers: number[] = [];
    for (let i = 0; i < 8; i++) numbers.push(await submitRequest(t, { reviewers, title: `${title} ${i}` }));
    t.fake.clear();
    t.fake.latencyMs = 150;
    const env = bed.env({ TEST_NOW: '2026-03-10T21:00:00Z', TEST_LEASE_MS: leaseMs });
    const ours = (text: string) => numbers.some((n) => text.includes(`CR-${n}`));
    const delivered = () => reviewers.flatMap((u) => t.fake.dms(u)).filter((m) => ours(m.text)).length;
    return { numbers, expected: numbers.length * reviewers.length, env, delivered };
  }

  /** A second process on the same database until every reminder arrived, and a few sweeps more. */
  async function restartUntilAllSent(env: Record<string, string>, allSent: () => boolean) {
    const second = await bed.start(env);
    await bed.t.fake.waitFor(allSent, 60_000);
    await new Promise((r) => setTimeout(r, 2500)); // more sweeps: nothing else may arrive
    await second.kill('SIGTERM');
  }

  /** Each reviewer got exactly one reminder per change. */
  function expectEachOnce(numbers: number[]) {
    for (const user of reviewers) {
      const texts = bed.t.fake.dms(user).map((m) => m.text);
      for (const n of numbers) expect(texts.filter((x) => x.includes(`CR-${n}`))).toHaveLength(1);
    }
  }

  it(
    'after SIGKILL mid-delivery and a restart, every due reminder is sent exactly once',
    async () => {
      const { t } = bed;
      const { numbers, expected, env, delivered } = await dueReminders('Crash', '1500');
      const first = await bed.start(env);
      // Kill while some deliveries are in flight at Slack and every message Slack stored is marked
      // sent. (A kill in the milliseconds between Slack accepting a message and the sent-mark can
      // repeat that one reminder: chat.postMessage has no idempotency key. See README.) To kill in
      // that state, not near it: Slack stops accepting (calls still in flight are held unanswered and
      // never stored), then the database shows every stored message marked.
      const until = Date.now() + 60_000;
      while (!(delivered() >= 3 && t.fake.pending > 0)) {
        if (Date.now() > until) throw new Error('the deliveries never reached the state to kill in');
        await new Promise((r) => setTimeout(r, 5));
      }
      t.fake.hang('chat.postMessage');
      await new Promise((r) => setTimeout(r, 20)); // a call past the hang check finishes storing
      for (;;) {
        const marked = await t.app.models.Delivery.countDocuments({
          _id: new RegExp(`^reminder:(${numbers.join('|')}):`),
          state: 'sent',
        });
        if (marked >= delivered()) break;
        if (Date.now() > until) throw new Error('stored messages were never marked sent');
        await new Promise((r) => setTimeout(r, 5));
      }
      await first.kill('SIGKILL');
      t.fake.unhang(); // the held calls' connections are gone: never processed, like Slack
      const beforeRestart = delivered();
      expect(beforeRestart).toBeLessThan(expected);

      await restartUntilAllSent(env, () => delivered() >= expected);

      // Claims the killed process held were taken over after their lease, not lost.
      expect(await t.app.models.Delivery.countDocuments({ state: 'takeover' })).toBeGreaterThan(0);
      for (const user of reviewers) expect(t.fake.dms(user)).toHaveLength(numbers.length);
      expectEachOnce(numbers);
      t.fake.latencyMs = 0;
    },
    HEAVY_MS,
  );

  it(
    'a graceful stop mid-sweep finishes what it claimed, and a restart sends the rest once',
    async () => {
      const { t } = bed;
      // A lease outlives the test: nothing is taken over.
      const { numbers, expected, env, delivered } = await dueReminders('Stop', '60000');
      const first = await bed.start(env);
      await t.fake.waitFor(() => delivered() >= 3 && t.fake.pending > 0, 60_000);
      await first.kill('SIGTERM');
      const beforeRestart = delivered();
      expect(beforeRestart).toBeLessThan(expected);
      // Every reminder it had claimed was sent and recorded before the database closed.
      // (The test's own app may be running its daily audit verification meanwhile: not a reminder.)
      const claimed = await t.app.models.Delivery.find({
        state: 'claimed',
        _id: { $not: /^audit-verify:/ },
      }).lean();
      const marked = new Set(
        (await t.app.models.Delivery.find({ state: 'sent' }, { _id: 1 }).lean()).map((d) => d._id),
      );
      expect(claimed.length, first.output()).toBeGreaterThan(0);
      expect(
        claimed.filter((c) => !marked.has(sentId(c._id))),
        first.output(),
      ).toEqual([]);
      expect(first.output()).not.toMatch(/job failed|MongoClientClosedError/);

      await restartUntilAllSent(env, () => delivered() >= expected);
      expectEachOnce(numbers);
      t.fake.latencyMs = 0;
    },
    HEAVY_MS,
  );
});
