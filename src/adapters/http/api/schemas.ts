import { z } from 'zod';
import { COMMIT_FORMAT_HINT } from '../../../domain/commit.js';
import { FIELD_LIMITS } from '../../../domain/fields.js';
import { GATE_REASONS } from '../../../domain/gate.js';
import { FINDING_KINDS } from '../../../domain/ledger.js';
import { CHANGE_STATUSES, DEPLOYMENT_STATUSES } from '../../../domain/lifecycle.js';
import { RISK_LEVELS } from '../../../domain/policy.js';
import { LIMITS } from '../../../domain/request-rules.js';

/** One zod schema per route input and output; the OpenAPI document is generated from these. */

const userId = z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'must be a Slack user id such as U0123ABCD');
/** A Slack user id or an e-mail address, resolved in the workspace. */
const personRef = z
  .string()
  .trim()
  .regex(
    /^(?:[UW][A-Z0-9]{2,20}|[^\s@<>]{1,64}@[^\s@<>]{1,255})$/,
    'must be a Slack user id or an e-mail address',
  )
  .meta({ example: 'alice@example.com' });
const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
const isoDateTime = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 date-time such as 2026-11-21T14:00:00Z',
});
/** A commit, tag or artifact digest as a pipeline reports it. */
const reportedCommit = z
  .string()
  .regex(/^[A-Za-z0-9._/+:@-]{1,140}$/, 'must be a commit hash, tag or artifact digest')
  .meta({ example: '4f6c2e1d9a7b3c5e8f0a1b2c3d4e5f6a7b8c9d0e' });
const environment = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,40}$/, 'must be 1-40 letters, digits, dots, dashes or underscores')
  .meta({ example: 'production' });

export const ChangeIdParams = z.object({
  id: z
    .string()
    .regex(/^(?:[Cc][Rr]-?)?\d{1,9}$/, 'must be a change id such as CR-42')
    .meta({ description: 'Change id (`CR-42`) or number (`42`)', example: 'CR-42' }),
});

export const GateQuery = z.object({
  environment: environment.default('production'),
  commit: reportedCommit.optional().meta({
    description:
      'The commit (or artifact digest) about to be deployed. Required for production when the change names one.',
  }),
});

export const CreateChangeBody = z
  .strictObject({
    type: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,29}$/, 'must be a change type key such as normal')
      .meta({ example: 'standard' }),
    title: text(LIMITS.title),
    requester: personRef.optional().meta({
      description:
        'Slack user id or e-mail address of the person the change is raised for; it must be an active person of the workspace. Without it the change is raised by the pipeline itself. Neither that person nor the token’s creator may approve it.',
    }),
    description: text(LIMITS.text).default(''),
    justification: text(LIMITS.text).default(''),
    systems: z.array(text(LIMITS.system)).max(LIMITS.systems).default([]),
    risk: z.enum(RISK_LEVELS).nullable().default(null),
    impact: text(LIMITS.text).default(''),
    securityImpact: z
      .array(z.string().regex(/^[a-z][a-z0-9_-]{0,29}$/, 'must be a security flag key of the policy'))
      .max(30)
      .default([])
      .meta({ description: "Keys of the policy's security flags (securityFlags)" }),
    testPlan: text(LIMITS.text).default(''),
    stagingTested: z.enum(['yes', 'no', 'na']).nullable().default(null),
    testResults: text(LIMITS.text).default(''),
    rollbackPlan: text(LIMITS.text).default(''),
    plannedStart: isoDateTime.nullable().default(null),
    plannedEnd: isoDateTime.nullable().default(null),
    links: z
      .strictObject({
        pr: text(LIMITS.link).nullable().default(null),
        ticket: text(LIMITS.link).nullable().default(null),
      })
      .default({ pr: null, ticket: null }),
    suggestedReviewers: z.array(userId).max(LIMITS.reviewers).default([]),
    emergencyApprover: userId.nullable().default(null),
    fields: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_-]{0,29}$/, 'must be a field key of the policy'),
        z.union([
          z.string().max(FIELD_LIMITS.long_text),
          z.array(z.string().max(FIELD_LIMITS.item)).max(FIELD_LIMITS.listItems),
        ]),
      )
      .refine((f) => Object.keys(f).length <= 30, 'at most 30 fields')
      .default({})
      .meta({
        description:
          "Values of the fields the policy declares (`fields`), by key: text, an option's value, a Slack user id, a date (YYYY-MM-DD) or date-time (ISO 8601), yes/no/na; lists for multi_select and users",
      }),
    commit: z
      .string()
      .max(LIMITS.commit)
      .nullable()
      .default(null)
      .meta({
        description: `The commit or artifact digest the change approves (${COMMIT_FORMAT_HINT}); deployments of anything else are refused or flagged`,
      }),
  })
  .meta({ id: 'CreateChange' });

export const DeploymentBody = z
  .strictObject({
    environment,
    status: z.enum(DEPLOYMENT_STATUSES),
    commit: reportedCommit.nullable().default(null),
    pipelineUrl: z
      .url({ protocol: /^https?$/ })
      .max(LIMITS.link)
      .nullable()
      .default(null),
    deployedBy: personRef.nullable().default(null).meta({
      description:
        'Who deployed (Slack user id or e-mail). When the policy names deployers, a production deployment by anyone else is flagged unauthorised (not_a_deployer).',
    }),
  })
  .meta({ id: 'DeploymentReport' });

export const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,200}$/, 'must be 1-200 letters, digits or . _ : -')
    .optional()
    .meta({ description: 'Repeating a report with the same key records it once' }),
});

export const ListQuery = z.object({
  status: z.enum(CHANGE_STATUSES).optional(),
  type: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,29}$/)
    .optional(),
  requester: userId.optional(),
  since: isoDateTime.optional().meta({ description: 'Only changes raised at or after this time' }),
  before: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .meta({ description: 'Cursor: only changes numbered below this' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const PeriodQuery = z.object({
  period: z.string().max(60).default('').meta({
    description: 'Empty (last 30 days), 7d, 90d, 2026-10, 2026-Q3, or "from 2026-09-01 to 2026-09-30"',
  }),
});

export const ExportQuery = PeriodQuery.extend({ format: z.enum(['csv', 'json']).default('csv') });

// ---- responses --------------------------------------------------------------------------------

export const ErrorBody = z
  .object({
    error: z.string().meta({ example: 'validation_failed' }),
    message: z.string(),
    fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Error' });

const StageView = z.object({
  key: z.string(),
  name: z.string(),
  step: z.number().int().meta({ description: 'Stages of one step run in parallel; steps one after another' }),
  status: z.enum(['approved', 'rejected', 'current', 'blocked', 'waiting', 'skipped']),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  note: z.string(),
  approvals: z.array(
    z.object({ by: z.string(), onBehalfOf: z.string().nullable(), at: z.string(), note: z.string() }),
  ),
  approvalsNeeded: z.number().int(),
  missingRoles: z.array(z.string()),
  opensAfterDeploymentTo: z.string().nullable(),
});

const DeploymentView = z.object({
  environment: z.string(),
  status: z.enum(DEPLOYMENT_STATUSES),
  at: z.string(),
  by: z.string(),
  commit: z.string().nullable(),
  pipelineUrl: z.string().nullable(),
  production: z.boolean(),
  unauthorised: z.boolean(),
  reasons: z.array(z.string()),
});

export const ChangeView = z
  .object({
    id: z.string().meta({ example: 'CR-42' }),
    number: z.number().int(),
    title: z.string(),
    type: z.string(),
    typeName: z.string(),
    status: z.enum(CHANGE_STATUSES),
    requester: z.string(),
    risk: z.enum(RISK_LEVELS).nullable(),
    systems: z.array(z.string()),
    emergency: z.boolean(),
    submittedAt: z.string(),
    approvedAt: z.string().nullable(),
    deployedAt: z.string().nullable(),
    plannedStart: z.string().nullable(),
    plannedEnd: z.string().nullable(),
    stages: z.array(StageView),
    deployments: z.array(DeploymentView),
    verification: z
      .object({ outcome: z.enum(['ok', 'rolled_back']), by: z.string(), at: z.string(), issues: z.string() })
      .nullable(),
    retrospective: z.object({
      status: z.string(),
      dueAt: z.string().nullable(),
      submittedAt: z.string().nullable(),
    }),
    freezeExceptions: z.array(
      z.object({ freeze: z.string(), by: z.string(), at: z.string(), reason: z.string() }),
    ),
    commit: z.string().nullable().meta({ description: 'The commit or artifact digest the change approves' }),
    fields: z
      .record(z.string(), z.union([z.string(), z.array(z.string())]))
      .meta({ description: "Values of the policy's declared fields, by key" }),
    links: z.object({
      pr: z.string().nullable(),
      ticket: z.string().nullable(),
      slack: z.string().nullable(),
    }),
    pullRequests: z
      .array(
        z.object({
          url: z.string(),
          repo: z.string(),
          number: z.number().int(),
          author: z.string(),
          headSha: z.string(),
          merged: z.boolean(),
          mergeCommit: z.string().nullable(),
          mergedBy: z.string().nullable(),
          approvals: z.array(z.object({ by: z.string(), commit: z.string(), at: z.string() })),
          selfApprovals: z.array(z.object({ by: z.string(), commit: z.string(), at: z.string() })),
          ci: z.enum(['success', 'failure', 'pending']),
        }),
      )
      .meta({
        description:
          'Pull requests linked by the GitHub App: counted approvals (never by the author; on the head commit), self-approvals (flagged), CI on the head commit, merge',
      }),
    policyVersion: z.string(),
    audit: z.object({ seq: z.number().int(), hash: z.string() }),
  })
  .meta({ id: 'Change' });

export const ChangeList = z
  .object({ changes: z.array(ChangeView), nextBefore: z.number().int().nullable() })
  .meta({ id: 'ChangeList' });

export const GateResponse = z
  .object({
    change: z.string(),
    allowed: z.boolean(),
    environment: z.string(),
    production: z.boolean(),
    reasons: z.array(z.object({ code: z.enum(GATE_REASONS), message: z.string() })),
    message: z.string(),
    status: z.enum(CHANGE_STATUSES),
  })
  .meta({ id: 'GateDecision' });

export const CreatedChange = z
  .object({ change: ChangeView, link: z.string().nullable(), autoApproved: z.boolean() })
  .meta({ id: 'CreatedChange' });

export const DeploymentRecorded = z
  .object({
    change: z.string(),
    recorded: z.boolean(),
    replayed: z.boolean(),
    unauthorised: z.boolean(),
    reasons: z.array(z.string()),
    status: z.enum(CHANGE_STATUSES),
    eventSeq: z.number().int(),
  })
  .meta({ id: 'DeploymentRecorded' });

const Percentiles = z.object({
  n: z.number().int(),
  medianHours: z.number().nullable(),
  p90Hours: z.number().nullable(),
});
const TopList = z.object({
  total: z.number().int(),
  items: z.array(
    z.object({
      number: z.number().int(),
      title: z.string(),
      at: z.string(),
      detail: z.string(),
      who: z.string().nullable(),
      permalink: z.string().nullable(),
    }),
  ),
});

export const SummaryResponse = z
  .object({
    period: z.object({ from: z.string(), to: z.string(), label: z.string() }),
    scope: z.enum(['all', 'involved', 'own']),
    raised: z.number().int(),
    byType: z.array(z.object({ type: z.string(), name: z.string(), count: z.number().int() })),
    byOutcome: z.record(z.string(), z.number().int()),
    deployed: z.number().int(),
    approvals: TopList,
    rejections: z.number().int(),
    refusedAttempts: z.number().int(),
    freezeDeployments: TopList,
    emergencies: z.object({
      total: z.number().int(),
      onTime: z.number().int(),
      late: z.number().int(),
      overdue: z.number().int(),
      pending: z.number().int(),
      reviewPending: z.number().int(),
      items: TopList.shape.items,
    }),
    rollbacks: TopList,
    failedDeployments: z.number().int(),
    changeFailureRate: z.number().nullable(),
    leadTimeToApproval: Percentiles,
    leadTimeToDeploy: Percentiles,
    stageWait: z.array(z.object({ stage: z.string(), wait: Percentiles })),
    neverVerified: TopList,
    unauthorised: TopList,
    securityChanges: z.number().int(),
    postImplementation: z.object({ answered: z.number().int(), overdue: z.number().int() }),
    counts: z.array(z.object({ label: z.string(), count: z.number().int() })).meta({
      description: "The policy's report counts (reports.counts) for the period",
    }),
  })
  .meta({ id: 'ChangeLogSummary' });

export const VerifyQuery = z.object({
  allSignatures: z
    .enum(['true', 'false'])
    .optional()
    .describe(
      'Check the signature of every ledger entry, also those a signed checkpoint root already covers.',
    ),
});

const FindingView = z.object({
  kind: z.enum(FINDING_KINDS),
  change: z.string().nullable().describe('CR-n'),
  seq: z.number().int().nullable().describe("The event's place in its change"),
  index: z.number().int().nullable().describe('The ledger index'),
  checkpoint: z.number().int().nullable(),
  detail: z.string(),
});

export const VerifyResponse = z
  .object({
    intact: z.boolean(),
    checkedChanges: z.number().int(),
    checkedEvents: z.number().int(),
    ledgerSize: z.number().int(),
    checkpoints: z.number().int(),
    latestCheckpoint: z
      .object({
        number: z.number().int(),
        treeSize: z.number().int(),
        rootHash: z.string(),
        time: z.string(),
      })
      .nullable(),
    witness: z.enum(['compared', 'not_configured', 'unreadable']),
    findings: z.array(FindingView),
    findingsOmitted: z.number().int(),
    unledgered: z.number().int().describe('Events the app signed whose ledger entry is still to be written'),
    keys: z.array(z.string()).describe('The ids of the keys signatures were checked against'),
    verifiedAt: z.string(),
  })
  .meta({ id: 'AuditVerification' });

export const CheckpointResponse = z
  .object({
    signed: z.boolean().describe('False when nothing was added since the latest checkpoint'),
    checkpoint: z.string().nullable().describe('The latest signed checkpoint, as JSON text'),
  })
  .meta({ id: 'AuditCheckpoint' });

export const PublicKeyResponse = z
  .object({
    algorithm: z.literal('Ed25519'),
    keyId: z.string(),
    publicKey: z.string().describe('PEM (SPKI)'),
    trusted: z.array(z.object({ keyId: z.string(), publicKey: z.string() })),
  })
  .meta({ id: 'AuditPublicKey' });

export const AcceptHeader = z.object({ accept: z.string().max(1000).optional() });
