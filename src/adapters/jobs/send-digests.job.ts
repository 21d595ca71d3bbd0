import { sendDigests } from '../../application/send-digests.js';
import type { JobDefinition } from '../../infra/scheduler.js';
import type { JobContext } from './register.js';

/** Digest mode: one morning DM per person. */
export function sendDigestsJob(ctx: JobContext): JobDefinition {
  return {
    name: 'send-digests',
    every: ctx.reminderInterval,
    handler: async () => {
      await sendDigests(ctx.reminders);
    },
  };
}
