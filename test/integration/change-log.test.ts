import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NOW, septemberChanges } from '../support/change-log-fixture.js';
import { TestClock } from '../support/clock.js';
import { settled } from '../support/flows.js';
import { AUDIT_KEY, startTestApp, type TestApp } from '../support/harness.js';
import { ALICE, AUDITOR, FRANK } from '../support/people.js';
import { storeHistory } from '../support/store-history.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('/change-log, evidence export, audit verification and the monthly report', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { clock: new TestClock(NOW) });
    await storeHistory(t.app, septemberChanges().machines);
  });
  afterAll(() => t.stop());
  beforeEach(() => t.fake.clear());

  const answer = () =>
    t.fake.responsePosts.at(-1)!.body as { text: string; blocks: unknown[]; response_type: string };
  const run = async (text: string, user: string) => {
    const res = await t.slack.command('/change-log', text, { user });
    expect(res.status).toBe(200);
    await settled(t);
    return answer();
  };

  it('an auditor sees every figure of the month', async () => {
    const a = await run('2026-09', AUDITOR);
    expect(a.response_type).toBe('ephemeral');
    const body = JSON.stringify(a.blocks);
    for (const figure of [
      '*Changes raised*\\n8',
      '*Deployment attempts (changes)*\\n7',
      '*Changes deployed*\\n6',
      '*Incidents resolved*\\n3',
      '*Rollbacks performed*\\n1',
      '*Change failure rate*\\n14.3%',
      '*Rollbacks*\\n1',
      '*Rejected*\\n1',
      '*Unauthorised deployments*\\n1',
      '*Refused approval attempts*\\n1',
      'Normal 4',
      'Emergency (hotfix) 3',
      'Standard 1',
      'request → approval: median 1 h, p90 8 h (6 changes)',
      'request → deployment: median 2 h, p90 24 h (6 changes)',
      'Peer review: median 2 h, p90 336 h (3 changes)',
      'retrospective on time 1 · late 1 · overdue 1 · pending 0',
      '*Deployments never verified* (4)',
      '*Approvals* (10)',
      'all changes',
    ]) {
      expect(body).toContain(figure);
    }
    expect(body).toContain('<@U0123DAVE>');
    expect(t.fake.rejected()).toEqual([]);
  });

  it('anyone else sees only the changes they raised or take part in, and is told so', async () => {
    // Frank raised nothing in September. He sees the change he rejected (D), and the one still
    // waiting for a peer review any member may give (I).
    const frank = JSON.stringify((await run('2026-09', FRANK)).blocks);
    expect(frank).toContain('*Changes raised*\\n2');
    expect(frank).toContain('only the changes you raised or take part in');
    const alice = JSON.stringify((await run('2026-09', ALICE)).blocks);
    expect(alice).toContain('*Changes raised*\\n8');
    expect(alice).toContain('only the changes you raised');
    const trail = await run('CR-101', FRANK);
    expect(trail.text).toContain('not one of them');
  });

  it('`public` posts in the channel; a change shows its whole audit trail in order', async () => {
    expect((await run('2026-09 public', AUDITOR)).response_type).toBe('in_channel');
    const trail = JSON.stringify((await run('CR-102', AUDITOR)).blocks);
    expect(trail).toContain('Hash chain intact');
    for (const step of ['submitted', 'stage approved', 'deployment recorded', 'verified'])
      expect(trail).toContain(step);
    expect(trail.indexOf('submitted')).toBeLessThan(trail.indexOf('verified'));
  });

  it('bad periods get a clear answer', async () => {
    const res = await t.slack.command('/change-log', 'last tuesday', { user: AUDITOR });
    expect(res.json).toMatchObject({ response_type: 'ephemeral' });
    expect(String(res.json?.text)).toContain('did not understand the period');
  });

  it('`export` uploads the evidence file to the user in a DM', async () => {
    await run('export 2026-09 csv', AUDITOR);
    const upload = [...t.fake.uploads.values()].at(-1)!;
    expect(upload.filename).toBe('changegate-evidence-2026-09.csv');
    expect(upload.channel).toBe('D0123AUDIT');
    const rows = parse(upload.bytes!.toString('utf8'), { columns: true, bom: true }) as Record<
      string,
      string
    >[];
    expect(rows.map((r) => r.Change)).toEqual([
      'CR-101',
      'CR-102',
      'CR-103',
      'CR-104',
      'CR-105',
      'CR-106',
      'CR-107',
      'CR-108',
      'CR-109',
    ]);
    expect(rows[1]!.Title).toBe('\'=HYPERLINK("evil"), "quoted", newline\nhere');
    expect(rows[1]!['Post-deployment verified']).toBe('Rolled back');
    expect(rows[0]!['CTO / lead approval']).toContain('U0123CAROL (Engineering lead approval');
    expect(rows[0]!['Event chain head (sha256)']).toMatch(/^[0-9a-f]{64}$/);
    expect(t.fake.dms(AUDITOR).at(-1)!.text).toContain('9 changes');
  });

  it('`export` says the file is there only once Slack has shared it; a failed upload says so instead', async () => {
    t.fake.failNext('files.completeUploadExternal', 'internal_error');
    await run('export 2026-09 csv', AUDITOR);
    const dm = await t.fake.waitFor(() => {
      const last = t.fake.dms(AUDITOR).at(-1);
      return last && !last.text.startsWith('⏳') ? last : null;
    });
    expect(dm.text).toContain('could not be shared');
    expect(dm.text).not.toContain('9 changes');
  });

  it('the monthly report is posted once, on the 1st after 09:00 in the policy time zone, with the audit verification', async () => {
    t.clock.set('2026-10-01T15:59:00Z'); // 08:59 in Los Angeles
    expect(await t.app.reminders.monthlyReport()).toBe('not_due');
    t.clock.set('2026-10-01T16:00:00Z');
    expect(await t.app.reminders.monthlyReport()).toBe('posted');
    expect(await t.app.reminders.monthlyReport()).toBe('skipped');
    const posts = t.fake.posts('C0123RPT01');
    expect(posts).toHaveLength(1);
    const body = JSON.stringify(posts[0]!.blocks);
    expect(body).toContain('Monthly change report · 2026-09');
    expect(body).toContain('*Changes raised*\\n8');
    expect(body).toContain('Audit trail verified: 10 changes');
    t.clock.set('2026-10-06T16:00:00Z');
    expect(await t.app.reminders.monthlyReport()).toBe('not_due');
    t.clock.set(NOW);
  });

  it('verification (CLI) catches a tampered event and names the change, the event and the kind', async () => {
    const uri = `${t.mongoUri.replace(/\/?$/, '/')}${t.dbName}`;
    const verify = () =>
      spawnSync(process.execPath, [resolve(ROOT, 'dist/cli/audit-verify.js')], {
        cwd: ROOT,
        env: { ...process.env, MONGODB_URI: uri, CHANGEGATE_AUDIT_KEY: AUDIT_KEY },
        encoding: 'utf8',
      });
    const clean = verify();
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.stdout).toContain('The audit trail verifies');

    await t.app.models.ChangeEvent.updateOne(
      { changeNumber: 104, seq: 3 },
      { $set: { 'data.reason': 'Looks fine' } },
    );
    const broken = verify();
    expect(broken.status).toBe(1);
    expect(broken.stdout, broken.stdout).toMatch(
      /edited\s+CR-104 · event 3\s+CR-104 event 3 \(rejected\) differs from what was signed/,
    );
    await t.app.models.ChangeEvent.updateOne(
      { changeNumber: 104, seq: 3 },
      { $set: { 'data.reason': 'No tests' } },
    );
    expect(verify().status).toBe(0);
  });
});
