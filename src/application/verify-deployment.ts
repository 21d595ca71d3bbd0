import { type CommandOutcome, executeCommand } from './execute-command.js';
import type { Deps } from './ports.js';

/** Post-deployment verification: it works (with any issues seen), or it was rolled back. */
export function verifyDeployment(
  deps: Deps,
  input: { changeNumber: number; actor: string; outcome: 'ok' | 'rolled_back'; issues: string },
): Promise<CommandOutcome> {
  return executeCommand(deps, input.changeNumber, {
    kind: 'verify',
    actor: input.actor,
    outcome: input.outcome,
    issues: input.issues,
  });
}
