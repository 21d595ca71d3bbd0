import mongoose, { type Connection, type ConnectOptions } from 'mongoose';
import type { Logger } from '../logger.js';

export interface DbInfo {
  flavor: 'mongodb' | 'ferretdb';
  version: string;
}

/** A dedicated mongoose connection (not the global one), so several app instances can share a process in tests. */
export async function connectDatabase(uri: string, logger: Logger): Promise<Connection> {
  // bufferTimeoutMS is a mongoose connection option its ConnectOptions type does not list.
  const options: ConnectOptions & { bufferTimeoutMS: number } = {
    autoIndex: false, // indexes are created explicitly and awaited (see createIndexes), so failures are loud
    autoCreate: true,
    // With the database away, an operation fails within 2 s (not mongoose's default 10 s of
    // buffering), so a Slack user still gets "try again" inside Slack's 3-second window.
    serverSelectionTimeoutMS: 2000,
    bufferTimeoutMS: 2000,
    heartbeatFrequencyMS: 2000,
  };
  const conn = mongoose.createConnection(uri, options);
  conn.on('disconnected', () => {
    if (!closing.has(conn)) logger.warn('database disconnected', { component: 'db' });
  });
  conn.on('reconnected', () => logger.info('database reconnected', { component: 'db' }));
  await conn.asPromise();
  // Commands in flight (a connection checked out of the pool), for a close that lets them finish.
  const commands = { running: 0 };
  inFlight.set(conn, commands);
  const client = conn.getClient();
  client.on('connectionCheckedOut', () => commands.running++);
  client.on('connectionCheckedIn', () => {
    commands.running = Math.max(0, commands.running - 1);
  });
  return conn;
}

const closing = new WeakSet<Connection>();
const inFlight = new WeakMap<Connection, { running: number }>();

/** How long a close waits for the commands in flight before interrupting them. */
const CLOSE_DRAIN_MS = 3_000;

/**
 * Closes the connection on purpose (no "disconnected" warning), once the commands in flight have
 * answered (at most CLOSE_DRAIN_MS): the driver's close interrupts every command still holding a
 * connection, failing it with "client was closed" in whatever work issued it.
 */
export async function closeDatabase(conn: Connection): Promise<void> {
  closing.add(conn);
  const commands = inFlight.get(conn);
  const until = Date.now() + CLOSE_DRAIN_MS;
  while (commands && commands.running > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  await conn.close();
}

export async function databaseInfo(conn: Connection): Promise<DbInfo> {
  const info = (await conn.db!.admin().command({ buildInfo: 1 })) as {
    version?: string;
    ferretdbVersion?: string;
  };
  return {
    flavor: 'ferretdbVersion' in info ? 'ferretdb' : 'mongodb',
    version: String(info.version ?? 'unknown'),
  };
}

/** A cheap round trip used by /readyz. */
export async function pingDatabase(conn: Connection, timeoutMs = 1500): Promise<boolean> {
  if (conn.readyState !== 1 || !conn.db) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('ping timeout')), timeoutMs);
    });
    await Promise.race([conn.db.command({ ping: 1 }), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export function isDuplicateKey(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; writeErrors?: { code?: unknown }[] };
  if (e.code === 11000) return true;
  return Array.isArray(e.writeErrors) && e.writeErrors.some((w) => w.code === 11000);
}

/** Only duplicate keys among a batch's errors (an insertMany, unordered): every other document went in. */
export function onlyDuplicates(err: unknown): boolean {
  const e = err as { writeErrors?: { code?: number }[] | { code?: number } };
  const list = Array.isArray(e.writeErrors) ? e.writeErrors : e.writeErrors ? [e.writeErrors] : [];
  return isDuplicateKey(err) || (list.length > 0 && list.every((w) => w.code === 11000));
}

/** Errors that mean "the database is not reachable right now": the user is asked to try again. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const name = (err as { name?: string }).name ?? '';
  const message = (err as { message?: string }).message ?? '';
  return (
    /MongoServerSelectionError|MongoNetworkError|MongoNotConnectedError|MongoTopologyClosedError|MongoNetworkTimeoutError|MongooseServerSelectionError|DisconnectedError/.test(
      name,
    ) ||
    /buffering timed out|connection .* closed|ECONNREFUSED|Client must be connected|topology was destroyed|not connected/i.test(
      message,
    )
  );
}

/**
 * FerretDB's SQLite backend answers a write that collides with another writer's transaction with
 * "database is locked" (SQLITE_BUSY, reported as code 1) instead of waiting. Such writes are retried
 * with a short randomised backoff; MongoDB never produces this error.
 */
export function isTransientWriteConflict(err: unknown): boolean {
  const message = (err as { message?: string } | null)?.message ?? '';
  return /database is locked|SQLITE_BUSY/i.test(message);
}

export async function retryTransient<T>(op: () => Promise<T>, attempts = 8): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await op();
    } catch (err) {
      if (i >= attempts || !isTransientWriteConflict(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.min(500, 10 * 2 ** i) + Math.random() * 20));
    }
  }
}

/**
 * Inserts a document under its unique `_id` (retrying transient errors): true when this call
 * inserted it, false when it was there already. An insert on a unique key is atomic on MongoDB and
 * FerretDB alike, so this is how a number, a claim or a record is taken once across replicas.
 */
export async function insertOnce(
  model: { create(doc: object): Promise<unknown> },
  doc: object,
): Promise<boolean> {
  try {
    await retryTransient(() => model.create(doc));
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}
