import type { Connection } from 'mongoose';
import type { AuditSigner } from '../../application/ports.js';
import type { Logger } from '../logger.js';
import { MongoBoardStore } from './board-store.js';
import { ChangeRepository, type ChangeStoreOptions } from './change-repository.js';
import { closeDatabase, connectDatabase, type DbInfo, databaseInfo, pingDatabase } from './connection.js';
import { MongoDelegationStore } from './delegation-store.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { MongoEffectsOutbox } from './effects-outbox.js';
import { MongoGateStore, MongoGithubLinks, MongoGithubUsers } from './github-links.js';
import { IdempotencyStore } from './idempotency.js';
import { MongoLedgerStore } from './ledger-store.js';
import { createModels, ensureIndexes, type Models } from './models.js';
import { MongoPolicyStore } from './policy-store.js';
import { MongoRollupStore } from './rollup-store.js';
import { MongoTokenStore } from './token-store.js';

/** An open database: its models and the stores the application's ports are implemented by. */
export interface Database {
  conn: Connection;
  models: Models;
  info: DbInfo;
  changes: ChangeRepository;
  ledger: MongoLedgerStore;
  tokens: MongoTokenStore;
  effects: MongoEffectsOutbox;
  policies: MongoPolicyStore;
  delegations: MongoDelegationStore;
  boards: MongoBoardStore;
  rollups: MongoRollupStore;
  githubLinks: MongoGithubLinks;
  githubGates: MongoGateStore;
  githubUsers: MongoGithubUsers;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function databaseInUri(uri: string): boolean {
  const path = uri.replace(/^mongodb(\+srv)?:\/\/[^/]*/, '').split('?')[0] ?? '';
  return path.replace(/^\//, '').length > 0;
}

/**
 * Connects, selects the database (`dbName`, else the one in the URI, else `changegate`), creates
 * the collections and indexes (failing loudly if the server refuses one) and builds the stores.
 * The app and the command-line tools open the database this one way; only a process holding the
 * audit key (`signer`) can record events.
 */
export async function openDatabase(
  uri: string,
  logger: Logger,
  dbName?: string,
  signer: AuditSigner | null = null,
  options: ChangeStoreOptions = {},
): Promise<Database> {
  const root = await connectDatabase(uri, logger);
  const name = dbName ?? (databaseInUri(uri) ? undefined : 'changegate');
  const conn = name ? root.useDb(name, { useCache: true }) : root;
  const models = createModels(conn);
  await ensureIndexes(Object.values(models));
  const info = await databaseInfo(conn);
  const ledger = new MongoLedgerStore(models, signer, logger);
  return {
    conn,
    models,
    info,
    changes: new ChangeRepository(models, info.flavor, signer ? { signer, ledger } : null, options),
    ledger,
    tokens: new MongoTokenStore(models),
    effects: new MongoEffectsOutbox(models),
    policies: new MongoPolicyStore(models),
    delegations: new MongoDelegationStore(models),
    boards: new MongoBoardStore(models),
    rollups: new MongoRollupStore(models),
    githubLinks: new MongoGithubLinks(models),
    githubGates: new MongoGateStore(models),
    githubUsers: new MongoGithubUsers(models),
    ping: () => pingDatabase(conn),
    close: () => closeDatabase(root),
  };
}

/** The ledgers the Slack door and the reminder jobs keep (exactly-once claims). */
export function ledgers(db: Database, clock: { now(): Date }, leaseMs: number) {
  return {
    idempotency: new IdempotencyStore(db.models, clock),
    deliveries: new DeliveryLedger(db.models, leaseMs),
  };
}
