import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isProductionEnvironment } from '../domain/gate.js';
import { isInRoles } from '../domain/policy.js';
import type { ApiScope, ApiToken, Deps } from './ports.js';

export { API_SCOPES, type ApiScope } from './ports.js';

/** Pipelines' default scopes: read changes and the gate, open changes, report deployments. */
export const DEFAULT_PIPELINE_SCOPES: ApiScope[] = ['changes:read', 'changes:write', 'deployments:write'];

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const base62 = (n: number) =>
  randomBytes(n * 2)
    .toString('base64url')
    .replace(/[-_]/g, '')
    .slice(0, n);

export type TokenOutcome<T> = { ok: true; value: T } | { ok: false; message: string };

type TokenDeps = Pick<Deps, 'policy' | 'directory' | 'tokens' | 'clock' | 'logger'>;

async function isAdmin(deps: TokenDeps, userId: string): Promise<boolean> {
  const policy = deps.policy.policy;
  return isInRoles(policy, await deps.directory.membership(), userId, policy.access.admins);
}

/**
 * Creates a token (admins only) for named environments. The secret is returned once and stored only
 * as a hash. A token that reports deployments must name its environments; one that may report
 * production deployments can only be created by one of the policy's deployers, when it names any, so
 * an admin cannot mint a way around who may deploy.
 */
export async function createApiToken(
  deps: TokenDeps,
  actor: string,
  name: string,
  scopes: ApiScope[],
  environments: string[],
): Promise<TokenOutcome<{ token: string; scopes: ApiScope[]; environments: string[] | null }>> {
  const policy = deps.policy.policy;
  const membership = await deps.directory.membership();
  if (!isInRoles(policy, membership, actor, policy.access.admins))
    return {
      ok: false,
      message: "Only Changegate admins (the policy's access.admins roles) can manage pipeline tokens.",
    };
  const envs = [...new Set(environments.map((e) => e.toLowerCase()))];
  if (scopes.includes('deployments:write') && envs.length === 0)
    return {
      ok: false,
      message:
        'Name the environments this token may gate and report, e.g. `env=production` or `env=staging,production`.',
    };
  const production = envs.filter((e) => isProductionEnvironment(policy, e));
  const deployers = policy.access.deployers;
  if (
    production.length > 0 &&
    scopes.includes('deployments:write') &&
    deployers.length > 0 &&
    !isInRoles(policy, membership, actor, deployers)
  )
    return {
      ok: false,
      message: `Only the policy's deployers (${deployers.join(', ')}) can create a token that reports ${production.join(', ')} deployments.`,
    };
  const id = base62(12);
  const secret = base62(40);
  const created = await deps.tokens.create({
    id,
    name,
    secretHash: sha256(secret),
    scopes,
    environments: envs.length ? envs : null,
    createdBy: actor,
    createdAt: deps.clock.now(),
    revokedAt: null,
    revokedBy: null,
    lastUsedAt: null,
  });
  if (created === 'name_taken')
    return {
      ok: false,
      message: `A token named "${name}" already exists. Revoke it first, or choose another name.`,
    };
  deps.logger.info('pipeline token created', { userId: actor, token: name, scopes, environments: envs });
  return {
    ok: true,
    value: { token: `cg_${id}_${secret}`, scopes, environments: envs.length ? envs : null },
  };
}

export async function listApiTokens(deps: TokenDeps, actor: string): Promise<TokenOutcome<ApiToken[]>> {
  if (!(await isAdmin(deps, actor)))
    return { ok: false, message: 'Only Changegate admins can see pipeline tokens.' };
  return { ok: true, value: await deps.tokens.list() };
}

/** Revokes a token by name; its name becomes free for a replacement. */
export async function revokeApiToken(
  deps: TokenDeps,
  actor: string,
  name: string,
): Promise<TokenOutcome<null>> {
  if (!(await isAdmin(deps, actor)))
    return { ok: false, message: 'Only Changegate admins can revoke pipeline tokens.' };
  const token = await deps.tokens.activeByName(name);
  if (!token) return { ok: false, message: `There is no active token named "${name}".` };
  await deps.tokens.revoke(token.id, actor, deps.clock.now(), `${name}~revoked~${token.id}`);
  deps.logger.info('pipeline token revoked', { userId: actor, token: name });
  return { ok: true, value: null };
}

export interface Caller {
  tokenId: string;
  name: string;
  scopes: ApiScope[];
  /** Environments it may gate and report; null: any (read-only tokens, and tokens from before). */
  environments: string[] | null;
  /** The admin who created the token (bound by separation of duties on what it raises). */
  createdBy: string;
}

/** Whether a token may gate or report `environment`. */
export function mayActOn(caller: Caller, environment: string): boolean {
  return caller.environments === null || caller.environments.includes(environment.toLowerCase());
}

/** Checks a bearer token: null when it is malformed, unknown, wrong or revoked. */
export async function authenticateApiToken(deps: TokenDeps, bearer: string): Promise<Caller | null> {
  const m = /^cg_([A-Za-z0-9]{12})_([A-Za-z0-9]{40})$/.exec(bearer);
  if (!m) return null;
  const token = await deps.tokens.byId(m[1]!);
  if (!token || token.revokedAt) return null;
  const given = Buffer.from(sha256(m[2]!), 'hex');
  const stored = Buffer.from(token.secretHash, 'hex');
  if (given.length !== stored.length || !timingSafeEqual(given, stored)) return null;
  const now = deps.clock.now();
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > 60_000) {
    void deps.tokens.touch(token.id, now).catch(() => undefined);
  }
  return {
    tokenId: token.id,
    name: token.name,
    scopes: token.scopes,
    environments: token.environments,
    createdBy: token.createdBy,
  };
}

export function displayName(name: string): string {
  return name.split('~revoked~')[0] ?? name;
}
