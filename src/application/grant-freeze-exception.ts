import { type CommandOutcome, executeCommand } from './execute-command.js';
import type { Deps } from './ports.js';

/** An executive lets a change through a freeze window, with a recorded reason. */
export function grantFreezeException(
  deps: Deps,
  input: { changeNumber: number; actor: string; freeze: string; reason: string },
): Promise<CommandOutcome> {
  return executeCommand(deps, input.changeNumber, {
    kind: 'grant_exception',
    actor: input.actor,
    freeze: input.freeze,
    reason: input.reason,
  });
}
