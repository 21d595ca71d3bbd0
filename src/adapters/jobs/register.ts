import type { Deps } from '../../application/ports.js';
import type { IdempotencyStore } from '../../infra/db/idempotency.js';
import type { Logger } from '../../infra/logger.js';
import type { Scheduler } from '../../infra/scheduler.js';
import { cleanupIdempotencyKeysJob } from './cleanup-idempotency-keys.job.js';
import { repairSubmissionsJob } from './repair-submissions.job.js';

export interface JobContext {
  deps: Deps;
  idempotency: IdempotencyStore;
  logger: Logger;
}

/** Every Agenda job; each is thin and idempotent, and calls application functions. */
export function registerJobs(scheduler: Scheduler, ctx: JobContext): void {
  for (const def of [cleanupIdempotencyKeysJob(ctx), repairSubmissionsJob(ctx)]) scheduler.define(def);
}
