import type { Response } from 'express';
import type { z } from 'zod';
import { authenticateApiToken, type Caller, mayActOn } from '../../../application/api-tokens.js';
import { checkpointNow, keyRing } from '../../../application/audit-ledger.js';
import { buildChangeLog } from '../../../application/build-change-log.js';
import { checkDeployGate } from '../../../application/check-deploy-gate.js';
import { exportEvidence } from '../../../application/export-evidence.js';
import { getChange } from '../../../application/get-change.js';
import type { ApiScope, Deps } from '../../../application/ports.js';
import { recordDeployment } from '../../../application/record-deployment.js';
import { searchChanges } from '../../../application/search-changes.js';
import { submitPipelineChange } from '../../../application/submit-change.js';
import { verifyAudit } from '../../../application/verify-audit.js';
import { formatChangeId, parseChangeId } from '../../../domain/change.js';
import { commitOf } from '../../../domain/commit.js';
import { cleanFieldValues } from '../../../domain/fields.js';
import { checkpointText } from '../../../domain/ledger.js';
import { parsePeriod } from '../../../domain/period.js';
import type { FieldIssue } from '../../../domain/request-rules.js';
import { sanitizeLine, sanitizeMultiline } from '../../../domain/text.js';
import { fieldColumns, writeEvidence } from '../../export/evidence-writer.js';
import { presentAuditReport, presentChange, presentSummary } from './presenters.js';
import {
  AcceptHeader,
  ChangeIdParams,
  ChangeList,
  ChangeView,
  CheckpointResponse,
  CreateChangeBody,
  CreatedChange,
  DeploymentBody,
  DeploymentRecorded,
  ErrorBody,
  ExportQuery,
  GateQuery,
  GateResponse,
  IdempotencyHeader,
  ListQuery,
  PeriodQuery,
  PublicKeyResponse,
  SummaryResponse,
  VerifyQuery,
  VerifyResponse,
} from './schemas.js';

/** What a handler returns: a JSON body and status, or nothing when it streamed the response itself. */
export type HandlerResult = { status: number; body: unknown } | null;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

export interface RouteContext<P, Q, H, B> {
  deps: Deps;
  caller: Caller;
  params: P;
  query: Q;
  headers: H;
  body: B;
  res: Response;
}

export interface RouteDef<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  H extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  method: 'get' | 'post';
  /** OpenAPI-style path under /api/v1, e.g. `/changes/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  /** The token scope required; `public`: no token (the audit public key). */
  scope: ApiScope | 'public';
  params?: P;
  query?: Q;
  headers?: H;
  body?: B;
  responses: Record<number, { description: string; schema?: z.ZodType; content?: 'json' | 'csv-or-json' }>;
  handler: (ctx: RouteContext<z.output<P>, z.output<Q>, z.output<H>, z.output<B>>) => Promise<HandlerResult>;
}

const route = <P extends z.ZodType, Q extends z.ZodType, H extends z.ZodType, B extends z.ZodType>(
  r: RouteDef<P, Q, H, B>,
) => r as unknown as RouteDef;

/** Every error answer, described once. */
const ERROR_ANSWERS = {
  400: 'Invalid input: the fields that are wrong, and why',
  401: 'Missing, unknown or revoked token',
  403: 'The token lacks the scope this route needs, or was not created for this environment',
  404: 'Unknown change',
  413: 'Body too large',
  422: 'This Idempotency-Key was already used for a different report',
  503: 'The database, or Slack (to resolve a named person), is unreachable right now; try again',
} as const;

/** The error answers of a route: 400, 401 and 403 for every route, and the statuses it adds. */
const errors = (...more: (keyof typeof ERROR_ANSWERS)[]) =>
  Object.fromEntries(
    ([400, 401, 403, ...more] as const).map((status) => [
      status,
      { description: ERROR_ANSWERS[status], schema: ErrorBody },
    ]),
  );

function changeNumberOf(id: string): number {
  const n = parseChangeId(id);
  if (!n)
    throw new ApiError(400, 'validation_failed', 'Invalid change id.', [
      { path: 'params.id', message: 'must be a change id such as CR-42' },
    ]);
  return n;
}

async function loadOr404(deps: Deps, n: number) {
  const loaded = await getChange(deps, n);
  if (!loaded) throw new ApiError(404, 'not_found', `There is no change ${formatChangeId(n)}.`);
  return loaded;
}

const FIELD_PATH: Partial<Record<FieldIssue['field'], string>> = {
  securityFlags: 'securityImpact',
  'links.pr': 'links.pr',
  'links.ticket': 'links.ticket',
};

function parsePeriodOr400(deps: Deps, text: string) {
  const p = parsePeriod(text, deps.clock.now(), deps.policy.policy.timezone);
  if (!p.ok)
    throw new ApiError(400, 'validation_failed', p.message, [{ path: 'query.period', message: p.message }]);
  return p.period;
}

/** Every /api/v1 route, as data: the router and the OpenAPI document are both built from this table. */
export const API_ROUTES: RouteDef[] = [
  route({
    method: 'get',
    path: '/changes/{id}/gate',
    operationId: 'checkDeployGate',
    summary:
      'May this change deploy to this environment now? 200 when allowed, 409 when not (so `curl --fail` works).',
    scope: 'changes:read',
    params: ChangeIdParams,
    query: GateQuery,
    responses: {
      200: { description: 'Allowed', schema: GateResponse },
      409: { description: 'Not allowed; `reasons` says why', schema: GateResponse },
      ...errors(404),
    },
    handler: async ({ deps, caller, params, query }) => {
      const n = changeNumberOf(params.id);
      allowEnvironment(caller, query.environment);
      const res = await checkDeployGate(deps, n, query.environment, query.commit ?? null);
      if (!res) throw new ApiError(404, 'not_found', `There is no change ${formatChangeId(n)}.`);
      return {
        status: res.decision.allowed ? 200 : 409,
        body: { change: formatChangeId(n), status: res.change.state.status, ...res.decision },
      };
    },
  }),
  route({
    method: 'post',
    path: '/changes/{id}/deployments',
    operationId: 'recordDeployment',
    summary:
      'Record a deployment of the change (started, succeeded or failed). Unapproved or frozen deployments are recorded and flagged as unauthorised.',
    scope: 'deployments:write',
    params: ChangeIdParams,
    headers: IdempotencyHeader,
    body: DeploymentBody,
    responses: {
      201: { description: 'Recorded', schema: DeploymentRecorded },
      200: { description: 'Already recorded under this Idempotency-Key', schema: DeploymentRecorded },
      ...errors(404, 413, 422),
    },
    handler: async ({ deps, caller, params, headers, body }) => {
      const n = changeNumberOf(params.id);
      allowEnvironment(caller, body.environment);
      await loadOr404(deps, n);
      const res = await recordDeployment(deps, {
        changeNumber: n,
        actor: `pipeline:${caller.name}`,
        environment: body.environment,
        status: body.status,
        commit: body.commit,
        pipelineUrl: body.pipelineUrl,
        source: 'api',
        idempotencyKey: headers['idempotency-key'] ?? null,
        deployedBy: body.deployedBy,
      });
      if (!res.ok)
        throw new ApiError(
          res.error.code === 'NOT_FOUND' ? 404 : res.error.code === 'IDEMPOTENCY_CONFLICT' ? 422 : 409,
          res.error.code.toLowerCase(),
          res.error.message,
          res.error.code === 'IDEMPOTENCY_CONFLICT'
            ? [{ path: 'headers.idempotency-key', message: 'already used for another report' }]
            : undefined,
        );
      const e = res.event;
      const data = e.type === 'deployment_recorded' ? e.data : null;
      return {
        status: res.replay ? 200 : 201,
        body: {
          change: formatChangeId(n),
          recorded: true,
          replayed: res.replay,
          unauthorised: data?.unauthorised ?? false,
          reasons: data?.reasons ?? [],
          status: res.state.status,
          eventSeq: e.seq,
        },
      };
    },
  }),
  route({
    method: 'post',
    path: '/changes',
    operationId: 'createChange',
    summary:
      'Open a change request. Standard changes are approved by policy at once; others are posted to Slack for approval.',
    scope: 'changes:write',
    body: CreateChangeBody,
    responses: {
      201: { description: 'Created', schema: CreatedChange },
      ...errors(413, 503),
    },
    handler: async ({ deps, caller, body }) => {
      const request = {
        type: body.type,
        title: sanitizeLine(body.title),
        description: sanitizeMultiline(body.description),
        justification: sanitizeMultiline(body.justification),
        systems: [...new Set(body.systems.map(sanitizeLine).filter(Boolean))],
        risk: body.risk,
        impact: sanitizeMultiline(body.impact),
        securityFlags: body.securityImpact,
        testPlan: sanitizeMultiline(body.testPlan),
        stagingTested: body.stagingTested,
        testResults: sanitizeMultiline(body.testResults),
        rollbackPlan: sanitizeMultiline(body.rollbackPlan),
        plannedStart: body.plannedStart ? new Date(body.plannedStart) : null,
        plannedEnd: body.plannedEnd ? new Date(body.plannedEnd) : null,
        links: {
          pr: body.links.pr ? sanitizeLine(body.links.pr) : null,
          ticket: body.links.ticket ? sanitizeLine(body.links.ticket) : null,
        },
        commit: body.commit ? commitOf(body.commit) : null,
        suggestedReviewers: body.suggestedReviewers,
        emergencyApprover: body.emergencyApprover,
        fields: cleanFieldValues(deps.policy.policy, body.fields),
      };
      const res = await submitPipelineChange(deps, {
        request,
        onBehalfOf: body.requester ?? null,
        caller,
      });
      if (!res.ok && res.error.code === 'UNAVAILABLE')
        throw new ApiError(503, 'unavailable', res.error.message);
      if (!res.ok) {
        throw new ApiError(
          400,
          'validation_failed',
          res.error.message,
          (res.error.issues ?? []).map((i) => ({
            path: `body.${FIELD_PATH[i.field] ?? i.field}`,
            message: i.message,
          })),
        );
      }
      await res.announce();
      const permalink = (await deps.changes.record(res.number))?.slack?.permalink ?? null;
      return {
        status: 201,
        body: {
          change: presentChange(
            res.state,
            { permalink, head: { seq: res.event.seq, hash: res.event.hash } },
            deps.clock.now(),
          ),
          link: permalink,
          autoApproved: res.state.status === 'approved',
        },
      };
    },
  }),
  route({
    method: 'get',
    path: '/changes/{id}',
    operationId: 'getChange',
    summary: 'One change with its stages, deployments, verification, retrospective and audit-chain head.',
    scope: 'changes:read',
    params: ChangeIdParams,
    responses: {
      200: { description: 'The change', schema: ChangeView },
      ...errors(404),
    },
    handler: async ({ deps, params }) => {
      const loaded = await loadOr404(deps, changeNumberOf(params.id));
      return {
        status: 200,
        body: presentChange(
          loaded.state,
          { permalink: loaded.record?.slack?.permalink ?? null, head: loaded.head },
          deps.clock.now(),
        ),
      };
    },
  }),
  route({
    method: 'get',
    path: '/changes',
    operationId: 'listChanges',
    summary: 'Changes, newest first, filtered by status, type, requester and date; page with `before`.',
    scope: 'changes:read',
    query: ListQuery,
    responses: { 200: { description: 'A page of changes', schema: ChangeList }, ...errors() },
    handler: async ({ deps, query }) => {
      const page = await searchChanges(deps, {
        ...query,
        since: query.since ? new Date(query.since) : undefined,
      });
      const now = deps.clock.now();
      return {
        status: 200,
        body: {
          changes: page.items.map((r) =>
            presentChange(r.state!, { permalink: r.slack?.permalink ?? null, head: r.head }, now),
          ),
          nextBefore: page.nextBefore,
        },
      };
    },
  }),
  route({
    method: 'get',
    path: '/audit/summary',
    operationId: 'changeLogSummary',
    summary: 'The change-log summary for a period (the figures of `/change-log`).',
    scope: 'audit:read',
    query: PeriodQuery,
    responses: { 200: { description: 'Summary', schema: SummaryResponse }, ...errors() },
    handler: async ({ deps, query }) => {
      const { summary, scope } = await buildChangeLog(
        deps,
        { kind: 'system' },
        parsePeriodOr400(deps, query.period),
      );
      return { status: 200, body: presentSummary(summary, scope) };
    },
  }),
  route({
    method: 'get',
    path: '/audit/export',
    operationId: 'exportEvidence',
    summary:
      'Evidence for every change with activity in the period, as CSV (formula-safe) or JSON, streamed.',
    scope: 'audit:read',
    query: ExportQuery,
    responses: { 200: { description: 'The evidence file', content: 'csv-or-json' }, ...errors() },
    handler: async ({ deps, query, res }) => {
      const period = parsePeriodOr400(deps, query.period);
      const evidence = await exportEvidence(deps, { kind: 'system' }, period, {
        proofs: query.format === 'json',
      });
      const name = `changegate-evidence-${period.label.replace(/[^A-Za-z0-9-]+/g, '_')}.${query.format}`;
      res.status(200);
      res.setHeader(
        'content-type',
        query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
      );
      res.setHeader('content-disposition', `attachment; filename="${name}"`);
      await writeEvidence(evidence, query.format, res, fieldColumns(deps.policy.policy));
      return null;
    },
  }),
  route({
    method: 'get',
    path: '/audit/verify',
    operationId: 'verifyAudit',
    summary:
      'Verify the whole audit trail: checkpoint signatures and chain (against the audit channel), the ledger (signatures, no hole, Merkle roots), each change (events against their signed entries, hash chain, record against its events) and the change numbers. Each finding names the change, the event and the kind.',
    scope: 'audit:read',
    query: VerifyQuery,
    responses: { 200: { description: 'Verification report', schema: VerifyResponse }, ...errors() },
    handler: async ({ deps, query }) => {
      const report = await verifyAudit(deps, { allSignatures: query.allSignatures === 'true' });
      return { status: 200, body: presentAuditReport(report) };
    },
  }),
  route({
    method: 'post',
    path: '/audit/checkpoints',
    operationId: 'signCheckpoint',
    summary:
      'Sign a checkpoint of the audit ledger now (size, Merkle root, time, previous checkpoint) and post it to the audit channel. Nothing is signed when nothing was added since the last one.',
    scope: 'audit:read',
    responses: { 200: { description: 'The latest checkpoint', schema: CheckpointResponse }, ...errors() },
    handler: async ({ deps }) => {
      const outcome = await checkpointNow(deps);
      if (outcome.kind === 'refused') throw new ApiError(409, 'checkpoint_refused', outcome.reason);
      const latest = (await deps.ledger.latestCheckpoint())?.checkpoint ?? null;
      return {
        status: 200,
        body: { signed: outcome.kind === 'signed', checkpoint: latest ? checkpointText(latest) : null },
      };
    },
  }),
  route({
    method: 'get',
    path: '/audit/public-key',
    operationId: 'auditPublicKey',
    summary:
      'The public key (PEM, Ed25519) that checkpoints, ledger entries and evidence exports are signed with, to check an export offline. No token needed. `Accept: application/json` answers with its id and any keys it took over from.',
    scope: 'public',
    responses: { 200: { description: 'The public key', schema: PublicKeyResponse } },
    handler: async ({ deps, res, headers }) => {
      const ring = await keyRing(deps);
      const current = deps.audit?.signer ?? null;
      if (!current) throw new ApiError(503, 'unavailable', 'This server holds no audit key.');
      if (!(headers?.accept ?? '').includes('application/json')) {
        res.status(200).setHeader('content-type', 'application/x-pem-file');
        res.send(current.publicKey);
        return null;
      }
      return {
        status: 200,
        body: {
          algorithm: 'Ed25519',
          keyId: current.keyId,
          publicKey: current.publicKey,
          trusted: ring.ids().map((id) => ({ keyId: id, publicKey: ring.publicKey(id)! })),
        },
      };
    },
    headers: AcceptHeader,
  }),
];

/** A token acts only on the environments it was created for (403 otherwise). */
function allowEnvironment(caller: Caller, environment: string): void {
  if (!mayActOn(caller, environment))
    throw new ApiError(
      403,
      'environment_not_allowed',
      `This token was created for ${caller.environments!.join(', ')}; it cannot gate or report ${environment}.`,
    );
}

/** Bearer-token authentication and scope check; throws 401/403 as ApiError. */
export async function authorise(
  deps: Deps,
  authorization: string | undefined,
  scope: ApiScope,
): Promise<Caller> {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m)
    throw new ApiError(
      401,
      'unauthorized',
      'Send a pipeline token: Authorization: Bearer <token> (create one with /change token create <name>).',
    );
  const caller = await authenticateApiToken(deps, m[1]!);
  if (!caller) throw new ApiError(401, 'unauthorized', 'The token is not valid, or it was revoked.');
  if (!caller.scopes.includes(scope))
    throw new ApiError(403, 'forbidden', `This token lacks the ${scope} scope.`);
  return caller;
}

/** zod issues as API field errors (`body.title: must be at most 150 characters`). */
export function fieldErrors(where: string, error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
}
