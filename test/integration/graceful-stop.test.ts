import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/infra/db/ferretdb.js';
import { FakeSlack } from '../support/fake-slack/server.js';
import { formValues } from '../support/flows.js';
import { dropDatabase, SIGNING_SECRET } from '../support/harness.js';
import { exitOf, imageCommand, npmStart, ROOT, running } from '../support/image.js';
import { ALICE, ALL_PEOPLE, APPROVALS, SECURITY_GROUP } from '../support/people.js';
import { SlackRequests } from '../support/slack-requests.js';

/**
 * The image's command line, run directly, stopped with SIGTERM to its process group as `tini -g`
 * delivers it while approvals are in flight (acknowledged to Slack, their thread replies and
 * message updates still on their way): none is lost.
 */
describe('SIGTERM with approvals in flight', () => {
  let fake: FakeSlack;
  const dbName = `gracefulstop${process.pid}`;
  const mongoUri = inject('mongo').uri;
  const dataDir = resolve(ROOT, `.cache/graceful-stop-${process.pid}`);
  beforeAll(async () => {
    fake = await new FakeSlack().start();
    for (const u of ALL_PEOPLE) fake.addUser(u);
    fake.setGroup(SECURITY_GROUP, []);
  });
  afterAll(async () => {
    await fake.stop();
    await dropDatabase(mongoUri, dbName);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every acknowledged approval is recorded and reaches Slack (or waits in the outbox) before exit', async () => {
    const port = await freePort();
    const child = npmStart(
      {
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: fake.apiUrl,
        PORT: String(port),
        MONGODB_URI: `${mongoUri.replace(/\/?$/, '/')}${dbName}`,
        CHANGEGATE_POLICY: resolve(ROOT, 'test/fixtures/policies/test-policy.yml'),
        CHANGEGATE_DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
      },
      ROOT,
      imageCommand(),
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      for (const until = Date.now() + 60_000; Date.now() < until && running(child); ) {
        if (
          await fetch(`${base}/healthz`)
            .then((r) => r.ok)
            .catch(() => false)
        )
          break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(running(child), child.output()).toBe(true);
      const slack = new SlackRequests(base, SIGNING_SECRET, fake);

      // Ten changes waiting for their peer review.
      expect((await slack.command('/change', '', { user: ALICE })).status).toBe(200);
      const view = (await fake.waitFor(() => fake.callsOf('views.open')[0])).response.view as {
        callback_id: string;
        private_metadata: string;
        blocks: unknown[];
      };
      const titles = Array.from({ length: 10 }, (_, i) => `In flight ${i}`);
      for (const title of titles) {
        const res = await slack.submitView(
          {
            callbackId: view.callback_id,
            values: formValues({ title }),
            privateMetadata: view.private_metadata,
            blocks: view.blocks as never,
          },
          ALICE,
        );
        expect(res.status).toBe(200);
      }
      const roots = await fake.waitFor(() => {
        const posted = fake.posts(APPROVALS).filter((m) => !m.thread_ts && m.text.includes('In flight'));
        return posted.length === titles.length ? posted : null;
      }, 30_000);

      // Slack answers slowly: the decisions' replies and updates are on their way when the stop comes.
      fake.latencyMs = 400;
      const reviewers = titles.map((_, i) => `U0123R${String(i).padStart(3, '0')}`);
      for (const r of reviewers) fake.addUser(r);
      const clicks = await Promise.all(
        roots.map((root, i) => {
          const n = Number(/^CR-(\d+)/.exec(root.text)![1]);
          return slack
            .click('change_approve', `${n}:0`, {
              user: reviewers[i],
              message: { channel: root.channel, ts: root.ts },
            })
            .then((r) => ({ n, status: r.status }));
        }),
      );
      expect(clicks.every((c) => c.status === 200)).toBe(true);
      const exited = exitOf(child);
      const stopAt = Date.now();
      process.kill(-child.pid!, 'SIGTERM');
      expect(await exited, child.output()).toBe(0);
      // Within the grace period the README asks for (docker-compose's stop_grace_period: 30s).
      expect(Date.now() - stopAt).toBeLessThan(30_000);
      fake.latencyMs = 0;

      const conn = await mongoose.createConnection(`${mongoUri.replace(/\/?$/, '/')}${dbName}`).asPromise();
      try {
        for (const { n } of clicks) {
          const decided = await conn
            .collection('change_events')
            .countDocuments({ changeNumber: n, type: 'stage_approved' });
          expect(decided, `CR-${n}: the acknowledged approval is recorded`).toBe(1);
          const root = roots.find((r) => r.text.startsWith(`CR-${n}:`))!;
          const replied = fake
            .threadReplies(root.channel, root.ts)
            .some((m) => m.text.includes('approved *Peer review*'));
          const pending = await conn.collection('slack_effects').countDocuments({ changeNumber: n });
          expect(replied || pending > 0, `CR-${n}: its thread reply was posted or waits to be retried`).toBe(
            true,
          );
        }
      } finally {
        await conn.close();
      }
      expect(child.output()).toContain('SIGTERM received');
      expect(child.output()).toMatch(/info.*stopped/);
    } finally {
      if (running(child)) process.kill(-child.pid!, 'SIGKILL');
    }
  }, 90_000); // npm start as a child, a burst of clicks, then a SIGTERM: not a timing check
});
