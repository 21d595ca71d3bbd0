import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointNow } from '../../src/application/audit-ledger.js';
import { repairInterruptedSubmissions } from '../../src/application/repair-changes.js';
import { verifyAudit } from '../../src/application/verify-audit.js';
import { verifyChain } from '../../src/domain/audit.js';
import { formValues, openRequestModal, rootMessage, settled, submitRequest } from '../support/flows.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { ALICE, APPROVALS } from '../support/people.js';

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
    const res = await a.slack.submitView(
      {
        callbackId: view.callback_id,
        values: formValues({ title: 'Announced while slow' }),
        privateMetadata: view.private_metadata,
        blocks: view.blocks,
        viewId: view.id,
      },
      ALICE,
    );
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
});
