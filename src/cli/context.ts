import { existsSync } from 'node:fs';
import type { Connection } from 'mongoose';
import type { Deps, Directory } from '../application/ports.js';
import { loadPolicy } from '../config/policy.js';
import { EMPTY_MEMBERSHIP } from '../domain/policy.js';
import { systemClock } from '../domain/time.js';
import { ChangeRepository } from '../infra/db/change-repository.js';
import { closeDatabase, connectDatabase, databaseInfo } from '../infra/db/connection.js';
import { MongoEffectsOutbox } from '../infra/db/effects-outbox.js';
import { createModels, type Models } from '../infra/db/models.js';
import { createLogger } from '../infra/logger.js';

/**
 * Use-case dependencies for command-line tools: the database and the policy, no Slack. CLI callers
 * act as the system (they see every change); nothing here posts to Slack.
 */
/**
 * The directory for command-line tools, which run without Slack: no group has members and nobody's
 * standing can be confirmed, so nothing a tool computes can grant a right.
 */
export const OFFLINE_DIRECTORY: Directory = {
  membership: async () => EMPTY_MEMBERSHIP,
  groupMembers: async () => [],
  timezone: async () => null,
  person: async () => 'unavailable',
  personByEmail: async () => 'unavailable',
  workspace: async () => null,
};

export async function cliContext(): Promise<{ deps: Deps; models: Models; close(): Promise<void> }> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const uri = process.env.MONGODB_URI?.trim();
  if (!uri) {
    process.stderr.write(
      'Set MONGODB_URI to the Changegate database (for the embedded one: the URI `npm start` logs).\n',
    );
    process.exit(2);
  }
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', format: 'pretty' });
  const policy = loadPolicy(process.env.CHANGEGATE_POLICY?.trim() || undefined);
  const conn: Connection = await connectDatabase(uri, logger);
  const db = /^mongodb(\+srv)?:\/\/[^/]+\/[^?]+/.test(uri)
    ? conn
    : conn.useDb('changegate', { useCache: true });
  const models = createModels(db);
  const info = await databaseInfo(db);
  const deps: Deps = {
    clock: systemClock,
    logger,
    policy,
    changes: new ChangeRepository(models, info.flavor),
    directory: OFFLINE_DIRECTORY,
    notifier: { changed: async () => undefined },
    effects: new MongoEffectsOutbox(models),
    background: { track: () => undefined },
  };
  return { deps, models, close: () => closeDatabase(conn) };
}
