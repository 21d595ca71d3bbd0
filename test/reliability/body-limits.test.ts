import { describe, expect, it } from 'vitest';
import { crashTestBed } from '../support/crash-bed.js';
import { flood, memoryOf } from '../support/flood.js';
import { SIGNING_SECRET } from '../support/harness.js';
import { ADMIN, ALICE } from '../support/people.js';
import { SlackRequests } from '../support/slack-requests.js';

const MB = 1024 * 1024;

/**
 * Request bodies are bounded before they are buffered: a few hundred MB sent at the public routes,
 * chunked (no Content-Length) or with a false Content-Length, are cut off at the route's limit with a
 * 413 or a closed connection. The app (its own process, so its memory can be read) stays up, its
 * memory does not follow the flood, and a signed /change right after works.
 */
describe('oversized request bodies', () => {
  const bed = crashTestBed(import.meta.url, '2026-03-10T17:00:00Z');

  it('are refused at their limit, chunked or not, and the app keeps serving', async () => {
    const { t } = bed;
    await t.slack.command('/change', 'token create flood all env=production', { user: ADMIN });
    await t.fake.waitFor(() => t.fake.responsePosts.at(-1));
    const token = /`(cg_[A-Za-z0-9_]+)`/.exec(String(t.fake.responsePosts.at(-1)!.body.text))![1]!;

    const child = await bed.start(bed.env({ TEST_NOW: '2026-03-10T17:00:00Z' }));
    const pid = child.process.pid!;
    const before = memoryOf(pid);
    const json = { 'content-type': 'application/json' };
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const auth = { authorization: `Bearer ${token}` };
    const cases: [string, string, Record<string, string>][] = [
      ['Slack, chunked', '/slack/events', form],
      ['Slack, chunked JSON', '/slack/events', json],
      ['Slack, Content-Length says 100', '/slack/events', { ...form, 'content-length': '100' }],
      ['Slack, Content-Length says 300 MB', '/slack/events', { ...form, 'content-length': String(300 * MB) }],
      ['API, chunked, no token', '/api/v1/changes', json],
      ['API, chunked, with a token', '/api/v1/changes', { ...json, ...auth }],
      ['API deployment, chunked, with a token', '/api/v1/changes/CR-1/deployments', { ...json, ...auth }],
      ['API, Content-Length says 1000', '/api/v1/changes', { ...json, ...auth, 'content-length': '1000' }],
      ['health, chunked', '/healthz', json],
      ['unknown route, chunked', '/nowhere', json],
    ];
    for (const [name, path, headers] of cases) {
      const res = await flood(child.port, path, 300 * MB, headers);
      // Answered with 413 (or 400/401 when a false length ended the body early), or cut off.
      expect(['closed', 'reset', 400, 401, 404, 413], name).toContain(res.outcome);
      // The app stopped reading near the limit: the client could not push the flood through.
      expect(res.sent, `${name}: bytes the app let in`).toBeLessThan(32 * MB);
      expect(child.process.exitCode, name).toBeNull();
      const health = await fetch(`http://127.0.0.1:${child.port}/healthz`);
      expect(health.status, name).toBe(200);
    }
    const after = memoryOf(pid);
    // Peak memory is the app's own working set, not the flood's 3 GB.
    expect(after.peakMb - before.peakMb, `peak RSS ${before.peakMb} → ${after.peakMb} MB`).toBeLessThan(64);

    // A signed /change right after works.
    const slack = new SlackRequests(`http://127.0.0.1:${child.port}`, SIGNING_SECRET, t.fake);
    const opened = t.fake.callsOf('views.open').length;
    const res = await slack.command('/change', '', { user: ALICE });
    expect(res.status).toBe(200);
    await t.fake.waitFor(() => t.fake.callsOf('views.open').length > opened);
  });
});
