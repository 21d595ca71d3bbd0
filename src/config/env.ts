import { z } from 'zod';

/**
 * Configuration from environment variables, validated once at start-up. Every problem is collected
 * so the user sees them all at once.
 */

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const optionalString = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined));

const envSchema = z
  .object({
    SLACK_BOT_TOKEN: optionalString.pipe(
      z
        .string()
        .regex(/^xoxb-[A-Za-z0-9-]+$/, 'must be a bot token starting with xoxb-')
        .optional(),
    ),
    SLACK_SIGNING_SECRET: optionalString.pipe(
      z
        .string()
        .regex(/^[A-Za-z0-9]{16,}$/, 'must be the app\'s signing secret (hex, from "Basic Information")')
        .optional(),
    ),
    SLACK_APP_TOKEN: optionalString.pipe(
      z
        .string()
        .regex(/^xapp-[A-Za-z0-9-]+$/, 'must be an app-level token starting with xapp-')
        .optional(),
    ),
    SLACK_API_URL: optionalString.pipe(
      z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
    ),
    MONGODB_URI: optionalString.pipe(
      z
        .string()
        .regex(/^mongodb(\+srv)?:\/\/.+/, 'must be a mongodb:// or mongodb+srv:// connection string')
        .optional(),
    ),
    PORT: optionalString.pipe(
      z
        .string()
        .regex(/^\d{1,5}$/, 'must be a port number (0-65535)')
        .transform(Number)
        .pipe(z.number().max(65535, 'must be a port number (0-65535)'))
        .default(3000),
    ),
    HOST: optionalString.pipe(z.string().default('0.0.0.0')),
    LOG_LEVEL: optionalString.pipe(
      z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    ),
    LOG_FORMAT: optionalString.pipe(z.enum(['json', 'pretty']).optional()),
    NODE_ENV: optionalString.pipe(z.string().default('development')),
    CHANGEGATE_POLICY: optionalString,
    GITHUB_APP_ID: optionalString.pipe(
      z
        .string()
        .regex(/^\d{1,12}$/, "must be the GitHub App's numeric ID")
        .optional(),
    ),
    GITHUB_APP_PRIVATE_KEY: optionalString,
    GITHUB_WEBHOOK_SECRET: optionalString.pipe(
      z
        .string()
        .min(16, 'must be the webhook secret set on the GitHub App (at least 16 characters)')
        .optional(),
    ),
    GITHUB_API_URL: optionalString.pipe(
      z.url({ message: 'must be the REST API base URL, e.g. https://api.github.com' }).optional(),
    ),
    CHANGEGATE_ADMINS: optionalString.pipe(
      z
        .string()
        .default('')
        .transform((s) => s.split(/[\s,]+/).filter(Boolean))
        .pipe(
          z
            .array(
              z
                .string()
                .regex(/^[UW][A-Z0-9]{2,}$/, 'must list Slack user ids such as U0123ABCD, comma-separated'),
            )
            .max(50),
        ),
    ),
    CHANGEGATE_DATA_DIR: optionalString.pipe(z.string().default('./data')),
    CHANGEGATE_SCHEDULER: optionalString.pipe(z.enum(['on', 'off']).default('on')),
    CHANGEGATE_JOB_INTERVAL: optionalString.pipe(z.string().default('30 seconds')),
    FERRETDB_BIN: optionalString,
    CHANGEGATE_AUDIT_KEY: optionalString,
    CHANGEGATE_AUDIT_KEY_PREVIOUS: optionalString,
    CHANGEGATE_CHECKPOINT_INTERVAL: optionalString.pipe(z.string().default('10 minutes')),
  })
  .superRefine((env, ctx) => {
    if (!env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_SIGNING_SECRET'],
        message: 'set SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)',
      });
    }
    if (env.NODE_ENV === 'production' && !env.CHANGEGATE_AUDIT_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['CHANGEGATE_AUDIT_KEY'],
        message:
          'required in production: the Ed25519 private key (PEM, or a path to it) that signs the audit ledger; create one with `openssl genpkey -algorithm ed25519 -out audit-key.pem` and keep it out of the database',
      });
    }
    if (!env.SLACK_BOT_TOKEN) {
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_BOT_TOKEN'],
        message: 'required: the bot token (xoxb-…) from "OAuth & Permissions"',
      });
    }
  });

export interface AppConfig {
  slack: {
    botToken: string;
    signingSecret: string | undefined;
    appToken: string | undefined;
    socketMode: boolean;
    apiUrl: string | undefined;
  };
  mongodbUri: string | undefined;
  port: number;
  host: string;
  logLevel: LogLevel;
  logFormat: 'json' | 'pretty';
  production: boolean;
  policyPath: string | undefined;
  /** CHANGEGATE_ADMINS: Slack user ids who administer Changegate besides the policy's admin roles. */
  admins: string[];
  dataDir: string;
  scheduler: { enabled: boolean; interval: string };
  ferretdbBin: string | undefined;
  /** The GitHub App integration: null (off) unless GITHUB_APP_ID and GITHUB_WEBHOOK_SECRET are set. */
  github: {
    appId: string;
    /** PEM text (or `\n`-escaped) or a path to a PEM file; only needed for API calls. */
    privateKey: string | undefined;
    webhookSecret: string;
    /** REST base URL, used verbatim (GitHub Enterprise Server: https://HOST/api/v3). */
    apiUrl: string;
  } | null;
  audit: {
    /** The signing key: PEM text or a path to a PEM file (development generates one when unset). */
    key: string | undefined;
    /** The key being rotated out: signs the rotation to the new key. */
    previousKey: string | undefined;
    checkpointInterval: string;
  };
}

export interface ConfigProblem {
  variable: string;
  message: string;
}

export type ConfigResult = { ok: true; config: AppConfig } | { ok: false; problems: ConfigProblem[] };

const SLACK_VARS = new Set(['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN']);

export function loadConfig(env: NodeJS.ProcessEnv): ConfigResult {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), message: i.message })),
    };
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const apiUrl = e.SLACK_API_URL
    ? e.SLACK_API_URL.endsWith('/')
      ? e.SLACK_API_URL
      : `${e.SLACK_API_URL}/`
    : undefined;
  return {
    ok: true,
    config: {
      slack: {
        botToken: e.SLACK_BOT_TOKEN!,
        signingSecret: e.SLACK_SIGNING_SECRET,
        appToken: e.SLACK_APP_TOKEN,
        socketMode: Boolean(e.SLACK_APP_TOKEN),
        apiUrl,
      },
      mongodbUri: e.MONGODB_URI,
      port: e.PORT,
      host: e.HOST,
      logLevel: e.LOG_LEVEL,
      logFormat: e.LOG_FORMAT ?? (production ? 'json' : 'pretty'),
      production,
      policyPath: e.CHANGEGATE_POLICY,
      admins: e.CHANGEGATE_ADMINS,
      dataDir: e.CHANGEGATE_DATA_DIR,
      scheduler: { enabled: e.CHANGEGATE_SCHEDULER === 'on', interval: e.CHANGEGATE_JOB_INTERVAL },
      ferretdbBin: e.FERRETDB_BIN,
      github:
        e.GITHUB_APP_ID && e.GITHUB_WEBHOOK_SECRET
          ? {
              appId: e.GITHUB_APP_ID,
              privateKey: e.GITHUB_APP_PRIVATE_KEY,
              webhookSecret: e.GITHUB_WEBHOOK_SECRET,
              apiUrl: (e.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, ''),
            }
          : null,
      audit: {
        key: e.CHANGEGATE_AUDIT_KEY,
        previousKey: e.CHANGEGATE_AUDIT_KEY_PREVIOUS,
        checkpointInterval: e.CHANGEGATE_CHECKPOINT_INTERVAL,
      },
    },
  };
}

/** True when the only problems are missing Slack credentials: the new-user case. */
export function onlyMissingSlackCredentials(
  problems: readonly ConfigProblem[],
  env: NodeJS.ProcessEnv,
): boolean {
  return problems.every((p) => SLACK_VARS.has(p.variable) && !env[p.variable]?.trim());
}

export function formatConfigProblems(problems: readonly ConfigProblem[]): string {
  const width = Math.max(...problems.map((p) => p.variable.length));
  return [
    'Changegate cannot start: the configuration has problems.',
    '',
    ...problems.map((p) => `  ${p.variable.padEnd(width)}  ${p.message}`),
    '',
    'Set these in the environment or in a .env file (see .env.example), then start again.',
  ].join('\n');
}

export function formatMissingCredentials(problems: readonly ConfigProblem[]): string {
  const order = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN'];
  const missing = [...new Set(problems.map((p) => p.variable))].sort(
    (a, b) => order.indexOf(a) - order.indexOf(b),
  );
  return [
    'Changegate needs Slack credentials to start.',
    '',
    `Missing: ${missing.join(', ')}${missing.includes('SLACK_SIGNING_SECRET') ? ' (or SLACK_APP_TOKEN for Socket Mode)' : ''}`,
    '',
    'Create the Slack app once:',
    '  1. Open https://api.slack.com/apps → "Create New App" → "From an app manifest".',
    '  2. Pick your workspace and paste manifest.yml from this repository',
    '     (replace https://changegate.example.com with your public URL, or set',
    '     settings.socket_mode_enabled: true for Socket Mode without a public URL).',
    '  3. Install the app to the workspace, then copy:',
    '       SLACK_BOT_TOKEN       OAuth & Permissions → Bot User OAuth Token (xoxb-…)',
    '       SLACK_SIGNING_SECRET  Basic Information → Signing Secret   (HTTP mode)',
    '       SLACK_APP_TOKEN       Basic Information → App-Level Tokens, scope connections:write (Socket Mode)',
    '  4. Put them in .env (copy .env.example) and run `npm start` again.',
    '',
    'Check everything with `npm run doctor`.',
  ].join('\n');
}
