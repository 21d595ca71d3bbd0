import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';

/**
 * Request bodies are read here and nowhere else, each route with its own limit. Reading stops at the
 * limit whatever the transfer encoding (a chunked body declares no length), so an oversized or
 * endless body never reaches memory: the client gets 413 and the connection is closed instead of
 * being drained.
 */

export type BodyRead =
  | { ok: true; body: Buffer }
  | { ok: false; reason: 'too_large' }
  | { ok: false; reason: 'aborted' };

/** Slack's request URL: the largest payloads are view submissions, which echo the modal's blocks. */
export const SLACK_BODY_LIMIT = 1_000_000;
/** The JSON API: a change request with every text field at its maximum fits well inside. */
export const API_BODY_LIMIT = 64 * 1024;

/** GitHub's webhooks: GitHub sends at most 25 MB; pull-request events are far smaller. */
export const GITHUB_BODY_LIMIT = 5 * 1024 * 1024;

/** Every public route that takes a body, with its limit; any other route takes none. */
export const PUBLIC_BODY_LIMITS: readonly BodyLimit[] = [
  { prefix: '/slack/events', bytes: SLACK_BODY_LIMIT },
  { prefix: '/api/v1', bytes: API_BODY_LIMIT },
  { prefix: '/github/webhooks', bytes: GITHUB_BODY_LIMIT },
];

/** After answering early, how long a client gets to read the answer before the socket is dropped. */
const CLOSE_GRACE_MS = 1_000;

/** Whether the request still has body bytes on the wire that nobody has read. */
export function hasUnreadBody(req: IncomingMessage): boolean {
  return !req.complete && !req.readableEnded;
}

/** The length the client declared, or null (chunked, or no body). */
function declaredLength(req: IncomingMessage): number | null {
  const raw = req.headers['content-length'];
  if (raw === undefined) return null;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/**
 * Reads the whole body if it has at most `limit` bytes. A declared length over the limit is refused
 * before a byte is read; otherwise reading stops at the first byte past the limit.
 */
export function readBoundedBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = declaredLength(req);
  if (declared !== null && declared > limit) return Promise.resolve({ ok: false, reason: 'too_large' });
  if (req.readableEnded) return Promise.resolve({ ok: true, body: Buffer.alloc(0) });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyRead) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        chunks.length = 0;
        finish({ ok: false, reason: 'too_large' });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish({ ok: true, body: Buffer.concat(chunks, size) });
    const onAbort = () => finish({ ok: false, reason: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onAbort);
  });
}

/**
 * Marks a response as the last on its connection when the request's body was not (fully) read, and
 * drops the socket shortly after the answer is written: the rest of the body is never read, and a
 * keep-alive connection cannot be reused with unread bytes still on the wire.
 */
export function closeAfterResponse(req: IncomingMessage, res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
  const socket: Socket | null = req.socket;
  res.once('finish', () => {
    socket?.setTimeout(0);
    setTimeout(() => socket?.destroy(), CLOSE_GRACE_MS).unref();
  });
}

/** How many body bytes a route accepts; routes not listed accept none. */
export interface BodyLimit {
  /** Path prefix, e.g. `/slack/events` or `/api/v1`. */
  prefix: string;
  bytes: number;
}

function limitFor(limits: readonly BodyLimit[], path: string): number {
  const hit = limits.find((l) => path === l.prefix || path.startsWith(`${l.prefix}/`));
  return hit?.bytes ?? 0;
}

/** Whether the request announces a body (a length above zero, or a chunked transfer). */
function announcesBody(req: IncomingMessage): boolean {
  const declared = declaredLength(req);
  return (declared !== null && declared > 0) || req.headers['transfer-encoding'] !== undefined;
}

/**
 * First middleware of the HTTP server, for every route:
 * - a body larger than its route accepts (by its declared length, or any body on a route that takes
 *   none) is answered 413 before a byte of it is read;
 * - whatever route answers, a response to a request whose body was left unread closes the
 *   connection. (Node, and Express's final handler, would otherwise read and discard the whole body
 *   to keep the connection alive, however large it is.)
 * Routes that take a body read it with {@link readBoundedBody}, which stops at the same limit.
 */
export function boundRequestBodies(limits: readonly BodyLimit[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const writeHead = res.writeHead;
    res.writeHead = function (this: Response, ...args: Parameters<Response['writeHead']>) {
      if (hasUnreadBody(req)) closeAfterResponse(req, res);
      return writeHead.apply(this, args);
    } as Response['writeHead'];
    const limit = limitFor(limits, req.path);
    const declared = declaredLength(req);
    if ((declared !== null && declared > limit) || (limit === 0 && announcesBody(req))) {
      payloadTooLarge(req, res, limit);
      return;
    }
    next();
  };
}

/** Answers 413 without reading further, and closes the connection. */
export function payloadTooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  closeAfterResponse(req, res);
  res.writeHead(413, { 'content-type': 'application/json; charset=utf-8' });
  res.end(
    JSON.stringify({
      error: 'payload_too_large',
      message: `The request body is too large (at most ${limit} bytes).`,
    }),
  );
}

/**
 * Reads the body into `req.rawBody` (where Bolt's receiver takes it from) within `limit`, or answers
 * 413. Signature checks and parsing then work on a body that is known to be small.
 */
export function rawBodyWithin(limit: number) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const read = await readBoundedBody(req, limit);
    if (!read.ok) {
      if (read.reason === 'too_large') payloadTooLarge(req, res, limit);
      else req.socket?.destroy();
      return;
    }
    (req as Request & { rawBody?: Buffer }).rawBody = read.body;
    next();
  };
}
