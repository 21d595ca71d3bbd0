import { existsSync, readFileSync } from 'node:fs';
import { createAppAuth } from '@octokit/auth-app';
import { request } from '@octokit/request';
import type { GithubApi } from '../../application/ports.js';
import type { Logger } from '../logger.js';

/** GITHUB_APP_PRIVATE_KEY: PEM text (newlines or `\n` escapes) or a path to a PEM file. */
export function readPrivateKey(value: string): string {
  const v = value.trim();
  if (v.startsWith('-----BEGIN')) return v.replace(/\\n/g, '\n');
  if (existsSync(v)) return readFileSync(v, 'utf8');
  throw new Error('GITHUB_APP_PRIVATE_KEY is neither a PEM key nor the path of a readable file');
}

/**
 * GitHub's REST API as the App: a JWT signed with the App's key mints installation tokens
 * (@octokit/auth-app caches them until shortly before they expire); every call goes to
 * GITHUB_API_URL, used verbatim (GitHub Enterprise Server included).
 */
export class GithubClient implements GithubApi {
  private readonly req: typeof request;
  private readonly auth: ReturnType<typeof createAppAuth>;

  constructor(
    private readonly opts: { appId: string; privateKey: string; apiUrl: string },
    private readonly logger: Logger,
  ) {
    this.req = request.defaults({
      baseUrl: opts.apiUrl,
      headers: { 'x-github-api-version': '2022-11-28', 'user-agent': 'changegate' },
    });
    this.auth = createAppAuth({
      appId: Number(opts.appId),
      privateKey: readPrivateKey(opts.privateKey),
      request: this.req,
    });
  }

  private async token(installationId: number): Promise<string> {
    const { token } = await this.auth({ type: 'installation', installationId });
    return token;
  }

  /** Only URLs of this API: a payload cannot send the App's token anywhere else. */
  private inApi(url: string): boolean {
    return url.startsWith(`${this.opts.apiUrl}/repos/`);
  }

  async reviewDeployment(
    installationId: number,
    callbackUrl: string,
    body: { environment_name: string; state?: 'approved' | 'rejected'; comment: string },
  ): Promise<void> {
    if (!this.inApi(callbackUrl))
      throw new Error(`callback URL outside GITHUB_API_URL: ${callbackUrl.slice(0, 200)}`);
    const token = await this.token(installationId);
    await this.req({
      method: 'POST',
      url: callbackUrl,
      headers: { authorization: `token ${token}` },
      ...body,
      comment: body.comment.slice(0, 1024),
    });
  }

  async publicEmail(installationId: number, login: string): Promise<string | null> {
    const token = await this.token(installationId);
    const res = await this.req('GET /users/{username}', {
      username: login,
      headers: { authorization: `token ${token}` },
    });
    const email = (res.data as { email?: string | null }).email;
    return typeof email === 'string' && email.includes('@') ? email.toLowerCase() : null;
  }

  async reviews(installationId: number, repo: string, number: number) {
    const token = await this.token(installationId);
    const [owner, name] = repo.split('/');
    const out: { id: number; by: string; state: string; commit: string }[] = [];
    for (let page = 1; page <= 10; page++) {
      const res = await this.req('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', {
        owner: owner!,
        repo: name!,
        pull_number: number,
        per_page: 100,
        page,
        headers: { authorization: `token ${token}` },
      });
      const list = res.data as {
        id: number;
        user?: { login?: string } | null;
        state?: string;
        commit_id?: string;
      }[];
      for (const r of list)
        if (r.user?.login && r.state && r.commit_id)
          out.push({ id: r.id, by: r.user.login, state: r.state.toLowerCase(), commit: r.commit_id });
      if (list.length < 100) break;
    }
    return out;
  }

  async checkRuns(installationId: number, repo: string, sha: string) {
    const token = await this.token(installationId);
    const [owner, name] = repo.split('/');
    const res = await this.req('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
      owner: owner!,
      repo: name!,
      ref: sha,
      per_page: 100,
      headers: { authorization: `token ${token}` },
    });
    const runs =
      (
        res.data as {
          check_runs?: { id: number; name: string; status?: string; conclusion?: string | null }[];
        }
      ).check_runs ?? [];
    return runs
      .filter((r) => r.status === 'completed' && r.conclusion)
      .map((r) => ({ id: r.id, name: r.name, conclusion: r.conclusion! }));
  }

  async pullsForCommit(
    installationId: number,
    repo: string,
    sha: string,
  ): Promise<{ number: number; merged: boolean; mergeCommit: string | null }[]> {
    const token = await this.token(installationId);
    const [owner, name] = repo.split('/');
    const res = await this.req('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', {
      owner: owner!,
      repo: name!,
      commit_sha: sha,
      headers: { authorization: `token ${token}` },
    });
    const list = Array.isArray(res.data)
      ? (res.data as { number: number; merged_at?: string | null; merge_commit_sha?: string | null }[])
      : [];
    this.logger.debug('pulls for commit', { repo, sha, count: list.length });
    return list.map((p) => ({
      number: p.number,
      merged: !!p.merged_at,
      mergeCommit: p.merge_commit_sha ?? null,
    }));
  }
}
