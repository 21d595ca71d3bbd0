/**
 * Expected outcomes carry stable codes and are returned, not thrown. Each adapter maps a code to
 * words once (Slack copy, HTTP status).
 */
export const DOMAIN_ERROR_CODES = [
  'NOT_FOUND',
  'SELF_APPROVAL_FORBIDDEN',
  'NOT_AN_APPROVER',
  'ALREADY_DECIDED_STAGE',
  'SEPARATION_OF_DUTIES',
  'STAGE_NOT_CURRENT',
  'PREREQUISITE_PENDING',
  'ROLE_ALREADY_SIGNED',
  'MISSING_PRIOR_DEPLOYMENT',
  'OUTSIDE_MAINTENANCE_WINDOW',
  'NOT_PENDING',
  'ALREADY_DECIDED',
  'FROZEN',
  'REASON_REQUIRED',
  'NOT_ALLOWED',
  'INVALID_STATE',
  'NOT_FROZEN',
  'EXCEPTION_EXISTS',
  'RETRO_NOT_REQUIRED',
  'RETRO_ALREADY_SUBMITTED',
  'VALIDATION',
  'CONFLICT',
  'ALREADY_DEPLOYED',
  'COMMIT_MISMATCH',
  'COMMIT_REQUIRED',
  'OUTSIDE_WINDOW',
  'AUDIT_TRAIL_BROKEN',
  'NOT_A_DEPLOYER',
  'ACTOR_NOT_ELIGIBLE',
  'IDEMPOTENCY_CONFLICT',
  'UNAVAILABLE',
  'BOARD_MEETING_REQUIRED',
] as const;
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export interface DomainError {
  code: DomainErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export type Result<T, E = DomainError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const fail = (
  code: DomainErrorCode,
  message: string,
  details?: Record<string, unknown>,
): { ok: false; error: DomainError } => ({
  ok: false,
  error: details ? { code, message, details } : { code, message },
});
