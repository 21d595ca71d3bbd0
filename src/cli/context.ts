import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SlackAuditWitness } from '../adapters/slack/audit-witness.js';
import { DelegationBook } from '../application/delegations.js';
import { PolicyBook } from '../application/policy-book.js';
import type { AuditKeys, AuditWitness, ChangeNotifier, Deps, Directory } from '../application/ports.js';
import { envAdmins, loadPolicy } from '../config/policy.js';
import { EMPTY_MEMBERSHIP } from '../domain/policy.js';
import { systemClock } from '../domain/time.js';
import { loadAuditKeys } from '../infra/audit-key.js';
import { hasEmbeddedData, runningEmbeddedDatabase, startEmbeddedDatabase } from '../infra/db/embedded.js';
import type { Models } from '../infra/db/models.js';
import { openDatabase } from '../infra/db/open.js';
import { createLogger, type Logger } from '../infra/logger.js';
import { createSlackApi } from '../infra/slack/clients.js';

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

/** Without a bot token the tools cannot read the audit channel: checkpoints go unwitnessed there. */
export const NO_WITNESS: AuditWitness = {
  configured: false,
  post: async () => {
    throw new Error('no Slack here');
  },
  read: async () => null,
  alert: async () => undefined,
};

/** The tools post nothing to Slack, so they find nothing posted there either. */
export const SILENT_NOTIFIER: ChangeNotifier = {
  changed: async () => undefined,
  postedRoots: () => async () => null,
};

/**
 * The audit key when this machine has it (CHANGEGATE_AUDIT_KEY, or the development key the app
 * generated under the data directory); null otherwise (the tools then only read and verify).
 */
function auditKeysIfAny(logger: Logger): AuditKeys | null {
  const dataDir = process.env.CHANGEGATE_DATA_DIR?.trim() || './data';
  const key = process.env.CHANGEGATE_AUDIT_KEY?.trim();
  if (!key && !existsSync(join(dataDir, 'audit-key.pem'))) return null;
  return loadAuditKeys(
    { key, previousKey: process.env.CHANGEGATE_AUDIT_KEY_PREVIOUS?.trim() || undefined },
    { production: false, dataDir, logger },
  );
}

/**
 * Use-case dependencies for command-line tools: the database (opened the way the app opens it),
 * the policy and, when configured, the audit key and the audit channel (read only). CLI callers
 * act as the system (they see every change); nothing here posts to Slack.
 */
export async function cliContext(): Promise<{ deps: Deps; models: Models; close(): Promise<void> }> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', format: 'pretty' });
  const { uri, stopDatabase } = await databaseForTool(logger);
  const audit = auditKeysIfAny(logger);
  const db = await openDatabase(uri, logger, undefined, audit?.signer ?? null);
  // The policy in force: CHANGEGATE_POLICY, or else the version published in the database. Tools
  // never publish one (no signer for the book).
  const file = process.env.CHANGEGATE_POLICY?.trim();
  const policies = new PolicyBook({
    store: db.policies,
    clock: systemClock,
    logger,
    signer: null,
    file: file ? loadPolicy(file) : null,
    initial: loadPolicy(undefined),
    envAdmins: envAdmins(),
  });
  await policies.init();
  const policy = policies.live;
  const botToken = process.env.SLACK_BOT_TOKEN?.trim();
  const slack = botToken
    ? createSlackApi({ apiUrl: process.env.SLACK_API_URL?.trim() || null, botToken }, logger)
    : null;
  const witness: AuditWitness = slack
    ? readOnly(new SlackAuditWitness(slack.sender, policy, OFFLINE_DIRECTORY, slack.identity, logger))
    : NO_WITNESS;
  const deps: Deps = {
    clock: systemClock,
    logger,
    policy,
    policies,
    delegations: new DelegationBook(db.delegations, null),
    boards: db.boards,
    rollups: db.rollups,
    githubUsers: db.githubUsers,
    githubLinks: db.githubLinks,
    changes: db.changes,
    ledger: db.ledger,
    audit,
    witness,
    tokens: db.tokens,
    directory: OFFLINE_DIRECTORY,
    notifier: SILENT_NOTIFIER,
    effects: db.effects,
    background: { track: (work) => work },
  };
  return {
    deps,
    models: db.models,
    close: async () => {
      await db.close();
      await stopDatabase();
    },
  };
}

/**
 * MONGODB_URI, or else the embedded database of `npm start` in CHANGEGATE_DATA_DIR: the running app's
 * (it says where it listens), or started for this command and stopped after it.
 */
export async function databaseForTool(
  logger: Logger,
  /** Start an embedded database even where none exists yet (the seed). */
  create = false,
): Promise<{ uri: string; stopDatabase(): Promise<void> }> {
  const uri = process.env.MONGODB_URI?.trim();
  if (uri) return { uri, stopDatabase: async () => undefined };
  const dataDir = process.env.CHANGEGATE_DATA_DIR?.trim() || './data';
  const running = await runningEmbeddedDatabase(dataDir);
  if (running) {
    process.stderr.write(`Using the running app's embedded database (${running.uri}).\n`);
    return { uri: running.uri, stopDatabase: async () => undefined };
  }
  if (!create && !hasEmbeddedData(dataDir)) {
    process.stderr.write(
      `No database: MONGODB_URI is unset and ${dataDir} holds no embedded database. Set MONGODB_URI, or run this where npm start keeps its data (CHANGEGATE_DATA_DIR).\n`,
    );
    process.exit(2);
  }
  process.stderr.write(`Starting the embedded database in ${dataDir} for this command…\n`);
  const embedded = await startEmbeddedDatabase({
    dataDir,
    ferretdbBin: process.env.FERRETDB_BIN?.trim() || undefined,
    logger,
  });
  return { uri: embedded.uri, stopDatabase: () => embedded.stop() };
}

/** The audit channel, read only: the tools never post checkpoints or alerts themselves. */
function readOnly(w: AuditWitness): AuditWitness {
  return { ...NO_WITNESS, configured: w.configured, read: () => w.read() };
}
