import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciConclusion, countedApprovals, selfApprovals } from '../../src/domain/github.js';
import { apiClient, createToken } from '../support/api.js';
import { FakeGithub } from '../support/fake-github.js';
import { approve, replies, rootMessage, settled, submitRequest } from '../support/flows.js';
import {
  checkSuiteEvent,
  GITHUB_ENV,
  pullRequestEvent,
  REPO,
  reviewEvent,
  sendWebhook,
} from '../support/github.js';
import { startTestApp, TEST_POLICY_YAML, type TestApp } from '../support/harness.js';
import { ALICE, BOB, CAROL } from '../support/people.js';

const HEAD1 = '1'.repeat(40);
const HEAD2 = '2'.repeat(40);
const MERGE = 'm'.replace('m', 'f').repeat(40);

async function prsOf(t: TestApp, n: number) {
  return (await t.app.deps.changes.record(n))?.state?.pullRequests ?? [];
}

async function eventTypes(t: TestApp, n: number) {
  return (await t.app.models.ChangeEvent.find({ changeNumber: n }).sort({ seq: 1 }).lean()).map(
    (e) => e.type,
  );
}

describe('GitHub webhooks: pull-request evidence on the change', () => {
  let t: TestApp;
  let n: number;
  let other: number;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { env: GITHUB_ENV });
    n = await submitRequest(t, { title: 'Upgrade the payments SDK' }, ALICE);
    other = await submitRequest(t, { title: 'Unrelated change' }, ALICE);
  });
  afterAll(() => t?.stop());

  it('refuses a missing or wrong signature before anything else, and other content types', async () => {
    const payload = pullRequestEvent('opened', { number: 1, title: `CR-${n}: forged` });
    expect((await sendWebhook(t.app.url, 'pull_request', payload, { secret: null })).status).toBe(401);
    expect(
      (await sendWebhook(t.app.url, 'pull_request', payload, { secret: 'not-the-secret-at-all' })).status,
    ).toBe(401);
    await settled(t);
    expect(await prsOf(t, n)).toEqual([]);
    expect(await t.app.models.IdempotencyKey.countDocuments({ _id: /^github:/ })).toBe(0);
    const form = await sendWebhook(t.app.url, 'pull_request', payload, {
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    const ping = await sendWebhook(t.app.url, 'ping', { zen: 'Keep it logically awesome.' });
    expect(ping.status).toBe(202);
    const bad = await sendWebhook(t.app.url, 'pull_request', {
      action: 'opened',
      pull_request: { number: 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('pull_request');
  });

  it('links a PR that names the change, whole numbers only, once however often it is delivered', async () => {
    const pr = {
      number: 7,
      title: `CR-${n}: bump SDK (not CR-${n}0)`,
      branch: `cr-${other}0-typo`,
      head: HEAD1,
    };
    const first = await sendWebhook(t.app.url, 'pull_request', pullRequestEvent('opened', pr));
    expect(first.status).toBe(202);
    await settled(t);
    const again = await sendWebhook(t.app.url, 'pull_request', pullRequestEvent('opened', pr), {
      delivery: first.delivery,
    });
    expect(again.status).toBe(200);
    await settled(t);
    const prs = await prsOf(t, n);
    expect(prs).toHaveLength(1);
    expect(prs[0]).toMatchObject({
      repo: REPO,
      number: 7,
      author: 'alice-gh',
      headSha: HEAD1,
      merged: false,
    });
    expect(await prsOf(t, other)).toEqual([]);
    expect((await eventTypes(t, n)).filter((e) => e === 'pr_linked')).toHaveLength(1);
    const linked = await t.app.models.ChangeEvent.findOne({ changeNumber: n, type: 'pr_linked' }).lean();
    expect(linked?.actor).toBe('github:alice-gh');
    expect((await replies(t, n)).map((m) => m.text).join('\n')).toContain(
      `<https://github.com/${REPO}/pull/7|${REPO}#7>`,
    );
  });

  it('links a PR the change’s links field names, even when the PR does not name the change', async () => {
    const c = await submitRequest(
      t,
      { title: 'Upgrade Node', pr: `https://github.com/${REPO}/pull/91` },
      ALICE,
    );
    const pr = { number: 91, title: 'Upgrade Node to 22', head: HEAD1 };
    await sendWebhook(t.app.url, 'pull_request', pullRequestEvent('opened', pr));
    await sendWebhook(
      t.app.url,
      'pull_request',
      pullRequestEvent('edited', { ...pr, title: 'Upgrade Node to 22.1' }),
    );
    await settled(t);
    expect((await prsOf(t, c)).map((p) => [p.number, p.title])).toEqual([[91, 'Upgrade Node to 22.1']]);
  });

  it('unlinks a PR whose edit no longer names the change, and links it again when it does', async () => {
    const pr = { number: 8, title: `CR-${other}: docs`, head: HEAD1 };
    await sendWebhook(t.app.url, 'pull_request', pullRequestEvent('opened', pr));
    await settled(t);
    expect((await prsOf(t, other)).map((p) => p.number)).toEqual([8]);
    await sendWebhook(t.app.url, 'pull_request', pullRequestEvent('edited', { ...pr, title: 'docs only' }));
    await settled(t);
    expect(await prsOf(t, other)).toEqual([]);
    expect((await eventTypes(t, other)).filter((e) => e.startsWith('pr_'))).toEqual([
      'pr_linked',
      'pr_unlinked',
    ]);
    // A check on the unlinked PR goes nowhere.
    await sendWebhook(t.app.url, 'check_suite', checkSuiteEvent(8, HEAD1, 'failure'));
    await sendWebhook(
      t.app.url,
      'pull_request',
      pullRequestEvent('edited', { ...pr, body: `Fixes CR-${other}` }),
    );
    await settled(t);
    expect((await prsOf(t, other)).map((p) => [p.number, p.checks.length])).toEqual([[8, 0]]);
    await sendWebhook(
      t.app.url,
      'pull_request',
      pullRequestEvent('edited', { ...pr, title: 'docs', body: '' }),
    );
    await settled(t);
    expect(await prsOf(t, other)).toEqual([]);
  });

  it('records reviews per commit: the author’s own approval is flagged and not counted; a stale approval does not count', async () => {
    const pr = { number: 7, title: `CR-${n}: bump SDK`, head: HEAD1 };
    await sendWebhook(t.app.url, 'pull_request_review', reviewEvent(pr, 'alice-gh', 'approved', HEAD1));
    await sendWebhook(t.app.url, 'pull_request_review', reviewEvent(pr, 'bob-gh', 'approved', HEAD1));
    await settled(t);
    let [p] = await prsOf(t, n);
    expect(countedApprovals(p!).map((r) => r.by)).toEqual(['bob-gh']);
    expect(selfApprovals(p!).map((r) => r.by)).toEqual(['alice-gh']);
    expect((await replies(t, n)).map((m) => m.text).join('\n')).toContain('not counted');

    // A new commit: bob's approval was on the old head.
    await sendWebhook(t.app.url, 'pull_request', pullRequestEvent('synchronize', { ...pr, head: HEAD2 }));
    await settled(t);
    [p] = await prsOf(t, n);
    expect(p!.headSha).toBe(HEAD2);
    expect(countedApprovals(p!)).toEqual([]);
    await sendWebhook(
      t.app.url,
      'pull_request_review',
      reviewEvent({ ...pr, head: HEAD2 }, 'carol-gh', 'approved', HEAD2),
    );
    await sendWebhook(t.app.url, 'check_suite', checkSuiteEvent(7, HEAD1, 'failure'));
    await sendWebhook(t.app.url, 'check_suite', checkSuiteEvent(7, HEAD2, 'success'));
    await settled(t);
    [p] = await prsOf(t, n);
    expect(countedApprovals(p!).map((r) => r.by)).toEqual(['carol-gh']);
    expect(ciConclusion(p!)).toBe('success');
  });

  it('records the merge: commit and who merged', async () => {
    const pr = {
      number: 7,
      title: `CR-${n}: bump SDK`,
      head: HEAD2,
      merged: true,
      mergeCommit: MERGE,
      mergedBy: 'carol-gh',
    };
    await sendWebhook(t.app.url, 'pull_request', pullRequestEvent('closed', pr, 'carol-gh'));
    await settled(t);
    const [p] = await prsOf(t, n);
    expect(p).toMatchObject({ merged: true, mergeCommit: MERGE, mergedBy: 'carol-gh' });
    const types = await eventTypes(t, n);
    expect(types.filter((e) => e.startsWith('pr_'))).toEqual([
      'pr_linked',
      'pr_review',
      'pr_review',
      'pr_head',
      'pr_review',
      'pr_checks',
      'pr_checks',
      'pr_merged',
    ]);
  });

  it('every evidence field: channel message, /change show, the API and the export', async () => {
    const root = await rootMessage(t, n);
    const line = `<https://github.com/${REPO}/pull/7|${REPO}#7> · merged as \`${MERGE.slice(0, 12)}\` by carol-gh · approved by carol-gh · ⚠️ self-approved by alice-gh (not counted) · CI success`;
    expect(JSON.stringify(root.blocks)).toContain(JSON.stringify(line).slice(1, -1));
    await t.slack.command('/change', `show CR-${n}`, { user: ALICE });
    await settled(t);
    expect(JSON.stringify(t.fake.responsePosts.at(-1)!.body)).toContain('*Pull request:*');

    const token = await createToken(t, 'auditor', 'changes:read audit:read');
    const api = apiClient(
      () => t,
      () => token,
    );
    const change = (await api(`/changes/CR-${n}`)).json as { pullRequests: unknown[] };
    expect(change.pullRequests).toEqual([
      {
        url: `https://github.com/${REPO}/pull/7`,
        repo: REPO,
        number: 7,
        author: 'alice-gh',
        headSha: HEAD2,
        merged: true,
        mergeCommit: MERGE,
        mergedBy: 'carol-gh',
        approvals: [{ by: 'carol-gh', commit: HEAD2, at: expect.any(String) }],
        selfApprovals: [{ by: 'alice-gh', commit: HEAD1, at: expect.any(String) }],
        ci: 'success',
      },
    ]);
    const csv = (await api('/audit/export?period=2026-03&format=csv')).text;
    const header = csv.split('\n')[0]!;
    for (const col of [
      'Pull requests',
      'PR approvals (reviewer at commit)',
      'PR self-approvals (not counted)',
      'PR CI on head commit',
      'PR merge commit and merger',
    ])
      expect(header).toContain(col);
    expect(csv).toContain(`acme/payments#7: carol-gh at ${HEAD2.slice(0, 12)}`);
    expect(csv).toContain(`acme/payments#7: alice-gh (author) at ${HEAD1.slice(0, 12)}`);
    expect(csv).toContain('acme/payments#7: success');
    expect(csv).toContain(`acme/payments#7: ${MERGE} by carol-gh`);
    expect(csv).toContain('None,None,None,N/A,N/A'); // the change without a PR
  });
});

describe('the policy’s pull-request rule at the gate, and the merged commit bound to the change', () => {
  let t: TestApp;
  let token = '';
  const api = apiClient(
    () => t,
    () => token,
  );
  const gate = async (n: number, commit?: string) =>
    (await api(`/changes/CR-${n}/gate?environment=production${commit ? `&commit=${commit}` : ''}`)).json as {
      allowed: boolean;
      reasons: { code: string; message: string }[];
    };
  const codes = async (n: number, commit?: string) =>
    (await gate(n, commit)).reasons.map((r) => r.code).sort();

  beforeAll(async () => {
    const yaml = TEST_POLICY_YAML.replace(
      '  normal:\n    name: Normal\n',
      '  normal:\n    name: Normal\n    requirePullRequest: { approvals: 1 }\n',
    );
    t = await startTestApp(import.meta.url, { env: GITHUB_ENV, policyYaml: yaml });
    token = await createToken(t, 'ci', 'changes:read deployments:write env=production');
  });
  afterAll(() => t?.stop());

  it('refuses production until every linked PR is merged, approved by someone else on its final commit, and green', async () => {
    const n = await submitRequest(t, { title: 'Tighten the session cookie' }, ALICE);
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, CAROL);
    expect(await codes(n)).toEqual(['pr_not_merged']);
    expect((await gate(n)).reasons[0]!.message).toContain('none is linked');

    const pr = { number: 21, title: `CR-${n} tighten cookie`, head: HEAD1, author: 'alice-gh' };
    await sendWebhook(t.app.url, 'pull_request', pullRequestEvent('opened', pr));
    await sendWebhook(t.app.url, 'pull_request_review', reviewEvent(pr, 'alice-gh', 'approved', HEAD1));
    await sendWebhook(t.app.url, 'check_suite', checkSuiteEvent(21, HEAD1, 'failure'));
    await settled(t);
    expect(await codes(n)).toEqual(['pr_checks_failed', 'pr_not_approved', 'pr_not_merged']);

    await sendWebhook(t.app.url, 'pull_request_review', reviewEvent(pr, 'bob-gh', 'approved', HEAD1));
    await sendWebhook(t.app.url, 'check_suite', checkSuiteEvent(21, HEAD1, 'success'));
    await settled(t);
    expect(await codes(n)).toEqual(['pr_not_merged']);

    await sendWebhook(
      t.app.url,
      'pull_request',
      pullRequestEvent('closed', { ...pr, merged: true, mergeCommit: MERGE, mergedBy: 'bob-gh' }, 'bob-gh'),
    );
    await settled(t);
    // The merge commit is what the change approves now: say it, and deploy that one.
    expect(await codes(n)).toEqual(['commit_mismatch']);
    expect((await gate(n, MERGE)).allowed).toBe(true);
    expect(await codes(n, HEAD1)).toEqual(['commit_mismatch']);
    // A pipeline reporting another commit is flagged.
    const report = await api(`/changes/CR-${n}/deployments`, {
      method: 'POST',
      body: { environment: 'production', status: 'succeeded', commit: HEAD1 },
    });
    expect(report.status).toBe(201);
    expect(JSON.stringify(report.json)).toContain('commit_mismatch');
  });
});

describe('GitHub logins mapped to Slack people: the requester approving their own PR is not counted', () => {
  let t: TestApp;
  let token = '';
  const api = apiClient(
    () => t,
    () => token,
  );
  beforeAll(async () => {
    const yaml = TEST_POLICY_YAML.replace(
      '  normal:\n    name: Normal\n',
      '  normal:\n    name: Normal\n    requirePullRequest: { approvals: 1 }\n',
    );
    t = await startTestApp(import.meta.url, { env: GITHUB_ENV, policyYaml: yaml });
    token = await createToken(t, 'ci', 'changes:read env=production');
  });
  afterAll(() => t?.stop());

  const said = async (user: string, text: string) => {
    const before = t.fake.responsePosts.length;
    await t.slack.command('/change', text, { user });
    return String((await t.fake.waitFor(() => t.fake.responsePosts[before])).body.text);
  };

  it('links a login once, and an approval by the requester’s login is flagged, not counted', async () => {
    expect(await said(ALICE, 'github link alice-gh')).toContain('Linked: GitHub `alice-gh` is you');
    expect(await said(ALICE, 'github')).toContain('`alice-gh`');
    expect(await said(BOB, 'github link Alice-GH')).toContain('already linked to someone else');
    expect(await said(BOB, 'github link -bad-')).toContain('not a GitHub login');

    const n = await submitRequest(t, { title: 'Cache the exchange rates' }, ALICE);
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, CAROL);
    // Bob's PR for Alice's change; Alice approves it from GitHub.
    const pr = {
      number: 55,
      title: `CR-${n} cache rates`,
      head: HEAD1,
      author: 'bob-gh',
      merged: true,
      mergeCommit: MERGE,
      mergedBy: 'bob-gh',
    };
    await sendWebhook(
      t.app.url,
      'pull_request',
      pullRequestEvent('opened', { ...pr, merged: false, mergeCommit: null }, 'bob-gh'),
    );
    await sendWebhook(t.app.url, 'pull_request_review', reviewEvent(pr, 'alice-gh', 'approved', HEAD1));
    await sendWebhook(t.app.url, 'check_suite', checkSuiteEvent(55, HEAD1, 'success'));
    await sendWebhook(t.app.url, 'pull_request', pullRequestEvent('closed', pr, 'bob-gh'));
    await settled(t);
    const gate = (await api(`/changes/CR-${n}/gate?environment=production&commit=${MERGE}`)).json as {
      reasons: { code: string }[];
    };
    expect(gate.reasons.map((r) => r.code)).toEqual(['pr_not_approved']);
    const change = (await api(`/changes/CR-${n}`)).json as {
      pullRequests: { approvals: unknown[]; selfApprovals: { by: string }[] }[];
    };
    expect(change.pullRequests[0]!.approvals).toEqual([]);
    expect(change.pullRequests[0]!.selfApprovals.map((r) => r.by)).toEqual(['alice-gh']);
    // Another reviewer's approval on the final commit clears it.
    await sendWebhook(t.app.url, 'pull_request_review', reviewEvent(pr, 'carol-gh', 'approved', HEAD1));
    await settled(t);
    const after = (await api(`/changes/CR-${n}/gate?environment=production&commit=${MERGE}`)).json as {
      allowed: boolean;
    };
    expect(after.allowed).toBe(true);
  });
});

describe('Changegate as a GitHub deployment protection rule', () => {
  let t: TestApp;
  let gh: FakeGithub;
  const protection = (o: { sha: string; run: number; ref?: string; inputs?: Record<string, unknown> }) => ({
    action: 'requested',
    environment: 'production',
    event: 'push',
    deployment_callback_url: `${gh.apiUrl}/repos/${REPO}/actions/runs/${o.run}/deployment_protection_rule`,
    deployment: {
      id: o.run,
      sha: o.sha,
      ref: o.ref ?? 'refs/heads/main',
      task: 'deploy',
      payload: o.inputs ?? {},
    },
    pull_requests: [],
    repository: { full_name: REPO },
    installation: { id: 4242 },
    sender: { login: 'github-actions[bot]' },
  });
  const answers = (run: number) => gh.reviews.filter((r) => r.run === String(run)).map((r) => r.body);

  beforeAll(async () => {
    gh = await new FakeGithub().start();
    t = await startTestApp(import.meta.url, {
      env: {
        GITHUB_APP_ID: gh.appId,
        GITHUB_WEBHOOK_SECRET: GITHUB_ENV.GITHUB_WEBHOOK_SECRET,
        GITHUB_APP_PRIVATE_KEY: gh.keys.privateKey,
        GITHUB_API_URL: gh.apiUrl,
      },
    });
  });
  afterAll(async () => {
    await t?.stop();
    await gh?.stop();
  });

  it('approves at once a deployment of an approved change’s merged commit, found through its PR', async () => {
    const n = await submitRequest(t, { title: 'Add the refunds endpoint' }, ALICE);
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, CAROL);
    const pr = {
      number: 31,
      title: `CR-${n} refunds`,
      head: HEAD1,
      merged: true,
      mergeCommit: MERGE,
      mergedBy: 'bob-gh',
    };
    await sendWebhook(
      t.app.url,
      'pull_request',
      pullRequestEvent('opened', { ...pr, merged: false, mergeCommit: null }),
    );
    await sendWebhook(t.app.url, 'pull_request', pullRequestEvent('closed', pr, 'bob-gh'));
    await settled(t);
    gh.pullsByCommit.set(MERGE, [{ number: 31, merged_at: '2026-03-10T10:00:00Z', merge_commit_sha: MERGE }]);

    const first = await sendWebhook(
      t.app.url,
      'deployment_protection_rule',
      protection({ sha: MERGE, run: 9001 }),
    );
    expect(first.status).toBe(202);
    await t.fake.waitFor(() => answers(9001).length > 0);
    expect(answers(9001)).toEqual([
      {
        environment_name: 'production',
        state: 'approved',
        comment: expect.stringContaining(`CR-${n} is approved`),
      },
    ]);
    // A redelivery is answered once.
    const again = await sendWebhook(
      t.app.url,
      'deployment_protection_rule',
      protection({ sha: MERGE, run: 9001 }),
      {
        delivery: first.delivery,
      },
    );
    expect(again.status).toBe(200);
    await settled(t);
    expect(answers(9001)).toHaveLength(1);

    // GitHub runs the job; its deployment_status events record the deployment on the change, once.
    const status = (state: string) => ({
      action: 'created',
      deployment_status: {
        state,
        environment: 'production',
        log_url: `https://github.com/${REPO}/actions/runs/9001`,
      },
      deployment: { id: 9001, sha: MERGE, ref: 'refs/heads/main', environment: 'production', payload: {} },
      repository: { full_name: REPO },
      installation: { id: 4242 },
      sender: { login: 'github-actions[bot]' },
    });
    await sendWebhook(t.app.url, 'deployment_status', status('in_progress'));
    await sendWebhook(t.app.url, 'deployment_status', status('success'));
    await sendWebhook(t.app.url, 'deployment_status', status('success')); // a second delivery of the same outcome
    await settled(t);
    const state = (await t.app.deps.changes.record(n))!.state!;
    expect(state.status).toBe('deployed');
    expect(state.deployments.map((d) => [d.status, d.environment, d.commit, d.by, d.unauthorised])).toEqual([
      ['started', 'production', MERGE, 'pipeline:github', false],
      ['succeeded', 'production', MERGE, 'pipeline:github', false],
    ]);

    // The wrong commit for that change: rejected, saying why.
    await sendWebhook(
      t.app.url,
      'deployment_protection_rule',
      protection({ sha: HEAD1, run: 9002, inputs: { change: `CR-${n}` } }),
    );
    await t.fake.waitFor(() => answers(9002).length > 0);
    expect(answers(9002)).toEqual([
      {
        environment_name: 'production',
        state: 'rejected',
        comment: expect.stringContaining('was approved for'),
      },
    ]);
    // No change covers a commit: rejected.
    await sendWebhook(
      t.app.url,
      'deployment_protection_rule',
      protection({ sha: 'c'.repeat(40), run: 9003 }),
    );
    await t.fake.waitFor(() => answers(9003).length > 0);
    expect(answers(9003)[0]).toMatchObject({
      state: 'rejected',
      comment: expect.stringContaining('No Changegate change covers'),
    });
  });

  it('while the change is pending it reports, and approves the moment the last approval lands in Slack', async () => {
    const m = await submitRequest(t, { title: 'Rotate the webhook secret' }, ALICE);
    await sendWebhook(
      t.app.url,
      'deployment_protection_rule',
      protection({ sha: HEAD2, run: 9010, ref: `refs/heads/cr-${m}-rotate` }),
    );
    await t.fake.waitFor(() => answers(9010).length > 0);
    expect(answers(9010)).toEqual([
      { environment_name: 'production', comment: `Waiting for CR-${m}: Peer review.` },
    ]);
    await approve(t, m, 0, BOB);
    await t.fake.waitFor(() => answers(9010).length > 1);
    expect(answers(9010)[1]).toEqual({
      environment_name: 'production',
      comment: expect.stringContaining('Engineering lead approval'),
    });
    await approve(t, m, 1, CAROL);
    await t.fake.waitFor(() => answers(9010).length > 2);
    expect(answers(9010)[2]).toMatchObject({ environment_name: 'production', state: 'approved' });
    // Nothing more once answered.
    await settled(t);
    expect(answers(9010)).toHaveLength(3);
    // Every call carried an installation token minted for a JWT signed with the App's key.
    expect(gh.calls.filter((c) => c.path.endsWith('/access_tokens')).every((c) => c.status === 201)).toBe(
      true,
    );
  });

  it('maps a reviewer to their Slack person by the verified e-mail GitHub shows, and counts people, not logins', async () => {
    gh.emails.set('alice-work', 'u0123alice@acme.test'); // ALICE's address in the workspace
    const n = await submitRequest(t, { title: 'Enable HSTS preload' }, ALICE);
    const pr = { number: 77, title: `CR-${n} hsts`, head: HEAD1, author: 'bob-gh' };
    const review = { ...reviewEvent(pr, 'alice-work', 'approved', HEAD1), installation: { id: 4242 } };
    await sendWebhook(t.app.url, 'pull_request', pullRequestEvent('opened', pr, 'bob-gh'));
    await sendWebhook(t.app.url, 'pull_request_review', review);
    await settled(t);
    const [p] = (await t.app.deps.changes.record(n))!.state!.pullRequests!;
    expect(p!.reviews[0]).toMatchObject({ by: 'alice-work', slackUser: ALICE });
    expect(await t.app.deps.githubUsers.slackOf('alice-work')).toBe(ALICE);
  });

  it('a PR linked late brings the reviews and check runs it already had, read from GitHub', async () => {
    const n = await submitRequest(t, { title: 'Retire the v1 API' }, ALICE);
    const pr = { number: 88, title: 'Retire v1', head: HEAD2, author: 'bob-gh' };
    gh.prReviews.set(88, [
      { id: 501, user: { login: 'carol-gh' }, state: 'APPROVED', commit_id: HEAD2 },
      { id: 502, user: { login: 'bob-gh' }, state: 'APPROVED', commit_id: HEAD2 },
    ]);
    gh.checkRuns.set(HEAD2, [{ id: 601, name: 'test', status: 'completed', conclusion: 'success' }]);
    const opened = { ...pullRequestEvent('opened', pr, 'bob-gh'), installation: { id: 4242 } };
    await sendWebhook(t.app.url, 'pull_request', opened);
    const edited = {
      ...pullRequestEvent('edited', { ...pr, title: `CR-${n} retire v1` }, 'bob-gh'),
      installation: { id: 4242 },
    };
    await sendWebhook(t.app.url, 'pull_request', edited);
    await settled(t);
    const [p] = (await t.app.deps.changes.record(n))!.state!.pullRequests!;
    expect(countedApprovals(p!).map((r) => r.by)).toEqual(['carol-gh']);
    expect(selfApprovals(p!).map((r) => r.by)).toEqual(['bob-gh']);
    expect(ciConclusion(p!)).toBe('success');
  });

  it('a change rejected in Slack rejects the waiting deployment', async () => {
    const r = await submitRequest(t, { title: 'Drop the legacy table' }, ALICE);
    await sendWebhook(
      t.app.url,
      'deployment_protection_rule',
      protection({ sha: HEAD2, run: 9020, inputs: { cr: `CR-${r}` } }),
    );
    await t.fake.waitFor(() => answers(9020).length > 0);
    await t.slack.command('/change', `cancel CR-${r} not needed`, { user: ALICE });
    await t.fake.waitFor(() => answers(9020).some((a) => a.state));
    expect(answers(9020).at(-1)).toMatchObject({
      state: 'rejected',
      comment: expect.stringContaining('cancelled'),
    });
  });
});
