import { type ReminderDeps, type SweepResult, sweepReminders } from './reminder-sweep.js';

/** Reminds the approvers of stalled stages on the policy's cadence, then escalates once. */
export function chasePendingApprovals(rd: ReminderDeps): Promise<SweepResult> {
  return sweepReminders(rd, ['approval', 'approval_escalation'], 'pending_approval');
}
