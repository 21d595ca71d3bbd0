import { postMonthlyReport, type ReportDeps } from '../../application/post-monthly-report.js';
import type { JobDefinition } from '../../infra/scheduler.js';

/** Posts the previous month's change report on the 1st (policy time zone); idempotent per month. */
export function monthlyReportJob(deps: ReportDeps): JobDefinition {
  return {
    name: 'monthly-report',
    every: '30 minutes',
    handler: async () => {
      await postMonthlyReport(deps);
    },
  };
}
