import { remindUpcomingWindows } from '../../application/remind-upcoming-windows.js';
import type { JobDefinition } from '../../infra/scheduler.js';
import type { JobContext } from './register.js';

/** Reminds requesters before planned windows; flags missed windows. */
export function remindUpcomingWindowsJob(ctx: JobContext): JobDefinition {
  return {
    name: 'remind-upcoming-windows',
    every: ctx.reminderInterval,
    handler: async () => {
      await remindUpcomingWindows(ctx.reminders);
    },
  };
}
