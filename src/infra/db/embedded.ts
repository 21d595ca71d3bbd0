import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from '../logger.js';
import { findFerretDbBinary, PROJECT_ROOT, startFerretDb, waitForMongo } from './ferretdb.js';

export interface EmbeddedDatabase {
  uri: string;
  flavor: 'mongod' | 'ferretdb';
  dir: string;
  stop(): Promise<void>;
}

const nonEmpty = (dir: string) => existsSync(dir) && readdirSync(dir).length > 0;

/** Where a running embedded database says where it listens, for the command-line tools. */
const MARKER = 'embedded-db.json';

interface Marker {
  uri: string;
  flavor: EmbeddedDatabase['flavor'];
  pid: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The embedded database a running process (the app) serves from `dataDir`, when it answers. */
export async function runningEmbeddedDatabase(dataDir: string): Promise<Marker | null> {
  const file = resolve(dataDir, MARKER);
  if (!existsSync(file)) return null;
  try {
    const marker = JSON.parse(readFileSync(file, 'utf8')) as Marker;
    if (typeof marker.uri !== 'string' || !Number.isInteger(marker.pid) || !alive(marker.pid)) return null;
    await waitForMongo(marker.uri, 3_000);
    return marker;
  } catch {
    return null;
  }
}

/** Whether `dataDir` holds an embedded database's files. */
export function hasEmbeddedData(dataDir: string): boolean {
  return nonEmpty(resolve(dataDir, 'ferretdb')) || nonEmpty(resolve(dataDir, 'mongod'));
}

/** Announces the database in `dataDir` for the tools while it runs, and withdraws it when it stops. */
function announced(base: string, db: EmbeddedDatabase): EmbeddedDatabase {
  const file = resolve(base, MARKER);
  writeFileSync(file, JSON.stringify({ uri: db.uri, flavor: db.flavor, pid: process.pid } satisfies Marker));
  return {
    ...db,
    stop: async () => {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as Marker).pid === process.pid)
          rmSync(file, { force: true });
      } catch {
        // gone already
      }
      await db.stop();
    },
  };
}

/**
 * The database for `npm start` without MONGODB_URI: mongodb-memory-server's mongod where it can be
 * obtained (downloaded once, or cached), otherwise the FerretDB binary the project builds for its
 * tests. Data persists under `<dataDir>/mongod` or `<dataDir>/ferretdb`; once data exists in one of
 * them, that engine keeps being used (their files are not interchangeable).
 */
export async function startEmbeddedDatabase(opts: {
  dataDir: string;
  ferretdbBin?: string;
  logger: Logger;
}): Promise<EmbeddedDatabase> {
  const log = opts.logger.child({ component: 'embedded-db' });
  const base = resolve(opts.dataDir);
  const mongodDir = resolve(base, 'mongod');
  const ferretDir = resolve(base, 'ferretdb');
  mkdirSync(base, { recursive: true });

  const preferFerret = nonEmpty(ferretDir) && !nonEmpty(mongodDir);
  if (!preferFerret) {
    try {
      const db = await startMongod(mongodDir);
      log.warn(
        `embedded MongoDB (mongod from mongodb-memory-server) at ${db.uri}, data in ${mongodDir}. For production set MONGODB_URI.`,
      );
      return announced(base, db);
    } catch (err) {
      if (nonEmpty(mongodDir)) throw err;
      log.warn(`mongod could not be obtained: ${oneLine(err)}. Using FerretDB instead.`);
    }
  }

  let bin = findFerretDbBinary(opts.ferretdbBin);
  if (!bin) {
    log.warn('FerretDB is not built yet: building it once with Go (test/ferretdb/build.sh)…');
    const stdout = await buildFerretDb((line) => log.warn(`FerretDB build: ${line}`));
    bin = stdout.trim().split('\n').pop() ?? null;
    if (!bin || !existsSync(bin))
      throw new Error('FerretDB could not be built; set MONGODB_URI to a MongoDB server instead.');
  }
  mkdirSync(ferretDir, { recursive: true });
  const ferret = await startFerretDb({ bin, dataDir: ferretDir });
  log.warn(
    `embedded FerretDB (MongoDB-compatible, SQLite files) at ${ferret.uri}, data in ${ferretDir}. For production set MONGODB_URI.`,
  );
  return announced(base, { uri: ferret.uri, flavor: 'ferretdb', dir: ferretDir, stop: () => ferret.stop() });
}

/** Why something failed, in one line: the first line of its message, without a stack. */
function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n').find((l) => l.trim()) ?? 'unknown error').trim().slice(0, 300);
}

/** Runs the FerretDB build, passing each line it reports (progress, errors) on as it comes; resolves with its output. */
function buildFerretDb(progress: (line: string) => void): Promise<string> {
  return new Promise((resolveBuild, reject) => {
    const child = spawn('bash', [resolve(PROJECT_ROOT, 'test/ferretdb/build.sh')], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let pending = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) progress(l.trim());
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (pending.trim()) progress(pending.trim());
      if (code === 0) resolveBuild(stdout);
      else
        reject(
          new Error(`the FerretDB build failed (exit ${code}); set MONGODB_URI to a MongoDB server instead`),
        );
    });
  });
}

async function startMongod(dir: string): Promise<EmbeddedDatabase> {
  const { MongoBinary, MongoMemoryServer } = await import('mongodb-memory-server-core');
  await MongoBinary.getPath(); // finds or downloads mongod; throws quietly when it cannot be obtained
  mkdirSync(dir, { recursive: true });
  const server = await MongoMemoryServer.create({
    instance: { dbPath: dir, storageEngine: 'wiredTiger', ip: '127.0.0.1' },
  });
  return {
    uri: server.getUri(),
    flavor: 'mongod',
    dir,
    stop: async () => {
      await server.stop({ doCleanup: false });
    },
  };
}
