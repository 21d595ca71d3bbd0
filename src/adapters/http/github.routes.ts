import { verify } from '@octokit/webhooks-methods';
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { type GithubDelivery, recordGithubDelivery } from '../../application/github-evidence.js';
import {
  answerProtectionRule,
  type DeploymentStatus,
  type GithubGateDeps,
  type ProtectionRequest,
  recordDeploymentStatus,
} from '../../application/github-gates.js';
import type { Deps, GateStore, GithubLinks } from '../../application/ports.js';
import type { IdempotencyStore } from '../../infra/db/idempotency.js';
import type { InFlight } from '../../infra/inflight.js';
import type { Logger } from '../../infra/logger.js';
import { GITHUB_BODY_LIMIT, rawBodyWithin } from './body.js';

/** Deliveries are remembered longer than GitHub lets anyone redeliver them (3 days; GHES 7). */
const DELIVERY_TTL_MS = 8 * 24 * 3_600_000;

const login = z.object({ login: z.string().min(1).max(100) });
const sha = z.string().regex(/^[0-9a-f]{7,64}$/i);
const htmlUrl = z
  .string()
  .max(500)
  .regex(/^https?:\/\/[^\s<>|]+$/);
const pullRequest = z.object({
  number: z.number().int().positive(),
  html_url: htmlUrl,
  title: z.string().max(1000),
  body: z.string().max(200_000).nullish(),
  user: login,
  head: z.object({ ref: z.string().max(300), sha }),
  merged: z.boolean().nullish(),
  merge_commit_sha: sha.nullish(),
  merged_by: login.nullish(),
});
const repository = z.object({
  full_name: z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+$/)
    .max(200),
});
const prPayload = z.object({
  action: z.string(),
  pull_request: pullRequest,
  repository,
  sender: login,
  installation: z.object({ id: z.number().int().positive() }).nullish(),
});
const reviewPayload = z.object({
  action: z.string(),
  installation: z.object({ id: z.number().int().positive() }).nullish(),
  review: z.object({
    user: login,
    state: z.string().transform((s) => s.toLowerCase()),
    commit_id: sha,
  }),
  pull_request: pullRequest,
  repository,
  sender: login,
});
const run = z.object({
  head_sha: sha,
  conclusion: z.string().max(40).nullish(),
  pull_requests: z.array(z.object({ number: z.number().int().positive() })).max(100),
});
const checksPayload = z.object({
  action: z.string(),
  repository,
  sender: login,
  check_suite: run.extend({ app: z.object({ name: z.string().max(100) }).nullish() }).optional(),
  check_run: run.extend({ name: z.string().max(200) }).optional(),
  workflow_run: run.extend({ name: z.string().max(200).nullish() }).optional(),
});

const protectionPayload = z.object({
  action: z.string(),
  environment: z.string().min(1).max(255),
  deployment_callback_url: z
    .string()
    .max(1000)
    .regex(/^https?:\/\/[^\s<>|]+$/),
  deployment: z.object({
    id: z.number().int().positive(),
    sha,
    ref: z.string().max(300),
    payload: z.unknown().optional(),
  }),
  installation: z.object({ id: z.number().int().positive() }),
  repository,
});
const statusPayload = z.object({
  action: z.string(),
  deployment_status: z.object({
    state: z.string().max(40),
    environment: z.string().min(1).max(255).optional(),
    target_url: htmlUrl.or(z.literal('')).nullish(),
    log_url: htmlUrl.or(z.literal('')).nullish(),
  }),
  deployment: z.object({
    id: z.number().int().positive(),
    sha,
    ref: z.string().max(300),
    environment: z.string().min(1).max(255),
    payload: z.unknown().optional(),
  }),
  repository,
});

type Parsed =
  | { ok: true; delivery: GithubDelivery | null; protection?: ProtectionRequest; status?: DeploymentStatus }
  | { ok: false; message: string };

const ref = (p: z.infer<typeof pullRequest>, repo: string) => ({
  repo,
  number: p.number,
  url: p.html_url,
  title: p.title,
  body: p.body ?? '',
  author: p.user.login,
  branch: p.head.ref,
  headSha: p.head.sha,
});

/** The events and actions the evidence uses; anything else is acknowledged and ignored. */
export function parseDelivery(event: string, delivery: string, payload: unknown): Parsed {
  const fail = (e: z.ZodError) => ({
    ok: false as const,
    message: e.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.')}: ${i.message}`)
      .join('; '),
  });
  if (event === 'pull_request') {
    const p = prPayload.safeParse(payload);
    if (!p.success) return fail(p.error);
    if (!['opened', 'edited', 'reopened', 'synchronize', 'closed'].includes(p.data.action))
      return { ok: true, delivery: null };
    const pr = p.data.pull_request;
    return {
      ok: true,
      delivery: {
        kind: 'pull_request',
        delivery,
        action: p.data.action,
        sender: p.data.sender.login,
        installationId: p.data.installation?.id ?? null,
        pr: {
          ...ref(pr, p.data.repository.full_name),
          merged: pr.merged === true,
          mergeCommit: pr.merge_commit_sha ?? null,
          mergedBy: pr.merged_by?.login ?? null,
        },
      },
    };
  }
  if (event === 'pull_request_review') {
    const p = reviewPayload.safeParse(payload);
    if (!p.success) return fail(p.error);
    const state = p.data.review.state;
    if (!['submitted', 'dismissed'].includes(p.data.action)) return { ok: true, delivery: null };
    if (!['approved', 'changes_requested', 'commented', 'dismissed'].includes(state))
      return { ok: true, delivery: null };
    return {
      ok: true,
      delivery: {
        kind: 'review',
        delivery,
        action: p.data.action,
        sender: p.data.sender.login,
        installationId: p.data.installation?.id ?? null,
        pr: ref(p.data.pull_request, p.data.repository.full_name),
        review: {
          by: p.data.review.user.login,
          state: state as 'approved' | 'changes_requested' | 'commented' | 'dismissed',
          commit: p.data.review.commit_id,
        },
      },
    };
  }
  if (event === 'deployment_protection_rule') {
    const p = protectionPayload.safeParse(payload);
    if (!p.success) return fail(p.error);
    if (p.data.action !== 'requested') return { ok: true, delivery: null };
    const inputs = JSON.stringify(p.data.deployment.payload ?? '').slice(0, 10_000);
    return {
      ok: true,
      delivery: null,
      protection: {
        installationId: p.data.installation.id,
        repo: p.data.repository.full_name,
        environment: p.data.environment,
        callbackUrl: p.data.deployment_callback_url,
        sha: p.data.deployment.sha,
        ref: p.data.deployment.ref,
        inputs,
        deploymentId: p.data.deployment.id,
      },
    };
  }
  if (event === 'deployment_status') {
    const p = statusPayload.safeParse(payload);
    if (!p.success) return fail(p.error);
    const d = p.data.deployment;
    const st = p.data.deployment_status;
    return {
      ok: true,
      delivery: null,
      status: {
        delivery,
        deploymentId: d.id,
        environment: st.environment ?? d.environment,
        state: st.state,
        sha: d.sha,
        ref: d.ref,
        inputs: JSON.stringify(d.payload ?? '').slice(0, 10_000),
        url: st.log_url || st.target_url || null,
        repo: p.data.repository.full_name,
      },
    };
  }
  if (event === 'check_suite' || event === 'check_run' || event === 'workflow_run') {
    const p = checksPayload.safeParse(payload);
    if (!p.success) return fail(p.error);
    const r = p.data.check_suite ?? p.data.check_run ?? p.data.workflow_run;
    if (p.data.action !== 'completed' || !r) return { ok: true, delivery: null };
    const name =
      (p.data.check_run?.name ?? p.data.workflow_run?.name ?? p.data.check_suite?.app?.name ?? event) ||
      event;
    return {
      ok: true,
      delivery: {
        kind: 'checks',
        delivery,
        sender: p.data.sender.login,
        repo: p.data.repository.full_name,
        pullRequests: r.pull_requests.map((x) => x.number),
        sha: r.head_sha,
        name,
        conclusion: r.conclusion ?? 'unknown',
      },
    };
  }
  return { ok: true, delivery: null };
}

/**
 * `POST /github/webhooks`: the signature is checked on the exact bytes received before anything
 * else (401, no side effect); each delivery is claimed once by its GUID (redeliveries and replicas
 * answer 200 and do nothing); the answer (202) goes out at once and the evidence is recorded after.
 */
export function githubRoutes(opts: {
  secret: string;
  deps: Deps;
  links: GithubLinks;
  idempotency: IdempotencyStore;
  inflight: InFlight;
  logger: Logger;
  /** Answering deployment protection rules needs the App's key (null: webhooks only). */
  gates: GithubGateDeps | null;
  gateStore: GateStore;
}): Router {
  const log = opts.logger.child({ component: 'github' });
  const router = Router();
  // Deliveries of one repository are handled one after the other, in the order they arrived: a
  // check result never overtakes the link of its pull request.
  const chains = new Map<string, Promise<unknown>>();
  const inOrder = <T>(repo: string, work: () => Promise<T>): Promise<T> => {
    const before = chains.get(repo) ?? Promise.resolve();
    const next = before.then(work, work);
    const tail = next.catch(() => undefined);
    chains.set(repo, tail);
    void tail.then(() => {
      if (chains.get(repo) === tail) chains.delete(repo);
    });
    return next;
  };
  router.post('/github/webhooks', rawBodyWithin(GITHUB_BODY_LIMIT), async (req: Request, res: Response) => {
    const raw = ((req as Request & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0)).toString('utf8');
    const signature = req.header('x-hub-signature-256');
    const valid =
      typeof signature === 'string' && (await verify(opts.secret, raw, signature).catch(() => false));
    if (!valid) {
      log.warn('webhook refused: missing or wrong X-Hub-Signature-256', { ip: req.ip });
      res
        .status(401)
        .json({ error: 'invalid_signature', message: 'The X-Hub-Signature-256 header is missing or wrong.' });
      return;
    }
    if (!(req.header('content-type') ?? '').startsWith('application/json')) {
      res.status(415).json({
        error: 'unsupported_media_type',
        message: 'Configure the webhook with content type application/json.',
      });
      return;
    }
    const event = req.header('x-github-event') ?? '';
    const delivery = req.header('x-github-delivery') ?? '';
    if (!/^[\w.-]{1,64}$/.test(event) || !/^[0-9a-fA-F-]{1,64}$/.test(delivery)) {
      res
        .status(400)
        .json({ error: 'bad_request', message: 'X-GitHub-Event and X-GitHub-Delivery are required.' });
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch {
      res.status(400).json({ error: 'bad_request', message: 'The body is not JSON.' });
      return;
    }
    const parsed = parseDelivery(event, delivery, payload);
    if (!parsed.ok) {
      log.warn('webhook payload not understood', { event, delivery, problem: parsed.message });
      res.status(400).json({ error: 'bad_request', message: parsed.message });
      return;
    }
    const key = `github:${delivery}`;
    if (!(await opts.idempotency.claim(key, DELIVERY_TTL_MS))) {
      res.status(200).json({ ok: true, duplicate: true });
      return;
    }
    res.status(202).json({ ok: true });
    const protection = parsed.protection;
    if (protection) {
      if (!opts.gates) {
        log.error('a deployment protection rule cannot be answered: set GITHUB_APP_PRIVATE_KEY', {
          delivery,
        });
        return;
      }
      opts.inflight.track(
        inOrder(protection.repo, () => answerProtectionRule(opts.gates!, protection))
          .then((outcome) =>
            log.info('deployment protection rule', { delivery, outcome, repo: protection.repo }),
          )
          .catch(async (err) => {
            log.error('could not answer a deployment protection rule; a redelivery will', { delivery, err });
            await opts.idempotency.release(key).catch(() => undefined);
          }),
      );
      return;
    }
    const status = parsed.status;
    if (status) {
      opts.inflight.track(
        inOrder(status.repo, () => recordDeploymentStatus({ deps: opts.deps, gates: opts.gateStore }, status))
          .then((n) => log.info('deployment status', { delivery, state: status.state, change: n }))
          .catch(async (err) => {
            log.error('could not record a deployment status; a redelivery will', { delivery, err });
            await opts.idempotency.release(key).catch(() => undefined);
          }),
      );
      return;
    }
    const d = parsed.delivery;
    if (!d) return;
    opts.inflight.track(
      inOrder(d.kind === 'checks' ? d.repo : d.pr.repo, () =>
        recordGithubDelivery(opts.deps, opts.links, d, opts.gates?.gh ?? null),
      )
        .then((out) => log.info('webhook recorded', { event, delivery, changes: out.changes }))
        .catch(async (err) => {
          log.error('webhook could not be recorded; a redelivery will be handled', { event, delivery, err });
          await opts.idempotency.release(key).catch(() => undefined);
        }),
    );
  });
  return router;
}
