import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WebClient } from '@slack/web-api';
import mongoose from 'mongoose';
import { socketProblem, tokenHint } from '../adapters/slack/socket-mode.js';
import { formatConfigProblems, loadConfig } from '../config/env.js';
import {
  emptyRoleWarnings,
  envAdmins,
  type LoadedPolicy,
  loadEffectivePolicy,
  PolicyError,
  parsePolicy,
  withAdmins,
} from '../config/policy.js';
import { approversOf, membershipFrom, type Policy, referencedGroups } from '../domain/policy.js';
import { quorumShortfalls } from '../domain/stages.js';
import { signerFrom } from '../infra/audit-key.js';
import { databaseInUri } from '../infra/db/open.js';
import { appConnectionOpener } from '../infra/slack/clients.js';

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

  // With CHANGEGATE_POLICY the file is the policy; without, the latest version published in the
  // database (set up from App Home), checked once the database is reached below.
  let policy: Policy | null = null;
  const fromFile = !!process.env.CHANGEGATE_POLICY?.trim();
  const checkPolicy = (loaded: LoadedPolicy, where: string) => {
    policy = loaded.policy;
    report(
      true,
      'policy',
      `${where} (version ${loaded.hash}), ${Object.keys(loaded.policy.types).length} change types`,
    );
    for (const w of emptyRoleWarnings(loaded.policy)) process.stdout.write(`    warning: ${w}\n`);
  };
  if (fromFile) {
    try {
      const loaded = loadEffectivePolicy();
      checkPolicy(loaded, loaded.source);
    } catch (err) {
      report(false, 'policy', err instanceof PolicyError ? 'invalid' : String(err));
      if (err instanceof PolicyError)
        process.stdout.write(`${err.message.split('\n').slice(1).join('\n')}\n`);
    }
  }

  auditKey();

  // GitHub App: optional; without GITHUB_APP_ID and GITHUB_WEBHOOK_SECRET the integration is off.
  const gh = result.ok ? result.config.github : null;
  if (!gh)
    report(
      null,
      'github',
      'off (set GITHUB_APP_ID and GITHUB_WEBHOOK_SECRET to take PR evidence from the GitHub App)',
    );
  else
    report(
      true,
      'github',
      `on: app ${gh.appId}, webhooks at POST /github/webhooks, API ${gh.apiUrl}${gh.privateKey ? '' : ' (no GITHUB_APP_PRIVATE_KEY: webhooks only)'}`,
    );

  const uri = process.env.MONGODB_URI?.trim();
  if (!uri && !fromFile)
    checkPolicy(loadEffectivePolicy(), "built-in policy or the embedded database's (set it up in App Home)");
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
      if (!fromFile) {
        const db = conn.useDb(databaseInUri(uri) ? conn.name : 'changegate').db!;
        const head = await db
          .collection<{ number: number; hash: string; by: string }>('policy_history')
          .find()
          .sort({ _id: -1 })
          .limit(1)
          .next();
        const text = head
          ? await db.collection<{ _id: string; yaml: string }>('policy_versions').findOne({ _id: head.hash })
          : null;
        if (head && text)
          checkPolicy(
            withAdmins(parsePolicy(text.yaml, `version ${head.number}`), envAdmins()),
            `the database's version ${head.number} (published by ${head.by}; edit it in App Home)`,
          );
        else
          checkPolicy(
            loadEffectivePolicy(),
            'built-in policy (no version published yet; set it up in App Home)',
          );
      }
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
      if (policy) await quorumCheck(client, policy);
    } catch (err) {
      const e = err as { data?: { error?: string }; message: string };
      report(false, 'slack', `auth.test failed: ${e.data?.error ?? e.message}`);
    }
  }
  const appToken = process.env.SLACK_APP_TOKEN?.trim();
  if (appToken) {
    // Socket Mode: the app-level token must be able to open a connection.
    const apiUrl = process.env.SLACK_API_URL?.trim();
    try {
      await appConnectionOpener(apiUrl ? (apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`) : null, appToken)();
      report(
        true,
        'socket mode',
        `apps.connections.open OK with the app-level token (${tokenHint(appToken)})`,
      );
    } catch (err) {
      report(false, 'socket mode', socketProblem(err, appToken).text.replace(/; retrying\.$/, '.'));
    }
  }
  process.exit(lines.some((l) => l.ok === false) ? 1 : 0);
}

/** With the policy's user groups resolved in Slack: stages whose quorum the eligible people cannot reach. */
async function quorumCheck(client: WebClient, policy: Policy): Promise<void> {
  const groups: Record<string, string[]> = {};
  for (const g of referencedGroups(policy)) {
    try {
      const res = (await client.apiCall('usergroups.users.list', { usergroup: g })) as { users?: string[] };
      groups[g] = res.users ?? [];
    } catch {
      groups[g] = [];
    }
  }
  const membership = membershipFrom(groups);
  for (const q of quorumShortfalls(policy.stages, (a) => approversOf(policy, membership, a)))
    process.stdout.write(
      `    warning: stage "${q.stage}" (${q.name}) needs ${q.needed} approvers but only ${q.available} people can approve it\n`,
    );
}

/** The audit key: its id and public key (what an auditor checks exports with), or why it is missing. */
function auditKey(): void {
  const key = process.env.CHANGEGATE_AUDIT_KEY?.trim();
  const devKey = join(process.env.CHANGEGATE_DATA_DIR?.trim() || './data', 'audit-key.pem');
  const source = key ? key : existsSync(devKey) ? devKey : null;
  if (!source) {
    report(
      process.env.NODE_ENV === 'production' ? false : null,
      'audit key',
      process.env.NODE_ENV === 'production'
        ? 'CHANGEGATE_AUDIT_KEY is not set (required in production)'
        : `CHANGEGATE_AUDIT_KEY is not set: npm start generates a development key at ${devKey}`,
    );
    return;
  }
  try {
    const signer = signerFrom(source);
    report(
      true,
      'audit key',
      `Ed25519, key id ${signer.keyId}${key ? '' : ` (development key ${devKey})`}; public key:`,
    );
    process.stdout.write(signer.publicKey.replace(/^/gm, '    ').trimEnd().concat('\n'));
  } catch (err) {
    report(false, 'audit key', err instanceof Error ? err.message : String(err));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`doctor failed: ${String(err)}\n`);
  process.exit(1);
});
