import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { TestProject } from 'vitest/node';
import { findFerretDbBinary, PROJECT_ROOT, startFerretDb } from '../../src/infra/db/ferretdb.js';
import type { MongoCapability } from './mongo.js';

/**
 * Chooses the database for the whole run: MONGODB_URI if set, else the FerretDB v1.24.2 binary the
 * project builds (FERRETDB_BIN or .cache/bin/ferretdb), else mongodb-memory-server's mongod. Then it
 * probes the server once and hands the tests a capability record (`inject('mongo')`).
 */
export default async function setup(project: TestProject) {
  const stops: (() => Promise<void>)[] = [];
  let uri = process.env.MONGODB_URI;
  let source = 'MONGODB_URI';
  if (!uri) {
    const bin = findFerretDbBinary(process.env.FERRETDB_BIN);
    if (bin) {
      const dir = mkdtempSync(join(tmpdir(), 'changegate-ferretdb-'));
      const ferret = await startFerretDb({ bin, dataDir: dir });
      uri = ferret.uri;
      source = `FerretDB (${bin})`;
      stops.push(async () => {
        await ferret.stop();
        rmSync(dir, { recursive: true, force: true });
      });
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
        // No mongod (offline): build FerretDB with Go if it is installed, as .ci/run does.
        const built = buildFerretDb();
        if (!built) {
          throw new Error(
            `No database for the tests. Either set MONGODB_URI, or build FerretDB with \`npm run ferretdb:build\` (needs Go >= 1.24), or let mongodb-memory-server download mongod (needs internet).\nCause: ${(err as Error).message}`,
          );
        }
        const dir = mkdtempSync(join(tmpdir(), 'changegate-ferretdb-'));
        const ferret = await startFerretDb({ bin: built, dataDir: dir });
        uri = ferret.uri;
        source = `FerretDB (built now: ${built})`;
        stops.push(async () => {
          await ferret.stop();
          rmSync(dir, { recursive: true, force: true });
        });
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
  const mongo: MongoCapability = {
    uri,
    flavor: 'ferretdbVersion' in buildInfo ? 'ferretdb' : 'mongodb',
    replicaSet: typeof hello.setName === 'string',
    version: String(buildInfo.version ?? 'unknown'),
  };
  process.stdout.write(`\n[changegate tests] database: ${mongo.flavor} ${mongo.version} via ${source}\n`);
  project.provide('mongo', mongo);
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}

function buildFerretDb(): string | null {
  const res = spawnSync('bash', [join(PROJECT_ROOT, 'test/ferretdb/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (res.status !== 0) return null;
  return res.stdout.trim().split('\n').pop() ?? null;
}
