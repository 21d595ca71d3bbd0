import { type CommandInput, runCommand } from './execute-command.js';
import type { Deps } from './ports.js';

/** Post-deployment verification: it works (with any issues seen), or it was rolled back. */
export const verifyDeployment = (deps: Deps, input: CommandInput<'verify'>) =>
  runCommand(deps, 'verify', input);
