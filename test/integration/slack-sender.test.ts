import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/infra/db/ferretdb.js';
import { createLogger } from '../../src/infra/logger.js';
import { slackTransport } from '../../src/infra/slack/http-transport.js';
import { SendDeadlineError, SlackApiError, SlackSender } from '../../src/infra/slack/sender.js';
import { FakeSlack } from '../support/fake-slack/server.js';

// The app's transport (http-transport.ts) and Node's fetch behave alike for every case.
describe.each([
  ['the app transport', { fetch: slackTransport }],
  ['Node fetch', {}],
])('the Slack sender over %s', (_name, transport) => {
  let fake: FakeSlack;
  const logger = createLogger({ level: 'error', format: 'pretty' });
  const client = () =>
    new WebClient('xoxb-test-token', {
      ...transport,
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
  beforeAll(async () => {
    fake = await new FakeSlack().start();
    fake.addUser('U0123ALICE');
  });
  afterAll(() => fake.stop());

  it("paces each method to its tier, so Slack's limit is never hit", async () => {
    fake.clear();
    // Slack allows 10 users.info calls in any second; the sender's bucket (8 a second after a burst of
    // 1) never exceeds that in any one-second window.
    fake.setRateLimit('users.info', 10, 1000, 1);
    const sender = new SlackSender(client(), logger, {
      limits: { 'users.info': { perMinute: 480, burst: 1 } },
    });
    await Promise.all(Array.from({ length: 30 }, () => sender.call('users.info', { user: 'U0123ALICE' })));
    fake.clearRateLimits();
    expect(fake.calls.filter((c) => c.method === 'users.info' && c.status === 429)).toEqual([]);
    expect(fake.callsOf('users.info')).toHaveLength(30);
  });

  it('paces chat.postMessage per channel as well as per workspace', async () => {
    fake.clear();
    fake.setRateLimit('chat.postMessage', 1000, 1000, 1);
    const sender = new SlackSender(client(), logger, {
      limits: { 'chat.postMessage': { perMinute: 6000, burst: 100, perChannelPerSecond: 5 } },
    });
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        sender.call('chat.postMessage', { channel: 'C0123CHG01', text: `m${i}` }),
      ),
    );
    // 3 in the per-channel burst, then 5 per second: the last one cannot go before ~1 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    fake.clearRateLimits();
  });

  it('does not send a call that could not be over by its settle-by time once its turn came', async () => {
    fake.clear();
    const sender = new SlackSender(client(), logger, {
      limits: { 'chat.postMessage': { perMinute: 6000, burst: 100, perChannelPerSecond: 2 } },
      callTimeoutMs: 200,
    });
    const settleBy = Date.now() + 900;
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        sender.call('chat.postMessage', { channel: 'C0123CHG01', text: `m${i}` }, { settleBy }),
      ),
    );
    // 3 in the channel's burst, then one each 500 ms: m3 at ~0.5 s (over by 0.7 s at the latest, its
    // 200 ms timeout counted), m4 at ~1 s (over by 1.2 s: too late for 0.9 s), m5 later still.
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
    ]);
    expect((results[4] as PromiseRejectedResult).reason).toBeInstanceOf(SendDeadlineError);
    expect(fake.posts('C0123CHG01').map((m) => m.text)).toEqual(['m0', 'm1', 'm2', 'm3']);
  });

  it('retries an idempotent call after a transient Slack error, never a post', async () => {
    fake.clear();
    const sender = new SlackSender(client(), logger);
    const posted = await sender.call<{ ts: string; channel: string }>('chat.postMessage', {
      channel: 'C0123CHG01',
      text: 'hello',
    });
    fake.failNext('chat.update', 'fatal_error', 1);
    await expect(
      sender.call('chat.update', { channel: posted.channel, ts: posted.ts, text: 'edited' }),
    ).resolves.toMatchObject({ ok: true });
    fake.failNext('chat.postMessage', 'fatal_error', 1);
    await expect(
      sender.call('chat.postMessage', { channel: 'C0123CHG01', text: 'once' }),
    ).rejects.toBeInstanceOf(SlackApiError);
    // The update went through on the retry; the failed post was not repeated.
    expect(fake.posts('C0123CHG01').map((m) => m.text)).toEqual(['edited']);
  });

  it('a call that times out is tried once more at most; a refused connection is retried', async () => {
    fake.clear();
    fake.hang('users.info');
    const timing = new WebClient('xoxb-test-token', {
      ...transport,
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: 200,
    });
    const sender = new SlackSender(timing, logger);
    const started = Date.now();
    await expect(sender.call('users.info', { user: 'U0123ALICE' })).rejects.toThrow(/timeout/);
    fake.unhang();
    expect(fake.heldCalls).toBe(2); // web-api 8's timeout (an AbortSignal TimeoutError) is a timeout
    expect(Date.now() - started).toBeLessThan(3_000);
    // Nothing listening: the request never reached Slack, so even a post may be retried.
    const closed = await freePort(); // a port nothing listens on
    const nowhere = new SlackSender(
      new WebClient('xoxb-test-token', {
        ...transport,
        slackApiUrl: `http://127.0.0.1:${closed}/api/`,
        retryConfig: { retries: 0 },
      }),
      logger,
    );
    const before = nowhere.stats.retries;
    await expect(nowhere.call('chat.postMessage', { channel: 'C1', text: 'x' })).rejects.toThrow();
    expect(nowhere.stats.retries - before).toBe(7);
  });

  it('honours Retry-After on 429 and delivers every message once', async () => {
    fake.clear();
    fake.setRateLimit('chat.postMessage', 3, 1000, 1);
    const sender = new SlackSender(client(), logger, { rateScale: 100 });
    await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        sender.call('chat.postMessage', { channel: `C0123CH${i}`, text: `m${i}` }),
      ),
    );
    fake.clearRateLimits();
    expect(sender.stats.rateLimited).toBeGreaterThan(0);
    expect(
      fake
        .posts()
        .map((m) => m.text)
        .sort(),
    ).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
  });
});

describe('the app transport', () => {
  it('fails a redirect as fetch does, and reads headers case-insensitively', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: 'http://example.invalid/' }).end();
        return;
      }
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () =>
        res
          .writeHead(200, { 'content-type': 'application/json', 'X-OAuth-Scopes': 'chat:write' })
          .end(JSON.stringify({ ok: true, echo: body })),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const moved = slackTransport(`http://127.0.0.1:${port}/moved`, {
        method: 'POST',
        body: 'a=1',
        redirect: 'error',
      });
      await expect(moved).rejects.toThrow(TypeError);
      const res = await slackTransport(`http://127.0.0.1:${port}/api/x`, {
        method: 'POST',
        body: 'a=%C3%A9',
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('X-OAUTH-SCOPES')).toBe('chat:write');
      expect(await res.json()).toEqual({ ok: true, echo: 'a=%C3%A9' });
      const client = new WebClient('xoxb-test-token', {
        slackApiUrl: `http://127.0.0.1:${port}/api/`,
        fetch: slackTransport,
      });
      const result = await client.apiCall('auth.test', { view: { blocks: ['é'] } });
      expect(result.response_metadata?.scopes).toEqual(['chat:write']);
    } finally {
      server.close();
    }
  });
});
