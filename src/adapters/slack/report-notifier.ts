import type { ReportNotifier } from '../../application/post-monthly-report.js';
import type { AuditReport } from '../../application/verify-audit.js';
import type { ChangeLogSummary } from '../../domain/change-log.js';
import type { SlackSender } from '../../infra/slack/sender.js';
import { changeLogMessage } from './views/change-log.message.js';

/** Posts the monthly compliance report to the reports channel. */
export class SlackReportNotifier implements ReportNotifier {
  constructor(private readonly sender: SlackSender) {}

  async postMonthlyReport(channel: string, summary: ChangeLogSummary, audit: AuditReport): Promise<void> {
    const msg = changeLogMessage(summary, 'all', audit, 'Monthly change report');
    await this.sender.call('chat.postMessage', {
      channel,
      text: msg.text,
      blocks: msg.blocks,
      unfurl_links: false,
    });
  }
}
