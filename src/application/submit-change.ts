import type { ChangeRequest } from '../domain/change.js';
import type { DomainError } from '../domain/errors.js';
import { prKeyOfUrl } from '../domain/github.js';
import {
  applyEvent,
  type ChangeState,
  type RaisedVia,
  type StoredChangeEvent,
  submissionDraft,
} from '../domain/lifecycle.js';
import { pipelineActor, type Standing } from '../domain/people.js';
import { type FieldIssue, validateRequest } from '../domain/request-rules.js';
import { announceClaimed } from './announce-change.js';
import { currentApprovers } from './current-approvers.js';
import { resolvePerson } from './people.js';
import type { Deps } from './ports.js';

export interface SubmitInput {
  request: ChangeRequest;
  requester: string;
  source: 'slack' | 'api';
  originChannel: string | null;
  /** The pipeline token raising the change, when it comes through the API. */
  raisedVia?: RaisedVia | null;
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
  const raisedVia = input.raisedVia ?? null;
  const issues = validateRequest(
    policy,
    membership,
    input.request,
    input.requester,
    now,
    raisedVia?.tokenCreator ?? null,
  );
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
      submissionDraft(policy, input.request, input.source, raisedVia),
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
  const waitingOn = currentApprovers(state, policy, membership);
  // Under a claim, as the repair announces: one post per change, whichever gets there first (a
  // submission whose post waits behind Slack's pacing longer than the repair's delay, a repair run).
  let announce = async () => {
    try {
      const claim = await deps.changes.claimAnnouncement(number);
      if (claim)
        await announceClaimed(
          deps,
          { state, event: appended, membership, waitingOn },
          claim,
          deps.notifier.postedRoots(),
        );
    } catch (err) {
      deps.logger.warn('could not announce the change; the repair job will post it', {
        changeId: number,
        err,
      });
    }
  };
  try {
    await deps.changes.saveProjection(state, { seq: appended.seq, hash: appended.hash }, waitingOn);
  } catch (err) {
    // The repair job writes the projection and announces the change once the database answers.
    deps.logger.warn('change recorded; its projection and announcement are left to the repair job', {
      changeId: number,
      err,
    });
    announce = async () => undefined;
  }
  // A pull request named in the change's links: its GitHub events find the change (github-evidence.ts).
  const pr = prKeyOfUrl(input.request.links.pr);
  if (pr)
    await deps.githubLinks
      .add(pr, number)
      .catch((err) =>
        deps.logger.warn('could not register the pull request link', { changeId: number, err }),
      );
  deps.logger.info('change submitted', {
    changeId: number,
    userId: input.requester,
    type: state.type,
    source: input.source,
  });
  return { ok: true, number, state, event: appended, announce };
}

/** A pipeline token, as it raises a change. */
export interface PipelineCaller {
  name: string;
  createdBy: string;
}

/** Why a person cannot be the one a pipeline raises a change for (null: they can). */
function requesterProblem(standing: Standing): string | null {
  switch (standing) {
    case 'member':
    case 'guest':
      return null;
    case 'deactivated':
      return 'This account is deactivated.';
    case 'foreign':
      return 'This person is not a member of the workspace Changegate is installed in.';
    case 'bot':
      return 'A bot cannot be the requester of a change.';
    case 'unknown':
      return 'No one in this workspace has this Slack user id or e-mail address.';
    case 'unverifiable':
      return null; // answered as "try again" below
  }
}

/**
 * A change raised by a pipeline: it is raised by the token's pipeline identity, on behalf of a Slack
 * user only when that user (by id or e-mail) resolves to an active person of the workspace. The
 * token's creator is bound by separation of duties like the requester.
 */
export async function submitPipelineChange(
  deps: Deps,
  input: { request: ChangeRequest; onBehalfOf: string | null; caller: PipelineCaller },
): Promise<SubmitOutcome> {
  let requester = pipelineActor(input.caller.name);
  if (input.onBehalfOf) {
    const person = await resolvePerson(deps, input.onBehalfOf);
    if (person.standing === 'unverifiable')
      return {
        ok: false,
        error: {
          code: 'UNAVAILABLE',
          message:
            'Slack could not confirm the requester right now; nothing was recorded. Try again shortly.',
        },
      };
    const problem = requesterProblem(person.standing);
    if (problem || !person.userId)
      return {
        ok: false,
        error: {
          code: 'VALIDATION',
          message: 'The requester is not an active person of this workspace.',
          issues: [{ field: 'requester', message: problem ?? 'Unknown person.' }],
        },
      };
    requester = person.userId;
  }
  return submitChange(deps, {
    request: input.request,
    requester,
    source: 'api',
    originChannel: null,
    raisedVia: { token: input.caller.name, tokenCreator: input.caller.createdBy },
  });
}
