import { type CommandOutcome, executeCommand } from './execute-command.js';
import type { Deps } from './ports.js';

export interface ApprovalDecision {
  changeNumber: number;
  stageIndex: number;
  actor: string;
  decision: 'approve' | 'reject';
  /** Rejection reason (required) or approval comment (optional). */
  note: string;
}

/** Approve or reject the current stage of a change (Slack buttons, App Home and DM reminders). */
export function decideApproval(deps: Deps, d: ApprovalDecision): Promise<CommandOutcome> {
  return executeCommand(
    deps,
    d.changeNumber,
    d.decision === 'approve'
      ? { kind: 'approve', stageIndex: d.stageIndex, actor: d.actor, comment: d.note }
      : { kind: 'reject', stageIndex: d.stageIndex, actor: d.actor, reason: d.note },
  );
}
