import { chasePendingApprovals } from '../../application/chase-pending-approvals.js';
import type { JobDefinition } from '../../infra/scheduler.js';
import type { JobContext } from './register.js';

/** Reminds approvers of stalled stages, then escalates (application/chase-pending-approvals). */
export function chasePendingApprovalsJob(ctx: JobContext): JobDefinition {
  return {
    name: 'chase-pending-approvals',
    every: ctx.reminderInterval,
    handler: async () => {
      await chasePendingApprovals(ctx.reminders);
    },
  };
}
