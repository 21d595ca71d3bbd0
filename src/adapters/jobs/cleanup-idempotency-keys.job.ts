import type { JobDefinition } from '../../infra/scheduler.js';
import type { JobContext } from './register.js';

/** Removes expired idempotency keys (FerretDB has no TTL indexes, so a job does it). */
export function cleanupIdempotencyKeysJob(ctx: JobContext): JobDefinition {
  return {
    name: 'cleanup-idempotency-keys',
    every: '1 hour',
    handler: async () => {
      const removed = await ctx.idempotency.cleanup();
      if (removed)
        ctx.logger.debug('removed expired idempotency keys', { job: 'cleanup-idempotency-keys', removed });
    },
  };
}
