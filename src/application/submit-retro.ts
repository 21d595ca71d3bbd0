import { type CommandInput, runCommand } from './execute-command.js';
import type { Deps } from './ports.js';

/** The retrospective an emergency change owes after deployment. */
export const submitRetrospective = (deps: Deps, input: CommandInput<'submit_retro'>) =>
  runCommand(deps, 'submit_retro', input);
