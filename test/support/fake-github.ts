import { createVerify, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake GitHub REST API for the App: installation tokens for a JWT signed with the test key (RS256,
 * iss = the App id, exp at most 10 minutes ahead), commits → pulls, and the deployment protection
 * rule callback (204; a token it did not mint is 401).
 */
export class FakeGithub {
  readonly appId = '424242';
  readonly keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  private server: Server | null = null;
  port = 0;
  private readonly tokens = new Set<string>();
  private minted = 0;
  readonly pullsByCommit = new Map<
    string,
    { number: number; merged_at: string | null; merge_commit_sha: string | null }[]
  >();
  readonly reviews: { run: string; body: Record<string, unknown>; token: string }[] = [];
  /** Reviews by PR number, and completed check runs by commit (REST reads). */
  readonly prReviews = new Map<
    number,
    { id: number; user: { login: string }; state: string; commit_id: string }[]
  >();
  readonly checkRuns = new Map<string, { id: number; name: string; status: string; conclusion: string }[]>();
  /** Public e-mails of GitHub users (GET /users/{login}). */
  readonly emails = new Map<string, string>();
  readonly calls: { method: string; path: string; status: number }[] = [];

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/v3`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  private verifyJwt(auth: string | undefined): boolean {
    const jwt = /^bearer /i.test(auth ?? '') ? auth!.slice(7) : '';
    const [h, p, sig] = jwt.split('.');
    if (!h || !p || !sig) return false;
    const v = createVerify('RSA-SHA256');
    v.update(`${h}.${p}`);
    if (!v.verify(this.keys.publicKey, Buffer.from(sig, 'base64url'))) return false;
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as {
      iss?: unknown;
      exp?: number;
    };
    const now = Math.floor(Date.now() / 1000);
    return (
      String(claims.iss) === this.appId && typeof claims.exp === 'number' && claims.exp <= now + 600 + 60
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/^\/api\/v3/, '');
    const send = (status: number, body?: unknown) => {
      this.calls.push({ method: req.method ?? '', path, status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    const token = (req.headers.authorization ?? '').replace(/^(token|bearer) /i, '');
    let m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
    if (m && req.method === 'POST') {
      if (!this.verifyJwt(req.headers.authorization))
        return send(401, { message: 'A JSON web token could not be decoded' });
      const t = `ghs_${m[1]}_${++this.minted}`;
      this.tokens.add(t);
      return send(201, {
        token: t,
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
        permissions: {},
      });
    }
    if (!this.tokens.has(token)) return send(401, { message: 'Bad credentials' });
    m = /^\/repos\/[^/]+\/[^/]+\/actions\/runs\/(\d+)\/deployment_protection_rule$/.exec(path);
    if (m && req.method === 'POST') {
      this.reviews.push({
        run: m[1]!,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'),
        token,
      });
      return send(204);
    }
    m = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/reviews$/.exec(path);
    if (m && req.method === 'GET') return send(200, this.prReviews.get(Number(m[1])) ?? []);
    m = /^\/repos\/[^/]+\/[^/]+\/commits\/([0-9a-f]+)\/check-runs$/.exec(path);
    if (m && req.method === 'GET') {
      const runs = this.checkRuns.get(m[1]!) ?? [];
      return send(200, { total_count: runs.length, check_runs: runs });
    }
    m = /^\/users\/([A-Za-z0-9-]+)$/.exec(path);
    if (m && req.method === 'GET') return send(200, { login: m[1], email: this.emails.get(m[1]!) ?? null });
    m = /^\/repos\/[^/]+\/[^/]+\/commits\/([0-9a-f]+)\/pulls$/.exec(path);
    if (m && req.method === 'GET') return send(200, this.pullsByCommit.get(m[1]!) ?? []);
    return send(404, { message: 'Not Found' });
  }
}
