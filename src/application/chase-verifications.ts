import { type ReminderDeps, type SweepResult, sweepReminders } from './reminder-sweep.js';

/** Reminds whoever recorded a deployment to verify it, until verified or rolled back; escalates once. */
export function chaseVerifications(rd: ReminderDeps): Promise<SweepResult> {
  return sweepReminders(rd, ['verification', 'verification_escalation'], 'deployed');
}
