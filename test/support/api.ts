import { settled } from './flows.js';
import type { TestApp } from './harness.js';
import { ADMIN } from './people.js';

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown> | null;
}

export interface ApiInit {
  method?: string;
  body?: unknown;
  /** The bearer token; null sends none. */
  token?: string | null;
  headers?: Record<string, string>;
  /** A body sent as is (with Content-Type: application/json). */
  raw?: string;
}

/** Creates a pipeline token through Slack, as an admin would; returns the token, or the refusal. */
export async function createToken(t: TestApp, name: string, args = '', user = ADMIN): Promise<string> {
  await t.slack.command('/change', `token create ${name} ${args}`.trim(), { user });
  await settled(t);
  const text = String(t.fake.responsePosts.at(-1)!.body.text);
  return /`(cg_[A-Za-z0-9_]+)`/.exec(text)?.[1] ?? text;
}

/** A client for the app's /api/v1, sending `token()` unless a call says otherwise. */
export function apiClient(t: () => TestApp, token: () => string) {
  return (path: string, init: ApiInit = {}): Promise<ApiResponse> =>
    fetch(`${t().app.url}/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? token()}` }),
        ...(init.body !== undefined || init.raw !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    }).then(async (r) => ({
      status: r.status,
      headers: r.headers,
      text: await r.clone().text(),
      json: (await r.json().catch(() => null)) as Record<string, unknown> | null,
    }));
}
