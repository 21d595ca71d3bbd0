import type { Deps } from '../../application/ports.js';
import type { ReportDeps } from '../../application/post-monthly-report.js';
import type { IdempotencyStore } from '../../infra/db/idempotency.js';
import type { Logger } from '../../infra/logger.js';
import type { Scheduler } from '../../infra/scheduler.js';
import { chasePendingApprovalsJob } from './chase-pending-approvals.job.js';
import { chaseRetrospectivesJob } from './chase-retrospectives.job.js';
import { chaseVerificationsJob } from './chase-verifications.job.js';
import { cleanupIdempotencyKeysJob } from './cleanup-idempotency-keys.job.js';
import { monthlyReportJob } from './monthly-report.job.js';
import { remindUpcomingWindowsJob } from './remind-upcoming-windows.job.js';
import { repairSubmissionsJob } from './repair-submissions.job.js';
import { retrySlackEffectsJob } from './retry-slack-effects.job.js';
import { sendDigestsJob } from './send-digests.job.js';

export interface JobContext {
  deps: Deps;
  reminders: ReportDeps;
  idempotency: IdempotencyStore;
  logger: Logger;
  /** How often the reminder sweeps run (Agenda human interval). */
  reminderInterval: string;
  /** The submission repair: how old a submission must be, and how often the job looks. */
  repair: { afterMs: number; interval: string };
}

/** Every Agenda job; each is thin and idempotent, and calls application functions. */
export function registerJobs(scheduler: Scheduler, ctx: JobContext): void {
  const jobs = [
    chasePendingApprovalsJob(ctx),
    remindUpcomingWindowsJob(ctx),
    chaseVerificationsJob(ctx),
    chaseRetrospectivesJob(ctx),
    sendDigestsJob(ctx),
    monthlyReportJob(ctx.reminders),
    cleanupIdempotencyKeysJob(ctx),
    repairSubmissionsJob(ctx),
    retrySlackEffectsJob(ctx),
  ];
  for (const def of jobs) scheduler.define(def);
}
