import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointNow } from '../../src/application/audit-ledger.js';
import { retryPendingEffects } from '../../src/application/effects.js';
import { repairInterruptedSubmissions } from '../../src/application/repair-changes.js';
import { verifyAudit } from '../../src/application/verify-audit.js';
import { verifyChain } from '../../src/domain/audit.js';
import type { StoredMessage } from '../support/fake-slack/server.js';
import {
  openRequestModal,
  rootMessage,
  settled,
  submitOpenedModal,
  submitRequest,
} from '../support/flows.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { ALICE, APPROVALS, BOB } from '../support/people.js';

/**
 * Two replicas behind one load balancer, one database: clicks on the same stage land on both at
 * once. Exactly one decision per stage is recorded, the audit chain never forks, the shared ledger
 * has each event once with no gap, and every loser is told who won.
 */
describe('two app instances on one database', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp(import.meta.url);
    b = await startTestApp(import.meta.url, { fake: a.fake, dbName: a.dbName });
  });
  afterAll(async () => {
    await b.stop();
    await a.stop();
  });

  it('records exactly one decision per stage when both take concurrent Approve clicks', async () => {
    const numbers: number[] = [];
    for (let i = 0; i < 6; i++)
      numbers.push(await submitRequest(i % 2 === 0 ? a : b, { title: `Replica ${i}` }));
    const clicks = numbers.flatMap((n) =>
      Array.from({ length: 8 }, (_, i) => ({ n, user: `U0REPL${n}${i}`, via: i % 2 === 0 ? a : b })),
    );
    for (const c of clicks) a.fake.addUser(c.user); // engineers of the workspace
    const roots = new Map<number, { channel: string; ts: string }>();
    for (const n of numbers) {
      const r = await rootMessage(a, n);
      roots.set(n, { channel: r.channel, ts: r.ts });
    }
    const responses = await Promise.all(
      clicks.map((c) =>
        c.via.slack.click('change_approve', `${c.n}:0`, { user: c.user, message: roots.get(c.n) }),
      ),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    await Promise.all([settled(a), settled(b)]);

    for (const n of numbers) {
      const log = await a.app.models.ChangeEvent.find({ changeNumber: n }).sort({ seq: 1 }).lean();
      const approvals = log.filter((e) => e.type === 'stage_approved');
      expect(approvals, `CR-${n}`).toHaveLength(1);
      expect(new Set(log.map((e) => e.seq)).size).toBe(log.length);
      const doc = (await a.app.models.Change.findOne({ number: n }).lean())!;
      expect(doc.seq).toBe(log.length);
      expect(verifyChain(log, { seq: doc.seq, hash: doc.headHash })).toBeNull();
      const winner = approvals[0]!.actor;
      const losers = clicks.filter((c) => c.n === n && c.user !== winner).map((c) => c.user);
      for (const u of losers) {
        const told = a.fake.ephemerals.filter((e) => e.args.user === u).map((e) => String(e.args.text));
        expect(told.at(-1), `${u} on CR-${n}`).toContain(`already approved by <@${winner}>`);
      }
      const root = roots.get(n)!;
      const replies = a.fake
        .threadReplies(root.channel, root.ts)
        .filter((m) => m.text.includes('approved *Peer review*'));
      expect(replies, `CR-${n}`).toHaveLength(1);
    }

    // Both replicas wrote the one ledger: indexes without a gap or a clash, every event in it once.
    await Promise.all([a.app.deps.ledger.flush(), b.app.deps.ledger.flush()]);
    const report = await verifyAudit(a.app.deps);
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ intact: true, unledgered: 0 });
    expect(report.ledgerSize).toBe(report.checkedEvents);
    expect((await checkpointNow(b.app.deps)).kind).toBe('signed');
    expect(await a.app.models.AuditEventIndex.countDocuments()).toBe(report.checkedEvents);
  });

  it("posts a change once when the other replica's repair runs while its announcement waits at Slack", async () => {
    const view = await openRequestModal(a, ALICE);
    a.fake.latencyMs = 1500; // Slack (or its pacing) holds the announcement back
    const res = await submitOpenedModal(a, view, { title: 'Announced while slow' });
    expect(res.status).toBe(200);
    const doc = (await a.app.models.Change.findOne({
      title: 'Announced while slow',
      seq: { $gt: 0 },
    }).lean())!;
    // The record is older than the repair's delay (0 here) and still has no Slack message.
    expect(doc.slack ?? null).toBeNull();
    const repaired = await repairInterruptedSubmissions(b.app.deps, 0);
    expect(repaired.announced).toBe(0);
    a.fake.latencyMs = 0;
    await rootMessage(a, doc.number);
    await Promise.all([settled(a), settled(b)]);
    await repairInterruptedSubmissions(b.app.deps, 0); // announced now: nothing left to do
    const roots = a.fake
      .posts(APPROVALS)
      .filter((m) => !m.thread_ts && m.text.includes('Announced while slow'));
    expect(roots).toHaveLength(1);
  });

  /**
   * Submits on replica a, which stops (as if killed) between Slack storing its announcement and
   * recording the message: its claim is left to lapse.
   */
  async function submitThenStop(title: string): Promise<{ n: number; root: StoredMessage }> {
    const store = a.app.deps.changes;
    const record = store.setSlackRef;
    store.setSlackRef = async () => {
      throw new Error('killed');
    };
    try {
      const n = await submitRequest(a, { title });
      const root = await rootMessage(a, n);
      await settled(a);
      const doc = (await a.app.models.Change.findOne({ number: n }).lean())!;
      expect(doc.slack ?? null).toBeNull();
      await a.app.models.IdempotencyKey.updateOne(
        { _id: `announce:${n}` },
        { $set: { expiresAt: new Date(Date.now() - 1000) } },
      );
      return { n, root };
    } finally {
      store.setSlackRef = record;
    }
  }

  it('records, rather than posts again, the announcement a stopped replica posted and never recorded', async () => {
    const { n, root } = await submitThenStop('Posted, then stopped');
    const updatesBefore = root.updates;

    const repaired = await repairInterruptedSubmissions(b.app.deps, 0);
    expect(repaired.announced).toBe(1);
    await settled(b);
    const roots = a.fake
      .posts(APPROVALS)
      .filter((m) => !m.thread_ts && m.text.includes('Posted, then stopped'));
    expect(roots.map((m) => m.ts)).toEqual([root.ts]);
    const doc = (await a.app.models.Change.findOne({ number: n }).lean())!;
    expect(doc.slack).toMatchObject({ channel: root.channel, ts: root.ts });
    expect(doc.slack?.permalink).toBeTruthy();
    expect(doc.unannounced ?? null).toBeNull();
    expect(root.updates).toBeGreaterThan(updatesBefore); // brought up to date in place
    expect((await repairInterruptedSubmissions(b.app.deps, 0)).announced).toBe(0);
  });

  it("posts again when the stopped replica's post never reached Slack, whatever another app claims", async () => {
    const { n, root } = await submitThenStop('Lost with its replica');
    a.fake.messages.delete(`${root.channel}:${root.ts}`); // Slack never stored it
    // Another app's message carrying our metadata is not our announcement.
    const forged = a.fake.injectMessage(APPROVALS, 'not the root', {
      metadata: { event_type: 'changegate_change', event_payload: { change: n } },
      from: { botId: 'B0OTHERAPP', appId: 'A0OTHERAPP' },
    });

    expect((await repairInterruptedSubmissions(b.app.deps, 0)).announced).toBe(1);
    const again = await rootMessage(a, n);
    expect([root.ts, forged.ts]).not.toContain(again.ts);
    expect(again.metadata).toEqual({ event_type: 'changegate_change', event_payload: { change: n } });
    const doc = (await a.app.models.Change.findOne({ number: n }).lean())!;
    expect(doc.slack).toMatchObject({ channel: APPROVALS, ts: again.ts });
  });

  it("leaves a change's root message to its announcement: a decision taken first waits for it", async () => {
    const view = await openRequestModal(a, ALICE);
    a.fake.failNext('chat.postMessage', 'fatal_error', 1); // the submission's announcement fails
    const submitted = await submitOpenedModal(a, view, { title: 'Decided before announced' });
    expect(submitted.status).toBe(200);
    await settled(a);
    const n = (await a.app.models.Change.findOne({
      title: 'Decided before announced',
      seq: { $gt: 0 },
    }).lean())!.number;
    const roots = () =>
      a.fake.posts(APPROVALS).filter((m) => !m.thread_ts && m.text.includes('Decided before announced'));
    expect(roots()).toEqual([]);
    // Approved from App Home on the other replica: recorded; its effects have no root to go to.
    const res = await b.slack.click('change_approve', `${n}:0`, { user: BOB, view: { id: 'V0HOMEBOB' } });
    expect(res.status).toBe(200);
    await settled(b);
    const events = await a.app.models.ChangeEvent.find({ changeNumber: n }).lean();
    expect(events.map((e) => e.type)).toContain('stage_approved');
    expect(roots()).toEqual([]);

    // The announcement's claim (held by the submission) lapses; the repair announces the change as
    // it now stands, and the decision's effects, retried, reply in its thread.
    await a.app.models.IdempotencyKey.updateOne(
      { _id: `announce:${n}` },
      { $set: { expiresAt: new Date(Date.now() - 1000) } },
    );
    expect((await repairInterruptedSubmissions(b.app.deps, 0)).announced).toBe(1);
    const [root] = roots();
    expect(root).toBeDefined();
    b.clock.advance(60_000);
    expect((await retryPendingEffects(b.app.deps)).delivered).toBeGreaterThanOrEqual(1);
    await settled(b);
    expect(roots()).toHaveLength(1);
    const thread = a.fake.threadReplies(root!.channel, root!.ts).map((m) => m.text);
    expect(thread.some((t) => t.includes('approved'))).toBe(true);
  });
});
