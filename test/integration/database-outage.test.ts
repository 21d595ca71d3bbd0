import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATE, TRY_AGAIN } from '../../src/adapters/slack/copy.js';
import { repairInterruptedSubmissions } from '../../src/application/repair-changes.js';
import { closeDatabase, connectDatabase } from '../../src/infra/db/connection.js';
import { createLogger } from '../../src/infra/logger.js';
import { TestClock } from '../support/clock.js';
import {
  apiChangeBody,
  clickOnChange,
  formValues,
  openRequestModal,
  settled,
  submitOpenedModal,
  submitRequest,
} from '../support/flows.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { ADMIN, ALICE, BOB } from '../support/people.js';
import { type PrivateDatabase, startPrivateDatabase } from '../support/private-db.js';
import { type HoldingProxy, startHoldingProxy } from '../support/tcp-proxy.js';

/**
 * The database goes away in the middle of work: users get "try again" where they are, nothing is
 * half-stored, and the app carries on by itself once the database is back.
 */
describe('database outage', () => {
  let db: PrivateDatabase;
  let t: TestApp;
  let token = '';
  let view: Awaited<ReturnType<typeof openRequestModal>>;

  beforeAll(async () => {
    db = await startPrivateDatabase();
    t = await startTestApp(import.meta.url, {
      mongoUri: db.uri,
      clock: new TestClock('2026-03-10T17:00:00Z'),
      scheduler: { enabled: true, processEvery: 200 },
    });
    await t.slack.command('/change', 'token create outage all env=production', { user: ADMIN });
    await settled(t);
    token = /`(cg_[A-Za-z0-9_]+)`/.exec(String(t.fake.responsePosts.at(-1)!.body.text))![1]!;
    view = await openRequestModal(t, ALICE);
  });
  afterAll(async () => {
    await t.stop();
    await db.destroy();
  });

  const ready = () => fetch(`${t.app.url}/readyz`).then((r) => r.status);
  const apiCreate = (title: string) =>
    fetch(`${t.app.url}/api/v1/changes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(apiChangeBody({ title, description: 'Outage test.' })),
    }).then(async (r) => ({
      status: r.status,
      body: (await r.json().catch(() => null)) as Record<string, unknown> | null,
    }));
  const modalSubmit = (title: string) =>
    t.slack.submitView(
      {
        callbackId: view.callback_id,
        values: formValues({ title }),
        privateMetadata: view.private_metadata,
        blocks: view.blocks,
      },
      ALICE,
    );

  it('answers "try again" while it is down, stores nothing half-way, and recovers by itself', async () => {
    const before = await submitRequest(t, { title: 'Raised before the outage' });

    // A burst of submissions is in flight when the database stops.
    const burst = Array.from({ length: 12 }, (_, i) => `Burst ${i}`);
    const inFlight = burst.map((title, i) =>
      i % 2 === 0
        ? apiCreate(title).then((r) => ({ title, ok: r.status === 201, r }))
        : modalSubmit(title).then((r) => ({ title, ok: r.status === 200 && r.json === null, r })),
    );
    await new Promise((r) => setTimeout(r, 15));
    await db.stop();
    const outcomes = await Promise.all(inFlight);
    for (const o of outcomes) {
      if (o.ok) continue;
      // Every submission that did not succeed said so clearly.
      const answer = JSON.stringify('body' in o.r ? o.r.body : o.r.json);
      expect(answer, o.title).toMatch(/try again/i);
    }

    // While the database is away, each door answers "try again" in time.
    expect(await ready()).toBe(503);
    const modal = await modalSubmit('Raised during the outage');
    expect(modal.status).toBe(200);
    expect(modal.ms).toBeLessThan(3000); // inside Slack's window, so the user sees our message
    expect(modal.json).toMatchObject({ response_action: 'errors', errors: { title: TRY_AGAIN } });

    const ephemeralMark = t.fake.ephemerals.length;
    const responseMark = t.fake.responsePosts.length;
    await clickOnChange(t, before, 'change_approve', `${before}:0`, BOB);
    const list = await t.slack.command('/change', 'list', { user: BOB });
    expect(list.status).toBe(200);
    const api = await apiCreate('API during the outage');
    expect(api.status).toBe(503);
    expect(String(api.body?.message)).toMatch(/try again/i);
    await settled(t);
    const told = [
      ...t.fake.ephemerals
        .slice(ephemeralMark)
        .filter((e) => e.args.user === BOB)
        .map((e) => String(e.args.text)),
      ...t.fake.responsePosts.slice(responseMark).map((p) => String(p.body.text)),
    ];
    expect(told.filter((x) => x.includes(TRY_AGAIN))).toHaveLength(2); // the click and /change list
    expect((await fetch(`${t.app.url}/healthz`)).status).toBe(200);

    // The database comes back: nothing to restart.
    await db.start();
    const deadline = Date.now() + 20_000;
    while ((await ready()) !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await ready()).toBe(200);

    const events = await clickOnChange(t, before, 'change_approve', `${before}:0`, BOB).then(async () => {
      await settled(t);
      return t.app.models.ChangeEvent.find({ changeNumber: before }).lean();
    });
    expect(events.filter((e) => e.type === 'stage_approved')).toHaveLength(1);
    const after = await submitRequest(t, { title: 'Raised after the outage' });
    expect(after).toBeGreaterThan(before);

    // Interrupted submissions are completed or released (the repair job's work), then every
    // change is whole: its projection's head is its last event, and nothing failed was kept. A
    // number claimed by a submission the outage cut off is kept as released (the gap in the
    // numbering explained, as after a crash), never left pending.
    await repairInterruptedSubmissions(t.app.deps, 0);
    const changes = await t.app.models.Change.find({}).lean();
    expect(changes.filter((c) => c.seq === 0 && c.status !== 'released')).toEqual([]);
    for (const c of changes) {
      expect(await t.app.models.ChangeEvent.countDocuments({ changeNumber: c.number }), c._id).toBe(c.seq);
    }
    const titles = new Set(changes.filter((c) => c.seq > 0).map((c) => c.title));
    for (const o of outcomes) if (o.ok) expect(titles.has(o.title), o.title).toBe(true);
    expect(titles.has('Raised during the outage')).toBe(false);
    expect(titles.has('API during the outage')).toBe(false);
    // Events without a change record would be half-stored too.
    const numbers = new Set(changes.map((c) => c.number));
    const orphans = (await t.app.models.ChangeEvent.distinct('changeNumber')).filter((n) => !numbers.has(n));
    expect(orphans).toEqual([]);
  });
});

/**
 * A database that hangs (no error, no answer) while a modal is submitted: the user still gets an
 * answer inside Slack's 3-second window, and the submission, finished once the database answers
 * again, is recorded once however often the same form is sent.
 */
describe('database that hangs', () => {
  let db: PrivateDatabase;
  let proxy: HoldingProxy;
  let t: TestApp;

  beforeAll(async () => {
    db = await startPrivateDatabase();
    proxy = await startHoldingProxy(db.uri);
    t = await startTestApp(import.meta.url, {
      mongoUri: proxy.uri,
      clock: new TestClock('2026-03-10T17:00:00Z'),
    });
  });
  afterAll(async () => {
    proxy.release();
    await t.stop();
    await proxy.close();
    await db.destroy();
  });

  it('answers a modal in time while its work waits, and records it once when the database is back', async () => {
    const view = await openRequestModal(t, ALICE);
    proxy.hold();
    const late = await submitOpenedModal(t, view, { title: 'Saved while the database hangs' });
    expect(late.status).toBe(200);
    expect(late.ms).toBeLessThan(3000); // Bolt's own answer after 3 s would be a 404, and Slack's error
    // Shown on the form's first input (the top of the modal); the values stay as they were.
    expect(late.json).toEqual({ response_action: 'errors', errors: { type: LATE } });

    proxy.release();
    await settled(t);
    const saved = () =>
      t.app.models.Change.countDocuments({ title: 'Saved while the database hangs', seq: { $gt: 0 } });
    expect(await saved()).toBe(1);
    // The user does what the message says: the same form again closes, and nothing is saved twice.
    const again = await submitOpenedModal(t, view, { title: 'Saved while the database hangs' });
    expect(again.status).toBe(200);
    expect(again.json).toBeNull();
    await settled(t);
    expect(await saved()).toBe(1);
  });
  it('a stop lets a command in flight answer before the connection closes', async () => {
    const conn = await connectDatabase(proxy.uri, createLogger({ level: 'error', format: 'pretty' }));
    const notes = conn.getClient().db('close_drain').collection('notes');
    await notes.insertOne({ _id: 'a' } as never);
    proxy.hold();
    const read = notes.findOne({ _id: 'a' } as never); // its connection is out, its answer held
    const outcome = read.then(
      (doc) => ({ doc }),
      (err: Error) => ({ err: err.name }),
    );
    await new Promise((r) => setTimeout(r, 100));
    const closed = closeDatabase(conn);
    await new Promise((r) => setTimeout(r, 300));
    proxy.release();
    await closed;
    // Interrupted, it would fail with MongoClientClosedError in whatever issued it.
    expect(await outcome).toEqual({ doc: { _id: 'a' } });
  });
});
