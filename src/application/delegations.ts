import { randomUUID } from 'node:crypto';
import {
  appendDelegationRecord,
  type Delegation,
  type DelegationRecord,
  type DelegationRefusal,
  delegationProblem,
  foldDelegations,
  isActive,
} from '../domain/delegation.js';
import { standingProblem } from '../domain/people.js';
import { standingOfUser } from './people.js';
import type { AuditSigner, DelegationStore, Deps } from './ports.js';

/**
 * The delegations, folded from their sealed log and kept current by reading only the records after
 * the last one seen (an indexed read per decision). Every door that decides goes through
 * executeCommand, which asks `to(actor)`.
 */
export class DelegationBook {
  private records: DelegationRecord[] = [];
  private folded: Delegation[] = [];

  constructor(
    readonly store: DelegationStore,
    private readonly signer: AuditSigner | null,
  ) {}

  /**
   * Reads the records after the last one held. Reads may overlap (decisions at once): a record that
   * an earlier-finished read already added is not added again.
   */
  async refresh(): Promise<void> {
    const more = await this.store.after(this.records.at(-1)?.number ?? 0);
    const last = this.records.at(-1)?.number ?? 0;
    const added = more.filter((r) => r.number > last);
    if (added.length === 0) return;
    this.records.push(...added);
    this.folded = foldDelegations(this.records);
  }

  private refreshedAt = 0;

  async all(): Promise<Delegation[]> {
    await this.refresh();
    this.refreshedAt = Date.now();
    return this.folded;
  }

  /**
   * For sweeps that look at many changes in a row (reminders): read at most every `maxAgeMs`.
   * Decisions never use this: they read the log at once (`to`).
   */
  async recent(maxAgeMs = 2_000): Promise<Delegation[]> {
    return Date.now() - this.refreshedAt < maxAgeMs ? this.folded : this.all();
  }

  /** Delegations to this person (running or not: the domain checks when they run). */
  async to(userId: string): Promise<Delegation[]> {
    return (await this.all()).filter((d) => d.to === userId);
  }

  /** The log as recorded (audit verification). */
  async log(): Promise<DelegationRecord[]> {
    await this.refresh();
    return [...this.records];
  }

  async append(
    body: Omit<DelegationRecord, 'number' | 'prevRecordHash' | 'recordHash' | 'seal'>,
  ): Promise<DelegationRecord> {
    const signer = this.signer;
    if (!signer) throw new Error('no audit key: this process cannot record delegations');
    for (let attempt = 0; attempt < 5; attempt++) {
      await this.refresh();
      const record = appendDelegationRecord(this.records.at(-1) ?? null, body, (bytes) => ({
        keyId: signer.keyId,
        sig: signer.sign(bytes),
      }));
      if (await this.store.append(record)) {
        await this.refresh();
        return record;
      }
    }
    throw new Error('the delegation log is busy; try again');
  }
}

export type DelegationOutcome =
  | { ok: true; delegation: Delegation }
  | { ok: false; code: DelegationRefusal | 'ACTOR_NOT_ELIGIBLE' | 'NO_DELEGATION'; message: string };

/**
 * An approver names a delegate from `start` (default now) until `until` (exclusive). Recorded in the
 * sealed delegation log; it ends by itself.
 */
export async function setDelegation(
  deps: Deps,
  input: { actor: string; to: string; start?: Date; until: Date },
): Promise<DelegationOutcome> {
  const now = deps.clock.now();
  const actorProblem = standingProblem(await standingOfUser(deps, input.actor));
  if (actorProblem) return { ok: false, code: 'ACTOR_NOT_ELIGIBLE', message: actorProblem };
  const start = input.start && input.start.getTime() > now.getTime() ? input.start : now;
  const problem = delegationProblem(
    { from: input.actor, to: input.to, start, until: input.until, now },
    await deps.delegations.all(),
    await standingOfUser(deps, input.to),
  );
  if (problem) return { ok: false, ...problem };
  const delegation = { id: randomUUID(), from: input.actor, to: input.to, start, until: input.until };
  await deps.delegations.append({ kind: 'delegation_set', delegation, by: input.actor, at: now });
  deps.logger.info('delegation set', { userId: input.actor, delegate: input.to, until: input.until });
  return {
    ok: true,
    delegation: { ...delegation, by: input.actor, at: now, revokedAt: null, revokedBy: null },
  };
}

/** Ends the person's running or planned delegation early. */
export async function cancelDelegation(deps: Deps, actor: string): Promise<DelegationOutcome> {
  const now = deps.clock.now();
  const mine = (await deps.delegations.all()).find(
    (d) => d.from === actor && !d.revokedAt && d.until.getTime() > now.getTime(),
  );
  if (!mine)
    return { ok: false, code: 'NO_DELEGATION', message: 'You have no delegation running or planned.' };
  const { id, from, to, start, until } = mine;
  await deps.delegations.append({
    kind: 'delegation_revoked',
    delegation: { id, from, to, start, until },
    by: actor,
    at: now,
  });
  return { ok: true, delegation: { ...mine, revokedAt: now, revokedBy: actor } };
}

/** What one person has: the delegation they gave (running or planned) and those they hold now. */
export async function delegationsOf(
  deps: Pick<Deps, 'delegations' | 'clock'>,
  userId: string,
): Promise<{ given: Delegation | null; held: Delegation[] }> {
  const now = deps.clock.now();
  const all = await deps.delegations.all();
  return {
    given: all.find((d) => d.from === userId && !d.revokedAt && d.until.getTime() > now.getTime()) ?? null,
    held: all.filter((d) => d.to === userId && isActive(d, now)),
  };
}
