import { evaluateGate, type GateDecision } from '../domain/gate.js';
import type { LoadedChange } from '../infra/db/change-repository.js';
import type { Deps } from './ports.js';

/** May this change deploy to `environment` now? Read from the event log, so it is always current. */
export async function checkDeployGate(
  deps: Deps,
  changeNumber: number,
  environment: string,
): Promise<{ change: LoadedChange; decision: GateDecision } | null> {
  const change = await deps.changes.load(changeNumber);
  if (!change) return null;
  return { change, decision: evaluateGate(change.state, deps.policy.policy, deps.clock.now(), environment) };
}
