import { type CommandInput, runCommand } from './execute-command.js';
import type { Deps } from './ports.js';

/** An executive lets a change through a freeze window, with a recorded reason. */
export const grantFreezeException = (deps: Deps, input: CommandInput<'grant_exception'>) =>
  runCommand(deps, 'grant_exception', input);
