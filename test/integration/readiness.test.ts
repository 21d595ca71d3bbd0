import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/harness.js';
import { type PrivateDatabase, startPrivateDatabase } from '../support/private-db.js';

describe('/readyz follows the database', () => {
  let db: PrivateDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await startPrivateDatabase();
    t = await startTestApp(import.meta.url, {
      mongoUri: db.uri,
      scheduler: { enabled: true, processEvery: 200 },
    });
  });
  afterAll(async () => {
    await t.stop();
    await db.destroy();
  });

  it('is ready when the database and scheduler are up, 503 while the database is stopped, ready again after', async () => {
    const ready = () =>
      fetch(`${t.app.url}/readyz`).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, unknown>,
      }));
    expect(await ready()).toEqual({
      status: 200,
      body: { status: 'ready', checks: { database: 'ok', scheduler: 'running' } },
    });

    await db.stop();
    const down = await ready();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'not_ready', checks: { database: 'unreachable' } });
    // The process stays alive while the database is away.
    expect((await fetch(`${t.app.url}/healthz`)).status).toBe(200);

    await db.start();
    const deadline = Date.now() + 20_000;
    let back = await ready();
    while (back.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      back = await ready();
    }
    expect(back.status).toBe(200);
  });
});
