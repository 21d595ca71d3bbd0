import { ErrorCode, type FetchFunction, type WebAPICallResult } from '@slack/web-api';
import { slackTransport } from './http-transport.js';

/** One Web API call: Slack's body, or an error shaped as web-api's (see jsonApiCaller). */
export type ApiCaller = (method: string, args: Record<string, unknown>) => Promise<WebAPICallResult>;

/** Arguments Slack documents as "a JSON-encoded string": given as text, they go in the body as is. */
const JSON_TEXT_ARGS = new Set(['view', 'blocks', 'attachments', 'metadata']);

/**
 * A Web API call sent as a JSON body (Slack takes `application/json` with a bearer token for its
 * write methods; views.open lists both content types) straight over the transport: the calls a
 * user waits on with a 3-second trigger (views.open and friends), and the other methods that take
 * JSON (chat.postMessage, chat.update, views.publish…). Profiling `/change` showed the
 * general client costing as much as the call's own work for these: it form-encodes the 7 kB form
 * (percent-encoding every character of its JSON text), and builds redacted debug lines of the
 * arguments and of Slack's answer (the whole view, echoed back) whether or not debug logging is on.
 *
 * It fails as web-api's client does (the sender reads both the same way): HTTP 429 rejects with
 * `code: RateLimitedError` and `retryAfter` (seconds); `ok: false` with `code: PlatformError` and
 * `data` (Slack's body); another HTTP status with `code: HTTPError`; a transport failure with
 * `code: RequestError` and `original` (fetch's TypeError, or the timeout's TimeoutError).
 */
export function jsonApiCaller(opts: {
  /** Slack's Web API base URL (ends with a slash). */
  apiUrl: string;
  token: string;
  timeoutMs: number;
  transport?: FetchFunction;
}): ApiCaller {
  const transport = opts.transport ?? slackTransport;
  const base = opts.apiUrl.endsWith('/') ? opts.apiUrl : `${opts.apiUrl}/`;
  const headers = {
    authorization: `Bearer ${opts.token}`,
    'content-type': 'application/json; charset=utf-8',
  };
  return async (method, args) => {
    let answer: Awaited<ReturnType<FetchFunction>>;
    let text: string;
    try {
      answer = await transport(`${base}${method}`, {
        method: 'POST',
        headers,
        body: jsonBody(args),
        signal: AbortSignal.timeout(opts.timeoutMs),
        redirect: 'error',
      });
      text = await answer.text();
    } catch (original) {
      throw shaped(`A request error occurred: ${(original as Error).message}`, {
        code: ErrorCode.RequestError,
        original,
      });
    }
    if (answer.status === 429) {
      const retryAfter = Number.parseInt(answer.headers.get('retry-after') ?? '', 10);
      throw shaped(`A rate limit was exceeded (${method})`, {
        code: ErrorCode.RateLimitedError,
        retryAfter: Number.isFinite(retryAfter) ? retryAfter : 1,
      });
    }
    if (answer.status !== 200)
      throw shaped(`An HTTP protocol error occurred: statusCode = ${answer.status}`, {
        code: ErrorCode.HTTPError,
        statusCode: answer.status,
        statusMessage: answer.statusText,
        body: text,
      });
    let data: WebAPICallResult;
    try {
      data = JSON.parse(text) as WebAPICallResult;
    } catch {
      throw shaped(`Slack answered ${method} with something other than JSON`, {
        code: ErrorCode.HTTPError,
        statusCode: answer.status,
        statusMessage: answer.statusText,
        body: text.slice(0, 200),
      });
    }
    if (!data.ok)
      throw shaped(`An API error occurred: ${String((data as { error?: unknown }).error)}`, {
        code: ErrorCode.PlatformError,
        data,
      });
    return data;
  };
}

/** The JSON body: arguments Slack takes as JSON text are spliced in as the values they encode. */
export function jsonBody(args: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const key in args) {
    const value = args[key];
    if (value === undefined || value === null) continue; // dropped, as web-api's form bodies drop them
    const asText =
      typeof value === 'string' && JSON_TEXT_ARGS.has(key) && isJsonText(value)
        ? value
        : JSON.stringify(value);
    parts.push(`${JSON.stringify(key)}:${asText}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * JSON texts already checked: a form's text is the same string call after call (written out once per
 * policy), so its check is one lookup after the first. Bounded: cleared when full.
 */
const checked = new Set<string>();
const CHECKED_MAX = 256;

/** Whether a string holds one JSON object or array (checked in full: it goes into the body as is). */
function isJsonText(text: string): boolean {
  if (checked.has(text)) return true;
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return false;
  try {
    JSON.parse(text);
  } catch {
    return false;
  }
  if (checked.size >= CHECKED_MAX) checked.clear();
  checked.add(text);
  return true;
}

function shaped(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}
