import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { findFerretDbBinary, PROJECT_ROOT, startFerretDb } from '../../src/infra/db/ferretdb.js';
import type { MongoCapability } from './mongo.js';

export interface AcquiredDatabase {
  mongo: MongoCapability;
  source: string;
  /** The database server's process, when this started one (FerretDB), for memory figures. */
  pid: number | null;
  stop(): Promise<void>;
}

function buildFerretDb(): string | null {
  const res = spawnSync('bash', [join(PROJECT_ROOT, 'test/ferretdb/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (res.status !== 0) return null;
  return res.stdout.trim().split('\n').pop() ?? null;
}

/**
 * The database the test suite (and the benchmark) runs against: MONGODB_URI if set, else the
 * FerretDB v1.24.2 binary the project builds (FERRETDB_BIN or .cache/bin/ferretdb), else
 * mongodb-memory-server's mongod, else (offline) FerretDB built with Go now. `dataDir` keeps
 * FerretDB's files (the benchmark reuses its seeded data); by default they are temporary.
 */
export async function acquireDatabase(
  opts: { dataDir?: string; nice?: number } = {},
): Promise<AcquiredDatabase> {
  const stops: (() => Promise<void>)[] = [];
  let pid: number | null = null;
  let uri = process.env.MONGODB_URI;
  let source = 'MONGODB_URI';
  const ferret = async (bin: string, how: string) => {
    const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'changegate-ferretdb-'));
    mkdirSync(dir, { recursive: true });
    const running = await startFerretDb({ bin, dataDir: dir, nice: opts.nice });
    pid = running.process.pid ?? null;
    stops.push(async () => {
      await running.stop();
      if (!opts.dataDir) rmSync(dir, { recursive: true, force: true });
    });
    source = `FerretDB (${how})`;
    return running.uri;
  };
  if (!uri) {
    const bin = findFerretDbBinary(process.env.FERRETDB_BIN);
    if (bin) {
      uri = await ferret(bin, bin);
    } else {
      try {
        const mms = await import('mongodb-memory-server-core');
        if (process.env.MONGOMS_REPLSET === '1') {
          const rs = await mms.MongoMemoryReplSet.create({
            replSet: { count: 1, storageEngine: 'wiredTiger' },
          });
          uri = rs.getUri();
          stops.push(async () => void (await rs.stop()));
        } else {
          const server = await mms.MongoMemoryServer.create();
          uri = server.getUri();
          stops.push(async () => void (await server.stop()));
        }
        source = 'mongodb-memory-server';
      } catch (err) {
        const built = buildFerretDb();
        if (!built) {
          throw new Error(
            `No database for the tests. Either set MONGODB_URI, or build FerretDB with \`npm run ferretdb:build\` (needs Go >= 1.24), or let mongodb-memory-server download mongod (needs internet).\nCause: ${(err as Error).message}`,
          );
        }
        uri = await ferret(built, `built now: ${built}`);
      }
    }
  }
  const client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 5000 });
  const buildInfo = (await client.db('admin').command({ buildInfo: 1 })) as {
    version?: string;
    ferretdbVersion?: string;
  };
  const hello = (await client.db('admin').command({ hello: 1 })) as { setName?: string };
  await client.close();
  return {
    mongo: {
      uri,
      flavor: 'ferretdbVersion' in buildInfo ? 'ferretdb' : 'mongodb',
      replicaSet: typeof hello.setName === 'string',
      version: String(buildInfo.version ?? 'unknown'),
    },
    source,
    pid,
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
