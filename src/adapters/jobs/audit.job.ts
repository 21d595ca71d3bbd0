import { checkpointNow } from '../../application/audit-ledger.js';
import type { ReportDeps } from '../../application/post-monthly-report.js';
import { verifyDaily } from '../../application/verify-audit.js';
import type { JobDefinition } from '../../infra/scheduler.js';

/** Signs a checkpoint of the audit ledger and posts it to the audit channel (when anything was added). */
export function auditCheckpointJob(deps: ReportDeps, every: string): JobDefinition {
  return {
    name: 'audit-checkpoint',
    every,
    handler: async () => {
      await deps.background.track(checkpointNow(deps));
    },
  };
}

/** Verifies the whole audit trail once a day and reports a failure (see verifyDaily). */
export function auditVerifyJob(deps: ReportDeps): JobDefinition {
  return {
    name: 'audit-verify',
    every: '1 hour',
    // Tracked, so a graceful stop waits for it to stop (it does at once) and release its claim.
    handler: async () => {
      await deps.background.track(verifyDaily(deps));
    },
  };
}
