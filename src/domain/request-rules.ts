import type { ChangeRequest } from './change.js';
import { planStages } from './change.js';
import { COMMIT_FORMAT_HINT, normaliseCommit } from './commit.js';
import { type BuiltinField, builtinRequirement, fieldIssues } from './fields.js';
import { blockingFreezes } from './freeze.js';
import { approversOf, type Membership, matchesApproverSpec, type Policy } from './policy.js';
import { DAY_MS } from './time.js';

export const LIMITS = {
  title: 150,
  text: 3000,
  systems: 20,
  system: 80,
  link: 500,
  reviewers: 10,
  commit: 140,
} as const;

export type RequestField =
  | keyof ChangeRequest
  | 'links.pr'
  | 'links.ticket'
  | 'requester'
  | `fields.${string}`;

export interface FieldIssue {
  field: RequestField;
  message: string;
}

/** Built-in text fields a type may require, and how a missing one is asked for. */
const TEXT_BUILTINS: { field: BuiltinField & keyof ChangeRequest; ask: string }[] = [
  { field: 'description', ask: 'Give a description of the change.' },
  { field: 'justification', ask: 'Describe why the change is needed.' },
  { field: 'impact', ask: 'Describe the expected impact.' },
  { field: 'testPlan', ask: 'Describe the test plan.' },
  { field: 'testResults', ask: 'Give the test results.' },
  { field: 'rollbackPlan', ask: 'Describe the rollback plan.' },
];

/**
 * Rules a request must meet under the policy, shared by the Slack modal and the pipeline API, so
 * both refuse the same things with the same words. Returns every problem, keyed by field.
 */
export function validateRequest(
  policy: Policy,
  membership: Membership,
  req: ChangeRequest,
  requester: string,
  now: Date,
  /** The creator of the pipeline token raising the change: bound by separation of duties too. */
  tokenCreator: string | null = null,
): FieldIssue[] {
  const raisers = new Set([requester, ...(tokenCreator ? [tokenCreator] : [])]);
  const issues: FieldIssue[] = [];
  const add = (field: RequestField, message: string) => issues.push({ field, message });
  const type = policy.types[req.type];
  if (!type) {
    add('type', `Unknown change type. Choose one of: ${Object.keys(policy.types).join(', ')}.`);
    return issues;
  }

  if (!req.title.trim()) add('title', 'Give the change a title.');
  else if (req.title.length > LIMITS.title)
    add('title', `Keep the title under ${LIMITS.title + 1} characters (it has ${req.title.length}).`);

  for (const { field: f } of TEXT_BUILTINS) {
    const v = req[f] as string;
    if (v.length > LIMITS.text) add(f, `Keep this under ${LIMITS.text + 1} characters (it has ${v.length}).`);
  }

  if (req.systems.length > LIMITS.systems) add('systems', `List at most ${LIMITS.systems} systems.`);
  const longSystem = req.systems.find((s) => s.length > LIMITS.system);
  if (longSystem) add('systems', `Each system name must be under ${LIMITS.system + 1} characters.`);

  for (const [k, v] of Object.entries(req.links) as ['pr' | 'ticket', string | null][]) {
    if (v === null) continue;
    if (v.length > LIMITS.link || !/^https?:\/\/[^\s<>|]+$/i.test(v))
      add(`links.${k}`, 'Enter a full http(s) link.');
  }

  const unknownFlags = req.securityFlags.filter((f) => !Object.hasOwn(policy.securityFlags, f));
  if (unknownFlags.length > 0)
    add(
      'securityFlags',
      `Unknown security flag ${unknownFlags.slice(0, 3).join(', ')}; the policy's flags are ${Object.keys(policy.securityFlags).join(', ') || 'none'}.`,
    );

  if (req.commit !== null && normaliseCommit(req.commit) !== req.commit)
    add('commit', `Enter ${COMMIT_FORMAT_HINT}.`);

  if (type.form === 'emergency') {
    if (!req.justification.trim())
      add('justification', 'Say why this cannot wait (the incident or vulnerability).');
    if (req.systems.length === 0) add('systems', 'Name the affected systems.');
    const stages = planStages(policy, req);
    const first = stages[0];
    if (!req.emergencyApprover) {
      add('emergencyApprover', 'Name who approved (or will approve) the hotfix.');
    } else if (raisers.has(req.emergencyApprover)) {
      add('emergencyApprover', 'Someone other than you must approve your hotfix.');
    } else if (first && !matchesApproverSpec(policy, membership, first.approvers, req.emergencyApprover)) {
      const who = first.approvers.roles.length
        ? `a member of ${first.approvers.roles.join(' or ')}`
        : 'a listed approver';
      add(
        'emergencyApprover',
        approversOf(policy, membership, first.approvers).length
          ? `That person cannot approve ${first.name}: choose ${who}.`
          : `That person cannot approve ${first.name}, and the policy names nobody who can yet.`,
      );
    }
  } else {
    if (req.systems.length === 0) add('systems', 'Name at least one affected system.');
    if (!req.risk) add('risk', 'Choose a risk level.');
  }
  // Built-in fields as the type asks them (the emergency form asks fewer, a type may ask more).
  const asked = (f: BuiltinField) => builtinRequirement(policy, req.type, f) === 'required';
  for (const { field, ask } of TEXT_BUILTINS) {
    if (asked(field) && !(req[field] as string).trim() && !issues.some((i) => i.field === field))
      add(field, ask);
  }
  if (asked('stagingTested') && !req.stagingTested)
    add('stagingTested', 'Say whether the change was tested in staging.');
  if (asked('pr') && !req.links.pr)
    add('links.pr', 'Link the pull request: this type of change requires it.');
  if (asked('ticket') && !req.links.ticket)
    add('links.ticket', 'Link the ticket: this type of change requires it.');
  if (asked('commit') && !req.commit) add('commit', `Name the commit or artifact: ${COMMIT_FORMAT_HINT}.`);
  for (const i of fieldIssues(policy, req)) add(`fields.${i.key}`, i.message);

  if (req.plannedEnd && !req.plannedStart) add('plannedStart', 'Give a start for the planned window too.');
  if (req.plannedStart) {
    // A freeze blocks planning a window in it, as it blocks deploying then.
    const end = req.plannedEnd ?? req.plannedStart;
    const frozen = blockingFreezes(policy, req.type, req.plannedStart, end, { systems: req.systems });
    if (frozen.length > 0)
      add(
        'plannedStart',
        `The window falls in ${[...new Set(frozen.map((f) => f.name))].join(', ')}, a freeze on ${type.name} changes${frozen[0]!.def.systems.length ? ` to ${frozen[0]!.def.systems.join(', ')}` : ''}. Plan it outside the freeze; a change that must deploy during it is raised without a window and needs an exception.`,
      );
  }
  if (req.plannedStart) {
    if (req.plannedStart.getTime() < now.getTime() - DAY_MS)
      add('plannedStart', 'The planned start is in the past.');
    if (req.plannedStart.getTime() > now.getTime() + 730 * DAY_MS)
      add('plannedStart', 'The planned start is more than two years away.');
  }
  if (req.plannedStart && req.plannedEnd && req.plannedEnd <= req.plannedStart) {
    add('plannedEnd', 'The window must end after it starts.');
  }
  if (
    req.plannedStart &&
    req.plannedEnd &&
    req.plannedEnd.getTime() - req.plannedStart.getTime() > 30 * DAY_MS
  ) {
    add('plannedEnd', 'A change window can last at most 30 days.');
  }

  if (req.suggestedReviewers.some((r) => raisers.has(r)))
    add('suggestedReviewers', 'You cannot review your own change.');
  if (req.suggestedReviewers.length > LIMITS.reviewers)
    add('suggestedReviewers', `Suggest at most ${LIMITS.reviewers} reviewers.`);
  return issues;
}
