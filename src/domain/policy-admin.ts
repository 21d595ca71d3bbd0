import type { EventSeal } from './audit.js';
import type { Finding, KeyRing } from './ledger.js';
import type { Policy, RoleDef } from './policy.js';
import { appendRecord, checkLog, type Link } from './sealed-log.js';

/**
 * Administration of the policy from Slack: versions published by admins (a template, role mappings,
 * channels), each a record in a hash-chained, signed history, and the rule for which version a
 * change is held to.
 */

/**
 * The policy a change is decided under. The rules it was raised under stay with it (its types and
 * stages, conditions, quorums, fields, separation of duties, production environments): a later
 * version can neither weaken nor tighten them for a change already raised. Who holds a role, who
 * administers, the channels, the freeze and maintenance calendar, working hours and reminders come
 * from the policy in force, so that removing someone from a role takes effect at once, a new
 * approver can pick up waiting work, and a freeze declared today applies to changes raised before.
 * Board meetings (their calendar and channel) are the policy in force's too.
 */
export function policyForChange(raisedUnder: Policy, current: Policy): Policy {
  if (raisedUnder === current) return current;
  return {
    ...raisedUnder,
    organisation: current.organisation,
    timezone: current.timezone,
    channels: current.channels,
    roles: current.roles,
    access: current.access,
    freezes: current.freezes,
    maintenanceWindows: current.maintenanceWindows,
    workingHours: current.workingHours,
    reminders: current.reminders,
    reports: current.reports,
    boards: current.boards,
  };
}

/** Whether anybody (a user or a user group) holds one of the policy's admin roles. */
export function hasAdmin(policy: Policy): boolean {
  return policy.access.admins.some((r) => {
    const role = policy.roles[r];
    return !!role && (role.users.length > 0 || role.groups.length > 0);
  });
}

/** The role a first admin (setup code) is added to when the policy has no admin-only role. */
export const FIRST_ADMIN_ROLE = 'admins';

/** Roles that approve something (a stage or an exception): holding one is more than administering. */
function approvingRoles(policy: Policy): Set<string> {
  const out = new Set<string>();
  const add = (spec: { roles: string[]; eachOf: string[] }) => {
    for (const r of [...spec.roles, ...spec.eachOf]) out.add(r);
  };
  for (const s of Object.values(policy.stages)) add(s.approvers);
  for (const x of [...policy.freezes, ...policy.maintenanceWindows]) add(x.exception.approvers);
  return out;
}

/**
 * The policy with `userId` among its admins. They join an admin role that approves nothing (never,
 * say, the CTO role a template also makes its admins), creating `admins` (or `changegate_admins`)
 * when there is none: administering Changegate must not quietly make someone an approver.
 */
export function withAdmin(policy: Policy, userId: string): Policy {
  return withAdminMembers(policy, { users: [userId], groups: [] });
}

/** The policy with these users and user groups among its admins (see withAdmin). */
export function withAdminMembers(policy: Policy, add: RoleDef): Policy {
  const approving = approvingRoles(policy);
  const roleName =
    policy.access.admins.find((r) => policy.roles[r] && !approving.has(r)) ??
    [FIRST_ADMIN_ROLE, 'changegate_admins', 'changegate_admin'].find(
      (r) => !approving.has(r) && (!policy.roles[r] || policy.access.admins.includes(r)),
    ) ??
    'changegate_admin';
  const role = policy.roles[roleName] ?? { users: [], groups: [] };
  const isAdmin = (p: Policy) => (u: string) => p.access.admins.some((r) => p.roles[r]?.users.includes(u));
  const isAdminGroup = (p: Policy) => (g: string) =>
    p.access.admins.some((r) => p.roles[r]?.groups.includes(g));
  const users = add.users.filter((u) => !isAdmin(policy)(u));
  const groups = add.groups.filter((g) => !isAdminGroup(policy)(g));
  if (users.length === 0 && groups.length === 0) return policy;
  return {
    ...withRoleMembers(policy, roleName, {
      users: [...role.users, ...users],
      groups: [...role.groups, ...groups],
    }),
    access: { ...policy.access, admins: [...new Set([...policy.access.admins, roleName])] },
  };
}

/** The policy with a role's members replaced (users and user groups, each listed once, in order). */
export function withRoleMembers(policy: Policy, role: string, members: RoleDef): Policy {
  const roles: Record<string, RoleDef> = Object.assign(Object.create(null), policy.roles, {
    [role]: { users: [...new Set(members.users)], groups: [...new Set(members.groups)] },
  });
  return { ...policy, roles };
}

export const CHANNEL_PURPOSES = ['approvals', 'reports', 'security', 'audit'] as const;
export type ChannelPurpose = (typeof CHANNEL_PURPOSES)[number];

export function withChannels(policy: Policy, channels: Partial<Policy['channels']>): Policy {
  return { ...policy, channels: { ...policy.channels, ...channels } };
}

/**
 * A template adopted over the policy in force: what the admins already set up carries over (the
 * members of every role the template also has, the channels the template leaves unset, and the
 * admins, so that choosing a template never locks its chooser out).
 */
export function adoptTemplate(template: Policy, previous: Policy, admins: readonly string[]): Policy {
  const roles: Record<string, RoleDef> = Object.assign(Object.create(null), template.roles);
  for (const [name, role] of Object.entries(previous.roles)) {
    const mapped = role.users.length > 0 || role.groups.length > 0;
    if (mapped && Object.hasOwn(roles, name))
      roles[name] = { users: [...role.users], groups: [...role.groups] };
  }
  const channels = { ...template.channels };
  for (const k of CHANNEL_PURPOSES) channels[k] ??= previous.channels[k];
  // Whoever administered before still does, and so does the chooser.
  const before: RoleDef = { users: [...admins], groups: [] };
  for (const r of previous.access.admins) {
    before.users.push(...(previous.roles[r]?.users ?? []));
    before.groups.push(...(previous.roles[r]?.groups ?? []));
  }
  return withAdminMembers({ ...template, roles, channels }, before);
}

/** A role and what uses it, for role mapping: the stages it approves and the access it gives. */
export interface RoleUse {
  role: string;
  members: RoleDef;
  stages: string[];
  access: string[];
}

export function roleUses(policy: Policy): RoleUse[] {
  return Object.entries(policy.roles).map(([role, members]) => ({
    role,
    members,
    stages: Object.entries(policy.stages)
      .filter(([, s]) => s.approvers.roles.includes(role) || s.approvers.eachOf.includes(role))
      .map(([, s]) => s.name),
    access: Object.entries(policy.access)
      .filter(([, roles]) => (roles as string[]).includes(role))
      .map(([k]) => k),
  }));
}

// ---- the version history --------------------------------------------------------------------------

/** Where a version came from. */
export type PolicyOrigin = 'initial' | 'file' | 'first_admin' | 'template' | 'roles' | 'channels';

/** One published version of the policy: who, when, its hash, and what changed since the one before. */
export interface PolicyVersionBody {
  number: number;
  hash: string;
  /** The hash of the version before (null for the first). */
  previousHash: string | null;
  by: string;
  at: Date;
  origin: PolicyOrigin;
  note: string;
  /** A unified diff of the policy file against the version before. */
  diff: string;
  added: number;
  removed: number;
}

export interface PolicyVersionRecord extends PolicyVersionBody, Link {}

const POLICY_LOG = 'policy_history';

/** The next version of the history, chained to `previous` and sealed. */
export function chainPolicyVersion(
  previous: PolicyVersionRecord | null,
  body: Omit<PolicyVersionBody, 'number' | 'previousHash'>,
  sign: (bytes: string) => EventSeal,
): PolicyVersionRecord {
  return appendRecord<PolicyVersionRecord>(
    POLICY_LOG,
    previous,
    { ...body, previousHash: previous?.hash ?? null },
    sign,
  );
}

/** Verifies the policy history: numbers without a gap, chained, as recorded, sealed by a trusted key. */
export function checkPolicyHistory(ring: KeyRing, records: readonly PolicyVersionRecord[]): Finding[] {
  return checkLog(POLICY_LOG, ring, records, (r) => `policy version ${r.number} (${r.hash}, by ${r.by})`);
}

// ---- setup ----------------------------------------------------------------------------------------

export interface SetupItem {
  key: string;
  done: boolean;
  text: string;
}

const CHANNEL_USE: Record<ChannelPurpose, string> = {
  approvals: 'approval threads',
  reports: 'the monthly compliance report',
  security: 'unauthorised-deployment alerts',
  audit: 'signed audit checkpoints, a record the database administrator cannot edit',
};

export const channelUse = (p: ChannelPurpose): string => CHANNEL_USE[p];

/** What setup still lacks: an admin, people in every role the policy uses, and its channels. */
export function setupChecklist(policy: Policy): SetupItem[] {
  const items: SetupItem[] = [{ key: 'admin', done: hasAdmin(policy), text: 'An admin of Changegate' }];
  for (const use of roleUses(policy)) {
    if (use.stages.length === 0 && use.access.length === 0) continue;
    const mapped = use.members.users.length > 0 || use.members.groups.length > 0;
    const what = [...use.stages, ...use.access.map((a) => `access: ${a}`)].join(', ');
    items.push({ key: `role:${use.role}`, done: mapped, text: `People in role "${use.role}" (${what})` });
  }
  for (const p of CHANNEL_PURPOSES)
    items.push({
      key: `channel:${p}`,
      done: policy.channels[p] !== null,
      text: `The ${p} channel: ${CHANNEL_USE[p]}${p === 'approvals' ? ' (unset: the channel /change is typed in)' : ''}`,
    });
  return items;
}
