import { canonicalJson } from './audit.js';
import { type ChangeState, isTerminal, nextPir } from './lifecycle.js';
import { openToAnyone, participantsOf } from './visibility.js';

/**
 * The fields a change's stored record keeps beside its state for queries and indexes, as the fold
 * of its events gives them. Audit verification compares a stored record with this.
 */
export interface ProjectionSummary {
  title: string;
  type: string;
  status: string;
  requester: string;
  emergency: boolean;
  submittedAt: Date;
  approvedAt: Date | null;
  deployedAt: Date | null;
  closedAt: Date | null;
  retroDueAt: Date | null;
  retroSubmittedAt: Date | null;
  participants: string[];
  openToAnyone: boolean;
  stageStartedAt: Date | null;
  plannedStart: Date | null;
  deployedBy: string | null;
  lastEventAt: Date;
  /** Whose turn the retrospective's review is, while it is open: `pending` (reviewers) or `questions`. */
  retroReview: 'pending' | 'questions' | null;
  /** When the next unanswered post-implementation review is due (null: none owed). */
  pirDueAt: Date | null;
}

export function projectionSummary(state: ChangeState): ProjectionSummary {
  return {
    title: state.request.title,
    type: state.type,
    status: state.status,
    requester: state.requester,
    emergency: state.emergency,
    submittedAt: state.submittedAt,
    approvedAt: state.approvedAt,
    deployedAt: state.deployedAt,
    closedAt: isTerminal(state) ? state.updatedAt : null,
    retroDueAt: state.retro.dueAt,
    retroSubmittedAt: state.retro.submittedAt,
    participants: participantsOf(state),
    openToAnyone: openToAnyone(state),
    stageStartedAt: state.stageStartedAt,
    plannedStart: state.request.plannedStart,
    deployedBy: state.deployedBy,
    lastEventAt: state.updatedAt,
    retroReview:
      state.retroReview.status === 'pending' || state.retroReview.status === 'questions'
        ? state.retroReview.status
        : null,
    pirDueAt: nextPir(state)?.dueAt ?? null,
  };
}

/** The fields where a stored summary differs from the expected one (empty: none). */
export function summaryDrift(stored: ProjectionSummary, expected: ProjectionSummary): string[] {
  return (Object.keys(expected) as (keyof ProjectionSummary)[]).filter(
    (k) => canonicalJson(stored[k] ?? null) !== canonicalJson(expected[k] ?? null),
  );
}
