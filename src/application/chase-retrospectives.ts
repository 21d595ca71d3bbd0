import { retroState } from '../domain/lifecycle.js';
import { executeCommand } from './execute-command.js';
import { type ReminderDeps, type SweepResult, sweepReminders } from './reminder-sweep.js';

/**
 * Emergency retrospectives: reminders before the due time; once overdue the change is marked
 * (a `retro_overdue` event, once) and the CTO / security roles get a daily escalation.
 */
export async function chaseRetrospectives(rd: ReminderDeps): Promise<SweepResult> {
  const now = rd.clock.now();
  for await (const record of rd.changes.candidates('retro_overdue', now)) {
    if (rd.stopping?.aborted) break;
    const state = record.state!;
    if (retroState(state, now) === 'overdue' && !state.retro.overdueFlaggedAt) {
      const res = await executeCommand(rd, record.number, { kind: 'flag_retro_overdue' });
      if (res.ok)
        rd.logger.warn('retrospective overdue', { changeId: record.number, job: 'chase-retrospectives' });
    }
  }
  const owed = await sweepReminders(rd, ['retro_due', 'retro_escalation'], 'retro_open');
  // Reviews of submitted retrospectives are chased on the same job.
  const reviews = await sweepReminders(rd, ['retro_review', 'retro_review_answer'], 'retro_review');
  // …and post-implementation reviews that are due.
  const pirs = await sweepReminders(rd, ['pir'], 'pir_due');
  return mergeSweeps(mergeSweeps(owed, reviews), pirs);
}

function mergeSweeps(a: SweepResult, b: SweepResult): SweepResult {
  return {
    examined: a.examined + b.examined,
    due: a.due + b.due,
    sent: a.sent + b.sent,
    skipped: a.skipped + b.skipped,
    failed: a.failed + b.failed,
  };
}
