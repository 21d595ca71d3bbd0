import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChangeLog } from '../../src/application/build-change-log.js';
import { runCommand } from '../../src/application/execute-command.js';
import { foldRollups, maintainRollups, rebuildRollups } from '../../src/application/rollups.js';
import { submitChange } from '../../src/application/submit-change.js';
import { verifyAudit } from '../../src/application/verify-audit.js';
import { ChangeLogAccumulator } from '../../src/domain/change-log.js';
import { parsePeriod } from '../../src/domain/period.js';
import { decodeCounters, encodeCounters, rollupFingerprint } from '../../src/domain/rollup.js';
import { TestClock } from '../support/clock.js';
import { request } from '../support/domain-fixtures.js';
import { cliEnv, startFakeSlack, startTestApp, type TestApp } from '../support/harness.js';
import { testPolicy } from '../support/harness-policy.js';
import { generateHistories } from '../support/histories.js';
import { ALICE, BOB, FRANK } from '../support/people.js';
import { storeHistory } from '../support/store-history.js';

const ROOT = resolve(import.meta.dirname, '../..');
const END = new Date('2026-11-20T18:00:00Z');
const NEVER = { everyMs: 1_000_000_000 }; // folds run when the tests say so

/**
 * The change log's per-day rollups in the running app: two replicas on one database, events from
 * both, folds from both, crashes at each step, verification and the rebuild command. Every figure is
 * compared with the full scan of the same database.
 */
describe('change-log rollups', () => {
  let a: TestApp;
  let b: TestApp;
  const dbName = `rollups_${Date.now()}`;
  const clock = new TestClock(END);

  beforeAll(async () => {
    const fake = await startFakeSlack();
    a = await startTestApp(import.meta.url, { fake, dbName, clock, rollups: NEVER });
    b = await startTestApp(import.meta.url, { fake, dbName, clock, rollups: NEVER });
    // A random history of 200 changes over four months, written as the app writes (marks included).
    const generated = [
      ...generateHistories(testPolicy(), {
        changes: 200,
        months: 4,
        end: new Date(END.getTime() - 3_600_000),
        seed: 11,
        firstNumber: 1,
        groups: { S0SECURITY: ['U0123ERIN'] },
      }),
    ];
    await storeHistory(
      a.app,
      generated.map((g) => ({
        number: g.number,
        state: g.state,
        events: g.events.map(({ _id, prevHash, hash, ...e }) => e),
      })),
      testPolicy().hash,
    );
  }, 120_000);
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  const period = (text: string) => {
    const p = parsePeriod(text, clock.now(), a.policy.policy.timezone);
    if (!p.ok) throw new Error(p.message);
    return p.period;
  };
  /** Today's full scan of the database. */
  const scan = async (text: string) => {
    const p = period(text);
    const acc = new ChangeLogAccumulator(p, a.app.deps.policy.policy, clock.now());
    for await (const r of a.app.deps.changes.inPeriod(p, { kind: 'all' }))
      acc.add(r.state!, r.slack?.permalink ?? null);
    return acc.result();
  };
  const fromRollups = async (t: TestApp, text: string) => {
    const r = await buildChangeLog(t.app.deps, { kind: 'system' }, period(text));
    expect(r.source).toBe('rollups');
    return r.summary;
  };
  /** Folds until no mark is left, by whichever replica holds the fold's lease. */
  const foldAll = async () => {
    for (let i = 0; i < 100 && (await a.app.models.RollupMark.countDocuments({})) > 0; i++) {
      const [x, y] = await Promise.all([foldRollups(a.app.deps), foldRollups(b.app.deps)]);
      if (!x && !y) await new Promise((r) => setTimeout(r, 500));
    }
  };
  const sameAsScan = async (t: TestApp) => {
    for (const text of ['12m', '30d', '2026-10', 'from 2026-08-03 to 2026-09-17'])
      expect(await fromRollups(t, text), text).toEqual(await scan(text));
  };

  it('are built at the first start and answer a year as the full scan does', async () => {
    // The first start built them (empty); the history written since is folded in, or rebuilt.
    await maintainRollups(a.app.deps);
    expect((await rebuildRollups(a.app.deps, { force: true })).outcome).toBe('rebuilt');
    expect(
      await a.app.models.Setting.exists({ _id: `rollup:${rollupFingerprint(a.policy.policy)}` }),
    ).toBeTruthy();
    await foldAll();
    const year = await fromRollups(a, '12m');
    expect(year.raised).toBe(200);
    await sameAsScan(a);
    await sameAsScan(b);
  });

  it('stay equal to the full scan with concurrent writers on two replicas, folding at the same time', async () => {
    // 24 changes raised through both replicas at once, while both fold.
    const folding = { on: true };
    const folder = async (t: TestApp) => {
      while (folding.on) {
        await foldRollups(t.app.deps).catch(() => null);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const folders = [folder(a), folder(b)];
    const raised = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        submitChange((i % 2 ? a : b).app.deps, {
          request: request({ title: `Concurrent change ${i}` }),
          requester: ALICE,
          source: 'slack',
          originChannel: null,
        }),
      ),
    );
    const numbers = raised.map((r) => (r.ok ? r.number : Number.NaN));
    expect(numbers.every(Number.isFinite)).toBe(true);
    // Each peer review clicked twice at once, once on each replica: one decision each.
    await Promise.all(
      numbers.flatMap((n) =>
        [a, b].map((t, i) =>
          runCommand(t.app.deps, 'approve', { changeNumber: n, stageIndex: 0, actor: i ? BOB : FRANK }),
        ),
      ),
    );
    folding.on = false;
    await Promise.all(folders);
    await foldAll();
    const day = await fromRollups(a, '7d');
    expect(day.raised).toBeGreaterThanOrEqual(24);
    expect(day.approvals.total).toBeGreaterThanOrEqual(24);
    await sameAsScan(a);
    await sameAsScan(b);
  }, 90_000); // 72 writes through two replicas while both fold, then eight full scans: not a timing check

  it('stay correct after a crash at each step between an event and its rollup', async () => {
    const before = await scan('12m');
    // 1. A writer died after its mark, before its event (or lost its race): the mark is dropped once stale.
    await a.app.models.RollupMark.create({
      _id: '3:99:deadbeefdeadbeef',
      changeNumber: 3,
      seq: 99,
      hash: 'deadbeef'.repeat(8),
      at: new Date(Date.now() - 10 * 60_000),
    });
    await foldAll();
    expect(await a.app.models.RollupMark.countDocuments({})).toBe(0);
    expect(await fromRollups(a, '12m')).toEqual(before);

    // 2. A writer died after its event, before any fold: the replicas fold it in.
    const raised = await submitChange(a.app.deps, {
      request: request({ title: 'Recorded, then the process died' }),
      requester: ALICE,
      source: 'slack',
      originChannel: null,
    });
    expect(raised.ok).toBe(true);
    expect(await a.app.models.RollupMark.countDocuments({})).toBe(1);
    // …read before any fold: the pending mark is counted as read.
    expect(await fromRollups(b, '12m')).toEqual(await scan('12m'));
    await foldAll();
    expect(await a.app.models.RollupMark.countDocuments({})).toBe(0);

    // 3. A fold died after writing the days, before removing its marks: the marks are back, and
    // the days that already hold them do not count them twice.
    const n = raised.ok ? raised.number : 0;
    const approved = await runCommand(a.app.deps, 'approve', { changeNumber: n, stageIndex: 0, actor: BOB });
    expect(approved.ok).toBe(true);
    const marks = await a.app.models.RollupMark.find({}).lean();
    expect(marks.length).toBe(1);
    await foldAll();
    await a.app.models.RollupMark.insertMany(marks);
    await foldAll();
    expect(await a.app.models.RollupMark.countDocuments({})).toBe(0);
    await sameAsScan(a);
  });

  it('a tampered rollup is found by the audit verification and mended by the rebuild command', async () => {
    await foldAll();
    expect((await verifyAudit(a.app.deps)).findings).toEqual([]);
    const fp = rollupFingerprint(a.policy.policy);
    const doc = await a.app.models.RollupDay.findOne({ fingerprint: fp }).sort({ day: -1 }).lean();
    await a.app.models.RollupDay.updateOne(
      { _id: doc!._id },
      { $set: { counters: encodeCounters(new Map([...decodeCounters(doc!.counters), ['raised', 999]])) } },
    );
    const report = await verifyAudit(a.app.deps);
    expect(report.findings.map((f) => f.kind)).toEqual(['rollup_mismatch']);
    expect(report.findings[0]!.detail).toContain(`the change-log rollup of ${doc!.day} differs`);
    expect((await fromRollups(a, '12m')).raised).not.toBe((await scan('12m')).raised);

    const uri = `${a.mongoUri.replace(/\/?$/, '/')}${dbName}`;
    const cli = spawnSync(process.execPath, [resolve(ROOT, 'dist/cli/rollups.js')], {
      cwd: ROOT,
      env: cliEnv(uri),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(cli.status, cli.stderr + cli.stdout).toBe(0);
    expect(cli.stdout).toMatch(/Rebuilt the change-log rollups from \d+ events of 225 changes/);
    expect((await verifyAudit(a.app.deps)).findings).toEqual([]);
    await sameAsScan(a);
  });
});
