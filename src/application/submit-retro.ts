import type { Retrospective } from '../domain/lifecycle.js';
import { type CommandOutcome, executeCommand } from './execute-command.js';
import type { Deps } from './ports.js';

/** The retrospective an emergency change owes after deployment. */
export function submitRetrospective(
  deps: Deps,
  input: { changeNumber: number; actor: string; answers: Retrospective },
): Promise<CommandOutcome> {
  return executeCommand(deps, input.changeNumber, {
    kind: 'submit_retro',
    actor: input.actor,
    answers: input.answers,
  });
}
