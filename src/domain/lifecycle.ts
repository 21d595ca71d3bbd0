import type { EventSeal } from './audit.js';
import {
  type ChangeRequest,
  isSingleSeat,
  normalizePlannedStage,
  type PlannedStage,
  planStages,
  type StagingTested,
} from './change.js';
import { type Delegation, isActive } from './delegation.js';
import { type DomainError, type DomainErrorCode, fail, ok, type Result } from './errors.js';
import { applicableMaintenanceWindows } from './freeze.js';
import {
  deploymentBlockers,
  type GateReasonCode,
  isProductionEnvironment,
  unexcusedFreezes,
} from './gate.js';
import { applyGithubEvent, type GithubEventDraft, type PullRequestEvidence } from './github.js';
import { type Standing, standingProblem } from './people.js';
import {
  type ApproverSpec,
  type ExceptionSpec,
  isInRoles,
  type Membership,
  matchesApproverSpec,
  type PirCheckpoint,
  type Policy,
  type RiskLevel,
  type SecurityFlag,
} from './policy.js';
import {
  approvalsCounted,
  approvalsNeeded,
  approvalWouldCount,
  currentStep,
  decisionSlot,
  missingRoles,
  type OpenStage,
  openStages,
  prerequisiteMet,
  type StageApproval,
  stageSatisfied,
} from './stages.js';
import { HOUR_MS } from './time.js';

/**
 * The change lifecycle as a pure state machine over an append-only event log:
 * `decide(state, command, ctx)` returns the event to append (or a coded refusal) and
 * `applyEvent(state, event)` folds an event into the state. Persisting and side effects live elsewhere.
 *
 *   pending_approval ──approve (last stage)──▶ approved ──deployed──▶ deployed ──verified──▶ verified
 *        │   └─reject──▶ rejected                 │                       └──rolled back──▶ rolled_back
 *        └─cancel──▶ cancelled ◀──cancel──────────┘
 */

export const CHANGE_STATUSES = [
  'pending_approval',
  'approved',
  'rejected',
  'cancelled',
  'deployed',
  'verified',
  'rolled_back',
] as const;
export type ChangeStatus = (typeof CHANGE_STATUSES)[number];

export const DEPLOYMENT_STATUSES = ['started', 'succeeded', 'failed'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** JSON-safe form of a request, as stored inside the hashed `submitted` event. */
export interface SerializedRequest extends Omit<ChangeRequest, 'plannedStart' | 'plannedEnd'> {
  plannedStart: string | null;
  plannedEnd: string | null;
}

export interface Retrospective {
  whatChanged: string;
  why: string;
  approval: string;
  rootCause: string;
  preventable: string;
  followUps: string;
}

/**
 * Why a recorded deployment was not authorised: the gate's reasons, as stored in the audit trail
 * (`not_approved` also stands for rejected and cancelled changes, `freeze` for a freeze in force).
 */
export type UnauthorisedReason =
  | 'not_approved'
  | 'freeze'
  | 'already_deployed'
  | 'outside_window'
  | 'unverified_previous_deployment'
  | 'commit_required'
  | 'commit_mismatch'
  | 'audit_trail_broken'
  | 'not_a_deployer'
  | 'missing_prior_deployment'
  | 'outside_maintenance_window'
  | 'pull_request_rule';

const RECORDED_AS: Record<GateReasonCode, UnauthorisedReason> = {
  not_approved: 'not_approved',
  rejected: 'not_approved',
  cancelled: 'not_approved',
  rolled_back: 'already_deployed',
  already_deployed: 'already_deployed',
  outside_window: 'outside_window',
  frozen: 'freeze',
  unverified_previous_deployment: 'unverified_previous_deployment',
  commit_required: 'commit_required',
  commit_mismatch: 'commit_mismatch',
  audit_trail_broken: 'audit_trail_broken',
  missing_prior_deployment: 'missing_prior_deployment',
  outside_maintenance_window: 'outside_maintenance_window',
  pr_not_merged: 'pull_request_rule',
  pr_not_approved: 'pull_request_rule',
  pr_checks_failed: 'pull_request_rule',
};

/**
 * Reasons that mean what reached production was not this change as approved (an unapproved or
 * finished change, another commit, a history that does not verify): such a deployment is recorded
 * and flagged, but the change does not count as deployed.
 */
const NOT_THIS_CHANGE: ReadonlySet<UnauthorisedReason> = new Set([
  'not_approved',
  'already_deployed',
  'commit_required',
  'commit_mismatch',
  'audit_trail_broken',
]);

/**
 * Whether two deployment reports say the same thing (what a retry under one idempotency key must
 * do): environment, status, commit, pipeline run and named deployer.
 */
export function sameDeploymentReport(
  a: Extract<EventBody, { type: 'deployment_recorded' }>['data'],
  b: Extract<EventBody, { type: 'deployment_recorded' }>['data'],
): boolean {
  return (
    a.environment === b.environment &&
    a.status === b.status &&
    (a.commit ?? null) === (b.commit ?? null) &&
    (a.pipelineUrl ?? null) === (b.pipelineUrl ?? null) &&
    (a.deployedBy?.given ?? null) === (b.deployedBy?.given ?? null)
  );
}

/** Whether a production deployment with these reasons counts as the change being deployed. */
export function deploysTheChange(reasons: readonly UnauthorisedReason[]): boolean {
  return !reasons.some((r) => NOT_THIS_CHANGE.has(r));
}

export type EventBody =
  | GithubEventDraft
  | {
      type: 'submitted';
      data: {
        request: SerializedRequest;
        typeName: string;
        stages: PlannedStage[];
        emergency: boolean;
        retroDueHours: number | null;
        /** Roles that review the retrospective (absent: no review). */
        retroReviewers?: string[];
        /** Post-implementation review checkpoints (absent: none). */
        pir?: PirCheckpoint[];
        source: 'slack' | 'api';
        autoApproved: boolean;
        /** Raised through a pipeline token: its name and the admin who created it (absent from Slack). */
        raisedVia?: RaisedVia | null;
      };
    }
  | {
      type: 'stage_approved';
      data: {
        stageIndex: number;
        stage: string;
        stageName: string;
        comment: string;
        /** `eachOf` stages: the stage's roles the approver held when deciding. */
        roles?: string[];
        /** Decided as this approver's delegate (see domain/delegation.ts), under delegation `delegation`. */
        onBehalfOf?: string;
        delegation?: string;
        /** A board stage: the meeting it was decided at. */
        meeting?: string;
      };
    }
  | {
      /** A board stage's item put off to the board's next meeting (by a member, or unreached at the close). */
      type: 'board_deferred';
      data: { stageIndex: number; stage: string; stageName: string; meeting: string; reason: string };
    }
  | {
      type: 'rejected';
      data: {
        stageIndex: number;
        stage: string;
        stageName: string;
        reason: string;
        onBehalfOf?: string;
        delegation?: string;
        meeting?: string;
      };
    }
  | {
      type: 'approval_refused';
      data: { stageIndex: number; stage: string; action: 'approve' | 'reject'; code: DomainErrorCode };
    }
  | {
      /** One approval of an exception (to a freeze or a maintenance window, by name). */
      type: 'freeze_exception_granted';
      data: {
        freeze: string;
        reason: string;
        /** The risk note (required since policy v2). */
        risk?: string;
        /** `eachOf` exceptions: the roles the approver held. */
        roles?: string[];
        /** What the exception takes, as the policy said when this approval was given. */
        quorum?: number;
        eachOf?: string[];
      };
    }
  | { type: 'cancelled'; data: { reason: string } }
  | {
      type: 'deployment_recorded';
      data: {
        environment: string;
        status: DeploymentStatus;
        commit: string | null;
        pipelineUrl: string | null;
        source: 'slack' | 'api';
        production: boolean;
        unauthorised: boolean;
        reasons: UnauthorisedReason[];
        /** Who the pipeline says deployed (absent when it names nobody, and from Slack). */
        deployedBy?: { given: string; userId: string | null } | null;
      };
    }
  | { type: 'verified'; data: { outcome: 'ok' | 'rolled_back'; issues: string } }
  | { type: 'retro_submitted'; data: Retrospective }
  | { type: 'retro_reviewed'; data: { outcome: 'accepted' | 'questions'; note: string } }
  | { type: 'retro_answered'; data: { answer: string } }
  | {
      type: 'pir_answered';
      data: { checkpoint: number; name: string; answers: { question: string; answer: string }[] };
    }
  | { type: 'retro_overdue'; data: { dueAt: string } };

export type EventType = EventBody['type'];

/**
 * Where the review of a retrospective stands: `not_required` (the type asks none), `not_yet` (no
 * retrospective yet), `pending` (the reviewers' turn), `questions` (sent back: the requester's turn),
 * `accepted`.
 */
export interface RetroReview {
  reviewers: string[];
  status: 'not_required' | 'not_yet' | 'pending' | 'questions' | 'accepted';
  /** Since when it is in this status. */
  since: Date | null;
  history: { kind: 'accepted' | 'questions' | 'answer'; by: string; at: Date; text: string }[];
}

/** The pipeline token a change was raised through, and who created that token. */
export interface RaisedVia {
  token: string;
  tokenCreator: string;
}

/** The person a pipeline names as having deployed, as resolved in Slack. */
export interface NamedDeployer {
  /** As the pipeline gave it: a Slack user id or an e-mail address. */
  given: string;
  /** The Slack user it resolved to, or null. */
  userId: string | null;
  standing: Standing;
}

export type ChangeEvent = EventBody & {
  changeNumber: number;
  seq: number;
  slot: string;
  actor: string;
  at: Date;
  policyHash: string;
};

/** An event as stored: chained to the one before it by hash (see domain/audit.ts). */
export type StoredChangeEvent = ChangeEvent & { prevHash: string; hash: string; seal?: EventSeal | null };

/** Statuses of a change that is not finished. */
export const OPEN_STATUSES = [
  'pending_approval',
  'approved',
  'deployed',
] as const satisfies readonly ChangeStatus[];

/** What `decide` returns: the event body plus its uniqueness slot (null: the next free sequence number). */
export type EventDraft = EventBody & { slot: string | null };

export interface Decision {
  stageIndex: number;
  stage: string;
  stageName: string;
  outcome: 'approved' | 'rejected';
  by: string;
  at: Date;
  note: string;
  /** `eachOf` stages: the stage's roles the approver held when deciding. */
  roles: string[];
  /** Set when `by` decided as this approver's delegate. */
  onBehalfOf?: string;
  /** A board stage: the meeting it was decided at. */
  meeting?: string;
}

export interface Deployment {
  seq: number;
  environment: string;
  status: DeploymentStatus;
  production: boolean;
  at: Date;
  by: string;
  commit: string | null;
  pipelineUrl: string | null;
  source: 'slack' | 'api';
  unauthorised: boolean;
  reasons: UnauthorisedReason[];
}

export interface ChangeState {
  number: number;
  type: string;
  typeName: string;
  emergency: boolean;
  retroDueHours: number | null;
  requester: string;
  /** Set when a pipeline token raised the change: its creator counts as a requester too. */
  raisedVia: RaisedVia | null;
  request: ChangeRequest;
  source: 'slack' | 'api';
  policyHash: string;
  submittedAt: Date;
  status: ChangeStatus;
  stages: PlannedStage[];
  decisions: Decision[];
  /** Stages open for decisions now (parallel stages open together), with when each opened. */
  openStages: OpenStage[];
  /** The first open stage and when it opened (null: none open). */
  currentStage: number | null;
  stageStartedAt: Date | null;
  approvedAt: Date | null;
  /** Exceptions granted (their quorum met): `by` completed it; `approvedBy` lists everyone. */
  exceptions: { freeze: string; by: string; at: Date; reason: string; risk: string; approvedBy: string[] }[];
  /** Every approval of an exception, granted or still short of its quorum. */
  exceptionVotes: { freeze: string; by: string; at: Date; reason: string; risk: string; roles: string[] }[];
  deployments: Deployment[];
  deployedAt: Date | null;
  deployedBy: string | null;
  verification: { outcome: 'ok' | 'rolled_back'; by: string; at: Date; issues: string } | null;
  retro: {
    dueAt: Date | null;
    submittedAt: Date | null;
    by: string | null;
    answers: Retrospective | null;
    overdueFlaggedAt: Date | null;
  };
  /** The review of the retrospective by the type's reviewer roles (emergency changes). */
  retroReview: RetroReview;
  /** Post-implementation reviews: the checkpoints planned at submission and their answers. */
  pir: {
    checkpoints: PirCheckpoint[];
    answers: ({ by: string; at: Date; answers: { question: string; answer: string }[] } | null)[];
  };
  cancellation: { by: string; at: Date; reason: string } | null;
  /** Pull requests linked by the GitHub App, with their reviews, checks and merge (absent until the first). */
  pullRequests?: PullRequestEvidence[];
  /** Board stages put off at a meeting (absent until the first). */
  boardDeferrals?: { stageIndex: number; meeting: string; by: string; at: Date; reason: string }[];
  refusedAttempts: number;
  seq: number;
  updatedAt: Date;
}

export interface DecideContext {
  now: Date;
  policy: Policy;
  membership: Membership;
  /** Whether the change's event chain verifies (checked for deployments; assumed otherwise). */
  chainIntact?: boolean;
  /**
   * The acting person's standing in the workspace, for control decisions. The application always
   * resolves it; left out (pure tests), the actor counts as a member.
   */
  actorStanding?: Standing;
  /** Delegations to the acting person (those not running now are ignored). */
  delegations?: readonly Delegation[];
  /** Board meetings open now with this change on their agenda (a board stage is decided only there). */
  meetings?: readonly { id: string; board: string }[];
}

export type Command =
  | { kind: 'approve'; stageIndex: number; actor: string; comment?: string }
  | { kind: 'reject'; stageIndex: number; actor: string; reason: string }
  | { kind: 'grant_exception'; actor: string; freeze: string; reason: string; risk: string }
  | { kind: 'cancel'; actor: string; reason: string }
  | {
      kind: 'record_deployment';
      actor: string;
      environment: string;
      status: DeploymentStatus;
      commit: string | null;
      pipelineUrl: string | null;
      source: 'slack' | 'api';
      idempotencyKey: string | null;
      /** Pipelines: the person the report names as having deployed, resolved. */
      deployedBy?: NamedDeployer | null;
    }
  | { kind: 'verify'; actor: string; outcome: 'ok' | 'rolled_back'; issues: string }
  | { kind: 'submit_retro'; actor: string; answers: Retrospective }
  | { kind: 'review_retro'; actor: string; outcome: 'accepted' | 'questions'; note: string }
  | { kind: 'answer_review'; actor: string; answer: string }
  | { kind: 'answer_pir'; actor: string; checkpoint: number; answers: string[] }
  | { kind: 'flag_retro_overdue' }
  | { kind: 'defer_board'; actor: string; stageIndex: number; reason: string }
  /** Evidence from a GitHub webhook delivery (one slot per delivery, PR and kind: redeliveries add nothing). */
  | { kind: 'github'; actor: string; delivery: string; event: GithubEventDraft }
  /** At a meeting's close: what it did not reach rolls over (recorded by Changegate). */
  | { kind: 'roll_over_board'; stageIndex: number; meeting: string };

// ---------------------------------------------------------------------------------------------
// Serialisation of the request inside the hashed event

export function serializeRequest(r: ChangeRequest): SerializedRequest {
  return {
    ...r,
    plannedStart: r.plannedStart ? r.plannedStart.toISOString() : null,
    plannedEnd: r.plannedEnd ? r.plannedEnd.toISOString() : null,
  };
}

/** Keys whose values are dates in a serialised ChangeState. */
const STATE_DATE_KEYS = new Set([
  'submittedAt',
  'approvedAt',
  'deployedAt',
  'stageStartedAt',
  'updatedAt',
  'at',
  'dueAt',
  'overdueFlaggedAt',
  'plannedStart',
  'plannedEnd',
  'since',
]);

/** A ChangeState as JSON (dates as ISO strings), e.g. for a cached projection. */
export function stateToJson(s: ChangeState): string {
  return JSON.stringify(s);
}

export function stateFromJson(text: string): ChangeState {
  const s = JSON.parse(text, (key, value: unknown) =>
    STATE_DATE_KEYS.has(key) && typeof value === 'string' ? new Date(value) : value,
  ) as ChangeState;
  // Saved by a version before parallel stages and quorums.
  s.stages = s.stages.map(normalizePlannedStage);
  s.decisions = s.decisions.map((d) => ({ ...d, roles: d.roles ?? [] }));
  s.exceptionVotes ??= [];
  s.retroReview ??= { reviewers: [], status: 'not_required', since: null, history: [] };
  s.pir ??= { checkpoints: [], answers: [] };
  s.request.fields ??= {};
  s.exceptions = s.exceptions.map((x) => ({ ...x, risk: x.risk ?? '', approvedBy: x.approvedBy ?? [x.by] }));
  s.openStages ??=
    s.currentStage === null ? [] : [{ index: s.currentStage, since: s.stageStartedAt ?? s.submittedAt }];
  return s;
}

export function deserializeRequest(r: SerializedRequest): ChangeRequest {
  return {
    ...r,
    commit: r.commit ?? null, // requests recorded before changes could name a commit
    fields: r.fields ?? {}, // …or the policy declared fields
    plannedStart: r.plannedStart ? new Date(r.plannedStart) : null,
    plannedEnd: r.plannedEnd ? new Date(r.plannedEnd) : null,
  };
}

/** The `submitted` event for a new change. */
export function submissionDraft(
  policy: Policy,
  request: ChangeRequest,
  source: 'slack' | 'api',
  raisedVia: RaisedVia | null = null,
): EventDraft {
  const type = policy.types[request.type];
  const stages = planStages(policy, request);
  return {
    type: 'submitted',
    slot: 'submitted',
    data: {
      request: serializeRequest(request),
      typeName: type?.name ?? request.type,
      stages,
      emergency: type?.form === 'emergency',
      retroDueHours: type?.retrospectiveDueHours ?? null,
      ...(type?.retrospectiveReviewers.length ? { retroReviewers: type.retrospectiveReviewers } : {}),
      ...(type?.postImplementationReviews.length ? { pir: type.postImplementationReviews } : {}),
      source,
      autoApproved: stages.length === 0,
      ...(raisedVia ? { raisedVia } : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Folding events into state

export function applyEvent(state: ChangeState | null, e: ChangeEvent): ChangeState {
  if (e.type === 'submitted') {
    const d = e.data;
    const stages = d.stages.map(normalizePlannedStage);
    const open = d.autoApproved ? [] : openStages(stages, () => [], new Set(), [], e.at);
    return {
      number: e.changeNumber,
      type: d.request.type,
      typeName: d.typeName,
      emergency: d.emergency,
      retroDueHours: d.retroDueHours,
      requester: e.actor,
      raisedVia: d.raisedVia ?? null,
      request: deserializeRequest(d.request),
      source: d.source,
      policyHash: e.policyHash,
      submittedAt: e.at,
      status: d.autoApproved ? 'approved' : 'pending_approval',
      stages,
      decisions: [],
      openStages: open,
      currentStage: open[0]?.index ?? null,
      stageStartedAt: open[0]?.since ?? null,
      approvedAt: d.autoApproved ? e.at : null,
      exceptions: [],
      exceptionVotes: [],
      deployments: [],
      deployedAt: null,
      deployedBy: null,
      verification: null,
      retro: { dueAt: null, submittedAt: null, by: null, answers: null, overdueFlaggedAt: null },
      pir: { checkpoints: d.pir ?? [], answers: (d.pir ?? []).map(() => null) },
      retroReview: {
        reviewers: d.retroReviewers ?? [],
        status: d.retroReviewers?.length ? 'not_yet' : 'not_required',
        since: null,
        history: [],
      },
      cancellation: null,
      refusedAttempts: 0,
      seq: e.seq,
      updatedAt: e.at,
    };
  }
  if (!state) throw new Error(`event ${e.type} (seq ${e.seq}) before the change was submitted`);
  const s: ChangeState = { ...state, seq: e.seq, updatedAt: e.at };
  switch (e.type) {
    case 'stage_approved': {
      s.decisions = [
        ...s.decisions,
        {
          stageIndex: e.data.stageIndex,
          stage: e.data.stage,
          stageName: e.data.stageName,
          outcome: 'approved',
          by: e.actor,
          at: e.at,
          note: e.data.comment,
          roles: e.data.roles ?? [],
          ...(e.data.onBehalfOf ? { onBehalfOf: e.data.onBehalfOf } : {}),
          ...(e.data.meeting ? { meeting: e.data.meeting } : {}),
        },
      ];
      return withOpenStages(s, e.at);
    }
    case 'pr_linked':
    case 'pr_head':
    case 'pr_review':
    case 'pr_checks':
    case 'pr_merged':
    case 'pr_unlinked':
      s.pullRequests = applyGithubEvent(s.pullRequests ?? [], e, e.at);
      return s;
    case 'board_deferred': {
      const { stageIndex, meeting, reason } = e.data;
      s.boardDeferrals = [
        ...(s.boardDeferrals ?? []),
        { stageIndex, meeting, by: e.actor, at: e.at, reason },
      ];
      return s;
    }
    case 'rejected':
      s.decisions = [
        ...s.decisions,
        {
          stageIndex: e.data.stageIndex,
          stage: e.data.stage,
          stageName: e.data.stageName,
          outcome: 'rejected',
          by: e.actor,
          at: e.at,
          note: e.data.reason,
          roles: [],
          ...(e.data.onBehalfOf ? { onBehalfOf: e.data.onBehalfOf } : {}),
          ...(e.data.meeting ? { meeting: e.data.meeting } : {}),
        },
      ];
      s.status = 'rejected';
      return closeStages(s);
    case 'approval_refused':
      s.refusedAttempts += 1;
      return s;
    case 'freeze_exception_granted': {
      const d = e.data;
      const vote = {
        freeze: d.freeze,
        by: e.actor,
        at: e.at,
        reason: d.reason,
        risk: d.risk ?? '',
        roles: d.roles ?? [],
      };
      s.exceptionVotes = [...s.exceptionVotes, vote];
      const votes = s.exceptionVotes.filter((v) => v.freeze === d.freeze);
      if (!s.exceptions.some((x) => x.freeze === d.freeze) && stageSatisfied(exceptionSeat(d), votes)) {
        s.exceptions = [...s.exceptions, { ...vote, approvedBy: votes.map((v) => v.by) }];
      }
      return s;
    }
    case 'cancelled':
      s.status = 'cancelled';
      closeStages(s);
      s.cancellation = { by: e.actor, at: e.at, reason: e.data.reason };
      return s;
    case 'deployment_recorded': {
      const d = e.data;
      s.deployments = [
        ...s.deployments,
        {
          seq: e.seq,
          environment: d.environment,
          status: d.status,
          production: d.production,
          at: e.at,
          by: e.actor,
          commit: d.commit,
          pipelineUrl: d.pipelineUrl,
          source: d.source,
          unauthorised: d.unauthorised,
          reasons: d.reasons,
        },
      ];
      if (d.production && d.status === 'succeeded' && deploysTheChange(d.reasons)) {
        s.status = 'deployed';
        s.deployedAt = e.at;
        // The person who deployed (named by the pipeline) is asked to verify; else whoever recorded it.
        s.deployedBy = d.deployedBy?.userId ?? e.actor;
        s.verification = null;
        if (s.retroDueHours !== null && s.retro.dueAt === null) {
          s.retro = { ...s.retro, dueAt: new Date(e.at.getTime() + s.retroDueHours * HOUR_MS) };
        }
      }
      // A deployment to staging may be what a stage waits for.
      return s.status === 'pending_approval' ? withOpenStages(s, e.at) : s;
    }
    case 'verified':
      s.status = e.data.outcome === 'ok' ? 'verified' : 'rolled_back';
      s.verification = { outcome: e.data.outcome, by: e.actor, at: e.at, issues: e.data.issues };
      return s;
    case 'retro_submitted':
      s.retro = { ...s.retro, submittedAt: e.at, by: e.actor, answers: e.data };
      if (s.retroReview.status === 'not_yet')
        s.retroReview = { ...s.retroReview, status: 'pending', since: e.at };
      return s;
    case 'retro_reviewed':
      s.retroReview = {
        ...s.retroReview,
        status: e.data.outcome === 'accepted' ? 'accepted' : 'questions',
        since: e.at,
        history: [
          ...s.retroReview.history,
          { kind: e.data.outcome, by: e.actor, at: e.at, text: e.data.note },
        ],
      };
      return s;
    case 'pir_answered': {
      const answers = [...s.pir.answers];
      answers[e.data.checkpoint] = { by: e.actor, at: e.at, answers: e.data.answers };
      s.pir = { ...s.pir, answers };
      return s;
    }
    case 'retro_answered':
      s.retroReview = {
        ...s.retroReview,
        status: 'pending',
        since: e.at,
        history: [...s.retroReview.history, { kind: 'answer', by: e.actor, at: e.at, text: e.data.answer }],
      };
      return s;
    case 'retro_overdue':
      s.retro = { ...s.retro, overdueFlaggedAt: e.at };
      return s;
  }
}

/** An exception's approval rule as a stage (for the quorum and per-role rules the stages use). */
function exceptionSeat(rule: { quorum?: number; eachOf?: string[] }): PlannedStage {
  return normalizePlannedStage(
    {
      key: 'exception',
      name: 'Exception',
      approvers: { anyone: false, roles: [], users: [], groups: [], eachOf: rule.eachOf ?? [] },
      marksStagingTested: false,
      quorum: rule.quorum ?? 1,
    },
    0,
  );
}

function closeStages(s: ChangeState): ChangeState {
  s.openStages = [];
  s.currentStage = null;
  s.stageStartedAt = null;
  return s;
}

/** The approvals given on one stage so far. */
export function stageApprovals(s: Pick<ChangeState, 'decisions'>, index: number): StageApproval[] {
  return s.decisions
    .filter((d) => d.stageIndex === index && d.outcome === 'approved')
    .map((d) => ({ by: d.by, roles: d.roles }));
}

/** Environments the change has reached: a successful deployment there that was this change. */
export function reachedEnvironments(s: Pick<ChangeState, 'deployments'>): Set<string> {
  return new Set(
    s.deployments
      .filter((d) => d.status === 'succeeded' && deploysTheChange(d.reasons))
      .map((d) => d.environment.toLowerCase()),
  );
}

/** Re-derives which stages are open after a decision or deployment; all approved: the change is. */
function withOpenStages(s: ChangeState, at: Date): ChangeState {
  const approvalsOf = (i: number) => stageApprovals(s, i);
  if (currentStep(s.stages, approvalsOf) === null) {
    s.status = 'approved';
    s.approvedAt = at;
    return closeStages(s);
  }
  s.openStages = openStages(s.stages, approvalsOf, reachedEnvironments(s), s.openStages, at);
  s.currentStage = s.openStages[0]?.index ?? null;
  s.stageStartedAt = s.openStages[0]?.since ?? null;
  return s;
}

export function foldEvents(events: readonly ChangeEvent[]): ChangeState | null {
  let state: ChangeState | null = null;
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) state = applyEvent(state, e);
  return state;
}

// ---------------------------------------------------------------------------------------------
// Queries on state

export function isTerminal(s: ChangeState): boolean {
  return (
    s.status === 'rejected' ||
    s.status === 'cancelled' ||
    s.status === 'verified' ||
    s.status === 'rolled_back'
  );
}

export function currentStage(s: ChangeState): PlannedStage | null {
  return s.currentStage === null ? null : (s.stages[s.currentStage] ?? null);
}

/** The window the change plans to run in, or the instant `now` when it has none. */
export function plannedInterval(s: Pick<ChangeState, 'request'>, now: Date): [Date, Date] {
  const start = s.request.plannedStart ?? now;
  const end = s.request.plannedEnd ?? start;
  return [start, end];
}

/**
 * Freezes that stand between this change and production: in force now, or over its planned window,
 * for its type and systems, without an exception (names, once each). Approving is never frozen.
 */
export function freezesBlockingDeployment(s: ChangeState, policy: Policy, now: Date): string[] {
  const [from, to] = plannedInterval(s, now);
  const scope = { systems: s.request.systems };
  const blocking = [
    ...unexcusedFreezes(s, policy, from, to, scope),
    ...unexcusedFreezes(s, policy, now, now, scope),
  ];
  return [...new Set(blocking.map((f) => f.name))];
}

/** What a change may be granted an exception to now: freezes in its way, and maintenance windows that govern it. */
export function exceptionOptions(s: ChangeState, policy: Policy, now: Date): string[] {
  if (s.status !== 'pending_approval' && s.status !== 'approved') return [];
  const windows = applicableMaintenanceWindows(policy, s.type, {
    environment: policy.productionEnvironments[0]!,
    systems: s.request.systems,
  })
    .map((w) => w.name)
    .filter((n) => !s.exceptions.some((x) => x.freeze === n));
  return [...freezesBlockingDeployment(s, policy, now), ...windows];
}

/** The freeze or maintenance window named, when it restricts this change's type (and systems). */
function exceptionTarget(
  policy: Policy,
  s: ChangeState,
  name: string,
): { name: string; spec: ExceptionSpec } | null {
  const freeze = policy.freezes.find((f) => f.name === name);
  if (freeze) return freeze.blocks.includes(s.type) ? { name, spec: freeze.exception } : null;
  const window = applicableMaintenanceWindows(policy, s.type, {
    environment: policy.productionEnvironments[0]!,
    systems: s.request.systems,
  }).find((w) => w.name === name);
  return window ? { name, spec: window.exception } : null;
}

/** Who an approver spec names, in words ("cto or security", "each of head and security officer"). */
export function describeApprovers(spec: ApproverSpec): string {
  if (spec.eachOf.length) return `each of ${spec.eachOf.join(' and ')}`;
  const names = [
    ...spec.roles,
    ...spec.users.map((u) => `<@${u}>`),
    ...spec.groups.map((g) => `<!subteam^${g}>`),
  ];
  return names.length ? names.join(' or ') : 'nobody (the policy names no one)';
}

export type StageStatus = 'approved' | 'rejected' | 'current' | 'blocked' | 'waiting' | 'skipped';

export interface StageProgress {
  index: number;
  key: string;
  name: string;
  step: number;
  status: StageStatus;
  /** The deciding decision: the rejection, else the approval that met the quorum (or the last). */
  decision: Decision | null;
  /** Every decision on the stage, in order. */
  decisions: Decision[];
  approvals: number;
  needed: number;
  /** `eachOf` stages: roles still without an approval. */
  missingRoles: string[];
  /** What the stage waits for before it opens (`blocked`). */
  after: PlannedStage['after'];
}

/** Where each planned stage stands, with its decisions and how many approvals it still needs. */
export function stageProgress(s: ChangeState): StageProgress[] {
  const approvalsOf = (i: number) => stageApprovals(s, i);
  const step = s.status === 'pending_approval' ? currentStep(s.stages, approvalsOf) : null;
  return s.stages.map((stage, index) => {
    const decisions = s.decisions.filter((d) => d.stageIndex === index);
    const rejection = decisions.find((d) => d.outcome === 'rejected') ?? null;
    const approvals = approvalsOf(index);
    const satisfied = stageSatisfied(stage, approvals);
    const status: StageStatus = rejection
      ? 'rejected'
      : satisfied
        ? 'approved'
        : s.status !== 'pending_approval'
          ? 'skipped'
          : s.openStages.some((o) => o.index === index)
            ? 'current'
            : stage.step === step
              ? 'blocked'
              : 'waiting';
    return {
      index,
      key: stage.key,
      name: stage.name,
      step: stage.step,
      status,
      decision: rejection ?? decisions.filter((d) => d.outcome === 'approved').at(-1) ?? null,
      decisions,
      approvals: approvalsCounted(stage, approvals),
      needed: approvalsNeeded(stage),
      missingRoles: stage.approvers.eachOf.length ? missingRoles(stage, approvals) : [],
      after: stage.after,
    };
  });
}

/** The stages open for decisions now. */
export function openStageList(s: ChangeState): { index: number; stage: PlannedStage; since: Date }[] {
  if (s.status !== 'pending_approval') return [];
  return s.openStages.flatMap((o) => {
    const stage = s.stages[o.index];
    return stage ? [{ index: o.index, stage, since: o.since }] : [];
  });
}

/** Stages whose step is reached but which wait for a deployment first, with the environment. */
export function blockedStages(s: ChangeState): { index: number; stage: PlannedStage; environment: string }[] {
  return stageProgress(s).flatMap((p) => {
    const stage = s.stages[p.index];
    return p.status === 'blocked' && stage?.after
      ? [{ index: p.index, stage, environment: stage.after.deployedTo }]
      : [];
  });
}

/** The most a free-text answer (a verification's issues, a retrospective answer) may hold. */
export const ANSWER_MAX = 2000;

/** The retrospective's answers, in order; the first five are required (see retroProblems). */
export const RETRO_FIELDS = [
  'whatChanged',
  'why',
  'approval',
  'rootCause',
  'preventable',
  'followUps',
] as const;
const RETRO_REQUIRED: ReadonlySet<keyof Retrospective> = new Set([
  'whatChanged',
  'why',
  'approval',
  'rootCause',
  'preventable',
]);

/**
 * What is missing or too long in a retrospective: what changed, why, the approval received, the root
 * cause and whether it could have been prevented are required (the seeds' retrospective and
 * post-implementation review); follow-ups are optional.
 */
export function retroProblems(
  a: Retrospective,
): { field: keyof Retrospective; problem: 'required' | 'too_long' }[] {
  const out: { field: keyof Retrospective; problem: 'required' | 'too_long' }[] = [];
  for (const field of RETRO_FIELDS) {
    if (RETRO_REQUIRED.has(field) && !required(a[field])) out.push({ field, problem: 'required' });
    else if (a[field].length > ANSWER_MAX) out.push({ field, problem: 'too_long' });
  }
  return out;
}

export function stagingTested(s: ChangeState): StagingTested | null {
  const qa = s.decisions.find((d) => d.outcome === 'approved' && s.stages[d.stageIndex]?.marksStagingTested);
  if (qa) return 'yes';
  return s.request.stagingTested;
}

export function retroState(
  s: ChangeState,
  now: Date,
): 'not_required' | 'not_due_yet' | 'pending' | 'overdue' | 'on_time' | 'late' {
  if (s.retroDueHours === null) return 'not_required';
  const due = s.retro.dueAt;
  if (!due) return 'not_due_yet';
  if (s.retro.submittedAt) return s.retro.submittedAt <= due ? 'on_time' : 'late';
  return now > due ? 'overdue' : 'pending';
}

/** When post-implementation review `i` is due: its hours after a successful verification (null: not yet). */
export function pirDueAt(s: Pick<ChangeState, 'pir' | 'verification'>, i: number): Date | null {
  const cp = s.pir.checkpoints[i];
  if (!cp || s.verification?.outcome !== 'ok') return null;
  return new Date(s.verification.at.getTime() + cp.afterHours * HOUR_MS);
}

/** The earliest unanswered post-implementation review and when it is due (null: none owed). */
export function nextPir(s: Pick<ChangeState, 'pir' | 'verification'>): { index: number; dueAt: Date } | null {
  for (let i = 0; i < s.pir.checkpoints.length; i++) {
    if (s.pir.answers[i]) continue;
    const dueAt = pirDueAt(s, i);
    if (dueAt) return { index: i, dueAt };
  }
  return null;
}

/** A short sentence of what the change waits for, for App Home and lists. */
export function waitingFor(s: ChangeState, now: Date): string {
  switch (s.status) {
    case 'pending_approval': {
      const open = openStageList(s);
      if (open.length > 0) return open.map((o) => o.stage.name).join(' and ');
      const blocked = blockedStages(s)[0];
      return blocked ? `a deployment to ${blocked.environment} (before ${blocked.stage.name})` : 'approval';
    }
    case 'approved':
      return 'deployment';
    case 'deployed':
      return 'post-deployment verification';
    default: {
      const r = retroState(s, now);
      if (r === 'pending' || r === 'overdue')
        return r === 'overdue' ? 'retrospective (overdue)' : 'retrospective';
      if (s.retroReview.status === 'pending') return 'retrospective review';
      if (s.retroReview.status === 'questions') return 'answers to the retrospective review';
      const pir = nextPir(s);
      if (pir)
        return `the ${s.pir.checkpoints[pir.index]!.name} review${now >= pir.dueAt ? '' : ` (due ${pir.dueAt.toISOString().slice(0, 16).replace('T', ' ')} UTC)`}`;
      return 'nothing';
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Deciding commands

const REFUSALS_TO_RECORD: ReadonlySet<DomainErrorCode> = new Set([
  'SELF_APPROVAL_FORBIDDEN',
  'NOT_AN_APPROVER',
  'SEPARATION_OF_DUTIES',
  'FROZEN',
  'ACTOR_NOT_ELIGIBLE',
  'BOARD_MEETING_REQUIRED',
]);

/**
 * Refusals worth an `approval_refused` entry in the audit trail: someone tried and was not allowed
 * (not: their account could not be checked because Slack was away).
 */
export function isRecordedRefusal(error: DomainError): boolean {
  return REFUSALS_TO_RECORD.has(error.code) && error.details?.standing !== 'unverifiable';
}

/**
 * Refusals of an approval or rejection that no later event can undo (who raised the change, who may
 * approve a planned stage, decisions taken and a status left behind only ever stay so). Decided on a
 * change's record, which may lag behind its log, such a refusal is still right; any other outcome is
 * decided again on the log.
 */
const FINAL_REFUSALS: ReadonlySet<DomainErrorCode> = new Set([
  'SELF_APPROVAL_FORBIDDEN',
  'ACTOR_NOT_ELIGIBLE',
  'NOT_AN_APPROVER',
  'SEPARATION_OF_DUTIES',
  'ALREADY_DECIDED_STAGE',
  'NOT_PENDING',
  'REASON_REQUIRED',
]);

export function isFinalRefusal(code: DomainErrorCode): boolean {
  return FINAL_REFUSALS.has(code);
}

/** The slot of a recorded refusal: one entry per person, stage, action and reason. */
export function refusalSlot(
  stageIndex: number,
  action: 'approve' | 'reject',
  actor: string,
  code: DomainErrorCode,
) {
  return `refused:${stageIndex}:${action}:${actor}:${code}`;
}

function alreadyDecided(d: Decision, mine: boolean): { ok: false; error: DomainError } {
  return fail(
    'ALREADY_DECIDED_STAGE',
    mine ? `You already ${d.outcome} ${d.stageName}.` : `${d.stageName} was already ${d.outcome}.`,
    { by: d.by, outcome: d.outcome, stage: d.stageName },
  );
}

/**
 * Whether `actor` may decide stage `stageIndex` now. Approving also needs the approval to count
 * (`approving`): for an `eachOf` stage, the actor must hold a role no approval fills yet.
 */
function checkApprover(
  s: ChangeState,
  stageIndex: number,
  actor: string,
  ctx: DecideContext,
  approving: boolean,
): Result<{ stage: PlannedStage; roles: string[]; via: Delegation | null; meeting: string | null }> {
  const stage = s.stages[stageIndex];
  // Deciding in one's own right, or as the delegate of an approver of this stage (their own
  // authority only: delegation does not chain; and never for the change's requester).
  const direct = !!stage && matchesApproverSpec(ctx.policy, ctx.membership, stage.approvers, actor);
  const via =
    stage && !direct
      ? ((ctx.delegations ?? []).find(
          (d) =>
            d.to === actor &&
            isActive(d, ctx.now) &&
            !ownership(s, d.from) &&
            matchesApproverSpec(ctx.policy, ctx.membership, stage.approvers, d.from),
        ) ?? null)
      : null;
  // Separation of duties counts people: a delegate's decision uses up both of them.
  const people = via ? [actor, via.from] : [actor];
  const involves = (d: Decision) => people.some((p) => p === d.by || p === d.onBehalfOf);
  const mine = s.decisions.find((d) => d.stageIndex === stageIndex && involves(d));
  if (mine) return alreadyDecided(mine, mine.by === actor);
  const approvals = stageApprovals(s, stageIndex);
  const rejection = s.decisions.find((d) => d.stageIndex === stageIndex && d.outcome === 'rejected');
  if (rejection) return alreadyDecided(rejection, false);
  if (stage && stageSatisfied(stage, approvals)) {
    const last = s.decisions.filter((d) => d.stageIndex === stageIndex).at(-1);
    if (last) return alreadyDecided(last, false);
  }
  if (!stage) return fail('STAGE_NOT_CURRENT', 'That stage is not part of this change.');
  if (s.status !== 'pending_approval') {
    return fail(
      'NOT_PENDING',
      `This change is ${s.status.replace('_', ' ')}, so it no longer takes decisions.`,
      { status: s.status },
    );
  }
  if (!s.openStages.some((o) => o.index === stageIndex)) {
    const step = currentStep(s.stages, (i) => stageApprovals(s, i));
    if (stage.step === step && !prerequisiteMet(stage, reachedEnvironments(s)) && stage.after) {
      return fail(
        'PREREQUISITE_PENDING',
        `${stage.name} opens once a successful deployment to ${stage.after.deployedTo} is recorded.`,
        { stage: stage.name, environment: stage.after.deployedTo },
      );
    }
    return fail(
      'STAGE_NOT_CURRENT',
      `That stage is not open yet: the change is waiting for ${waitingFor(s, ctx.now)}.`,
    );
  }
  const own = ownership(s, actor);
  if (own) {
    return fail(
      'SELF_APPROVAL_FORBIDDEN',
      own === 'requester'
        ? 'You raised this change, so you cannot approve or reject it yourself (separation of duties).'
        : 'You created the pipeline token that raised this change, so you cannot approve or reject it (separation of duties).',
    );
  }
  if (!direct && !via) {
    const forRequester = (ctx.delegations ?? []).some(
      (d) => d.to === actor && isActive(d, ctx.now) && ownership(s, d.from),
    );
    return fail(
      'NOT_AN_APPROVER',
      forRequester
        ? `You decide for the requester while they are away, and nobody decides on their own change (separation of duties); you are not an approver for the ${stage.name} stage yourself.`
        : `You are not an approver for the ${stage.name} stage.`,
      { stage: stage.name },
    );
  }
  if (ctx.policy.separationOfDuties.oneStagePerPerson) {
    const earlier = s.decisions.find((d) => involves(d) && d.stageIndex !== stageIndex);
    if (earlier) {
      const who = earlier.by === actor || earlier.onBehalfOf === actor ? 'You' : `<@${via!.from}>`;
      return fail(
        'SEPARATION_OF_DUTIES',
        `${who} already signed off ${earlier.stageName} on this change; another person must decide ${stage.name}.`,
        { stage: stage.name, earlier: earlier.stageName },
      );
    }
  }
  const authority = via ? via.from : actor;
  const roles = stage.approvers.eachOf.filter((r) => isInRoles(ctx.policy, ctx.membership, authority, [r]));
  if (approving && roles.length > 0 && !approvalWouldCount(stage, approvals, { by: authority, roles })) {
    const open = missingRoles(stage, approvals);
    return fail(
      'ROLE_ALREADY_SIGNED',
      `${stage.name} needs one approval from each of ${stage.approvers.eachOf.join(', ')}; your role is already signed for, and it still needs ${open.join(' and ')}.`,
      { stage: stage.name, missing: open },
    );
  }
  // A board stage is decided at a meeting of its board that has the change on its agenda.
  let meeting: string | null = null;
  if (stage.board) {
    meeting = (ctx.meetings ?? []).find((m) => m.board === stage.board)?.id ?? null;
    if (!meeting)
      return fail(
        'BOARD_MEETING_REQUIRED',
        `${stage.name} is decided at a meeting of the board, where this change is on the agenda; not before.`,
        { stage: stage.name, board: stage.board },
      );
  }
  return ok({ stage, roles, via, meeting });
}

/**
 * Whether `actor` stands behind the change as its requester, or as the creator of the pipeline
 * token that raised it: either way they may not decide on it (separation of duties).
 */
function ownership(s: ChangeState, actor: string): 'requester' | 'token_creator' | null {
  if (actor === s.requester) return 'requester';
  if (s.raisedVia && actor === s.raisedVia.tokenCreator) return 'token_creator';
  return null;
}

/**
 * Who may deploy (RBAC): to production, when the policy names deployers, only their members;
 * otherwise (and to other environments) the requester, the change's approvers, earlier deployers,
 * deployers and admins.
 */
function mayDeploy(s: ChangeState, actor: string, ctx: DecideContext, production: boolean): boolean {
  const deployers = ctx.policy.access.deployers;
  if (production && deployers.length > 0) return isInRoles(ctx.policy, ctx.membership, actor, deployers);
  return canOperate(s, actor, ctx);
}

/**
 * A pipeline names who deployed: an active, full member, and to production one of the policy's
 * deployers when it names any. (A pipeline that names nobody deploys as its token, which an admin
 * created for these environments.)
 */
function namedDeployerAllowed(named: NamedDeployer, ctx: DecideContext, production: boolean): boolean {
  if (named.standing !== 'member' || !named.userId) return false;
  const deployers = ctx.policy.access.deployers;
  return (
    !production || deployers.length === 0 || isInRoles(ctx.policy, ctx.membership, named.userId, deployers)
  );
}

/** Commands that are control decisions: only active, full members of the workspace may take them. */
export function isControlDecision(cmd: Command): boolean {
  return (
    cmd.kind === 'approve' ||
    cmd.kind === 'reject' ||
    cmd.kind === 'defer_board' ||
    cmd.kind === 'grant_exception' ||
    cmd.kind === 'verify' ||
    cmd.kind === 'review_retro' ||
    (cmd.kind === 'record_deployment' && cmd.source === 'slack')
  );
}

function canOperate(s: ChangeState, actor: string, ctx: DecideContext): boolean {
  if (actor === s.requester) return true;
  if (s.decisions.some((d) => d.by === actor)) return true;
  if (s.deployments.some((d) => d.by === actor)) return true;
  return isInRoles(ctx.policy, ctx.membership, actor, [
    ...ctx.policy.access.deployers,
    ...ctx.policy.access.admins,
  ]);
}

function required(text: string): boolean {
  return text.trim().length > 0;
}

/**
 * A deployment recorded by a person in Slack must be allowed: the first blocker, as a coded refusal
 * (state first, then who is recording it, then freezes, windows and commits).
 */
function slackDeploymentRefusal(
  s: ChangeState,
  blockers: readonly { code: GateReasonCode; message: string }[],
  actor: string,
  production: boolean,
  ctx: DecideContext,
): { ok: false; error: DomainError } | null {
  const has = (code: GateReasonCode) => blockers.find((b) => b.code === code);
  const broken = has('audit_trail_broken');
  if (broken) return fail('AUDIT_TRAIL_BROKEN', broken.message);
  if (has('not_approved'))
    return fail('INVALID_STATE', 'This change is not approved yet, so its deployment cannot be recorded.');
  if (has('rejected') || has('cancelled') || has('unverified_previous_deployment'))
    return fail(
      'INVALID_STATE',
      `This change is ${s.status.replace('_', ' ')}; a deployment can only be recorded for an approved change.`,
    );
  const finished = has('already_deployed');
  if (finished) return fail('ALREADY_DEPLOYED', finished.message);
  if (!mayDeploy(s, actor, ctx, production)) {
    const deployers = ctx.policy.access.deployers;
    return production && deployers.length > 0
      ? fail(
          'NOT_A_DEPLOYER',
          `Production deployments are restricted to the policy's deployers (${deployers.join(', ')}).`,
          { roles: deployers },
        )
      : fail(
          'NOT_ALLOWED',
          'Only the requester, an approver of this change or a deployer can record its deployment.',
        );
  }
  const frozen = has('frozen');
  if (frozen) return fail('FROZEN', `${frozen.message} An exception is needed.`);
  for (const [code, domain] of [
    ['commit_mismatch', 'COMMIT_MISMATCH'],
    ['commit_required', 'COMMIT_REQUIRED'],
    ['outside_window', 'OUTSIDE_WINDOW'],
    ['missing_prior_deployment', 'MISSING_PRIOR_DEPLOYMENT'],
    ['outside_maintenance_window', 'OUTSIDE_MAINTENANCE_WINDOW'],
  ] as const) {
    const b = has(code);
    if (b) return fail(domain, b.message);
  }
  return null;
}

export function decide(s: ChangeState, cmd: Command, ctx: DecideContext): Result<EventDraft> {
  if (isControlDecision(cmd)) {
    const problem = standingProblem(ctx.actorStanding ?? 'member');
    if (problem) return fail('ACTOR_NOT_ELIGIBLE', problem, { standing: ctx.actorStanding });
  }
  switch (cmd.kind) {
    case 'approve': {
      const checked = checkApprover(s, cmd.stageIndex, cmd.actor, ctx, true);
      if (!checked.ok) return checked;
      const { stage, roles, via, meeting } = checked.value;
      return ok({
        type: 'stage_approved',
        // A delegate's decision takes the seat of the approver they stand in for.
        slot: decisionSlot(stage, cmd.stageIndex, via ? via.from : cmd.actor),
        data: {
          stageIndex: cmd.stageIndex,
          stage: stage.key,
          stageName: stage.name,
          comment: cmd.comment?.trim() ?? '',
          ...(stage.approvers.eachOf.length > 0 ? { roles } : {}),
          ...(via ? { onBehalfOf: via.from, delegation: via.id } : {}),
          ...(meeting ? { meeting } : {}),
        },
      });
    }
    case 'reject': {
      const checked = checkApprover(s, cmd.stageIndex, cmd.actor, ctx, false);
      if (!checked.ok) return checked;
      const { stage, via, meeting } = checked.value;
      if (!required(cmd.reason)) return fail('REASON_REQUIRED', 'Please give a reason for the rejection.');
      return ok({
        type: 'rejected',
        slot: decisionSlot(stage, cmd.stageIndex, via ? via.from : cmd.actor),
        data: {
          stageIndex: cmd.stageIndex,
          stage: stage.key,
          stageName: stage.name,
          reason: cmd.reason.trim(),
          ...(via ? { onBehalfOf: via.from, delegation: via.id } : {}),
          ...(meeting ? { meeting } : {}),
        },
      });
    }
    case 'defer_board': {
      // A member defers the item to the next meeting: the same rights as deciding it there.
      const checked = checkApprover(s, cmd.stageIndex, cmd.actor, ctx, false);
      if (!checked.ok) return checked;
      const { stage, meeting } = checked.value;
      if (!meeting) return fail('INVALID_STATE', `${stage.name} is not decided at a board meeting.`);
      return ok({
        type: 'board_deferred',
        slot: `deferred:${cmd.stageIndex}:${meeting}`,
        data: {
          stageIndex: cmd.stageIndex,
          stage: stage.key,
          stageName: stage.name,
          meeting,
          reason: cmd.reason.trim() || 'deferred to the next meeting',
        },
      });
    }
    case 'github': {
      const e = cmd.event;
      const linked = (s.pullRequests ?? []).some((p) => p.url === e.data.url);
      if (e.type === 'pr_linked' && linked) return fail('CONFLICT', 'That pull request is linked already.');
      if (e.type !== 'pr_linked' && !linked)
        return fail('NOT_FOUND', 'That pull request is not linked to this change.');
      return ok({ ...e, slot: `gh:${cmd.delivery}:${e.type}:${e.data.url}` } as EventDraft);
    }
    case 'roll_over_board': {
      const stage = s.stages[cmd.stageIndex];
      if (
        !stage?.board ||
        !s.openStages.some((o) => o.index === cmd.stageIndex) ||
        s.status !== 'pending_approval'
      )
        return fail('INVALID_STATE', 'Nothing to roll over.');
      return ok({
        type: 'board_deferred',
        slot: `deferred:${cmd.stageIndex}:${cmd.meeting}`,
        data: {
          stageIndex: cmd.stageIndex,
          stage: stage.key,
          stageName: stage.name,
          meeting: cmd.meeting,
          reason: 'not reached at the meeting; on the agenda of the next',
        },
      });
    }
    case 'grant_exception': {
      if (s.status !== 'pending_approval' && s.status !== 'approved') {
        return fail(
          'INVALID_STATE',
          `An exception can only be granted before deployment (the change is ${s.status.replace('_', ' ')}).`,
        );
      }
      const target = exceptionTarget(ctx.policy, s, cmd.freeze);
      if (!target) {
        return fail('NOT_FROZEN', `"${cmd.freeze}" neither freezes nor restricts ${s.typeName} changes.`);
      }
      const { name, spec } = target;
      if (s.exceptions.some((x) => x.freeze === name)) {
        return fail('EXCEPTION_EXISTS', `An exception for ${name} was already granted.`);
      }
      if (ownership(s, cmd.actor)) {
        return fail(
          'SELF_APPROVAL_FORBIDDEN',
          'You raised this change, so you cannot grant it an exception yourself.',
        );
      }
      if (!matchesApproverSpec(ctx.policy, ctx.membership, spec.approvers, cmd.actor)) {
        return fail(
          'NOT_ALLOWED',
          `Only ${describeApprovers(spec.approvers)} may grant an exception to ${name}.`,
        );
      }
      const seat = exceptionSeat({ quorum: spec.quorum, eachOf: spec.approvers.eachOf });
      const votes = s.exceptionVotes.filter((v) => v.freeze === name);
      if (votes.some((v) => v.by === cmd.actor)) {
        return fail(
          'ALREADY_DECIDED',
          `You already approved the exception to ${name}; it needs another approver.`,
        );
      }
      const roles = spec.approvers.eachOf.filter((r) =>
        isInRoles(ctx.policy, ctx.membership, cmd.actor, [r]),
      );
      if (roles.length > 0 && !approvalWouldCount(seat, votes, { by: cmd.actor, roles })) {
        return fail(
          'ROLE_ALREADY_SIGNED',
          `The exception to ${name} needs one approval from each of ${spec.approvers.eachOf.join(', ')}; your role has signed, it still needs ${missingRoles(seat, votes).join(' and ')}.`,
        );
      }
      if (!required(cmd.reason)) return fail('REASON_REQUIRED', 'An exception needs a reason.');
      if (!required(cmd.risk))
        return fail(
          'REASON_REQUIRED',
          'An exception needs a risk note: what could go wrong, and how it is contained.',
          {
            field: 'risk',
          },
        );
      if (cmd.reason.length > ANSWER_MAX || cmd.risk.length > ANSWER_MAX)
        return fail(
          'VALIDATION',
          `Keep the reason and the risk note under ${ANSWER_MAX + 1} characters each.`,
        );
      return ok({
        type: 'freeze_exception_granted',
        slot: isSingleSeat(seat) ? `exception:${name}` : `exception:${name}:${cmd.actor}`,
        data: {
          freeze: name,
          reason: cmd.reason.trim(),
          risk: cmd.risk.trim(),
          ...(roles.length > 0 ? { roles } : {}),
          quorum: spec.quorum,
          eachOf: spec.approvers.eachOf,
        },
      });
    }
    case 'cancel': {
      if (s.status !== 'pending_approval' && s.status !== 'approved') {
        return fail(
          'INVALID_STATE',
          `Only changes that are not yet deployed can be cancelled (this one is ${s.status.replace('_', ' ')}).`,
        );
      }
      const admin = isInRoles(ctx.policy, ctx.membership, cmd.actor, ctx.policy.access.admins);
      if (cmd.actor !== s.requester && !admin) {
        return fail('NOT_ALLOWED', 'Only the requester (or a Changegate admin) can cancel this change.');
      }
      return ok({ type: 'cancelled', slot: 'cancelled', data: { reason: cmd.reason.trim() } });
    }
    case 'record_deployment': {
      const production = isProductionEnvironment(ctx.policy, cmd.environment);
      // A person recording a deployment in Slack without naming a commit attests that the change
      // as approved was deployed; a pipeline says what it deployed, or is held to not saying.
      const commit = cmd.commit ?? (cmd.source === 'slack' ? s.request.commit : null);
      const blockers = deploymentBlockers(s, ctx.policy, ctx.now, {
        environment: cmd.environment,
        commit,
        chainIntact: ctx.chainIntact ?? true,
      });
      const reasons = [...new Set(blockers.map((b) => RECORDED_AS[b.code]))];
      const named = cmd.source === 'api' ? (cmd.deployedBy ?? null) : null;
      if (named && !namedDeployerAllowed(named, ctx, production)) reasons.push('not_a_deployer');
      const slot = cmd.idempotencyKey ? `deploy:${cmd.idempotencyKey}` : null;
      const draft: EventDraft = {
        type: 'deployment_recorded',
        slot,
        data: {
          environment: cmd.environment,
          status: cmd.status,
          commit,
          pipelineUrl: cmd.pipelineUrl,
          source: cmd.source,
          production,
          unauthorised: reasons.length > 0 && cmd.status !== 'failed',
          reasons,
          ...(named ? { deployedBy: { given: named.given, userId: named.userId } } : {}),
        },
      };
      if (cmd.source === 'api') return ok(draft); // pipelines are never refused: what happened is recorded, flagged
      return slackDeploymentRefusal(s, blockers, cmd.actor, production, ctx) ?? ok(draft);
    }
    case 'verify': {
      if (s.status !== 'deployed') {
        return fail(
          'INVALID_STATE',
          s.status === 'verified' || s.status === 'rolled_back'
            ? 'This deployment was already verified.'
            : 'Only a deployed change can be verified.',
        );
      }
      if (!canOperate(s, cmd.actor, ctx)) {
        return fail(
          'NOT_ALLOWED',
          'Only the requester, an approver of this change or its deployer can verify it.',
        );
      }
      if (cmd.outcome === 'rolled_back' && !required(cmd.issues)) {
        return fail('REASON_REQUIRED', 'Describe what went wrong and led to the rollback.');
      }
      if (cmd.issues.length > ANSWER_MAX) {
        return fail('VALIDATION', `Keep the issues under ${ANSWER_MAX + 1} characters.`);
      }
      const last = [...s.deployments].reverse().find((d) => d.production && d.status === 'succeeded');
      return ok({
        type: 'verified',
        slot: `verify:${last?.seq ?? 0}`,
        data: { outcome: cmd.outcome, issues: cmd.issues.trim() },
      });
    }
    case 'submit_retro': {
      if (s.retroDueHours === null)
        return fail('RETRO_NOT_REQUIRED', `${s.typeName} changes need no retrospective.`);
      if (s.retro.submittedAt)
        return fail('RETRO_ALREADY_SUBMITTED', 'The retrospective was already submitted.');
      if (!s.deployedAt)
        return fail('INVALID_STATE', 'Record the deployment first; the retrospective follows it.');
      const admin = isInRoles(ctx.policy, ctx.membership, cmd.actor, ctx.policy.access.admins);
      if (cmd.actor !== s.requester && !admin) {
        return fail('NOT_ALLOWED', 'The retrospective is written by the requester of the change.');
      }
      const problems = retroProblems(cmd.answers);
      if (problems.length > 0) {
        return fail(
          'VALIDATION',
          'What changed, why, the approval received, the root cause and whether it could have been prevented are required; each answer holds at most 2000 characters.',
          { problems },
        );
      }
      return ok({ type: 'retro_submitted', slot: 'retro', data: cmd.answers });
    }
    case 'review_retro': {
      const r = s.retroReview;
      if (r.status === 'not_required')
        return fail('RETRO_NOT_REQUIRED', `${s.typeName} retrospectives need no review.`);
      if (r.status === 'not_yet')
        return fail('INVALID_STATE', 'The retrospective has not been submitted yet.');
      if (r.status === 'accepted')
        return fail('ALREADY_DECIDED', 'The retrospective review was already accepted.');
      if (r.status === 'questions' && cmd.outcome === 'questions')
        return fail('INVALID_STATE', 'The questions sent back are not answered yet.');
      if (ownership(s, cmd.actor))
        return fail(
          'SELF_APPROVAL_FORBIDDEN',
          'You raised this change, so another person reviews its retrospective.',
        );
      if (!isInRoles(ctx.policy, ctx.membership, cmd.actor, r.reviewers))
        return fail('NOT_ALLOWED', `The retrospective is reviewed by ${r.reviewers.join(' or ')}.`);
      if (cmd.outcome === 'questions' && !required(cmd.note))
        return fail('REASON_REQUIRED', 'Write the questions the requester should answer.');
      if (cmd.note.length > ANSWER_MAX)
        return fail('VALIDATION', `Keep this under ${ANSWER_MAX + 1} characters.`);
      return ok({
        type: 'retro_reviewed',
        slot: null,
        data: { outcome: cmd.outcome, note: cmd.note.trim() },
      });
    }
    case 'answer_review': {
      if (s.retroReview.status !== 'questions')
        return fail('INVALID_STATE', 'No review questions are waiting for an answer.');
      const admin = isInRoles(ctx.policy, ctx.membership, cmd.actor, ctx.policy.access.admins);
      if (cmd.actor !== s.requester && !admin)
        return fail('NOT_ALLOWED', 'The review questions are answered by the requester of the change.');
      if (!required(cmd.answer)) return fail('REASON_REQUIRED', 'Write your answer to the review questions.');
      if (cmd.answer.length > ANSWER_MAX)
        return fail('VALIDATION', `Keep this under ${ANSWER_MAX + 1} characters.`);
      return ok({ type: 'retro_answered', slot: null, data: { answer: cmd.answer.trim() } });
    }
    case 'answer_pir': {
      const cp = s.pir.checkpoints[cmd.checkpoint];
      if (!cp) return fail('INVALID_STATE', 'This change has no such post-implementation review.');
      const due = pirDueAt(s, cmd.checkpoint);
      if (!due) return fail('INVALID_STATE', 'Post-implementation reviews follow a successful verification.');
      if (s.pir.answers[cmd.checkpoint])
        return fail('ALREADY_DECIDED', `The ${cp.name} review was already answered.`);
      if (ctx.now < due)
        return fail('INVALID_STATE', `The ${cp.name} review is due ${due.toISOString()}; answer it then.`);
      const admin = isInRoles(ctx.policy, ctx.membership, cmd.actor, ctx.policy.access.admins);
      if (cmd.actor !== s.requester && !admin)
        return fail(
          'NOT_ALLOWED',
          'Post-implementation reviews are answered by the requester of the change.',
        );
      if (cmd.answers.length !== cp.questions.length || cmd.answers.some((a) => !required(a)))
        return fail(
          'VALIDATION',
          `Answer each of the ${cp.questions.length} questions of the ${cp.name} review.`,
        );
      if (cmd.answers.some((a) => a.length > ANSWER_MAX))
        return fail('VALIDATION', `Keep each answer under ${ANSWER_MAX + 1} characters.`);
      return ok({
        type: 'pir_answered',
        slot: `pir:${cmd.checkpoint}`,
        data: {
          checkpoint: cmd.checkpoint,
          name: cp.name,
          answers: cp.questions.map((question, i) => ({ question, answer: cmd.answers[i]!.trim() })),
        },
      });
    }
    case 'flag_retro_overdue': {
      const due = s.retro.dueAt;
      if (!due || s.retro.submittedAt || s.retro.overdueFlaggedAt || ctx.now <= due) {
        return fail('INVALID_STATE', 'The retrospective is not overdue.');
      }
      return ok({ type: 'retro_overdue', slot: 'retro_overdue', data: { dueAt: due.toISOString() } });
    }
  }
}

// Re-exported for adapters that show request details and state.
export type { RiskLevel, SecurityFlag };
export { isProductionEnvironment, unexcusedFreezes };
