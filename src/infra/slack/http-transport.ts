import http from 'node:http';
import https from 'node:https';
import type { FetchFunction } from '@slack/web-api';

/**
 * Connections to Slack kept open between calls (as fetch's pool keeps them), per scheme. An idle one
 * is closed after 4 s, before a server's own idle timeout (Node's is 5 s) can close it under a call.
 */
const IDLE_MS = 4_000;
const AGENTS = {
  'http:': new http.Agent({ keepAlive: true, timeout: IDLE_MS }),
  'https:': new https.Agent({ keepAlive: true, timeout: IDLE_MS }),
} as const;

type Answer = Awaited<ReturnType<FetchFunction>>;

/**
 * The Web API client's transport (web-api's `fetch` option, there "to configure … transport-level
 * behavior"): one form-encoded POST over a kept-alive node:http(s) connection, answered with the
 * little of a fetch Response that web-api reads (status, headers, body text). Profiling `/change`
 * showed Node's fetch (undici's WHATWG layers: request and header objects, body streams) costing
 * more per Web API call than the call's own work, and its garbage a share of every collection.
 *
 * It fails as fetch does, so callers read errors the same way: a connection that fails rejects with
 * `TypeError('fetch failed')` whose `cause` is the socket error (with its `code`); an aborted call
 * (web-api's timeout) rejects with the signal's reason; a redirect is an error (web-api asks for
 * `redirect: 'error'`). Anything but a string body (a multipart upload) goes to fetch itself.
 */
export const slackTransport: FetchFunction = (input, init = {}) => {
  const url = typeof input === 'string' ? new URL(input) : input;
  const agent = AGENTS[url.protocol as keyof typeof AGENTS];
  if ((init.body !== undefined && typeof init.body !== 'string') || !agent)
    return fetch(input, init as RequestInit) as unknown as Promise<Answer>;
  const signal = init.signal;
  return new Promise<Answer>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const body = init.body as string | undefined;
    const headers: Record<string, string | number> = { ...init.headers };
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
    const onAbort = () => {
      req.destroy();
      reject(signal!.reason);
    };
    const req = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: init.method ?? 'GET', headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
        res.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400 && init.redirect !== 'manual') {
            reject(
              new TypeError('fetch failed', { cause: new Error(`redirect to ${res.headers.location}`) }),
            );
            return;
          }
          resolve(answer(url.href, status, res.statusMessage ?? '', res.headers, Buffer.concat(chunks)));
        });
      },
    );
    req.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new TypeError('fetch failed', { cause: err }));
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    req.end(body);
  });
};

function answer(
  url: string,
  status: number,
  statusText: string,
  raw: http.IncomingHttpHeaders,
  body: Buffer,
): Answer {
  const headers = new Map<string, string>();
  for (const [k, v] of Object.entries(raw))
    if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText,
    url,
    headers: { get: (name) => headers.get(name.toLowerCase()) ?? null, entries: () => headers.entries() },
    arrayBuffer: async () =>
      body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
    json: async () => JSON.parse(body.toString('utf8')) as unknown,
    text: async () => body.toString('utf8'),
  };
}
