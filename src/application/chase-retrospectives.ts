import { retroState } from '../domain/lifecycle.js';
import { docState } from '../infra/db/change-repository.js';
import { executeCommand } from './execute-command.js';
import { type ReminderDeps, type SweepResult, sweepReminders } from './reminder-sweep.js';

/**
 * Emergency retrospectives: reminders before the due time; once overdue the change is marked
 * (a `retro_overdue` event, once) and the CTO / security roles get a daily escalation.
 */
export async function chaseRetrospectives(rd: ReminderDeps): Promise<SweepResult> {
  const now = rd.clock.now();
  const overdue = rd.changes.cursor({ emergency: true, retroSubmittedAt: null, retroDueAt: { $lt: now } });
  for await (const doc of overdue) {
    if (rd.stopping?.aborted) break;
    const state = docState(doc);
    if (state && retroState(state, now) === 'overdue' && !state.retro.overdueFlaggedAt) {
      const res = await executeCommand(rd, doc.number, { kind: 'flag_retro_overdue' });
      if (res.ok)
        rd.logger.warn('retrospective overdue', { changeId: doc.number, job: 'chase-retrospectives' });
    }
  }
  return sweepReminders(rd, ['retro_due', 'retro_escalation'], {
    emergency: true,
    retroDueAt: { $ne: null },
    retroSubmittedAt: null,
  });
}
