import { describe, expect, it } from 'vitest';
import { normaliseCommit, sameCommit } from '../../src/domain/commit.js';
import { evaluateGate, type GateReasonCode } from '../../src/domain/gate.js';
import { decide } from '../../src/domain/lifecycle.js';
import type { Policy } from '../../src/domain/policy.js';
import { deployment, Machine, POLICY, request } from '../support/domain-fixtures.js';
import { BOB, CAROL } from '../support/people.js';

const SHA = '4f6c2e1d9a7b3c5e8f0a1b2c3d4e5f6a7b8c9d0e';
const OTHER = '9999999d9a7b3c5e8f0a1b2c3d4e5f6a7b8c9d0e';

function withType(patch: Partial<Policy['types'][string]>): Policy {
  return { ...POLICY, types: { ...POLICY.types, normal: { ...POLICY.types.normal!, ...patch } } };
}

/** A normal change, approved by both stages. */
function approved(overrides: Parameters<typeof request>[0] = {}, policy = POLICY): Machine {
  const m = new Machine(request(overrides), { policy });
  m.do({ kind: 'approve', stageIndex: 0, actor: BOB });
  m.do({ kind: 'approve', stageIndex: 1, actor: CAROL });
  return m;
}

const codes = (m: Machine, environment: string, commit: string | null, chainIntact = true) =>
  evaluateGate(m.state, m.policy, m.now, { environment, commit, chainIntact }).reasons.map((r) => r.code);

describe('commit identity', () => {
  it.each([
    ['4F6C2E1', '4f6c2e1'],
    [` ${SHA} `, SHA],
    [`sha256:${'a'.repeat(64)}`, `sha256:${'a'.repeat(64)}`],
    ['v1.2.3', null],
    ['main', null],
    ['abc12', null],
    [`md5:${'a'.repeat(32)}`, null],
  ])('normalises %j to %j', (input, expected) => {
    expect(normaliseCommit(input)).toBe(expected);
  });

  it.each([
    [SHA, SHA, true],
    [SHA, SHA.slice(0, 7), true],
    [SHA.slice(0, 12), SHA, true],
    [SHA, SHA.toUpperCase(), true],
    [SHA, OTHER, false],
    [SHA, 'v1.2.3', false],
    [SHA, null, false],
    [`sha256:${'a'.repeat(64)}`, `sha256:${'a'.repeat(63)}b`, false],
    [`sha256:${'a'.repeat(64)}`, `sha256:${'a'.repeat(10)}`, false],
  ])('approved %s, reported %s: same = %s', (approvedCommit, reported, same) => {
    expect(sameCommit(approvedCommit, reported)).toBe(same);
  });
});

describe('deployment gate', () => {
  const table: [string, () => Machine, string, string | null, GateReasonCode[]][] = [
    ['approved, no commit bound', () => approved(), 'production', null, []],
    ['approved, the bound commit', () => approved({ commit: SHA }), 'production', SHA, []],
    ['approved, an abbreviation of it', () => approved({ commit: SHA }), 'production', SHA.slice(0, 7), []],
    ['approved, another commit', () => approved({ commit: SHA }), 'production', OTHER, ['commit_mismatch']],
    ['approved, a tag', () => approved({ commit: SHA }), 'production', 'v2.3.0', ['commit_mismatch']],
    ['approved, commit not stated', () => approved({ commit: SHA }), 'production', null, ['commit_mismatch']],
    ['staging, another commit', () => approved({ commit: SHA }), 'staging', OTHER, ['commit_mismatch']],
    ['staging, commit not stated', () => approved({ commit: SHA }), 'staging', null, []],
    ['pending', () => new Machine(request()), 'production', null, ['not_approved']],
    ['pending, staging', () => new Machine(request()), 'staging', null, []],
    [
      'rejected',
      () => {
        const m = new Machine(request());
        m.do({ kind: 'reject', stageIndex: 0, actor: BOB, reason: 'no' });
        return m;
      },
      'staging',
      null,
      ['rejected'],
    ],
  ];
  it.each(table)('%s → %j', (_name, make, env, commit, expected) => {
    expect(codes(make(), env, commit)).toEqual(expected);
  });

  it('a type that requires a commit refuses production until the change names one', () => {
    const policy = withType({ requireCommit: true });
    expect(codes(approved({}, policy), 'production', SHA)).toEqual(['commit_required']);
    expect(codes(approved({}, policy), 'staging', SHA)).toEqual([]);
    expect(codes(approved({ commit: SHA }, policy), 'production', SHA)).toEqual([]);
  });

  it('a change deployed and verified is finished: no new production deployment on it', () => {
    const m = approved();
    m.do(deployment(BOB));
    expect(codes(m, 'production', null)).toEqual(['unverified_previous_deployment']);
    m.do({ kind: 'verify', actor: BOB, outcome: 'ok', issues: '' });
    expect(codes(m, 'production', null)).toEqual(['already_deployed']);
    m.advanceHours(24 * 90);
    expect(codes(m, 'production', null)).toEqual(['already_deployed']);
    expect(codes(m, 'staging', null)).toEqual([]);
  });

  it('a rolled-back change may not deploy again', () => {
    const m = approved();
    m.do(deployment(BOB));
    m.do({ kind: 'verify', actor: BOB, outcome: 'rolled_back', issues: 'errors' });
    expect(codes(m, 'production', null)).toEqual(['rolled_back', 'already_deployed']);
  });

  it('a type that deploys repeatedly may, while inside its planned window only', () => {
    const policy = withType({ redeploy: 'within_window' });
    const window = {
      plannedStart: new Date('2026-03-10T17:00:00Z'),
      plannedEnd: new Date('2026-03-10T22:00:00Z'),
    };
    const m = approved(window, policy);
    m.do(deployment(BOB));
    m.do({ kind: 'verify', actor: BOB, outcome: 'ok', issues: '' });
    expect(codes(m, 'production', null)).toEqual([]);
    m.advanceHours(5);
    expect(codes(m, 'production', null)).toEqual(['already_deployed', 'outside_window']);
    // Without an end to its window, a finished change stays finished.
    const open = approved({ plannedStart: window.plannedStart }, policy);
    open.do(deployment(BOB));
    open.do({ kind: 'verify', actor: BOB, outcome: 'ok', issues: '' });
    expect(codes(open, 'production', null)).toEqual(['already_deployed']);
  });

  it('fails closed: a change whose history does not verify is never allowed, anywhere', () => {
    expect(codes(approved(), 'production', null, false)).toEqual(['audit_trail_broken']);
    expect(codes(approved(), 'staging', null, false)).toEqual(['audit_trail_broken']);
    const d = evaluateGate(approved().state, POLICY, new Date(), {
      environment: 'production',
      commit: null,
      chainIntact: false,
    });
    expect(d.allowed).toBe(false);
    expect(d.message).toContain('does not verify');
  });
});

describe('recording a deployment against the gate', () => {
  it('a pipeline deploying another commit is recorded, flagged, and does not count as the change deployed', () => {
    const m = approved({ commit: SHA });
    const e = m.do(deployment('pipeline:ci', { source: 'api', commit: OTHER }));
    expect(e).toMatchObject({ data: { unauthorised: true, reasons: ['commit_mismatch'], commit: OTHER } });
    expect(m.state.status).toBe('approved');
    const right = m.do(deployment('pipeline:ci', { source: 'api', commit: SHA }));
    expect(right).toMatchObject({ data: { unauthorised: false, reasons: [] } });
    expect(m.state.status).toBe('deployed');
  });

  it('a pipeline redeploying a finished change is flagged and the change stays finished', () => {
    const m = approved();
    m.do(deployment(BOB));
    m.do({ kind: 'verify', actor: BOB, outcome: 'ok', issues: '' });
    const e = m.do(deployment('pipeline:ci', { source: 'api' }));
    expect(e).toMatchObject({ data: { unauthorised: true, reasons: ['already_deployed'] } });
    expect(m.state.status).toBe('verified');
  });

  it('in Slack, another commit or a finished change is refused with its code', () => {
    const m = approved({ commit: SHA });
    expect(m.try(deployment(BOB, { commit: OTHER }))).toMatchObject({
      ok: false,
      error: { code: 'COMMIT_MISMATCH' },
    });
    // Without a commit, the person attests the approved one was deployed; it is recorded as such.
    expect(m.do(deployment(BOB))).toMatchObject({ data: { commit: SHA, unauthorised: false } });
    m.do({ kind: 'verify', actor: BOB, outcome: 'ok', issues: '' });
    expect(m.try(deployment(BOB))).toMatchObject({ ok: false, error: { code: 'ALREADY_DEPLOYED' } });
  });

  it('in Slack, a change whose history does not verify is refused; from a pipeline it is flagged', () => {
    const m = approved();
    const ctx = { ...m.ctx(), chainIntact: false };
    expect(decide(m.state, deployment(BOB), ctx)).toMatchObject({
      ok: false,
      error: { code: 'AUDIT_TRAIL_BROKEN' },
    });
    expect(decide(m.state, deployment('pipeline:ci', { source: 'api' }), ctx)).toMatchObject({
      ok: true,
      value: { data: { unauthorised: true, reasons: ['audit_trail_broken'] } },
    });
  });
});
