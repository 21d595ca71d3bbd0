import { existsSync } from 'node:fs';
import { WebClient } from '@slack/web-api';
import mongoose from 'mongoose';
import { formatConfigProblems, loadConfig } from '../config/env.js';
import { emptyRoleWarnings, loadPolicy, PolicyError } from '../config/policy.js';

/**
 * `npm run doctor`: checks configuration, the policy file, database connectivity and Slack
 * (auth.test), one pass/fail line each. Exits non-zero when something fails.
 */
type Line = { ok: boolean | null; label: string; detail: string };
const lines: Line[] = [];
const report = (ok: boolean | null, label: string, detail: string) => {
  lines.push({ ok, label, detail });
  const mark = ok === null ? '–' : ok ? '✔' : '✘';
  process.stdout.write(`${mark} ${label.padEnd(14)} ${detail}\n`);
};

async function main() {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const result = loadConfig(process.env);
  if (!result.ok) {
    report(false, 'configuration', 'invalid');
    process.stdout.write(`${formatConfigProblems(result.problems).replace(/^/gm, '    ')}\n`);
  } else {
    const c = result.config;
    report(
      true,
      'configuration',
      `${c.slack.socketMode ? 'Socket Mode' : 'HTTP mode'}, port ${c.port}, log level ${c.logLevel}`,
    );
  }

  try {
    const policy = loadPolicy(process.env.CHANGEGATE_POLICY?.trim() || undefined);
    const warnings = emptyRoleWarnings(policy.policy);
    report(
      true,
      'policy',
      `${policy.source} (version ${policy.hash}), ${Object.keys(policy.policy.types).length} change types`,
    );
    for (const w of warnings) process.stdout.write(`    warning: ${w}\n`);
  } catch (err) {
    report(false, 'policy', err instanceof PolicyError ? 'invalid' : String(err));
    if (err instanceof PolicyError) process.stdout.write(`${err.message.split('\n').slice(1).join('\n')}\n`);
  }

  const uri = process.env.MONGODB_URI?.trim();
  if (!uri) {
    report(
      null,
      'database',
      'MONGODB_URI is not set: npm start uses the embedded database under ./data (not for production)',
    );
  } else {
    const conn = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 4000 });
    try {
      await conn.asPromise();
      const info = (await conn.db!.admin().command({ buildInfo: 1 })) as {
        version?: string;
        ferretdbVersion?: string;
      };
      report(
        true,
        'database',
        `${'ferretdbVersion' in info ? 'FerretDB' : 'MongoDB'} ${info.version ?? ''} reachable`,
      );
    } catch (err) {
      report(false, 'database', `cannot connect: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      await conn.close().catch(() => undefined);
    }
  }

  const token = process.env.SLACK_BOT_TOKEN?.trim();
  if (!token) {
    report(false, 'slack', 'SLACK_BOT_TOKEN is not set');
  } else {
    const apiUrl = process.env.SLACK_API_URL?.trim();
    const client = new WebClient(token, {
      ...(apiUrl ? { slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
      retryConfig: { retries: 0 },
    });
    try {
      const me = await client.auth.test();
      report(
        true,
        'slack',
        `auth.test OK: bot ${me.user ?? '?'} (${me.user_id ?? '?'}) in ${me.team ?? '?'} (${me.team_id ?? '?'})`,
      );
    } catch (err) {
      const e = err as { data?: { error?: string }; message: string };
      report(false, 'slack', `auth.test failed: ${e.data?.error ?? e.message}`);
    }
  }
  process.exit(lines.some((l) => l.ok === false) ? 1 : 0);
}

main().catch((err: unknown) => {
  process.stderr.write(`doctor failed: ${String(err)}\n`);
  process.exit(1);
});
