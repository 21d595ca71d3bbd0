import { ErrorCode, type FetchFunction } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { jsonApiCaller, jsonBody } from '../../src/infra/slack/json-call.js';

type Sent = { url: string; init: Parameters<FetchFunction>[1] };

/** A transport that records each request and answers with `status`, `body` and `headers`. */
function transport(status: number, body: string, headers: Record<string, string> = {}) {
  const sent: Sent[] = [];
  const fetch: FetchFunction = async (input, init) => {
    sent.push({ url: String(input), init });
    return {
      ok: status >= 200 && status < 300,
      status,
      statusText: 'x',
      url: String(input),
      headers: {
        get: (n: string) => headers[n.toLowerCase()] ?? null,
        entries: () => Object.entries(headers),
      },
      arrayBuffer: async () => new ArrayBuffer(0),
      json: async () => JSON.parse(body),
      text: async () => body,
    } as unknown as Awaited<ReturnType<FetchFunction>>;
  };
  return { fetch, sent };
}

const caller = (fetch: FetchFunction) =>
  jsonApiCaller({ apiUrl: 'https://slack.example/api', token: 'xoxb-1', timeoutMs: 1000, transport: fetch });

describe('jsonBody', () => {
  it('splices a view given as JSON text in as the object it encodes, and encodes the rest', () => {
    const view = JSON.stringify({ type: 'modal', title: { type: 'plain_text', text: 'A "quoted" <title>' } });
    const body = jsonBody({ trigger_id: '1.2.abc', view, skipped: undefined, n: 3 });
    expect(JSON.parse(body)).toEqual({ trigger_id: '1.2.abc', view: JSON.parse(view), n: 3 });
  });

  it('encodes an object view, and a string that is not one JSON value, as themselves', () => {
    expect(JSON.parse(jsonBody({ view: { type: 'modal' } }))).toEqual({ view: { type: 'modal' } });
    // A string that would break out of its value is sent as a string (Slack then refuses it).
    const hostile = '{"type":"modal"},"trigger_id":"stolen"';
    expect(JSON.parse(jsonBody({ view: hostile, trigger_id: 'mine' }))).toEqual({
      view: hostile,
      trigger_id: 'mine',
    });
    expect(JSON.parse(jsonBody({ view: 'plain words', text: '{"a":1}' }))).toEqual({
      view: 'plain words',
      text: '{"a":1}', // only arguments Slack takes as JSON text are spliced
    });
  });
});

describe('jsonApiCaller', () => {
  it('posts JSON with the bearer token to the method under the base URL, and returns Slack’s body', async () => {
    const t = transport(200, '{"ok":true,"view":{"id":"V1"}}');
    const res = await caller(t.fetch)('views.open', { trigger_id: '1.2.abc', view: '{"type":"modal"}' });
    expect(res).toEqual({ ok: true, view: { id: 'V1' } });
    expect(t.sent[0]!.url).toBe('https://slack.example/api/views.open');
    expect(t.sent[0]!.init).toMatchObject({
      method: 'POST',
      redirect: 'error',
      headers: { authorization: 'Bearer xoxb-1', 'content-type': 'application/json; charset=utf-8' },
    });
    expect(JSON.parse(String(t.sent[0]!.init!.body))).toEqual({
      trigger_id: '1.2.abc',
      view: { type: 'modal' },
    });
  });

  it('fails as web-api does: ok false, 429 with Retry-After, another status, a transport failure', async () => {
    await expect(
      caller(transport(200, '{"ok":false,"error":"expired_trigger_id"}').fetch)('views.open', {}),
    ).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'expired_trigger_id' },
    });
    await expect(
      caller(transport(429, '{"ok":false,"error":"ratelimited"}', { 'retry-after': '7' }).fetch)(
        'views.open',
        {},
      ),
    ).rejects.toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });
    await expect(caller(transport(503, 'busy').fetch)('views.open', {})).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 503,
    });
    await expect(caller(transport(200, '<html>').fetch)('views.open', {})).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
    });
    const refused: FetchFunction = async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
      });
    };
    await expect(caller(refused)('views.open', {})).rejects.toMatchObject({
      code: ErrorCode.RequestError,
      original: { cause: { code: 'ECONNREFUSED' } },
    });
  });

  it('gives up after its timeout with the timeout as the original error', async () => {
    const hung: FetchFunction = (_input, init) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)),
      );
    const call = jsonApiCaller({
      apiUrl: 'https://slack.example/api/',
      token: 't',
      timeoutMs: 20,
      transport: hung,
    });
    await expect(call('views.open', {})).rejects.toMatchObject({
      code: ErrorCode.RequestError,
      original: { name: 'TimeoutError' },
    });
  });
});
