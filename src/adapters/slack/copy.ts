import { formatChangeId } from '../../domain/change.js';
import type { DomainError } from '../../domain/errors.js';
import { isDatabaseUnavailable } from '../../infra/db/connection.js';
import { mention } from './views/text.js';

/** Slack words for domain outcomes, in one place. */
export function refusalText(error: DomainError): string {
  switch (error.code) {
    case 'SELF_APPROVAL_FORBIDDEN':
    case 'SEPARATION_OF_DUTIES':
    case 'NOT_AN_APPROVER':
      return `🚫 ${error.message} Attempts like this are recorded in the audit trail.`;
    case 'NOT_A_DEPLOYER':
      return `🚫 ${error.message}`;
    case 'ACTOR_NOT_ELIGIBLE':
      return error.details?.standing === 'unverifiable' ? `⚠️ ${error.message}` : `🚫 ${error.message}`;
    case 'FROZEN':
      return `🧊 ${error.message}`;
    case 'ALREADY_DECIDED_STAGE': {
      const d = error.details as { stage?: string; outcome?: string; by?: string } | undefined;
      return d?.by ? `ℹ️ ${d.stage} was already ${d.outcome} by ${mention(d.by)}.` : `ℹ️ ${error.message}`;
    }
    case 'NOT_PENDING':
      return `ℹ️ ${error.message}`;
    case 'NOT_FOUND':
      return `🤷 ${error.message}`;
    default:
      return `⚠️ ${error.message}`;
  }
}

/** A change the viewer may not see (visibility is one rule, see domain/visibility.ts). */
export function notVisibleText(changeNumber: number): string {
  return `You can see the changes you raised or take part in; ${formatChangeId(changeNumber)} is not one of them.`;
}

export const TRY_AGAIN =
  'Changegate could not reach its database just now. Nothing was saved; please try again in a minute.';
/** A modal answered before its work finished (see VIEW_ANSWER_WITHIN_MS). */
export const LATE =
  'Changegate is taking longer than it should to save this, so it may not be saved yet. Please try again in a moment: if it was saved meanwhile, trying again saves nothing twice.';
/** The same form sent again while its first submission is not saved yet. */
export const STILL_SAVING =
  'This form was sent already and is still being saved. Please try again in a moment; if its change does not show in the channel within a minute, close this form and run /change again.';
export const UNEXPECTED =
  'Something went wrong in Changegate and nothing was saved. Please try again; if it keeps happening, tell your Changegate admin.';

/** The message for an unexpected failure: "try again" when the database is away. */
export function failureText(err: unknown): string {
  return isDatabaseUnavailable(err) ? TRY_AGAIN : UNEXPECTED;
}
