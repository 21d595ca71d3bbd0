import { createHmac, randomUUID } from 'node:crypto';

export const GITHUB_SECRET = 'test-webhook-secret-0123456789';
export const GITHUB_ENV = { GITHUB_APP_ID: '424242', GITHUB_WEBHOOK_SECRET: GITHUB_SECRET };

/** Sends a webhook as GitHub does: JSON body, X-Hub-Signature-256 over the exact bytes, a delivery GUID. */
export async function sendWebhook(
  baseUrl: string,
  event: string,
  payload: unknown,
  opts: { delivery?: string; secret?: string | null; body?: string; contentType?: string } = {},
) {
  const body = opts.body ?? JSON.stringify(payload, null, 2);
  const headers: Record<string, string> = {
    'content-type': opts.contentType ?? 'application/json',
    'user-agent': 'GitHub-Hookshot/044aadd',
    'x-github-event': event,
    'x-github-delivery': opts.delivery ?? randomUUID(),
    'x-github-hook-id': '292430182',
  };
  if (opts.secret !== null)
    headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', opts.secret ?? GITHUB_SECRET)
      .update(body)
      .digest('hex')}`;
  const res = await fetch(`${baseUrl}/github/webhooks`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, text, delivery: headers['x-github-delivery']! };
}

export interface PrFixture {
  number: number;
  title: string;
  body?: string;
  branch?: string;
  author?: string;
  head?: string;
  merged?: boolean;
  mergeCommit?: string | null;
  mergedBy?: string | null;
}

export const REPO = 'acme/payments';

export function prObject(p: PrFixture) {
  return {
    number: p.number,
    html_url: `https://github.com/${REPO}/pull/${p.number}`,
    title: p.title,
    body: p.body ?? null,
    user: { login: p.author ?? 'alice-gh' },
    head: { ref: p.branch ?? `feature/${p.number}`, sha: p.head ?? 'a'.repeat(40) },
    merged: p.merged ?? false,
    merge_commit_sha: p.mergeCommit ?? null,
    merged_by: p.mergedBy ? { login: p.mergedBy } : null,
  };
}

export function pullRequestEvent(action: string, p: PrFixture, sender = p.author ?? 'alice-gh') {
  return {
    action,
    number: p.number,
    pull_request: prObject(p),
    repository: { full_name: REPO },
    sender: { login: sender },
  };
}

export function reviewEvent(p: PrFixture, by: string, state: string, commit: string, action = 'submitted') {
  return {
    action,
    review: { id: 1, user: { login: by }, state, commit_id: commit, submitted_at: new Date().toISOString() },
    pull_request: prObject(p),
    repository: { full_name: REPO },
    sender: { login: by },
  };
}

export function checkSuiteEvent(prNumber: number, sha: string, conclusion: string, app = 'GitHub Actions') {
  return {
    action: 'completed',
    check_suite: { head_sha: sha, conclusion, app: { name: app }, pull_requests: [{ number: prNumber }] },
    repository: { full_name: REPO },
    sender: { login: 'github-actions[bot]' },
  };
}
