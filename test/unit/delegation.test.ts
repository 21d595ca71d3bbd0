import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/config/policy.js';
import { type Delegation, delegationProblem, foldDelegations } from '../../src/domain/delegation.js';
import { Machine, request } from '../support/domain-fixtures.js';
import { ALICE, BOB, CAROL, DAVE, FRANK, QUINN } from '../support/people.js';

const POLICY = parsePolicy(
  `version: 1
roles:
  engineers: { users: [U0123BOB, U0123CAROL] }
  leads: { users: [U0123CAROL] }
stages:
  two_reviews: { name: Two reviews, approvers: { roles: [engineers] }, quorum: 2 }
  lead: { name: Lead approval, approvers: { roles: [leads] } }
types:
  normal: { name: Normal, stages: [two_reviews, lead] }
separationOfDuties: { oneStagePerPerson: true }
`,
  'test',
).policy;

const day = (d: string) => new Date(`${d}T00:00:00Z`);
const delegation = (from: string, to: string, over: Partial<Delegation> = {}): Delegation => ({
  id: `${from}-${to}`,
  from,
  to,
  start: day('2026-03-01'),
  until: day('2026-03-20'),
  by: from,
  at: day('2026-03-01'),
  revokedAt: null,
  revokedBy: null,
  ...over,
});

function machine(delegations: Delegation[], requester = ALICE) {
  const m = new Machine(request(), { policy: POLICY, requester });
  const ctx = m.ctx.bind(m);
  m.ctx = () => ({ ...ctx(), delegations });
  return m;
}

const approve = (stageIndex: number, actor: string) => ({ kind: 'approve' as const, stageIndex, actor });
const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);

describe('deciding as a delegate', () => {
  it('counts towards a quorum as the approver it stands for, recording both names', () => {
    const m = machine([delegation(CAROL, DAVE)]);
    m.do(approve(0, BOB));
    const e = m.do(approve(0, DAVE));
    expect(e.data).toMatchObject({ onBehalfOf: CAROL, delegation: `${CAROL}-${DAVE}` });
    expect(e.slot).toBe(`stage:0:${CAROL}`); // the seat of the approver: a race with CAROL cannot record both
    expect(m.state.decisions.at(-1)).toMatchObject({ by: DAVE, onBehalfOf: CAROL });
    expect(m.state.openStages.map((o) => o.index)).toEqual([1]);
  });

  it('uses up both people: no second vote on the stage, and one stage per person covers the approver', () => {
    const m = machine([delegation(CAROL, DAVE)]);
    m.do(approve(0, CAROL));
    expect(code(m.try(approve(0, DAVE)))).toBe('ALREADY_DECIDED_STAGE');
    m.do(approve(0, BOB));
    // CAROL signed the reviews, so her delegate may not sign the lead stage for her.
    expect(code(m.try(approve(1, DAVE)))).toBe('SEPARATION_OF_DUTIES');
  });

  it('does not chain: a delegate of a delegate holds nothing of the first approver', () => {
    const m = machine([delegation(CAROL, DAVE), delegation(DAVE, QUINN)]);
    m.do(approve(0, BOB));
    expect(code(m.try(approve(0, QUINN)))).toBe('NOT_AN_APPROVER');
  });

  it('never decides for the requester, and never on their own change', () => {
    expect(code(machine([delegation(CAROL, DAVE)], CAROL).try(approve(0, DAVE)))).toBe('NOT_AN_APPROVER');
    expect(code(machine([delegation(CAROL, FRANK)], FRANK).try(approve(0, FRANK)))).toBe(
      'SELF_APPROVAL_FORBIDDEN',
    );
  });

  it('only while it runs: not before its start, not from its end, not once revoked', () => {
    for (const d of [
      delegation(CAROL, DAVE, { start: day('2026-03-11') }),
      delegation(CAROL, DAVE, { until: day('2026-03-10') }),
      delegation(CAROL, DAVE, { revokedAt: day('2026-03-05') }),
    ]) {
      const m = machine([d]); // now: 2026-03-10T18:00Z
      expect(code(m.try(approve(0, DAVE)))).toBe('NOT_AN_APPROVER');
    }
  });
});

describe('setting a delegation', () => {
  const now = day('2026-03-10');
  const input = { from: CAROL, to: DAVE, start: now, until: day('2026-03-15'), now };
  it('refuses what would break the rules', () => {
    expect(delegationProblem({ ...input, to: CAROL }, [], 'member')?.code).toBe('DELEGATE_SELF');
    expect(delegationProblem({ ...input, until: day('2026-03-09') }, [], 'member')?.code).toBe(
      'DELEGATION_DATES',
    );
    expect(delegationProblem({ ...input, until: day('2026-07-01') }, [], 'member')?.code).toBe(
      'DELEGATION_TOO_LONG',
    );
    expect(delegationProblem(input, [], 'guest')?.code).toBe('DELEGATE_NOT_MEMBER');
    expect(delegationProblem(input, [delegation(CAROL, BOB)], 'member')?.code).toBe('DELEGATION_EXISTS');
    expect(delegationProblem(input, [delegation(DAVE, BOB)], 'member')?.code).toBe('DELEGATION_CHAIN');
    expect(delegationProblem(input, [delegation(BOB, CAROL)], 'member')?.code).toBe('DELEGATION_CHAIN');
    expect(
      delegationProblem(input, [delegation(CAROL, BOB, { until: day('2026-03-05') })], 'member'),
    ).toBeNull();
    expect(delegationProblem(input, [], 'member')).toBeNull();
  });

  it('a revocation ends its delegation at the time it was made', () => {
    const d = { id: 'x', from: CAROL, to: DAVE, start: day('2026-03-01'), until: day('2026-03-20') };
    const link = { prevRecordHash: '', recordHash: '', seal: null };
    const folded = foldDelegations([
      { ...link, number: 1, kind: 'delegation_set', delegation: d, by: CAROL, at: day('2026-03-01') },
      { ...link, number: 2, kind: 'delegation_revoked', delegation: d, by: CAROL, at: day('2026-03-05') },
    ]);
    expect(folded).toEqual([
      expect.objectContaining({ id: 'x', revokedAt: day('2026-03-05'), revokedBy: CAROL }),
    ]);
  });
});
