import { verifyChain } from '../domain/audit.js';
import type { DomainError } from '../domain/errors.js';
import {
  applyEvent,
  type ChangeState,
  type Command,
  decide,
  isControlDecision,
  isFinalRefusal,
  isRecordedRefusal,
  refusalSlot,
  type StoredChangeEvent,
  sameDeploymentReport,
} from '../domain/lifecycle.js';
import { meetingsFor } from './board-agenda.js';
import { headOf } from './check-deploy-gate.js';
import { currentApprovers } from './current-approvers.js';
import { scheduleEffects } from './effects.js';
import { standingOfUser } from './people.js';
import type { ChangeRecord, Deps, Logger } from './ports.js';

export type CommandOutcome =
  | {
      ok: true;
      state: ChangeState;
      event: StoredChangeEvent;
      replay: boolean;
      /** The change record as read for the decision (its Slack message does not move with events). */
      record: ChangeRecord | null;
      /** The people the change waits on now (empty for a replayed report). */
      waitingOn: string[];
      /**
       * Settles when this attempt at the event's Slack effects is over (never rejects). The effects
       * run in the background; a door may wait for them, none has to.
       */
      sent: Promise<void>;
    }
  | { ok: false; error: DomainError; state: ChangeState | null };

const MAX_ATTEMPTS = 12;

/** A lifecycle command's fields, with the change it is for (what a door hands a use case). */
export type CommandInput<K extends Command['kind']> = Omit<Extract<Command, { kind: K }>, 'kind'> & {
  changeNumber: number;
};

/** Runs the command of kind `kind` with the input's fields against its change. */
export function runCommand<K extends Command['kind']>(
  deps: Deps,
  kind: K,
  input: CommandInput<K>,
): Promise<CommandOutcome> {
  const { changeNumber, ...fields } = input;
  // CommandInput<K> is exactly the fields of the command of kind K; TypeScript cannot correlate a
  // generic spread with a member of the union, so the pairing is asserted here, once.
  return executeCommand(deps, changeNumber, { kind, ...fields } as unknown as Command);
}

/**
 * Runs one lifecycle command against a change: read the event log, let the domain decide, append
 * the event (the unique indexes make the insert the commit point), update the projection, and
 * record its Slack effects, which then run in the background (application/effects.ts). A lost race
 * re-reads and decides again, so concurrent clicks yield one decision per stage.
 */
export async function executeCommand(
  deps: Deps,
  changeNumber: number,
  cmd: Command,
): Promise<CommandOutcome> {
  const actor = 'actor' in cmd ? cmd.actor : 'system';
  const log = deps.logger.child({ changeId: changeNumber, userId: actor, command: cmd.kind });
  // Control decisions are taken by active, full members of the workspace only (looked up once).
  const actorStanding =
    isControlDecision(cmd) && 'actor' in cmd ? await standingOfUser(deps, cmd.actor) : undefined;

  // Approvals and rejections are decided on the change's record first: a refusal no later event can
  // undo is answered from it, so refused clicks (however many) never read the event log.
  let known: ChangeRecord | null | undefined;
  // Whom the person decides for while they are away (read fresh: a delegation just ended counts no more).
  const delegations =
    cmd.kind === 'approve' || cmd.kind === 'reject' || cmd.kind === 'defer_board'
      ? await deps.delegations.to(cmd.actor)
      : undefined;
  if (cmd.kind === 'approve' || cmd.kind === 'reject') {
    known = await deps.changes.record(changeNumber);
    const state = known?.state ?? null;
    if (state) {
      const membership = await deps.directory.membership();
      const policy = await deps.policies.forChange(state.policyHash);
      const quick = decide(state, cmd, {
        now: deps.clock.now(),
        policy,
        membership,
        actorStanding,
        delegations,
      });
      if (!quick.ok && isFinalRefusal(quick.error.code)) {
        await recordRefusalOnce(deps, changeNumber, cmd, quick.error, log);
        return { ok: false, error: quick.error, state };
      }
    }
  }

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    // The first attempt reads the log as far as the record just read says (a record behind its log
    // makes the append conflict, and the next attempt reads the whole log).
    const asRecorded = attempt === 1 && !!known;
    const loaded = await deps.changes.load(changeNumber, attempt === 1 ? known : undefined, { asRecorded });
    if (!loaded && asRecorded) continue; // a record still submitting: its log is read whole
    if (!loaded)
      return {
        ok: false,
        error: { code: 'NOT_FOUND', message: `There is no change CR-${changeNumber}.` },
        state: null,
      };
    const membership = await deps.directory.membership();
    const now = deps.clock.now();
    // A deployment is held against the change's recorded history: a log that does not verify
    // authorises nothing (the check hashes the log, so it is done only where it decides).
    const chainIntact =
      cmd.kind === 'record_deployment' ? verifyChain(loaded.events, headOf(loaded)) === null : true;
    const policy = await deps.policies.forChange(loaded.state.policyHash);
    const meetings =
      cmd.kind === 'approve' || cmd.kind === 'reject' || cmd.kind === 'defer_board'
        ? await meetingsFor(deps, loaded.state)
        : undefined;
    const decided = decide(loaded.state, cmd, {
      now,
      policy,
      membership,
      chainIntact,
      actorStanding,
      delegations,
      meetings,
    });
    if (!decided.ok) {
      if (asRecorded) continue; // refused on the record's view of the log: decided on the whole log
      if (cmd.kind === 'approve' || cmd.kind === 'reject')
        await recordRefusalOnce(deps, changeNumber, cmd, decided.error, log);
      return { ok: false, error: decided.error, state: loaded.state };
    }
    const res = await deps.changes.append(changeNumber, loaded.head, decided.value, {
      actor,
      at: now,
      policyHash: deps.policy.hash,
    });
    if (res.kind === 'seq_conflict') {
      await pause(attempt);
      continue;
    }
    if (res.kind === 'slot_taken') {
      if (res.existing.type === 'deployment_recorded' && decided.value.type === 'deployment_recorded') {
        // The key was used before: the same report is answered as the first time; another report
        // under the same key is a client error, never silently taken for the first one.
        if (!sameDeploymentReport(res.existing.data, decided.value.data))
          return {
            ok: false,
            error: {
              code: 'IDEMPOTENCY_CONFLICT',
              message:
                'This Idempotency-Key was already used for a different deployment report; use a new key for a new report.',
            },
            state: loaded.state,
          };
        const again = await deps.changes.load(changeNumber);
        return {
          ok: true,
          state: again!.state,
          event: res.existing,
          replay: true,
          record: again!.record,
          waitingOn: [],
          sent: Promise.resolve(),
        };
      }
      continue; // someone else decided this slot: re-read and decide again
    }
    const state = applyEvent(loaded.state, res.event);
    const waitingOn = currentApprovers(state, policy, membership);
    await deps.changes.saveProjection(state, { seq: res.event.seq, hash: res.event.hash }, waitingOn);
    log.info('change event recorded', { event: res.event.type, seq: res.event.seq });
    const { sent } = await scheduleEffects(deps, {
      state,
      event: res.event,
      membership,
      waitingOn,
      record: loaded.record,
    });
    return { ok: true, state, event: res.event, replay: false, record: loaded.record, waitingOn, sent };
  }
  return {
    ok: false,
    error: {
      code: 'CONFLICT',
      message: 'Too many people are acting on this change at once; please try again.',
    },
    state: null,
  };
}

/** How long the claim that a refusal was recorded is kept (the event's slot holds it after that). */
const REFUSAL_CLAIM_MS = 30 * 24 * 3_600_000;

/**
 * An `approval_refused` entry (who tried what, why they were not allowed), written once per person,
 * stage, action and reason: a repeat costs one insert that fails on its key, not a read of the log,
 * and cannot grow the log. The event's slot makes it once across replicas too.
 */
async function recordRefusalOnce(
  deps: Deps,
  changeNumber: number,
  cmd: Extract<Command, { kind: 'approve' | 'reject' }>,
  error: DomainError,
  log: Logger,
): Promise<void> {
  if (!isRecordedRefusal(error)) return;
  const slot = refusalSlot(cmd.stageIndex, cmd.kind, cmd.actor, error.code);
  try {
    if (!(await deps.changes.claimKey(`${changeNumber}:${slot}`, REFUSAL_CLAIM_MS))) return;
    await recordRefusal(deps, changeNumber, cmd.stageIndex, cmd.kind, cmd.actor, error, slot);
  } catch (err) {
    log.warn('could not record the refused attempt', { err });
  }
}

/** An `approval_refused` entry: who tried what, and why they were not allowed. */
async function recordRefusal(
  deps: Deps,
  changeNumber: number,
  stageIndex: number,
  action: 'approve' | 'reject',
  actor: string,
  error: DomainError,
  slot: string,
) {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const loaded = await deps.changes.load(changeNumber);
    if (!loaded) return;
    const stage = loaded.state.stages[stageIndex];
    const res = await deps.changes.append(
      changeNumber,
      loaded.head,
      {
        type: 'approval_refused',
        slot,
        data: { stageIndex, stage: stage?.key ?? '?', action, code: error.code },
      },
      { actor, at: deps.clock.now(), policyHash: deps.policy.hash },
    );
    if (res.kind === 'slot_taken') return;
    if (res.kind === 'appended') {
      const state = applyEvent(loaded.state, res.event);
      const membership = await deps.directory.membership();
      await deps.changes.saveProjection(
        state,
        { seq: res.event.seq, hash: res.event.hash },
        currentApprovers(state, deps.policy.policy, membership),
      );
      return;
    }
    await pause(attempt);
  }
}

export async function notify(deps: Deps, change: Parameters<Deps['notifier']['changed']>[0]): Promise<void> {
  try {
    await deps.notifier.changed(change);
  } catch (err) {
    deps.logger.error('notification failed; the change itself is recorded', {
      changeId: change.state.number,
      event: change.event.type,
      err,
    });
  }
}

function pause(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.floor(Math.random() * 10 * attempt)));
}
