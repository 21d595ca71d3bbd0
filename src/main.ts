import { existsSync } from 'node:fs';
import { type Changegate, startChangegate } from './app.js';
import {
  formatConfigProblems,
  formatMissingCredentials,
  loadConfig,
  onlyMissingSlackCredentials,
} from './config/env.js';
import { loadPolicy, PolicyError } from './config/policy.js';
import { type EmbeddedDatabase, startEmbeddedDatabase } from './infra/db/embedded.js';
import { createLogger } from './infra/logger.js';

/** `npm start`: configuration → policy → database (embedded when MONGODB_URI is unset) → app. */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const result = loadConfig(process.env);
  if (!result.ok) {
    const screen = onlyMissingSlackCredentials(result.problems, process.env)
      ? formatMissingCredentials(result.problems)
      : formatConfigProblems(result.problems);
    process.stderr.write(`${screen}\n`);
    process.exit(1);
  }
  const config = result.config;
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });

  let policy: ReturnType<typeof loadPolicy>;
  try {
    policy = loadPolicy(config.policyPath);
  } catch (err) {
    process.stderr.write(`${err instanceof PolicyError ? err.message : String(err)}\n`);
    process.exit(1);
  }

  // Signals are handled from here on, so a SIGTERM that lands while the database or the app is
  // still starting stops whatever has started instead of killing the process mid-write.
  let embedded: EmbeddedDatabase | null = null;
  let app: Changegate | null = null;
  let stopping = false;
  let signals = 0;
  let starting: Promise<Changegate> | null = null;
  const stopAll = async (): Promise<void> => {
    // A start in progress is allowed to finish so that its server, scheduler and connection close.
    const started = app ?? (await starting?.catch(() => null)) ?? null;
    await started?.stop();
    await embedded?.stop();
  };
  const shutdown = async (signal: string) => {
    signals++;
    if (signals > 1) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal} received`);
    await stopAll();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  let mongoUri = config.mongodbUri;
  if (!mongoUri) {
    embedded = await startEmbeddedDatabase({
      dataDir: config.dataDir,
      ferretdbBin: config.ferretdbBin,
      logger,
    });
    mongoUri = embedded.uri;
  }
  if (stopping) return;

  try {
    // Without CHANGEGATE_POLICY the policy lives in the database and admins edit it from App Home.
    const policySource = config.policyPath ? 'file' : 'database';
    starting = startChangegate({ config, logger, policy, policySource, mongoUri });
    app = await starting;
  } catch (err) {
    if (stopping) return;
    logger.error('Changegate failed to start', { err });
    await embedded?.stop();
    process.exit(1);
  }
  if (stopping) return;
  logger.info(
    config.slack.socketMode
      ? `Changegate is running in Socket Mode; health on http://${config.host}:${app.port}/healthz`
      : `Changegate is listening on port ${app.port}; Slack request URL: https://<your-host>/slack/events`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(
    `Changegate failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
