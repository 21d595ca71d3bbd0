import { randomInt } from 'node:crypto';
import { type PolicyTemplate, policyTemplates } from '../config/policy-templates.js';
import { sha256Hex } from '../domain/audit.js';
import { standingProblem } from '../domain/people.js';
import { isInRoles, type Policy, type RoleDef } from '../domain/policy.js';
import {
  adoptTemplate,
  CHANNEL_PURPOSES,
  type ChannelPurpose,
  checkPolicyHistory,
  hasAdmin,
  type PolicyVersionRecord,
  type RoleUse,
  roleUses,
  type SetupItem,
  setupChecklist,
  withAdmin,
  withChannels,
  withRoleMembers,
} from '../domain/policy-admin.js';
import type { Clock } from '../domain/time.js';
import { keyRing } from './audit-ledger.js';
import { standingOfUser } from './people.js';
import type { PolicyBook, PublishRefusal } from './policy-book.js';
import type { Deps, PolicyStore, ReadDeps } from './ports.js';

/**
 * Setup and administration of the policy from Slack (App Home): the first admin by one-time code, a
 * template, role mappings and channels, each published as a new version (see PolicyBook). Every
 * rule is checked here, whichever door calls.
 */

export type AdminRefusal =
  | PublishRefusal
  | 'NOT_ADMIN'
  | 'WRONG_CODE'
  | 'ALREADY_SET_UP'
  | 'TOO_MANY_ATTEMPTS'
  | 'NOT_A_MEMBER'
  | 'UNKNOWN_TEMPLATE'
  | 'UNKNOWN_ROLE'
  | 'CHANNEL_UNREACHABLE';

export type AdminOutcome =
  | { ok: true; record: PolicyVersionRecord }
  | { ok: false; code: AdminRefusal; message: string; fields?: Record<string, string> };

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const normaliseCode = (code: string) => code.toUpperCase().replace(/[^A-Z0-9]/g, '');

/**
 * A one-time setup code (60 random bits, like an initial admin password) when nobody can administer
 * Changegate and the policy is the database's; only its hash is stored. Each start prints a new one.
 */
export async function issueSetupCode(
  book: PolicyBook,
  store: PolicyStore,
  clock: Clock,
): Promise<string | null> {
  if (book.readOnly || hasAdmin(book.current().policy) || (await store.firstAdmin())) return null;
  let raw = '';
  for (let i = 0; i < 12; i++) raw += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  await store.addSetupCode(sha256Hex(raw), clock.now());
  return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`;
}

const WINDOW_MS = 10 * 60_000;
const MAX_TRIES = 5;
const tries = new Map<string, number[]>();

/** At most five wrong codes per person in ten minutes (the code has 60 bits; this stops scripts). */
function tooManyTries(userId: string, now: number): boolean {
  const recent = (tries.get(userId) ?? []).filter((t) => now - t < WINDOW_MS);
  tries.set(userId, recent);
  if (tries.size > 10_000) tries.clear();
  return recent.length >= MAX_TRIES;
}

/** The person who enters the setup code in App Home becomes the first admin (once, ever). */
export async function claimFirstAdmin(deps: Deps, userId: string, code: string): Promise<AdminOutcome> {
  const book = deps.policies;
  if (book.readOnly)
    return {
      ok: false,
      code: 'POLICY_READ_ONLY',
      message: `The policy comes from ${book.fileSource} (CHANGEGATE_POLICY): name admins there or in CHANGEGATE_ADMINS.`,
    };
  await book.refresh();
  if (hasAdmin(book.current().policy) || (await book.store.firstAdmin()))
    return {
      ok: false,
      code: 'ALREADY_SET_UP',
      message: 'Changegate already has an admin; ask them for access.',
    };
  const now = deps.clock.now().getTime();
  if (tooManyTries(userId, now))
    return {
      ok: false,
      code: 'TOO_MANY_ATTEMPTS',
      message: 'Too many wrong codes: wait ten minutes and try again.',
    };
  const problem = standingProblem(await standingOfUser(deps, userId));
  if (problem) return { ok: false, code: 'NOT_A_MEMBER', message: problem };
  if (!(await book.store.hasSetupCode(sha256Hex(normaliseCode(code))))) {
    tries.get(userId)!.push(now);
    return {
      ok: false,
      code: 'WRONG_CODE',
      message: 'That is not the setup code. It is in the log of the latest start of Changegate.',
      fields: { code: 'That is not the setup code printed at start-up.' },
    };
  }
  if (!(await book.store.claimFirstAdmin(userId, deps.clock.now())))
    return { ok: false, code: 'ALREADY_SET_UP', message: 'Someone else entered the code first.' };
  const out = await book.publish({
    policy: withAdmin(book.published().policy, userId),
    by: userId,
    origin: 'first_admin',
    note: 'first admin (setup code)',
  });
  await book.store.clearSetupCodes();
  return out.ok ? out : { ...out };
}

/** Whether the person administers Changegate under the policy in force. */
export async function isAdmin(deps: Pick<Deps, 'policy' | 'directory'>, userId: string): Promise<boolean> {
  const p = deps.policy.policy;
  return isInRoles(p, await deps.directory.membership(), userId, p.access.admins);
}

async function asAdmin(
  deps: Deps,
  actor: string,
  change: (published: Policy) => Policy | AdminOutcome,
  meta: { origin: 'template' | 'roles' | 'channels'; note: string; baseHash: string },
): Promise<AdminOutcome> {
  const book = deps.policies;
  if (book.readOnly)
    return {
      ok: false,
      code: 'POLICY_READ_ONLY',
      message: `The policy comes from ${book.fileSource} (CHANGEGATE_POLICY) and is read-only here: edit the file and restart.`,
    };
  if (!(await isAdmin(deps, actor)))
    return { ok: false, code: 'NOT_ADMIN', message: 'Only an admin of Changegate can change its policy.' };
  const problem = standingProblem(await standingOfUser(deps, actor));
  if (problem) return { ok: false, code: 'NOT_A_MEMBER', message: problem };
  const next = change(book.published().policy);
  if ('ok' in next) return next;
  return book.publish({ policy: next, by: actor, ...meta });
}

/** Starts over from a template (the built-in policy or an example); mapped roles and channels carry over. */
export function chooseTemplate(
  deps: Deps,
  actor: string,
  templateId: string,
  baseHash: string,
): Promise<AdminOutcome> {
  const template = policyTemplates().find((t) => t.id === templateId);
  if (!template)
    return Promise.resolve({
      ok: false,
      code: 'UNKNOWN_TEMPLATE',
      message: `There is no template "${templateId}".`,
    });
  return asAdmin(deps, actor, (published) => adoptTemplate(template.loaded.policy, published, [actor]), {
    origin: 'template',
    note: `template: ${template.name} (${template.loaded.source})`,
    baseHash,
  });
}

const USER = /^[UW][A-Z0-9]{2,}$/;
const GROUP = /^S[A-Z0-9]{2,}$/;

/** Sets who holds each role (Slack users and user groups). */
export function mapRoles(
  deps: Deps,
  actor: string,
  mapping: Record<string, RoleDef>,
  baseHash: string,
): Promise<AdminOutcome> {
  return asAdmin(
    deps,
    actor,
    (published) => {
      const fields: Record<string, string> = {};
      let next = published;
      for (const [role, m] of Object.entries(mapping)) {
        if (!Object.hasOwn(published.roles, role)) {
          fields[role] = `The policy has no role "${role}".`;
          continue;
        }
        const bad = [...m.users.filter((u) => !USER.test(u)), ...m.groups.filter((g) => !GROUP.test(g))];
        if (bad.length > 0) fields[role] = `Not a Slack user or user group: ${bad.join(', ')}`;
        else next = withRoleMembers(next, role, m);
      }
      if (Object.keys(fields).length > 0)
        return { ok: false, code: 'UNKNOWN_ROLE', message: 'Some roles could not be set.', fields };
      return next;
    },
    { origin: 'roles', note: `roles: ${Object.keys(mapping).join(', ')}`, baseHash },
  );
}

/**
 * Sets the policy's channels. Each chosen channel is checked first (`probe` posts a short note
 * there: null when the bot could, else Slack's error), so a channel Changegate cannot post in is
 * refused with the way to fix it instead of failing silently later.
 */
export async function setChannels(
  deps: Deps,
  actor: string,
  channels: Partial<Record<ChannelPurpose, string | null>>,
  baseHash: string,
  probe: (channel: string, purpose: ChannelPurpose) => Promise<string | null>,
): Promise<AdminOutcome> {
  if (!(await isAdmin(deps, actor)))
    return { ok: false, code: 'NOT_ADMIN', message: 'Only an admin of Changegate can change its policy.' };
  const fields: Record<string, string> = {};
  for (const p of CHANNEL_PURPOSES) {
    const c = channels[p];
    if (!c || c === deps.policies.published().policy.channels[p]) continue;
    if (!/^[CG][A-Z0-9]{2,}$/.test(c)) {
      fields[p] = 'Choose a channel.';
      continue;
    }
    const error = await probe(c, p);
    if (error)
      fields[p] =
        error === 'not_in_channel' || error === 'channel_not_found'
          ? 'Changegate is not in this channel: invite it there first (/invite @Changegate), then save again.'
          : `Changegate cannot post there (${error}).`;
  }
  if (Object.keys(fields).length > 0)
    return {
      ok: false,
      code: 'CHANNEL_UNREACHABLE',
      message: 'Changegate cannot post in some channels.',
      fields,
    };
  return asAdmin(deps, actor, (published) => withChannels(published, channels), {
    origin: 'channels',
    note: `channels: ${Object.keys(channels).join(', ')}`,
    baseHash,
  });
}

export interface SetupOverview {
  admin: boolean;
  /** Someone may still claim the first admin with the setup code. */
  claimable: boolean;
  readOnly: boolean;
  fileSource: string | null;
  number: number;
  hash: string;
  organisation: string;
  checklist: SetupItem[];
  roles: RoleUse[];
  channels: Policy['channels'];
  templates: Pick<PolicyTemplate, 'id' | 'name' | 'summary'>[];
  history: PolicyVersionRecord[];
}

/** What App Home's setup section shows a person (admins see everything; others only a claim or nothing). */
export async function setupOverview(deps: ReadDeps, userId: string): Promise<SetupOverview> {
  // No read of the history here (App Home is built after every change event): this process takes up
  // its own versions at once and other replicas' within seconds (app.ts), and every write re-reads.
  const book = deps.policies;
  const published = book.published();
  const admin = await isAdmin(deps, userId);
  return {
    admin,
    claimable: !book.readOnly && !hasAdmin(book.current().policy) && !(await book.store.firstAdmin()),
    readOnly: book.readOnly,
    fileSource: book.fileSource,
    number: book.number,
    hash: published.hash,
    organisation: published.policy.organisation,
    checklist: setupChecklist(book.current().policy),
    roles: roleUses(published.policy),
    channels: published.policy.channels,
    templates: policyTemplates().map(({ id, name, summary }) => ({ id, name, summary })),
    history: admin ? await book.store.recent(5) : [],
  };
}

/** Admins and the roles that see every change (auditors): who may read the policy's history. */
async function mayReadPolicy(deps: ReadDeps, userId: string): Promise<boolean> {
  const p = deps.policy.policy;
  return isInRoles(p, await deps.directory.membership(), userId, [
    ...p.access.admins,
    ...p.access.seeAllChanges,
  ]);
}

/** The policy's versions for an auditor: the latest ones, and whether the whole history verifies. */
export async function policyHistory(
  deps: ReadDeps,
  userId: string,
  limit = 10,
): Promise<
  | { ok: true; latest: PolicyVersionRecord[]; total: number; findings: string[] }
  | { ok: false; message: string }
> {
  if (!(await mayReadPolicy(deps, userId)))
    return { ok: false, message: 'Only admins and auditors can read the policy history.' };
  const all: PolicyVersionRecord[] = [];
  for await (const r of deps.policies.store.all()) all.push(r);
  const ring = await keyRing(deps);
  return {
    ok: true,
    latest: all.slice(-limit).reverse(),
    total: all.length,
    findings: checkPolicyHistory(ring, all).map((f) => f.detail),
  };
}

/** A version's text and record, for "Download as YAML" and diffs: admins and see-all roles only. */
export async function readPolicyVersion(
  deps: ReadDeps,
  userId: string,
  number: number | null,
): Promise<
  | { ok: true; record: PolicyVersionRecord | null; yaml: string; hash: string }
  | { ok: false; message: string }
> {
  if (!(await mayReadPolicy(deps, userId)))
    return { ok: false, message: 'Only admins and auditors can download the policy.' };
  const book = deps.policies;
  const n = number ?? book.number;
  const record = n > 0 ? await book.store.version(n) : null;
  const hash = record?.hash ?? book.published().hash;
  const text = await book.store.text(hash);
  if (!text) return { ok: false, message: `Policy version ${n} has no stored text.` };
  return { ok: true, record, yaml: text.yaml, hash };
}
