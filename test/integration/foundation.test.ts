import { stringify } from 'node:querystring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_SECRET, startTestApp, type TestApp } from '../support/harness.js';
import { signSlack } from '../support/slack-requests.js';

describe('Slack request handling over real HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url);
  });
  afterAll(() => t.stop());

  it('answers a correctly signed url_verification with the challenge', async () => {
    const res = await t.slack.signedJson({
      token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
      type: 'url_verification',
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  });

  it('answers a signed slash command', async () => {
    const res = await t.slack.command('/change', 'help');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ response_type: 'ephemeral' });
    expect(String(res.json?.text)).toContain('/change list');
  });

  describe('refuses what is not from Slack, and changes nothing', () => {
    const fields = () => t.slack.commandFields('/change', 'list');
    const snapshot = async () => ({
      calls: t.fake.calls.length,
      changes: await t.app.models.Change.countDocuments(),
      events: await t.app.models.ChangeEvent.countDocuments(),
    });

    it('a forged signature gets 401', async () => {
      const snap = await snapshot();
      const body = stringify(fields());
      const res = await t.slack.raw(body, {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...signSlack('not-the-secret-0000000000', body),
      });
      expect(res.status).toBe(401);
      expect(await snapshot()).toEqual(snap);
    });

    it('a stale timestamp gets 401', async () => {
      const snap = await snapshot();
      const body = stringify(fields());
      const res = await t.slack.raw(body, {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...signSlack(SIGNING_SECRET, body, Math.floor(Date.now() / 1000) - 301),
      });
      expect(res.status).toBe(401);
      expect(await snapshot()).toEqual(snap);
    });

    it('a missing signature gets 401', async () => {
      const res = await t.slack.raw(stringify(fields()), {
        'Content-Type': 'application/x-www-form-urlencoded',
      });
      expect(res.status).toBe(401);
    });

    it('a wrong content type gets 400', async () => {
      const snap = await snapshot();
      const body = stringify(fields());
      const res = await t.slack.raw(body, {
        'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
        ...signSlack(SIGNING_SECRET, body),
      });
      expect(res.status).toBe(400);
      expect(await snapshot()).toEqual(snap);
    });
  });

  it('serves /healthz and /readyz', async () => {
    const health = await fetch(`${t.app.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.app.url}/readyz`);
    // The harness runs without the scheduler: not ready.
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { database: 'ok', scheduler: 'stopped' } });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await fetch(`${t.app.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
  });
});
