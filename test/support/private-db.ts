import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import {
  findFerretDbBinary,
  freePort,
  type RunningFerretDb,
  startFerretDb,
} from '../../src/infra/db/ferretdb.js';

/**
 * A database server of the suite's flavour that a test may stop and start again on the same port and
 * data (to show /readyz and recovery when the database goes away).
 */
export interface PrivateDatabase {
  uri: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivateDatabase(): Promise<PrivateDatabase> {
  const mongo = inject('mongo');
  const bin = findFerretDbBinary(process.env.FERRETDB_BIN);
  if (mongo.flavor === 'ferretdb' && bin) {
    const dir = mkdtempSync(join(tmpdir(), 'changegate-private-'));
    const port = await freePort();
    let running: RunningFerretDb | null = await startFerretDb({ bin, dataDir: dir, port });
    return {
      uri: running.uri,
      async stop() {
        await running?.stop();
        running = null;
      },
      async start() {
        running = await startFerretDb({ bin, dataDir: dir, port });
      },
      async destroy() {
        await running?.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  const server = await MongoMemoryServer.create();
  return {
    uri: server.getUri(),
    async stop() {
      await server.stop({ doCleanup: false, force: false });
    },
    async start() {
      await server.start(true);
    },
    async destroy() {
      await server.stop();
    },
  };
}
