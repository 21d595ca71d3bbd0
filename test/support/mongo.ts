import 'vitest';
import { createHash } from 'node:crypto';

export interface MongoCapability {
  uri: string;
  flavor: 'mongodb' | 'ferretdb';
  replicaSet: boolean;
  version: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    mongo: MongoCapability;
  }
}

let counter = 0;

/** A database name per worker, test file and call (FerretDB: [A-Za-z0-9_-]{1,63}). */
export function testDbName(fileUrl: string): string {
  const hash = createHash('sha1').update(fileUrl).digest('hex').slice(0, 8);
  counter++;
  return `t_${process.env.VITEST_POOL_ID ?? '0'}_${hash}_${counter}_${process.pid % 10000}`;
}
