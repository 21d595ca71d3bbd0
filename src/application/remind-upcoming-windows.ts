import { type ReminderDeps, type SweepResult, sweepReminders } from './reminder-sweep.js';

/** Reminds requesters before their planned window; flags approved changes whose window passed undeployed. */
export function remindUpcomingWindows(rd: ReminderDeps): Promise<SweepResult> {
  return sweepReminders(rd, ['window_upcoming', 'window_missed'], 'planned_window');
}
