import { chaseVerifications } from '../../application/chase-verifications.js';
import type { JobDefinition } from '../../infra/scheduler.js';
import type { JobContext } from './register.js';

/** Chases post-deployment verification until verified or rolled back. */
export function chaseVerificationsJob(ctx: JobContext): JobDefinition {
  return {
    name: 'chase-verifications',
    every: ctx.reminderInterval,
    handler: async () => {
      await chaseVerifications(ctx.reminders);
    },
  };
}
