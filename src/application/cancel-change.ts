import { type CommandOutcome, executeCommand } from './execute-command.js';
import type { Deps } from './ports.js';

/** The requester (or an admin) withdraws a change before it is deployed. */
export function cancelChange(
  deps: Deps,
  input: { changeNumber: number; actor: string; reason: string },
): Promise<CommandOutcome> {
  return executeCommand(deps, input.changeNumber, {
    kind: 'cancel',
    actor: input.actor,
    reason: input.reason,
  });
}
