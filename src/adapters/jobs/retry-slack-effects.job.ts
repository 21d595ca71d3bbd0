import { retryPendingEffects } from '../../application/effects.js';
import type { JobDefinition } from '../../infra/scheduler.js';
import type { JobContext } from './register.js';

/** Delivers Slack effects whose first attempt failed (see application/effects.ts). */
export function retrySlackEffectsJob(ctx: JobContext): JobDefinition {
  return {
    name: 'retry-slack-effects',
    every: ctx.reminderInterval,
    handler: async () => {
      await retryPendingEffects(ctx.deps);
    },
  };
}
