import type { ChangeStatus, UnauthorisedReason } from '../../../domain/lifecycle.js';

/** Why a recorded deployment was unauthorised, in words (one place for every Slack message). */
export function unauthorisedReasonText(reason: UnauthorisedReason, status: ChangeStatus): string {
  switch (reason) {
    case 'not_approved':
      return `the change is ${status.replace('_', ' ')}, not approved`;
    case 'freeze':
      return 'a freeze is in force without an exception';
    case 'already_deployed':
      return 'the change was already deployed and finished';
    case 'outside_window':
      return 'it is outside the planned window';
    case 'unverified_previous_deployment':
      return 'the previous deployment is not verified yet';
    case 'commit_required':
      return 'the change names no commit, and its type requires one';
    case 'commit_mismatch':
      return 'it is not the commit the change was approved for';
    case 'audit_trail_broken':
      return "the change's recorded history does not verify";
    case 'not_a_deployer':
      return 'whoever deployed it is not one of the policy’s deployers';
    case 'outside_maintenance_window':
      return 'it is outside the maintenance windows, without an exception';
    case 'missing_prior_deployment':
      return 'it did not reach the environments the policy requires before production (e.g. staging)';
    case 'pull_request_rule':
      return 'its pull request is not merged, approved by someone other than its author on its final commit, and green';
  }
}
