import type { ChangeRequest } from '../domain/change.js';
import type { DomainError } from '../domain/errors.js';
import { applyEvent, type ChangeState, submissionDraft } from '../domain/lifecycle.js';
import { type FieldIssue, validateRequest } from '../domain/request-rules.js';
import type { StoredChangeEvent } from '../infra/db/change-repository.js';
import { currentApprovers } from './current-approvers.js';
import { notify } from './execute-command.js';
import type { Deps } from './ports.js';

export interface SubmitInput {
  request: ChangeRequest;
  requester: string;
  source: 'slack' | 'api';
  originChannel: string | null;
}

export type SubmitOutcome =
  | { ok: true; number: number; state: ChangeState; event: StoredChangeEvent; announce: () => Promise<void> }
  | { ok: false; error: DomainError & { issues?: FieldIssue[] } };

/**
 * Records a new change request: validate against the policy, claim the next number, append the
 * `submitted` event and write the projection. Announcing it in Slack is returned as `announce`, so a
 * modal can be closed (acknowledged) as soon as the record is safe, before any Slack call.
 */
export async function submitChange(deps: Deps, input: SubmitInput): Promise<SubmitOutcome> {
  const policy = deps.policy.policy;
  const membership = await deps.directory.membership();
  const now = deps.clock.now();
  const issues = validateRequest(policy, membership, input.request, input.requester, now);
  if (issues.length > 0) {
    return {
      ok: false,
      error: { code: 'VALIDATION', message: 'The change request is incomplete or invalid.', issues },
    };
  }
  const type = policy.types[input.request.type]!;
  const number = await deps.changes.claimNumber({
    title: input.request.title,
    type: input.request.type,
    requester: input.requester,
    at: now,
    originChannel: input.originChannel,
    emergency: type.form === 'emergency',
  });
  let appended: StoredChangeEvent;
  try {
    const res = await deps.changes.append(
      number,
      null,
      submissionDraft(policy, input.request, input.source),
      {
        actor: input.requester,
        at: now,
        policyHash: deps.policy.hash,
      },
    );
    if (res.kind !== 'appended') throw new Error(`CR-${number} already had a submitted event`);
    appended = res.event;
  } catch (err) {
    await deps.changes.releaseNumber(number).catch(() => undefined);
    throw err;
  }
  const state = applyEvent(null, appended);
  // The event is the commit point: from here the change is recorded, whatever happens next.
  let announce = () => notify(deps, { state, event: appended, membership });
  try {
    await deps.changes.saveProjection(
      state,
      { seq: appended.seq, hash: appended.hash },
      currentApprovers(state, policy, membership),
    );
  } catch (err) {
    // The repair job writes the projection and announces the change once the database answers.
    deps.logger.warn('change recorded; its projection and announcement are left to the repair job', {
      changeId: number,
      err,
    });
    announce = async () => undefined;
  }
  deps.logger.info('change submitted', {
    changeId: number,
    userId: input.requester,
    type: state.type,
    source: input.source,
  });
  return { ok: true, number, state, event: appended, announce };
}
