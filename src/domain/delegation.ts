import type { EventSeal } from './audit.js';
import type { Finding, KeyRing } from './ledger.js';
import { appendRecord, checkLog, type Link } from './sealed-log.js';

/**
 * Delegation: an approver away for a while names a delegate, who may decide that approver's stages
 * while it runs. The delegate decides with the approver's authority only (never authority the
 * approver holds as someone else's delegate: delegation does not chain), is never the requester,
 * and separation of duties counts both people: neither may decide the same stage again, and with
 * one-stage-per-person neither may sign another stage of the change.
 */
export interface Delegation {
  id: string;
  /** The approver who is away. */
  from: string;
  /** Who decides for them. */
  to: string;
  start: Date;
  /** Exclusive: the delegation ends by itself here. */
  until: Date;
  by: string;
  at: Date;
  revokedAt: Date | null;
  revokedBy: string | null;
}

export const MAX_DELEGATION_DAYS = 90;

export function isActive(d: Delegation, now: Date): boolean {
  return !d.revokedAt && d.start.getTime() <= now.getTime() && now.getTime() < d.until.getTime();
}

const overlaps = (d: Delegation, start: Date, until: Date) =>
  !d.revokedAt && d.start.getTime() < until.getTime() && start.getTime() < d.until.getTime();

export type DelegationRefusal =
  | 'DELEGATE_SELF'
  | 'DELEGATION_DATES'
  | 'DELEGATION_TOO_LONG'
  | 'DELEGATION_EXISTS'
  | 'DELEGATION_CHAIN'
  | 'DELEGATE_NOT_MEMBER';

/**
 * Why a new delegation may not be set (null: it may). `delegateStanding` is the delegate's standing
 * in the workspace ('member' for an active, full member); `all` are the delegations recorded so far.
 */
export function delegationProblem(
  input: { from: string; to: string; start: Date; until: Date; now: Date },
  all: readonly Delegation[],
  delegateStanding: string,
): { code: DelegationRefusal; message: string } | null {
  const { from, to, start, until, now } = input;
  if (from === to)
    return { code: 'DELEGATE_SELF', message: 'Name someone else: you cannot delegate to yourself.' };
  if (until.getTime() <= now.getTime() || until.getTime() <= start.getTime())
    return {
      code: 'DELEGATION_DATES',
      message: 'The delegation must end after it starts, and in the future.',
    };
  if (until.getTime() - Math.max(start.getTime(), now.getTime()) > MAX_DELEGATION_DAYS * 86_400_000)
    return {
      code: 'DELEGATION_TOO_LONG',
      message: `A delegation lasts at most ${MAX_DELEGATION_DAYS} days; set a new one when it ends.`,
    };
  if (delegateStanding !== 'member')
    return {
      code: 'DELEGATE_NOT_MEMBER',
      message:
        'Your delegate must be an active, full member of this workspace (not a guest, a bot or someone from another workspace).',
    };
  const mine = all.find((d) => d.from === from && overlaps(d, start, until));
  if (mine)
    return {
      code: 'DELEGATION_EXISTS',
      message: `You already delegate to <@${mine.to}> over these dates; cancel that one first.`,
    };
  const away = all.find((d) => d.from === to && overlaps(d, start, until));
  if (away)
    return {
      code: 'DELEGATION_CHAIN',
      message: `<@${to}> is away then too (they delegate to <@${away.to}>): delegation does not chain, so name someone who is there.`,
    };
  const holder = all.find((d) => d.to === from && overlaps(d, start, until));
  if (holder)
    return {
      code: 'DELEGATION_CHAIN',
      message: `You decide for <@${holder.from}> over these dates: their authority cannot be passed on, and yours alone would be. Cancel or shorten one of them.`,
    };
  return null;
}

// ---- the log ------------------------------------------------------------------------------------

/** One record of the delegation log: a delegation set, or one cancelled early. */
export interface DelegationRecord extends Link {
  kind: 'delegation_set' | 'delegation_revoked';
  delegation: { id: string; from: string; to: string; start: Date; until: Date };
  by: string;
  at: Date;
}

const DELEGATION_LOG = 'delegations';

export function appendDelegationRecord(
  previous: DelegationRecord | null,
  body: Omit<DelegationRecord, keyof Link>,
  sign: (bytes: string) => EventSeal,
): DelegationRecord {
  return appendRecord<DelegationRecord>(DELEGATION_LOG, previous, body, sign);
}

export function checkDelegationLog(ring: KeyRing, records: readonly DelegationRecord[]): Finding[] {
  return checkLog(
    DELEGATION_LOG,
    ring,
    records,
    (r) => `record ${r.number} (${r.kind} ${r.delegation.from} → ${r.delegation.to}, by ${r.by})`,
  );
}

/** The delegations the log records (a revocation ends its delegation at the time it was made). */
export function foldDelegations(records: readonly DelegationRecord[]): Delegation[] {
  const byId = new Map<string, Delegation>();
  for (const r of [...records].sort((a, b) => a.number - b.number)) {
    const d = r.delegation;
    if (r.kind === 'delegation_set')
      byId.set(d.id, { ...d, by: r.by, at: r.at, revokedAt: null, revokedBy: null });
    else {
      const known = byId.get(d.id);
      if (known && !known.revokedAt) byId.set(d.id, { ...known, revokedAt: r.at, revokedBy: r.by });
    }
  }
  return [...byId.values()];
}
