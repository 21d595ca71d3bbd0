import { boardSweep } from '../../application/board-meetings.js';
import { chasePendingApprovals } from '../../application/chase-pending-approvals.js';
import { chaseRetrospectives } from '../../application/chase-retrospectives.js';
import { chaseVerifications } from '../../application/chase-verifications.js';
import type { BoardNotifier, Deps } from '../../application/ports.js';
import { postMonthlyReport, type ReportDeps } from '../../application/post-monthly-report.js';
import { remindUpcomingWindows } from '../../application/remind-upcoming-windows.js';
import type { SweepResult } from '../../application/reminder-sweep.js';
import { sendDigests } from '../../application/send-digests.js';
import { verifyDaily } from '../../application/verify-audit.js';
import type { IdempotencyStore } from '../../infra/db/idempotency.js';
import type { Logger } from '../../infra/logger.js';
import type { Scheduler } from '../../infra/scheduler.js';
import { auditCheckpointJob, auditVerifyJob } from './audit.job.js';
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
  /** How often the audit ledger is checkpointed (Agenda human interval). */
  checkpointInterval: string;
  boards: BoardNotifier;
}

/** The reminder sweeps, callable directly (the scheduled jobs call the same functions). */
export interface ReminderRunner {
  approvals(): Promise<SweepResult>;
  windows(): Promise<SweepResult>;
  verifications(): Promise<SweepResult>;
  retrospectives(): Promise<SweepResult>;
  digests(): Promise<SweepResult>;
  monthlyReport(): ReturnType<typeof postMonthlyReport>;
  /** The daily audit verification (see verifyDaily). */
  auditVerify(): ReturnType<typeof verifyDaily>;
  /** Board agendas at their cut-off (kept current) and meetings closed with their minutes. */
  boards(): ReturnType<typeof boardSweep>;
  all(): Promise<SweepResult>;
}

/** Every Agenda job; each is thin and idempotent, and calls application functions. */
export function registerJobs(scheduler: Scheduler, ctx: JobContext): ReminderRunner {
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
    auditCheckpointJob(ctx.reminders, ctx.checkpointInterval),
    auditVerifyJob(ctx.reminders),
    {
      name: 'board-meetings',
      every: ctx.reminderInterval,
      handler: async () => {
        await boardSweep(ctx.deps, ctx.boards);
      },
    },
  ];
  for (const def of jobs) scheduler.define(def);
  const rd = ctx.reminders;
  const sweeps = [
    chasePendingApprovals,
    remindUpcomingWindows,
    chaseVerifications,
    chaseRetrospectives,
    sendDigests,
  ];
  return {
    approvals: () => chasePendingApprovals(rd),
    windows: () => remindUpcomingWindows(rd),
    verifications: () => chaseVerifications(rd),
    retrospectives: () => chaseRetrospectives(rd),
    digests: () => sendDigests(rd),
    monthlyReport: () => postMonthlyReport(rd),
    auditVerify: () => verifyDaily(rd),
    boards: () => boardSweep(ctx.deps, ctx.boards),
    all: async () => {
      const total: SweepResult = { examined: 0, due: 0, sent: 0, skipped: 0, failed: 0 };
      for (const sweep of sweeps) {
        const r = await sweep(rd);
        for (const k of Object.keys(total) as (keyof SweepResult)[]) total[k] += r[k];
      }
      return total;
    },
  };
}
