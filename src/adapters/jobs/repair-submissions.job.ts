import { repairInterruptedSubmissions } from '../../application/repair-changes.js';
import type { JobDefinition } from '../../infra/scheduler.js';
import type { JobContext } from './register.js';

/** Completes and announces change submissions a crash interrupted (see repairInterruptedSubmissions). */
export function repairSubmissionsJob(ctx: JobContext): JobDefinition {
  return {
    name: 'repair-interrupted-submissions',
    every: ctx.repair.interval,
    handler: async () => {
      await repairInterruptedSubmissions(ctx.deps, ctx.repair.afterMs);
    },
  };
}
