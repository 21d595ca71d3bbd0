import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

/** The repository root (this file lives in src/infra/db or dist/infra/db). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const DEFAULT_FERRETDB_BIN = resolve(PROJECT_ROOT, '.cache/bin/ferretdb');

export function findFerretDbBinary(explicit?: string): string | null {
  const candidate = explicit ?? DEFAULT_FERRETDB_BIN;
  return existsSync(candidate) ? candidate : null;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

export async function waitForMongo(
  uri: string,
  deadlineMs: number,
  isAlive: () => boolean = () => true,
): Promise<void> {
  const until = Date.now() + deadlineMs;
  let lastError: unknown;
  while (Date.now() < until) {
    if (!isAlive()) throw new Error('the database process exited during start-up');
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.close().catch(() => undefined);
    }
  }
  throw new Error(`database at ${uri} did not become ready: ${String(lastError)}`);
}

/**
 * Runs its arguments as a child and stops it (SIGTERM, then SIGKILL after 10 s) when the guard's stdin
 * reaches end of file, i.e. when the process holding the pipe's other end is gone, or when the guard
 * itself is told to stop. Exits with the child's status.
 */
export const PARENT_GUARD = `
exec 3<&0
"$@" </dev/null &
child=$!
stop() { kill -TERM "$child" 2>/dev/null; }
trap stop TERM INT HUP
( while IFS= read -r _ <&3; do :; done; kill -TERM "$child" 2>/dev/null; sleep 10; kill -KILL "$child" 2>/dev/null ) &
watcher=$!
exec 3<&-
status=0
while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
kill "$watcher" 2>/dev/null
exit "$status"
`;

export interface RunningFerretDb {
  uri: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts FerretDB (SQLite backend) on a free loopback port with its files in `dataDir`. */
export async function startFerretDb(opts: {
  bin: string;
  dataDir: string;
  port?: number;
  logLevel?: string;
  /** Lower scheduling priority (the benchmark: a database that would have its own host). */
  nice?: number;
}): Promise<RunningFerretDb> {
  const port = opts.port ?? (await freePort());
  const args = [
    '--listen-addr',
    `127.0.0.1:${port}`,
    '--data-dir',
    opts.dataDir,
    '--log-level',
    opts.logLevel ?? 'error',
  ];
  const server = opts.nice ? ['nice', '-n', String(opts.nice), opts.bin, ...args] : [opts.bin, ...args];
  // Through the guard: its stdin is a pipe from this process, which the kernel closes however this
  // process ends (SIGKILL included); the guard then stops FerretDB. No orphaned database.
  // Its own process group too: a stop signal sent to the app's group (`tini -g`, Ctrl-C) must not
  // stop the database under the app's graceful shutdown; the app stops it last.
  const child = spawn('/bin/sh', ['-c', PARENT_GUARD, 'ferretdb-guard', ...server], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, DO_NOT_TRACK: '1' },
    detached: true,
  });
  child.stdin?.on('error', () => undefined); // the guard gone first: nothing to tell it
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  const exit = new Promise<void>((res) =>
    child.once('exit', () => {
      exited = true;
      res();
    }),
  );
  const uri = `mongodb://127.0.0.1:${port}/`;
  try {
    await waitForMongo(uri, 30_000, () => !exited);
  } catch (err) {
    child.kill('SIGTERM');
    child.stdin?.end();
    throw new Error(`${(err as Error).message}\nFerretDB said: ${stderr.trim() || '(nothing)'}`);
  }
  return {
    uri,
    port,
    process: child,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      // Closing the pipe makes the guard's watcher stop FerretDB even if the guard itself is stuck.
      const timer = setTimeout(() => child.stdin?.end(), 10_000);
      await exit;
      clearTimeout(timer);
      child.stdin?.end();
    },
  };
}
