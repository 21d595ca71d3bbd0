import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_FERRETDB_BIN, freePort } from '../../src/infra/db/ferretdb.js';
import { FakeSlack } from '../support/fake-slack/server.js';
import { eventually } from '../support/flows.js';
import { SIGNING_SECRET } from '../support/harness.js';
import { exitOf, imageCommand, npmStart, processesMentioning, ROOT, running } from '../support/image.js';

describe('npm start', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist/main.js')))
      throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
  });

  it('without any configuration prints the missing-credentials screen and exits non-zero', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'changegate-noenv-'));
    try {
      const child = npmStart({}, ROOT);
      const code = await exitOf(child);
      expect(code).not.toBe(0);
      const out = child.output();
      expect(out).toContain('Changegate needs Slack credentials to start.');
      expect(out).toContain('SLACK_BOT_TOKEN');
      expect(out).toContain('SLACK_SIGNING_SECRET');
      expect(out).toContain('manifest.yml');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in production without an audit key refuses to start and says how to make one', async () => {
    const child = npmStart({
      NODE_ENV: 'production',
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
    });
    const code = await exitOf(child);
    expect(code).not.toBe(0);
    expect(child.output()).toContain('CHANGEGATE_AUDIT_KEY');
    expect(child.output()).toContain('openssl genpkey -algorithm ed25519');
  });

  describe('with a bot token, a signing secret and SLACK_API_URL pointing at a fake Slack', () => {
    let fake: FakeSlack;
    let child: (ChildProcess & { output: () => string }) | null = null;
    let dataDir: string;
    let port = 0;
    beforeAll(async () => {
      fake = await new FakeSlack().start();
      dataDir = mkdtempSync(join(tmpdir(), 'changegate-data-'));
    });
    afterAll(async () => {
      if (child && running(child)) {
        process.kill(-child.pid!, 'SIGKILL');
        await exitOf(child);
      }
      await fake.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    /** The image's command line, run directly, until /healthz answers. */
    async function startImage(extra: Record<string, string> = {}) {
      port = await freePort();
      const useFerret = inject('mongo').flavor === 'ferretdb';
      const started = npmStart(
        {
          SLACK_BOT_TOKEN: 'xoxb-test-token',
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_API_URL: fake.apiUrl,
          PORT: String(port),
          CHANGEGATE_DATA_DIR: dataDir,
          LOG_LEVEL: 'info',
          ...extra,
          ...(useFerret
            ? {
                FERRETDB_BIN: process.env.FERRETDB_BIN ?? DEFAULT_FERRETDB_BIN,
                MONGOMS_RUNTIME_DOWNLOAD: 'false',
              }
            : {}),
        },
        ROOT,
        imageCommand(),
      );
      const deadline = Date.now() + 90_000;
      let status = 0;
      while (Date.now() < deadline && running(started)) {
        status = await fetch(`http://127.0.0.1:${port}/healthz`)
          .then((r) => r.status)
          .catch(() => 0);
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(status, started.output()).toBe(200);
      return started;
    }

    it('the image runs Node directly, with the flags npm start uses', () => {
      const cmd = imageCommand();
      expect(cmd[0]).toBe('node');
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        scripts: { start: string };
      };
      expect(cmd.join(' ')).toBe(pkg.scripts.start);
    });

    it('starts on the embedded database, answers /healthz, and stops cleanly on SIGTERM to its group', async () => {
      child = await startImage();
      const out = child.output();
      expect(out).toMatch(/embedded (FerretDB|MongoDB)/);
      expect(out).toContain(dataDir);
      expect(out).toContain('For production set MONGODB_URI');
      if (inject('mongo').flavor === 'ferretdb')
        // Here mongod cannot be downloaded: said in one line, with why, before falling back.
        expect(out).toMatch(/mongod could not be obtained: [^\n]+\. Using FerretDB instead\.\n/);
      // Development without an audit key: one is generated under the data directory, and said so.
      expect(out).toContain(`generated a development audit key at ${join(dataDir, 'audit-key.pem')}`);
      expect(existsSync(join(dataDir, 'audit-key.pem'))).toBe(true);
      expect(fake.callsOf('auth.test').length).toBeGreaterThan(0);
      expect(out).not.toContain('xoxb-test-token');
      // A fresh install with nobody an admin: the one-time setup code for App Home.
      expect(out).toMatch(/enter this one-time setup code: [A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}/);

      // The image runs `tini -g -- node …`: SIGTERM goes to the whole process group. The embedded
      // database is in a group of its own, so it serves the app's graceful stop and is stopped last.
      const exited = exitOf(child);
      process.kill(-child.pid!, 'SIGTERM');
      expect(await exited).toBe(0);
      expect(child.output()).toContain('SIGTERM received');
      expect(child.output()).toMatch(/info.*stopped/);
      expect(child.output()).not.toMatch(/database close failed|MongoClientClosedError|MongoNetworkError/);
      await waitUntilGone(dataDir);
    });

    it('the embedded database never outlives the app: SIGKILL to Node leaves no database process', async () => {
      child = await startImage();
      expect(processesMentioning(dataDir).length).toBeGreaterThan(1); // the app's database is running
      const exited = exitOf(child);
      process.kill(child.pid!, 'SIGKILL'); // Node alone, as an OOM kill would
      await exited;
      await waitUntilGone(dataDir);
    });

    /** A command-line tool run as a user would, without MONGODB_URI, in the app's data directory. */
    const tool = (script: string) =>
      spawnSync(process.execPath, [join(ROOT, script)], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          CHANGEGATE_DATA_DIR: dataDir,
          FERRETDB_BIN: process.env.FERRETDB_BIN ?? DEFAULT_FERRETDB_BIN,
          MONGOMS_RUNTIME_DOWNLOAD: 'false',
        },
      });

    it('the tools find the embedded database without MONGODB_URI: the running app’s, or one they start and stop', async () => {
      // The app is gone (previous test): the tool starts the database for itself, then stops it.
      const alone = tool('dist/cli/audit-verify.js');
      expect(alone.status, alone.stderr + alone.stdout).toBe(0);
      expect(alone.stderr).toContain(`Starting the embedded database in ${dataDir}`);
      expect(alone.stdout).toContain('verifies');
      await waitUntilGone(dataDir);

      // With the app running, the tool uses the app's database rather than starting a second one.
      child = await startImage();
      const beside = tool('dist/cli/audit-verify.js');
      expect(beside.status, beside.stderr + beside.stdout).toBe(0);
      expect(beside.stderr).toContain("Using the running app's embedded database");
      const exited = exitOf(child);
      process.kill(-child.pid!, 'SIGTERM');
      expect(await exited).toBe(0);
      await waitUntilGone(dataDir);
    });

    it('Socket Mode: a token Slack refuses is reported (which token, what Slack said), /readyz says so, SIGTERM stops at once', async () => {
      child = await startImage({ SLACK_APP_TOKEN: 'xapp-1-refused-9z8y' });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ checks: { slack: 'not_connected' } });
      await eventually(async () => child!.output().includes('apps.connections.open'));
      expect(child.output()).toContain(
        'Slack answered apps.connections.open with "invalid_auth" for the app-level token in SLACK_APP_TOKEN (xapp-…9z8y)',
      );
      expect(child.output()).toContain('connections:write');
      expect(child.output()).not.toContain('xapp-1-refused-9z8y');
      const exited = exitOf(child);
      const t0 = Date.now();
      process.kill(-child.pid!, 'SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5_000);
    });

    it('Socket Mode: while Slack keeps failing the app retries, and SIGTERM ends the retrying at once', async () => {
      fake.failNext('apps.connections.open', 'internal_error', 1000);
      child = await startImage({ SLACK_APP_TOKEN: 'xapp-test-token' });
      await eventually(async () => child!.output().includes('"internal_error"'));
      expect(child.output()).toContain('retrying');
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
      const exited = exitOf(child);
      const t0 = Date.now();
      process.kill(-child.pid!, 'SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5_000);
      fake.failNext('apps.connections.open', 'internal_error', 0); // Slack is well again
    });

    it('npm run doctor checks the app-level token with apps.connections.open', async () => {
      // Asynchronously: the fake Slack answers from this process.
      const doctor = (appToken: string) =>
        new Promise<{ status: number | null; stdout: string }>((resolveRun) => {
          const run = spawn(process.execPath, [join(ROOT, 'dist/cli/doctor.js')], {
            cwd: ROOT,
            env: {
              PATH: process.env.PATH ?? '',
              HOME: process.env.HOME ?? '',
              SLACK_BOT_TOKEN: 'xoxb-test-token',
              SLACK_APP_TOKEN: appToken,
              SLACK_API_URL: fake.apiUrl,
              CHANGEGATE_DATA_DIR: dataDir,
            },
          });
          let stdout = '';
          run.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          run.on('close', (status) => resolveRun({ status, stdout }));
        });
      const good = await doctor('xapp-test-token');
      expect(good.stdout).toMatch(
        /socket mode.*apps\.connections\.open OK with the app-level token \(xapp-…oken\)/,
      );
      const bad = await doctor('xapp-1-refused-9z8y');
      expect(bad.status).toBe(1);
      expect(bad.stdout).toMatch(
        /socket mode.*"invalid_auth" for the app-level token in SLACK_APP_TOKEN \(xapp-…9z8y\)/,
      );
    });
  });
});

/** Waits (up to 20 s) until no process mentions `text` any more; fails naming what is left. */
async function waitUntilGone(text: string) {
  const until = Date.now() + 20_000;
  let left = processesMentioning(text);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    left = processesMentioning(text);
  }
  expect(
    left.map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        return String(pid);
      }
    }),
  ).toEqual([]);
}
