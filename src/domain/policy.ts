/**
 * The policy as the domain sees it: plain data, already validated (see src/config/policy.schema.ts).
 * Written by an organisation in YAML; every change stores the hash of the policy it was decided under.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

import type { FieldDef, FieldRequirement } from './fields.js';

/** A security flag's key: the list is the policy's (`securityFlags`); these are its defaults. */
export type SecurityFlag = string;

/** The security flags a policy has when it names none: what the seed documents list. */
export const DEFAULT_SECURITY_FLAGS: Readonly<Record<string, string>> = {
  auth: 'Authentication / authorisation',
  encryption: 'Encryption',
  api_security: 'API security',
  data_access: 'Data access',
  third_party: 'Third-party integration',
  regulated_data: 'Regulated or sensitive data',
  security_controls: 'Security controls',
};

/** The label of a security flag under a policy (the key itself when the policy no longer has it). */
export function securityFlagLabel(policy: Policy, flag: string): string {
  return Object.hasOwn(policy.securityFlags, flag) ? policy.securityFlags[flag]! : flag;
}

export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/**
 * Who may approve a stage. `anyone` means any workspace member other than the requester (peer
 * review). `eachOf` names roles of which each must give one approval, by distinct people ("the Head
 * of Engineering and the Security Officer"); its members are eligible too.
 */
export interface ApproverSpec {
  anyone: boolean;
  roles: string[];
  users: string[];
  groups: string[];
  eachOf: string[];
}

/** What must have happened before a stage opens: a successful deployment to an environment. */
export interface Prerequisite {
  deployedTo: string;
}

export interface StageDef {
  name: string;
  description: string;
  approvers: ApproverSpec;
  /** Distinct approvers the stage needs (with `eachOf`: one per role instead). */
  quorum: number;
  /** The stage opens only once this has happened (e.g. a deployment to staging). */
  after: Prerequisite | null;
  /** A QA sign-off: approving it records that the change was tested in staging. */
  marksStagingTested: boolean;
  /** Decided only at a meeting of this board (see domain/board.ts); absent: by anyone eligible, any time. */
  board?: string;
}

/**
 * A change advisory board: its stages are decided at its meetings (recurring, or ad hoc), whose
 * agenda is posted in its channel ahead of time and whose minutes are recorded.
 */
export interface BoardDef {
  name: string;
  /** The board's members: roles (its stages are approved by them). */
  members: string[];
  /** Where the agenda and minutes go (null: the approvals channel). */
  channel: string | null;
  /** The recurring meeting, on the board's wall clock. */
  days: Weekday[];
  at: string; // HH:mm
  timezone: string;
  minutes: number;
  /** Changes whose board stage opened this many hours before a meeting are on its agenda. */
  agendaCutoffHours: number;
}

/**
 * When a stage applies to a change; every condition given must hold (none: always).
 * `securityFlags: any` means at least one flag; a list means at least one of those.
 */
export interface StageCondition {
  risk?: RiskLevel[];
  securityFlags?: 'any' | string[];
  field?: { key: string; in: string[] };
}

export interface TypeStage {
  stage: string;
  when: StageCondition;
}

/** One step of a type's approval path: a stage, or stages that run in parallel (all must pass). */
export type TypeStep = TypeStage[];

export interface ChangeTypeDef {
  /** Per field (declared or built-in): required, optional or hidden for this type. */
  fields: Record<string, FieldRequirement>;
  name: string;
  description: string;
  /** `emergency` asks only what must be known up front; the rest goes into the retrospective. */
  form: 'full' | 'emergency';
  /** Steps in order; the stages of one step run in parallel. */
  stages: TypeStep[];
  /** No approval stage: changes of this type are approved by policy when raised. */
  preApproved: boolean;
  /** Environments a successful deployment must reach before production (e.g. staging). */
  requireDeployedTo: string[];
  /**
   * Stakeholder channels: a pre-deployment announcement when the change is approved (with its
   * window), each production deployment's status, and a post-deployment summary once verified.
   */
  announce: string[];
  /** Emergency changes: a retrospective is due this many hours after deployment. */
  retrospectiveDueHours: number | null;
  /**
   * Roles that review a submitted retrospective (a CAB or a designated reviewer): they accept it or
   * send it back with questions. Empty: the retrospective needs no review.
   */
  retrospectiveReviewers: string[];
  /**
   * Post-implementation review checkpoints after a successful verification (e.g. a health check at
   * once, an initial assessment at 24 h, a full review at 7 days), each with its questions.
   */
  postImplementationReviews: PirCheckpoint[];
  /** Production deployments need the change to name the commit (or artifact digest) it approves. */
  requireCommit: boolean;
  /**
   * Whether a change deployed to production and verified may deploy again: `never` (it is finished;
   * a new change is raised) or `within_window` (repeatedly, while inside its planned window).
   */
  redeploy: 'never' | 'within_window';
  /**
   * Before production every linked pull request must be merged, with at least `approvals` approvals
   * on its final commit by people other than its author, and green checks (absent: no PR rule).
   */
  requirePullRequest?: { approvals: number };
}

export interface RoleDef {
  users: string[];
  groups: string[];
}

export type FreezeWindow =
  | { kind: 'yearly'; start: string; end: string } // MM-DD, end exclusive; wraps into the next year when end <= start
  | { kind: 'fixed'; start: string; end: string }; // local date-times YYYY-MM-DDTHH:mm in the freeze's time zone

export interface PirCheckpoint {
  name: string;
  afterHours: number;
  questions: string[];
}

/** Who grants an exception (to a freeze or a maintenance window): the same rules as a stage. */
export interface ExceptionSpec {
  approvers: ApproverSpec;
  quorum: number;
}

export interface FreezeDef {
  name: string;
  timezone: string;
  window: FreezeWindow;
  /** Change types the freeze blocks. */
  blocks: string[];
  /** Environments it freezes (lower case); null: the production environments. */
  environments: string[] | null;
  /** Systems it freezes (a change naming any of them); empty: every system. */
  systems: string[];
  /** Who may grant an exception, with a reason and a risk note. */
  exception: ExceptionSpec;
}

/**
 * A recurring window in which deployments to its environments may happen at all, e.g. weeknights
 * 20:00–23:00 London time. End at or before start: the window runs past midnight.
 */
export interface MaintenanceWindowDef {
  name: string;
  timezone: string;
  days: Weekday[];
  start: string; // HH:mm
  end: string; // HH:mm
  /** Environments it governs (lower case); null: the production environments. */
  environments: string[] | null;
  /** Systems it governs (a change naming any of them); empty: every system. */
  systems: string[];
  /** Change types that may deploy outside it (e.g. emergency). */
  exempt: string[];
  exception: ExceptionSpec;
}

export interface WorkingHours {
  days: Weekday[];
  start: string; // HH:mm
  end: string; // HH:mm
}

export interface ReminderPolicy {
  pendingApproval: { firstAfterBusinessHours: number; everyHours: number; maxReminders: number };
  upcomingWindow: { beforeMinutes: number };
  verification: { firstAfterMinutes: number; everyHours: number; escalateAfterHours: number };
  retrospective: { beforeDueHours: number[]; escalateEveryHours: number };
  /** One morning DM per person listing everything waiting on them instead of one DM per item. */
  digest: { enabled: boolean; at: string };
}

export interface AccessPolicy {
  /** Roles that see every change in /change-log and exports. */
  seeAllChanges: string[];
  /** Roles that may create and revoke pipeline tokens and cancel any change. */
  admins: string[];
  /** Roles alerted about unauthorised deployments and overdue retrospectives. */
  securityAlerts: string[];
  /**
   * Roles that may record production deployments (RBAC). Empty: the requester, the change's
   * approvers, earlier deployers and admins may.
   */
  deployers: string[];
}

/**
 * A number the monthly report and `/change-log` show: changes that match `when` and whose `event`
 * happened in the period (e.g. "Security patches applied": deployed, category security).
 */
export interface ReportCount {
  label: string;
  event: 'raised' | 'deployed' | 'verified' | 'rolled_back';
  when: StageCondition & { types?: string[]; emergency?: boolean };
}

export const DEFAULT_REPORT_COUNTS: ReportCount[] = [
  { label: 'Changes deployed', event: 'deployed', when: {} },
  { label: 'Security patches applied', event: 'deployed', when: { securityFlags: 'any' } },
  { label: 'Incidents resolved', event: 'deployed', when: { emergency: true } },
  { label: 'Rollbacks performed', event: 'rolled_back', when: {} },
];

export interface Policy {
  version: 1;
  organisation: string;
  timezone: string;
  channels: {
    approvals: string | null;
    reports: string | null;
    security: string | null;
    /** Where audit checkpoints are witnessed and failed verifications reported. */
    audit: string | null;
  };
  roles: Record<string, RoleDef>;
  stages: Record<string, StageDef>;
  types: Record<string, ChangeTypeDef>;
  separationOfDuties: { oneStagePerPerson: boolean };
  freezes: FreezeDef[];
  maintenanceWindows: MaintenanceWindowDef[];
  /** Environment names that count as production (compared in lower case). */
  productionEnvironments: string[];
  /** Other environments the policy knows (prerequisites and windows may name them). */
  environments: string[];
  /** Security flags a request can raise: key to label, in the form's order. */
  securityFlags: Record<string, string>;
  /** Fields of the request form the policy declares, in order. */
  fields: Record<string, FieldDef>;
  workingHours: WorkingHours;
  reminders: ReminderPolicy;
  access: AccessPolicy;
  /** What the reports count, by the policy's own categories. */
  reports: { counts: ReportCount[] };
  /** Change advisory boards (absent: none). */
  boards?: Record<string, BoardDef>;
}

/** Group memberships resolved ahead of a decision, so that the domain stays synchronous and pure. */
export interface Membership {
  groupMembers(groupId: string): ReadonlySet<string>;
}

export const EMPTY_MEMBERSHIP: Membership = { groupMembers: () => new Set() };

export function membershipFrom(groups: Record<string, readonly string[]>): Membership {
  const map = new Map(Object.entries(groups).map(([g, users]) => [g, new Set(users)]));
  return { groupMembers: (g) => map.get(g) ?? new Set() };
}

/** Every user group id the policy mentions, for pre-resolution. */
export function referencedGroups(policy: Policy): string[] {
  const groups = new Set<string>();
  for (const role of Object.values(policy.roles)) for (const g of role.groups) groups.add(g);
  for (const stage of Object.values(policy.stages)) for (const g of stage.approvers.groups) groups.add(g);
  for (const x of [...policy.freezes, ...policy.maintenanceWindows])
    for (const g of x.exception.approvers.groups) groups.add(g);
  return [...groups];
}

/** Every type's stages in order, flattened (steps of parallel stages included). */
export function typeStages(type: ChangeTypeDef): TypeStage[] {
  return type.stages.flat();
}

export function isInRoles(
  policy: Policy,
  membership: Membership,
  userId: string,
  roles: readonly string[],
): boolean {
  for (const name of roles) {
    const role = policy.roles[name];
    if (!role) continue;
    if (role.users.includes(userId)) return true;
    if (role.groups.some((g) => membership.groupMembers(g).has(userId))) return true;
  }
  return false;
}

/** Users explicitly named by roles (directly or through groups). */
export function usersInRoles(policy: Policy, membership: Membership, roles: readonly string[]): string[] {
  const out = new Set<string>();
  for (const name of roles) {
    const role = policy.roles[name];
    if (!role) continue;
    for (const u of role.users) out.add(u);
    for (const g of role.groups) for (const u of membership.groupMembers(g)) out.add(u);
  }
  return [...out];
}

export function matchesApproverSpec(
  policy: Policy,
  membership: Membership,
  spec: ApproverSpec,
  userId: string,
): boolean {
  if (spec.anyone) return true;
  if (spec.users.includes(userId)) return true;
  if (spec.groups.some((g) => membership.groupMembers(g).has(userId))) return true;
  return isInRoles(policy, membership, userId, [...spec.roles, ...(spec.eachOf ?? [])]);
}

/** The explicit approvers of a stage (empty for `anyone` stages). */
export function approversOf(policy: Policy, membership: Membership, spec: ApproverSpec): string[] {
  if (spec.anyone) return [];
  const out = new Set<string>(spec.users);
  for (const g of spec.groups) for (const u of membership.groupMembers(g)) out.add(u);
  for (const u of usersInRoles(policy, membership, [...spec.roles, ...(spec.eachOf ?? [])])) out.add(u);
  return [...out];
}

/** User groups to mention when a stage is stuck: the stage's own groups and its roles' groups. */
export function groupsOf(policy: Policy, spec: ApproverSpec): string[] {
  const out = new Set<string>(spec.groups);
  for (const r of [...spec.roles, ...(spec.eachOf ?? [])])
    for (const g of policy.roles[r]?.groups ?? []) out.add(g);
  return [...out];
}

/** Roles that oversee emergencies: the security-alert roles and whoever approves emergency changes. */
export function escalationRoles(policy: Policy): string[] {
  const roles = new Set<string>(policy.access.securityAlerts);
  for (const type of Object.values(policy.types)) {
    if (type.form !== 'emergency') continue;
    for (const ts of typeStages(type)) {
      const spec = policy.stages[ts.stage]?.approvers;
      for (const r of [...(spec?.roles ?? []), ...(spec?.eachOf ?? [])]) roles.add(r);
    }
  }
  return [...roles];
}
