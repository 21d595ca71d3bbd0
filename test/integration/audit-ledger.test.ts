import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Collection, Document } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { catchUpLedger, checkpointNow } from '../../src/application/audit-ledger.js';
import { foldRollups } from '../../src/application/rollups.js';
import { verifyAudit } from '../../src/application/verify-audit.js';
import { eventSealBytes, GENESIS_HASH, hashEvent } from '../../src/domain/audit.js';
import { formatChangeId } from '../../src/domain/change.js';
import type { FindingKind } from '../../src/domain/ledger.js';
import { foldEvents, type StoredChangeEvent } from '../../src/domain/lifecycle.js';
import { signerOf } from '../../src/infra/audit-key.js';
import { projectionFields } from '../../src/infra/db/change-repository.js';
import { eventId } from '../../src/infra/db/models.js';
import { insertRollupMark } from '../../src/infra/db/rollup-store.js';
import { apiClient, createToken } from '../support/api.js';
import { septemberChanges } from '../support/change-log-fixture.js';
import { TestClock } from '../support/clock.js';
import type { FakeSlack } from '../support/fake-slack/server.js';
import { approve, settled, submitRequest } from '../support/flows.js';
import { AUDIT_KEY, startFakeSlack, startTestApp, type TestApp } from '../support/harness.js';
import { BOB, CAROL, ERIN, SECURITY_GROUP } from '../support/people.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NOW = '2026-03-10T17:00:00Z';
const AUDIT_CHANNEL = 'C0123AUD01';
const COLLECTIONS = [
  'changes',
  'change_events',
  'audit_ledger',
  'audit_ledger_events',
  'audit_checkpoints',
  'audit_tree',
  'reminder_deliveries', // the daily verification's once-a-day claim
  'rollup_days', // the change log's rollups, saved with everything folded in
  'rollup_marks',
];

/**
 * The tamper-evident ledger against someone who can write to the database but does not hold the
 * audit key: each way of tampering is done to the real database, then the whole trail is
 * verified and must name the change, the event and the kind, while the untouched trail verifies.
 */
describe('audit ledger', () => {
  let t: TestApp;
  let token = '';
  const api = apiClient(
    () => t,
    () => token,
  );
  const changes: number[] = [];
  const saved: Record<string, Document[]> = {};

  const col = (name: string): Collection => t.app.conn.db!.collection(name);
  const verify = (opts = {}) => verifyAudit(t.app.deps, opts);
  // Tampering behind the app can also leave a change-log rollup day that no longer adds up, depending
  // on whether the day was folded before: that finding is tested in rollups.test.ts, not here.
  const kinds = async () =>
    (await verify()).findings
      .filter((f) => f.kind !== 'rollup_mismatch')
      .map((f) => ({ kind: f.kind, change: f.change, seq: f.seq }));
  const eventsOf = async (n: number) =>
    (await col('change_events')
      .find({ changeNumber: n })
      .sort({ seq: 1 })
      .toArray()) as unknown as (StoredChangeEvent & {
      _id: string;
    })[];

  /** What an insider without the key can do: rewrite a change's events and recompute every hash the old way. */
  async function rewriteChain(n: number, events: (StoredChangeEvent & { _id: string })[]) {
    let prev = GENESIS_HASH;
    const rewritten = events.map((e, i) => {
      const seq = i + 1;
      const base = { ...e, seq, _id: eventId(n, seq) };
      const hash = hashEvent(prev, base);
      const out = { ...base, prevHash: prev, hash };
      prev = hash;
      return out;
    });
    await col('change_events').deleteMany({ changeNumber: n });
    await col('change_events').insertMany(rewritten as unknown as Document[]);
    // …and make the change's record match, so that nothing looks out of place.
    const state = foldEvents(rewritten)!;
    const last = rewritten.at(-1)!;
    await col('changes').updateOne(
      { _id: formatChangeId(n) as never },
      { $set: projectionFields(state, { seq: last.seq, hash: last.hash }, []) },
    );
  }

  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { clock: new TestClock(NOW) });
    await t.app.ledgerCaughtUp;
    token = await createToken(t, 'auditor', 'audit:read changes:read');
    for (let i = 0; i < 4; i++) {
      const n = await submitRequest(t, { title: `Ledger change ${i + 1}` });
      await approve(t, n, 0, BOB);
      if (i !== 2) await approve(t, n, 1, CAROL);
      changes.push(n);
    }
    await settled(t);
    expect((await checkpointNow(t.app.deps)).kind).toBe('signed');
    // A change after the checkpoint: its entries are covered by their own signatures only.
    changes.push(await submitRequest(t, { title: 'After the checkpoint' }));
    await settled(t);
    await t.app.deps.ledger.flush();
    while ((await col('rollup_marks').countDocuments({})) > 0)
      if (!(await foldRollups(t.app.deps))) await new Promise((r) => setTimeout(r, 200));
    for (const name of COLLECTIONS) saved[name] = await col(name).find().toArray();
  });
  afterAll(() => t.stop());

  // Each test tampers with its own copy of the same history.
  beforeEach(async () => {
    for (const name of COLLECTIONS) {
      await col(name).deleteMany({});
      if (saved[name]!.length > 0) await col(name).insertMany(saved[name]!.map((d) => ({ ...d })));
    }
  });

  it('an untouched trail verifies, compared with the checkpoints in the audit channel', async () => {
    const report = await verify();
    expect(report.findings, JSON.stringify(report.findings.slice(0, 4))).toEqual([]);
    expect(report).toMatchObject({
      intact: true,
      witness: 'compared',
      checkpoints: 1,
      unledgered: 0,
      checkedChanges: changes.length,
    });
    expect(report.ledgerSize).toBe(report.checkedEvents);
    const posted = t.fake.posts(AUDIT_CHANNEL);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.text).toContain('Audit checkpoint #1');
    expect((await verify({ allSignatures: true })).intact).toBe(true);
  });

  it('an event rewritten with every hash recomputed the old way is found, and the gate refuses the change', async () => {
    const n = changes[0]!;
    const events = await eventsOf(n);
    const approval = events.find((e) => e.seq === 3)!;
    (approval as { actor: string }).actor = 'U0MALLORY';
    await rewriteChain(n, events);
    expect(await kinds()).toEqual([{ kind: 'edited', change: n, seq: 3 }]);
    const gate = await api(`/changes/${formatChangeId(n)}/gate?environment=production`);
    expect(gate.json).toMatchObject({ allowed: false, reasons: [{ code: 'audit_trail_broken' }] });
  });

  it('a forged approval appended to a change is found as inserted', async () => {
    const n = changes[2]!; // waiting on the lead's approval
    const events = await eventsOf(n);
    const peer = events.at(-1)!; // Bob's approval, copied as Carol's
    const seq = peer.seq + 1;
    events.push({
      ...peer,
      _id: eventId(n, seq),
      seq,
      slot: 'stage:1',
      actor: CAROL,
      data: { ...(peer.data as object), stageIndex: 1 },
    } as never);
    await rewriteChain(n, events);
    expect(await kinds()).toEqual([{ kind: 'inserted', change: n, seq }]);
    const gate = await api(`/changes/${formatChangeId(n)}/gate?environment=production`);
    expect(gate.json).toMatchObject({
      allowed: false,
      reasons: expect.arrayContaining([{ code: 'audit_trail_broken', message: expect.any(String) }]),
    });
  });

  it('a whole change deleted with its events and record is found as removed', async () => {
    const n = changes[1]!;
    await col('change_events').deleteMany({ changeNumber: n });
    await col('changes').deleteOne({ number: n });
    expect(await kinds()).toEqual([{ kind: 'change_removed', change: n, seq: null }]);
  });

  it('a whole change deleted with its ledger entries too leaves a hole in the ledger and in the numbers', async () => {
    const n = changes[1]!;
    await col('change_events').deleteMany({ changeNumber: n });
    await col('changes').deleteOne({ number: n });
    await col('audit_ledger').deleteMany({ changeNumber: n });
    await col('audit_ledger_events').deleteMany({ _id: { $regex: `^${n}:` } as never });
    const found = await kinds();
    expect(found).toContainEqual({ kind: 'deleted', change: null, seq: null });
    expect(found).toContainEqual({ kind: 'change_removed', change: n, seq: null });
  });

  it('a record edited to say what its events do not is found as a projection mismatch', async () => {
    const n = changes[2]!;
    const doc = (await col('changes').findOne({ number: n }))!;
    const state = JSON.parse(doc.stateJson as string) as { status: string };
    state.status = 'approved';
    await col('changes').updateOne(
      { number: n },
      { $set: { status: 'approved', stateJson: JSON.stringify(state) } },
    );
    expect(await kinds()).toEqual([{ kind: 'projection_mismatch', change: n, seq: null }]);
  });

  it('events swapped within a change (hashes recomputed) are found as reordered', async () => {
    const n = changes[3]!;
    const events = await eventsOf(n);
    [events[1], events[2]] = [events[2]!, events[1]!];
    await rewriteChain(n, events);
    expect(await kinds()).toEqual([
      { kind: 'reordered', change: n, seq: 2 },
      { kind: 'reordered', change: n, seq: 3 },
    ]);
  });

  it('ledger entries swapped in place are found as reordered', async () => {
    const [a, b] = (await col('audit_ledger')
      .find({})
      .sort({ _id: 1 })
      .skip(2)
      .limit(2)
      .toArray()) as Document[];
    await col('audit_ledger').deleteMany({ _id: { $in: [a!._id, b!._id] } });
    await col('audit_ledger').insertMany([
      { ...a!, _id: b!._id },
      { ...b!, _id: a!._id },
    ]);
    const found = (await verify()).findings;
    expect(found.filter((f) => f.kind === 'reordered').map((f) => f.index)).toEqual([2, 3]);
  });

  it('a ledger cut short of its last checkpoint is found as truncated', async () => {
    const size = (await col('audit_checkpoints').findOne({}))!.frontier as string;
    const treeSize = (JSON.parse(size) as { size: number }).size;
    await col('audit_ledger').deleteMany({ index: { $gte: treeSize - 3 } });
    const found = await kinds();
    expect(found).toContainEqual({ kind: 'truncated', change: null, seq: null });
  });

  it('a ledger entry edited to match a rewritten event no longer carries a valid signature', async () => {
    const n = changes[4]!; // after the checkpoint: only its own signature covers it
    const events = await eventsOf(n);
    (events[0]! as { actor: string }).actor = 'U0MALLORY';
    await rewriteChain(n, events);
    const rewritten = await eventsOf(n);
    await col('audit_ledger').updateOne(
      { changeNumber: n, seq: 1 },
      { $set: { eventHash: rewritten[0]!.hash } },
    );
    const found = await kinds();
    expect(found).toContainEqual({ kind: 'edited', change: n, seq: 1 });
  });

  it('a checkpoint deleted from the database is still in the audit channel; a forged one is not', async () => {
    await col('audit_checkpoints').deleteMany({});
    expect(await kinds()).toEqual([{ kind: 'checkpoint_missing_in_database', change: null, seq: null }]);

    for (const name of ['audit_checkpoints']) await col(name).insertMany(saved[name]!.map((d) => ({ ...d })));
    const forged = { ...saved.audit_checkpoints![0]!, _id: '000000000002', number: 2 } as Document;
    forged.body = { ...(forged.body as object), number: 2, treeSize: 1 };
    await col('audit_checkpoints').insertOne(forged);
    const found = (await verify()).findings.map((f) => f.kind);
    expect(found).toEqual(
      expect.arrayContaining<FindingKind>(['checkpoint_invalid', 'checkpoint_missing_in_slack']),
    );
  });

  it('an event whose entry a crash lost is sealed, reported as waiting, and entered by the daily verification', async () => {
    // The app stored and sealed the event, then died before its ledger entry was written.
    const n = changes[4]!;
    const last = (await eventsOf(n)).at(-1)!;
    const base = {
      changeNumber: n,
      seq: last.seq + 1,
      slot: 'cancelled',
      type: 'cancelled',
      actor: last.actor,
      at: new Date(NOW),
      policyHash: last.policyHash,
      data: { reason: 'no longer needed' },
    };
    const hash = hashEvent(last.hash, base);
    const signer = signerOf(createPrivateKey(AUDIT_KEY));
    const seal = { keyId: signer.keyId, sig: signer.sign(eventSealBytes({ ...base, hash })) };
    // As the app writes: the rollup mark first, then the event.
    await insertRollupMark(t.app.models, { changeNumber: n, seq: base.seq, hash, at: new Date() });
    await col('change_events').insertOne({
      _id: eventId(n, base.seq) as never,
      ...base,
      prevHash: last.hash,
      hash,
      seal,
    });
    expect(await verify()).toMatchObject({ intact: true, unledgered: 1 });
    t.clock.advance(2 * 60_000); // events younger than a minute are left to their writer
    const daily = await t.app.reminders.auditVerify();
    expect(daily.report).toMatchObject({ intact: true, unledgered: 1 });
    expect(await verify()).toMatchObject({ intact: true, unledgered: 0 });
    t.clock.set(NOW);
  });

  it('an event written behind the app, without its seal, is never adopted', async () => {
    const n = changes[4]!;
    const last = (await eventsOf(n)).at(-1)!;
    const base = {
      ...last,
      _id: eventId(n, last.seq + 1),
      seq: last.seq + 1,
      slot: 'cancelled',
      type: 'cancelled',
      data: { reason: 'x' },
    };
    const hash = hashEvent(last.hash, base);
    await col('change_events').insertOne({ ...base, prevHash: last.hash, hash, seal: null } as never);
    t.clock.advance(2 * 60_000);
    expect((await t.app.reminders.auditVerify()).report).toMatchObject({ intact: false, unledgered: 0 });
    expect(await kinds()).toEqual([{ kind: 'inserted', change: n, seq: base.seq }]);
    expect(await col('audit_ledger').countDocuments({ changeNumber: n, seq: base.seq })).toBe(0);
    t.clock.set(NOW);
  });

  it('a JSON export verifies offline with the public key, and fails after one byte of it changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'changegate-export-'));
    try {
      t.clock.advance(60_000); // the period ends now: the changes were all raised before it
      const res = await api('/audit/export?period=30d&format=json');
      expect(res.status).toBe(200);
      const file = join(dir, 'evidence.json');
      writeFileSync(file, res.text);
      const pem = await fetch(`${t.app.url}/api/v1/audit/public-key`);
      expect(pem.headers.get('content-type')).toContain('application/x-pem-file');
      const keyFile = join(dir, 'key.pem');
      writeFileSync(keyFile, await pem.text());
      expect(readFileSync(keyFile, 'utf8')).toBe(
        createPublicKey(AUDIT_KEY).export({ type: 'spki', format: 'pem' }).toString(),
      );
      const offline = (path: string) =>
        spawnSync(
          process.execPath,
          [resolve(ROOT, 'dist/cli/audit-verify.js'), '--export', path, '--public-key', keyFile],
          {
            cwd: ROOT,
            env: { PATH: process.env.PATH ?? '' },
            encoding: 'utf8',
          },
        );
      const ok = offline(file);
      expect(ok.status, ok.stdout + ok.stderr).toBe(0);
      expect(ok.stdout).toContain('The export verifies');
      const bundle = JSON.parse(res.text) as { changes: { audit: { events: unknown[] } }[] };
      expect(bundle.changes).toHaveLength(changes.length);
      expect(ok.stdout).toMatch(
        new RegExp(`${bundle.changes.reduce((k, c) => k + c.audit.events.length, 0)} proven`),
      );

      // One byte: a character of an approver's id in the middle of the file.
      const bytes = Buffer.from(res.text, 'utf8');
      const at = bytes.indexOf(Buffer.from(CAROL)) + 3;
      bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
      const tampered = join(dir, 'tampered.json');
      writeFileSync(tampered, bytes);
      const bad = offline(tampered);
      expect(bad.status).toBe(1);
      expect(bad.stdout).toContain('the file was changed after Changegate signed it');

      // Signed, but not by the key the auditor trusts.
      writeFileSync(keyFile, signerOf(generateKeyPairSync('ed25519').privateKey).publicKey);
      const stranger = offline(file);
      expect(stranger.status).toBe(1);
      expect(stranger.stdout).toContain('not by a trusted key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the daily verification reports a failure to the audit channel and the security role, once a day', async () => {
    const earlier = t.fake.posts(AUDIT_CHANNEL).length;
    await col('change_events').updateOne(
      { changeNumber: changes[0]!, seq: 2 },
      { $set: { actor: 'U0MALLORY' } },
    );
    const run = await t.app.reminders.auditVerify();
    expect(run.outcome).toBe('verified');
    expect(run.report).toMatchObject({ intact: false });
    const alert = t.fake
      .posts(AUDIT_CHANNEL)
      .slice(earlier)
      .filter((m) => m.text.includes('failed verification'));
    expect(alert).toHaveLength(1);
    expect(alert[0]!.text).toContain(`${formatChangeId(changes[0]!)} event 2`);
    expect(alert[0]!.text).toContain(`<!subteam^${SECURITY_GROUP}>`);
    expect(t.fake.dms(ERIN).some((m) => m.text.includes('failed verification'))).toBe(true);
    expect((await t.app.reminders.auditVerify()).outcome).toBe('skipped');
  });
});

describe('audit ledger: the audit channel', () => {
  it('a checkpoint whose post to the audit channel has not landed is waited for an hour, then reported', async () => {
    const t = await startTestApp(import.meta.url, { clock: new TestClock(NOW) });
    try {
      await t.app.ledgerCaughtUp;
      await submitRequest(t, { title: 'Before an unposted checkpoint' });
      await settled(t);
      await t.app.deps.ledger.flush();
      // The post fails (it is retried with the next checkpoint): the checkpoint has no witness yet.
      t.fake.failNext('chat.postMessage', 'not_in_channel');
      expect(await checkpointNow(t.app.deps)).toMatchObject({ kind: 'signed', witnessed: false });
      expect((await verifyAudit(t.app.deps)).findings).toEqual([]);
      t.clock.advance(61 * 60_000);
      expect((await verifyAudit(t.app.deps)).findings.map((f) => f.kind)).toEqual([
        'checkpoint_missing_in_slack',
      ]);
    } finally {
      await t.stop();
    }
  });
});

describe('audit ledger: migration and key rotation', () => {
  let first: TestApp | null = null;
  const dbName = `ledger_migration_${process.pid}`;
  const keyB = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  let fake: FakeSlack;
  beforeAll(async () => {
    fake = await startFakeSlack(); // one workspace for every app below: the audit channel stays
  });
  afterAll(async () => {
    await first?.stop();
    await fake.stop();
  });

  it('builds the ledger for records from before it, once, while the app serves; a rotation is signed by both keys', async () => {
    // Records written by a version without the ledger: hash-chained events, no seal, no entry.
    const host = await startTestApp(import.meta.url, { clock: new TestClock(NOW) });
    const legacy = host.app.conn.getClient().db(dbName);
    await legacy.dropDatabase();
    const { machines } = septemberChanges();
    for (const m of machines) {
      let prev = GENESIS_HASH;
      const events = m.events.map((e) => {
        const base = { ...e, policyHash: 'test' };
        const hash = hashEvent(prev, base);
        const doc = { _id: eventId(e.changeNumber, e.seq), ...base, prevHash: prev, hash };
        prev = hash;
        return doc;
      });
      await legacy.collection('change_events').insertMany(events as never);
      const last = events.at(-1)!;
      await legacy.collection<Document & { _id: string }>('changes').insertOne({
        _id: formatChangeId(m.number),
        originChannel: null,
        slack: null,
        createdAt: new Date(NOW),
        updatedAt: new Date(NOW),
        ...projectionFields(m.state, { seq: last.seq, hash: last.hash }, []),
      });
    }
    await host.stop();

    first = await startTestApp(import.meta.url, {
      clock: new TestClock(NOW),
      dbName,
      mongoUri: host.mongoUri,
      fake,
    });
    // The app serves while the migration runs.
    const n = await submitRequest(first, { title: 'During the migration' });
    expect(n).toBeGreaterThan(110);
    await first.app.ledgerCaughtUp;
    await first.app.deps.ledger.flush();
    expect(await first.app.deps.ledger.migration()).toMatchObject({
      events: machines.reduce((k, m) => k + m.events.length, 0),
    });
    const report = await verifyAudit(first.app.deps);
    expect(report.findings, JSON.stringify(report.findings.slice(0, 4))).toEqual([]);
    expect(report.unledgered).toBe(0);
    expect(report.checkedChanges).toBe(machines.length + 1);
    // Idempotent: a second run finds nothing to do.
    expect(await catchUpLedger(first.app.deps)).toMatchObject({
      migrated: 0,
      ledgered: 0,
      migration: 'done_before',
    });
    expect((await checkpointNow(first.app.deps)).kind).toBe('signed');
    await first.stop();

    // A new key, with the old one given as the previous key: the next checkpoint hands over.
    const rotating = await startTestApp(import.meta.url, {
      clock: new TestClock(NOW),
      dbName,
      mongoUri: host.mongoUri,
      fake,
      env: { CHANGEGATE_AUDIT_KEY: keyB, CHANGEGATE_AUDIT_KEY_PREVIOUS: AUDIT_KEY },
    });
    const rotation = await checkpointNow(rotating.app.deps);
    expect(rotation).toMatchObject({
      kind: 'signed',
      checkpoint: { body: { kind: 'key_rotation', number: 2 } },
    });
    await rotating.stop();

    // Only the new key from here on: entries signed by the old one are trusted through the rotation.
    first = await startTestApp(import.meta.url, {
      clock: new TestClock(NOW),
      dbName,
      mongoUri: host.mongoUri,
      fake,
      env: { CHANGEGATE_AUDIT_KEY: keyB },
    });
    await first.app.ledgerCaughtUp;
    const after = await verifyAudit(first.app.deps);
    expect(after.findings, JSON.stringify(after.findings)).toEqual([]);
    expect(after.keys).toHaveLength(2);

    // A key nobody handed over to cannot sign a checkpoint.
    const strangerKey = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const stranger = await startTestApp(import.meta.url, {
      clock: new TestClock(NOW),
      dbName,
      mongoUri: host.mongoUri,
      fake,
      env: { CHANGEGATE_AUDIT_KEY: strangerKey },
    });
    const refused = await checkpointNow(stranger.app.deps);
    expect(refused.kind).toBe('refused');
    expect(refused.kind === 'refused' && refused.reason).toContain('CHANGEGATE_AUDIT_KEY_PREVIOUS');
    await stranger.stop();
  });
});
