import type { ChangeLogSummary } from '../domain/change-log.js';
import { previousMonth } from '../domain/period.js';
import { zonedParts } from '../domain/time.js';
import { buildChangeLog } from './build-change-log.js';
import { BACKGROUND_SHARE } from './pacer.js';
import { deliverOnce, type ReminderDeps } from './reminder-sweep.js';
import { type AuditReport, verifyAudit } from './verify-audit.js';

export interface ReportNotifier {
  postMonthlyReport(channel: string, summary: ChangeLogSummary, audit: AuditReport): Promise<void>;
}

export interface ReportDeps extends ReminderDeps {
  reports: ReportNotifier;
}

/** Days into a month on which a missed monthly report (the app was down on the 1st) is still posted. */
const CATCH_UP_DAYS = 3;

/**
 * On the 1st of each month (from 09:00 in the policy's time zone) posts the previous month's
 * summary, with the audit-chain verification, to the policy's reports channel, once.
 */
export async function postMonthlyReport(
  rd: ReportDeps,
): Promise<'posted' | 'not_due' | 'no_channel' | 'skipped' | 'failed'> {
  const policy = rd.policy.policy;
  const channel = policy.channels.reports;
  if (!channel) return 'no_channel';
  const now = rd.clock.now();
  const local = zonedParts(now, policy.timezone);
  if (local.day > CATCH_UP_DAYS || (local.day === 1 && local.minuteOfDay < 9 * 60)) return 'not_due';
  const period = previousMonth(now, policy.timezone);
  const outcome = await deliverOnce(rd, `monthly-report:${period.label}`, async () => {
    const { summary } = await buildChangeLog(rd, { kind: 'system' }, period);
    const audit = await verifyAudit(rd, { signal: rd.stopping, share: BACKGROUND_SHARE });
    await rd.reports.postMonthlyReport(channel, summary, audit);
  });
  if (outcome === 'sent')
    rd.logger.info('monthly report posted', { job: 'monthly-report', period: period.label });
  return outcome === 'sent' ? 'posted' : outcome;
}
