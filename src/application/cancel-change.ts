import { type CommandInput, runCommand } from './execute-command.js';
import type { Deps } from './ports.js';

/** The requester (or an admin) withdraws a change before it is deployed. */
export const cancelChange = (deps: Deps, input: CommandInput<'cancel'>) => runCommand(deps, 'cancel', input);
