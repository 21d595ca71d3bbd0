import { existsSync } from 'node:fs';
import type { Deps, Directory } from '../application/ports.js';
import { loadPolicy } from '../config/policy.js';
import { EMPTY_MEMBERSHIP } from '../domain/policy.js';
import { systemClock } from '../domain/time.js';
import type { Models } from '../infra/db/models.js';
import { openDatabase } from '../infra/db/open.js';
import { createLogger } from '../infra/logger.js';

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

/**
 * Use-case dependencies for command-line tools: the database (opened the way the app opens it) and
 * the policy, no Slack. CLI callers act as the system (they see every change); nothing here posts
 * to Slack.
 */
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
  const db = await openDatabase(uri, logger);
  const deps: Deps = {
    clock: systemClock,
    logger,
    policy,
    changes: db.changes,
    tokens: db.tokens,
    directory: OFFLINE_DIRECTORY,
    notifier: { changed: async () => undefined },
    effects: db.effects,
    background: { track: () => undefined },
  };
  return { deps, models: db.models, close: db.close };
}
