import { verifyChain } from '../domain/audit.js';
import { evaluateGate, type GateDecision } from '../domain/gate.js';
import { changeIntegrity } from './audit-ledger.js';
import type { LoadedChange, ReadDeps } from './ports.js';

/**
 * May this change deploy `commit` to `environment` now? Read from the event log, so it is always
 * current; a log that does not verify (its chain, its record's head, each event against the entry
 * the audit key signed) never allows a deployment.
 */
export async function checkDeployGate(
  deps: ReadDeps,
  changeNumber: number,
  environment: string,
  commit: string | null,
): Promise<{ change: LoadedChange; decision: GateDecision } | null> {
  const change = await deps.changes.load(changeNumber);
  if (!change) return null;
  const chainIntact =
    verifyChain(change.events, headOf(change)) === null && (await changeIntegrity(deps, change)).ok;
  return {
    change,
    decision: evaluateGate(
      change.state,
      await deps.policies.forChange(change.state.policyHash),
      deps.clock.now(),
      {
        environment,
        commit,
        chainIntact,
      },
    ),
  };
}

/** The head the change record claims (it may lag behind its log, never run ahead of it). */
export function headOf(change: LoadedChange): { seq: number; hash: string } | undefined {
  return change.record && change.record.head.seq > 0 ? change.record.head : undefined;
}
