import { type CommandInput, runCommand } from './execute-command.js';
import type { Deps } from './ports.js';

/** A reviewer (CAB or designated reviewer) accepts an emergency's retrospective or sends it back. */
export const reviewRetrospective = (deps: Deps, input: CommandInput<'review_retro'>) =>
  runCommand(deps, 'review_retro', input);

/** The requester answers the questions a reviewer sent back. */
export const answerRetroReview = (deps: Deps, input: CommandInput<'answer_review'>) =>
  runCommand(deps, 'answer_review', input);

/** The requester answers a post-implementation review checkpoint (health check, 24 h, 1 week…). */
export const answerPostImplementationReview = (deps: Deps, input: CommandInput<'answer_pir'>) =>
  runCommand(deps, 'answer_pir', input);
