import { formatChangeId } from './change.js';
import { type ChangeState, currentStage, isProductionEnvironment, unexcusedFreezes } from './lifecycle.js';
import type { Policy } from './policy.js';

/**
 * The deployment gate pipelines ask before deploying: may this change deploy to this environment
 * now? Every reason that blocks it, each with a stable code and a sentence.
 */
export const GATE_REASONS = [
  'not_approved',
  'rejected',
  'cancelled',
  'rolled_back',
  'outside_window',
  'frozen',
  'unverified_previous_deployment',
] as const;
export type GateReasonCode = (typeof GATE_REASONS)[number];

export interface GateReason {
  code: GateReasonCode;
  message: string;
}

export interface GateDecision {
  allowed: boolean;
  environment: string;
  production: boolean;
  reasons: GateReason[];
  message: string;
}

export function evaluateGate(s: ChangeState, policy: Policy, now: Date, environment: string): GateDecision {
  const id = formatChangeId(s.number);
  const production = isProductionEnvironment(policy, environment);
  const reasons: GateReason[] = [];
  const add = (code: GateReasonCode, message: string) => reasons.push({ code, message });

  if (s.status === 'rejected') add('rejected', `${id} was rejected.`);
  if (s.status === 'cancelled') add('cancelled', `${id} was cancelled.`);
  if (production) {
    if (s.status === 'pending_approval')
      add('not_approved', `${id} is not approved yet: it waits for ${currentStage(s)?.name ?? 'approval'}.`);
    if (s.status === 'rolled_back')
      add('rolled_back', `${id} was rolled back; raise a new change to deploy again.`);
    if (s.status === 'deployed')
      add('unverified_previous_deployment', `The previous deployment of ${id} is not verified yet.`);
    const start = s.request.plannedStart;
    const end = s.request.plannedEnd;
    if (start && (now < start || (end && now > end))) {
      add(
        'outside_window',
        `${id} is planned for ${start.toISOString()}${end ? ` to ${end.toISOString()}` : ' onwards'}; it is ${now.toISOString()} now.`,
      );
    }
    const frozen = unexcusedFreezes(s, policy, now);
    if (frozen.length > 0)
      add(
        'frozen',
        `${[...new Set(frozen.map((f) => f.name))].join(', ')} is in force for ${s.typeName} changes and ${id} has no exception.`,
      );
  }
  const allowed = reasons.length === 0;
  return {
    allowed,
    environment,
    production,
    reasons,
    message: allowed
      ? `${id} may deploy to ${environment} now.`
      : `${id} may not deploy to ${environment}: ${reasons.map((r) => r.message).join(' ')}`,
  };
}
