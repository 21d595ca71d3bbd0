import type { ChangeRequest } from '../../src/domain/change.js';
import {
  applyEvent,
  type ChangeEvent,
  type ChangeState,
  type Command,
  type DecideContext,
  decide,
  type EventDraft,
  submissionDraft,
} from '../../src/domain/lifecycle.js';
import { membershipFrom, type Policy } from '../../src/domain/policy.js';
import { testPolicy } from './harness-policy.js';
import { ALICE, ERIN, SECURITY_GROUP } from './people.js';

export const POLICY: Policy = testPolicy().policy;
export const MEMBERSHIP = membershipFrom({ [SECURITY_GROUP]: [ERIN] });

export function request(overrides: Partial<ChangeRequest> = {}): ChangeRequest {
  return {
    type: 'normal',
    title: 'Upgrade api-gateway to v2.3',
    description: 'Bump the gateway',
    justification: 'Security fixes upstream',
    systems: ['api-gateway'],
    risk: 'medium',
    impact: 'Gateway restarts once',
    securityFlags: [],
    testPlan: 'Run the smoke suite',
    stagingTested: 'yes',
    testResults: '',
    rollbackPlan: 'Redeploy v2.2',
    plannedStart: null,
    plannedEnd: null,
    links: { pr: null, ticket: null },
    suggestedReviewers: [],
    emergencyApprover: null,
    commit: null,
    fields: {},
    ...overrides,
  };
}

/** Drives the pure state machine like the application does: decide, then apply the event. */
/** A deployment report (default: a successful production deploy from Slack, no commit). */
export function deployment(
  actor: string,
  overrides: Partial<Omit<Extract<Command, { kind: 'record_deployment' }>, 'kind' | 'actor'>> = {},
): Extract<Command, { kind: 'record_deployment' }> {
  return {
    kind: 'record_deployment',
    actor,
    environment: 'production',
    status: 'succeeded',
    commit: null,
    pipelineUrl: null,
    source: 'slack',
    idempotencyKey: null,
    ...overrides,
  };
}

export class Machine {
  state: ChangeState;
  events: ChangeEvent[] = [];
  now: Date;
  policy: Policy;

  readonly number: number;

  constructor(
    req: ChangeRequest,
    opts: { requester?: string; now?: string; policy?: Policy; number?: number } = {},
  ) {
    this.policy = opts.policy ?? POLICY;
    this.number = opts.number ?? 1;
    this.now = new Date(opts.now ?? '2026-03-10T18:00:00Z');
    const draft = submissionDraft(this.policy, req, 'slack');
    const e = this.toEvent(draft, opts.requester ?? ALICE);
    this.state = applyEvent(null, e);
  }

  private toEvent(draft: ReturnType<typeof submissionDraft>, actor: string): ChangeEvent {
    const seq = this.events.length + 1;
    const e = {
      ...draft,
      slot: draft.slot ?? `e:${seq}`,
      changeNumber: this.number,
      seq,
      actor,
      at: new Date(this.now),
      policyHash: 'test',
    } as ChangeEvent;
    this.events.push(e);
    return e;
  }

  ctx(): DecideContext {
    return { now: this.now, policy: this.policy, membership: MEMBERSHIP };
  }

  try(cmd: Command) {
    return decide(this.state, cmd, this.ctx());
  }

  /** Decides and applies; throws with the refusal when the command is refused. */
  do(cmd: Command): ChangeEvent {
    const r = this.try(cmd);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    const actor = 'actor' in cmd ? cmd.actor : 'system';
    const e = this.toEvent(r.value, actor);
    this.state = applyEvent(this.state, e);
    return e;
  }

  /** Appends an event the application would write itself (e.g. a recorded refusal). */
  record(draft: EventDraft, actor: string): ChangeEvent {
    const e = this.toEvent(draft, actor);
    this.state = applyEvent(this.state, e);
    return e;
  }

  advanceHours(h: number) {
    this.now = new Date(this.now.getTime() + h * 3_600_000);
  }
}
