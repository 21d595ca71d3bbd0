import { chaseRetrospectives } from '../../application/chase-retrospectives.js';
import type { JobDefinition } from '../../infra/scheduler.js';
import type { JobContext } from './register.js';

/** Chases emergency retrospectives; marks and escalates overdue ones. */
export function chaseRetrospectivesJob(ctx: JobContext): JobDefinition {
  return {
    name: 'chase-retrospectives',
    every: ctx.reminderInterval,
    handler: async () => {
      await chaseRetrospectives(ctx.reminders);
    },
  };
}
