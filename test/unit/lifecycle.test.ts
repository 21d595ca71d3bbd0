import { describe, expect, it } from 'vitest';
import { isRecordedRefusal, retroState, stagingTested, waitingFor } from '../../src/domain/lifecycle.js';
import { deployment, Machine, request } from '../support/domain-fixtures.js';
import { ADMIN, ALICE, BOB, CAROL, DAVE, ERIN, FRANK, QUINN } from '../support/people.js';

const approve = (m: Machine, actor: string) =>
  m.do({ kind: 'approve', stageIndex: m.state.currentStage!, actor });

/** The refusal's code, or 'accepted': every refusal test says why, not only that it failed. */
const codeOf = (r: { ok: true } | { ok: false; error: { code: string } }) =>
  r.ok ? 'accepted' : r.error.code;

describe('submission', () => {
  it('plans the type stages and starts at the first', () => {
    const m = new Machine(request());
    expect(m.state.status).toBe('pending_approval');
    expect(m.state.stages.map((s) => s.key)).toEqual(['peer_review', 'lead_approval']);
    expect(m.state.currentStage).toBe(0);
    expect(waitingFor(m.state, m.now)).toBe('Peer review');
  });

  it('adds the security review when a security impact is flagged', () => {
    const m = new Machine(request({ securityFlags: ['data_access'] }));
    expect(m.state.stages.map((s) => s.key)).toEqual(['peer_review', 'security_review', 'lead_approval']);
  });

  it('auto-approves a standard change without security impact, but not one with it', () => {
    expect(new Machine(request({ type: 'standard' })).state.status).toBe('approved');
    const flagged = new Machine(request({ type: 'standard', securityFlags: ['auth'] }));
    expect(flagged.state.status).toBe('pending_approval');
    expect(flagged.state.stages.map((s) => s.key)).toEqual(['security_review']);
  });

  it('gives infrastructure changes a CTO stage and emergencies one approval with a retrospective', () => {
    expect(new Machine(request({ type: 'infrastructure' })).state.stages.map((s) => s.key)).toEqual([
      'peer_review',
      'cto_approval',
    ]);
    const e = new Machine(request({ type: 'emergency', emergencyApprover: DAVE }));
    expect(e.state.stages.map((s) => s.key)).toEqual(['emergency_approval']);
    expect(e.state.emergency).toBe(true);
    expect(e.state.retroDueHours).toBe(48);
  });
});

describe('approvals', () => {
  it('walks every stage to approved, recording who decided', () => {
    const m = new Machine(request());
    approve(m, BOB);
    expect(m.state.currentStage).toBe(1);
    approve(m, CAROL);
    expect(m.state.status).toBe('approved');
    expect(m.state.decisions.map((d) => [d.stage, d.by, d.outcome])).toEqual([
      ['peer_review', BOB, 'approved'],
      ['lead_approval', CAROL, 'approved'],
    ]);
    expect(waitingFor(m.state, m.now)).toBe('deployment');
  });

  const cases: [string, () => Machine, string, string][] = [
    [
      'the requester approving their own change',
      () => new Machine(request()),
      ALICE,
      'SELF_APPROVAL_FORBIDDEN',
    ],
    [
      'someone outside the stage approvers',
      () => {
        const m = new Machine(request());
        approve(m, BOB);
        return m;
      },
      FRANK,
      'NOT_AN_APPROVER',
    ],
    [
      'one person signing two stages',
      () => {
        const m = new Machine(request({ securityFlags: ['auth'] }));
        approve(m, ERIN);
        return m;
      },
      ERIN,
      'SEPARATION_OF_DUTIES',
    ],
  ];
  it.each(cases)('refuses %s', (_label, make, actor, code) => {
    const m = make();
    const r = m.try({ kind: 'approve', stageIndex: m.state.currentStage!, actor });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(isRecordedRefusal(r.error)).toBe(true);
    }
  });

  it('refuses a decision on a stage already decided, naming who decided it', () => {
    const m = new Machine(request());
    approve(m, BOB);
    const r = m.try({ kind: 'approve', stageIndex: 0, actor: FRANK });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('ALREADY_DECIDED_STAGE');
      expect(r.error.details).toMatchObject({ by: BOB, outcome: 'approved' });
    }
  });

  it('refuses a stage that is not open yet', () => {
    const m = new Machine(request());
    const r = m.try({ kind: 'approve', stageIndex: 1, actor: CAROL });
    expect(!r.ok && r.error.code).toBe('STAGE_NOT_CURRENT');
  });

  it('lets a security officer approve through their user group', () => {
    const m = new Machine(request({ securityFlags: ['encryption'] }));
    approve(m, BOB);
    expect(codeOf(m.try({ kind: 'approve', stageIndex: 1, actor: FRANK }))).toBe('NOT_AN_APPROVER');
    approve(m, ERIN);
    approve(m, CAROL);
    expect(m.state.status).toBe('approved');
  });

  it('rejects with a reason, ending the change', () => {
    const m = new Machine(request());
    expect(codeOf(m.try({ kind: 'reject', stageIndex: 0, actor: BOB, reason: '  ' }))).toBe(
      'REASON_REQUIRED',
    );
    m.do({ kind: 'reject', stageIndex: 0, actor: BOB, reason: 'No rollback tested' });
    expect(m.state.status).toBe('rejected');
    expect(m.state.decisions[0]).toMatchObject({ outcome: 'rejected', note: 'No rollback tested' });
    const after = m.try({ kind: 'approve', stageIndex: 0, actor: FRANK });
    expect(!after.ok && after.error.code).toBe('ALREADY_DECIDED_STAGE');
  });
});

describe('freeze windows', () => {
  const inFreeze = '2026-11-15T18:00:00Z'; // Peak season: 1 Oct – 1 Jan, America/Los_Angeles

  const approvedAt = (now: string, over: Parameters<typeof request>[0] = {}) => {
    const m = new Machine(request(over), { now });
    approve(m, BOB);
    approve(m, CAROL);
    return m;
  };
  const deployCode = (m: Machine) => codeOf(m.try(deployment(ALICE)));

  it('constrains deploying, not approving: inside the freeze a change is approved but cannot deploy', () => {
    const m = approvedAt(inFreeze);
    expect(m.state.status).toBe('approved');
    expect(deployCode(m)).toBe('FROZEN');
    // Staging is not frozen (the freeze covers the production environments only).
    expect(codeOf(m.try(deployment(ALICE, { environment: 'staging' })))).toBe('accepted');
  });

  it('approving a change whose window lies after the freeze is allowed at any time', () => {
    const m = approvedAt(inFreeze, {
      plannedStart: new Date('2027-01-05T17:00:00Z'),
      plannedEnd: new Date('2027-01-05T18:00:00Z'),
    });
    expect(m.state.status).toBe('approved');
    m.now = new Date('2027-01-05T17:30:00Z');
    expect(deployCode(m)).toBe('accepted');
  });

  it('uses the freeze time zone at the boundaries', () => {
    // 1 Oct 00:00 in Los Angeles is 07:00 UTC: 06:59 UTC is still September there.
    expect(deployCode(approvedAt('2026-10-01T06:59:00Z'))).toBe('accepted');
    expect(deployCode(approvedAt('2026-10-01T07:00:00Z'))).toBe('FROZEN');
    // The freeze wraps into January and ends (exclusive) on 1 Jan local time.
    expect(deployCode(approvedAt('2027-01-01T07:59:00Z'))).toBe('FROZEN');
    expect(deployCode(approvedAt('2027-01-01T08:00:00Z'))).toBe('accepted');
  });

  it('lets emergency changes through the freeze', () => {
    const m = new Machine(request({ type: 'emergency', emergencyApprover: DAVE }), { now: inFreeze });
    approve(m, DAVE);
    expect(m.state.status).toBe('approved');
  });

  it('lets an exception role grant an exception with a reason and a risk note, once; deployment then proceeds', () => {
    const m = new Machine(request(), { now: inFreeze });
    expect(
      codeOf(m.try({ kind: 'grant_exception', actor: DAVE, freeze: 'Peak season', reason: 'x', risk: ' ' })),
    ).toBe('REASON_REQUIRED');
    expect(
      !m.try({
        kind: 'grant_exception',
        actor: CAROL,
        freeze: 'Peak season',
        reason: 'x',
        risk: 'Low: one service',
      }).ok,
    ).toBe(true);
    expect(
      codeOf(
        m.try({
          kind: 'grant_exception',
          actor: DAVE,
          freeze: 'Peak season',
          reason: '',
          risk: 'Low: one service',
        }),
      ),
    ).toBe('REASON_REQUIRED');
    expect(
      codeOf(
        m.try({
          kind: 'grant_exception',
          actor: DAVE,
          freeze: 'Nope',
          reason: 'x',
          risk: 'Low: one service',
        }),
      ),
    ).toBe('NOT_FROZEN');
    approve(m, BOB);
    approve(m, CAROL);
    expect(codeOf(m.try(deployment(ALICE)))).toBe('FROZEN');
    m.do({
      kind: 'grant_exception',
      actor: DAVE,
      freeze: 'Peak season',
      reason: 'Checkout outage fix',
      risk: 'Low: one service',
    });
    const again = m.try({
      kind: 'grant_exception',
      actor: DAVE,
      freeze: 'Peak season',
      reason: 'again',
      risk: 'Low: one service',
    });
    expect(!again.ok && again.error.code).toBe('EXCEPTION_EXISTS');
    expect(m.state.exceptions).toMatchObject([
      { freeze: 'Peak season', risk: 'Low: one service', approvedBy: [DAVE] },
    ]);
    m.do(deployment(ALICE));
    expect(m.state.status).toBe('deployed');
  });

  it('the requester cannot grant their own change an exception', () => {
    const m = new Machine(request(), { now: inFreeze, requester: DAVE });
    const r = m.try({
      kind: 'grant_exception',
      actor: DAVE,
      freeze: 'Peak season',
      reason: 'mine',
      risk: 'Low: one service',
    });
    expect(!r.ok && r.error.code).toBe('SELF_APPROVAL_FORBIDDEN');
  });
});

describe('deployment, verification and cancellation', () => {
  const approved = () => {
    const m = new Machine(request());
    approve(m, BOB);
    approve(m, CAROL);
    return m;
  };
  const deploy = (actor = ALICE, source: 'slack' | 'api' = 'slack') =>
    deployment(actor, { commit: 'abc123', source });

  it('records a deployment only for an approved change, by someone involved', () => {
    const pending = new Machine(request());
    expect(codeOf(pending.try(deploy()))).toBe('INVALID_STATE');
    const m = approved();
    expect(codeOf(m.try(deploy(FRANK)))).toBe('NOT_ALLOWED');
    m.do(deploy(BOB));
    expect(m.state).toMatchObject({ status: 'deployed', deployedBy: BOB });
  });

  it('a pipeline report is always recorded and flagged when the change was not approved', () => {
    const m = new Machine(request());
    const e = m.do(deploy('pipeline:ci', 'api'));
    expect(e.type === 'deployment_recorded' && e.data).toMatchObject({
      unauthorised: true,
      reasons: ['not_approved'],
    });
    expect(m.state.status).toBe('pending_approval');
  });

  it('verifies OK, or rolls back with the issues required', () => {
    const ok = approved();
    ok.do(deploy());
    expect(codeOf(ok.try({ kind: 'verify', actor: FRANK, outcome: 'ok', issues: '' }))).toBe('NOT_ALLOWED');
    ok.do({ kind: 'verify', actor: ALICE, outcome: 'ok', issues: '' });
    expect(ok.state.status).toBe('verified');
    expect(codeOf(ok.try({ kind: 'verify', actor: ALICE, outcome: 'ok', issues: '' }))).toBe('INVALID_STATE');

    const bad = approved();
    bad.do(deploy());
    expect(codeOf(bad.try({ kind: 'verify', actor: ALICE, outcome: 'rolled_back', issues: '' }))).toBe(
      'REASON_REQUIRED',
    );
    bad.do({ kind: 'verify', actor: ALICE, outcome: 'rolled_back', issues: 'Error rate 7%' });
    expect(bad.state.status).toBe('rolled_back');
  });

  it('lets the requester or an admin cancel before deployment, nobody after', () => {
    const m = new Machine(request());
    expect(codeOf(m.try({ kind: 'cancel', actor: BOB, reason: '' }))).toBe('NOT_ALLOWED');
    m.do({ kind: 'cancel', actor: ALICE, reason: 'Superseded' });
    expect(m.state.status).toBe('cancelled');
    const byAdmin = approved();
    byAdmin.do({ kind: 'cancel', actor: ADMIN, reason: '' });
    expect(byAdmin.state.status).toBe('cancelled');
    const deployed = approved();
    deployed.do(deploy());
    expect(codeOf(deployed.try({ kind: 'cancel', actor: ALICE, reason: '' }))).toBe('INVALID_STATE');
  });

  it('QA sign-off marks the change as tested in staging', () => {
    const policy = { ...new Machine(request()).policy };
    policy.types = {
      ...policy.types,
      normal: {
        ...policy.types.normal!,
        stages: [...policy.types.normal!.stages, [{ stage: 'qa_signoff', when: {} }]],
      },
    };
    const m = new Machine(request({ stagingTested: 'no' }), { policy });
    expect(stagingTested(m.state)).toBe('no');
    approve(m, BOB);
    approve(m, CAROL);
    approve(m, QUINN);
    expect(stagingTested(m.state)).toBe('yes');
  });
});

describe('emergency retrospective', () => {
  const deployedEmergency = () => {
    const m = new Machine(request({ type: 'emergency', emergencyApprover: DAVE }));
    approve(m, DAVE);
    m.do(deployment(ALICE));
    return m;
  };
  const answers = {
    whatChanged: 'Patched',
    why: 'Outage',
    approval: 'CTO',
    rootCause: 'Bad config',
    preventable: 'Yes, with a check',
    followUps: 'Add a check',
  };

  it('is due 48 hours after deployment, and can be submitted once by the requester', () => {
    const m = deployedEmergency();
    expect(m.state.retro.dueAt?.toISOString()).toBe(new Date(m.now.getTime() + 48 * 3_600_000).toISOString());
    expect(retroState(m.state, m.now)).toBe('pending');
    expect(codeOf(m.try({ kind: 'submit_retro', actor: BOB, answers }))).toBe('NOT_ALLOWED');
    for (const missing of ['whatChanged', 'why', 'approval', 'rootCause', 'preventable'] as const)
      expect(
        codeOf(m.try({ kind: 'submit_retro', actor: ALICE, answers: { ...answers, [missing]: ' ' } })),
      ).toBe('VALIDATION');
    expect(
      codeOf(m.try({ kind: 'submit_retro', actor: ALICE, answers: { ...answers, followUps: '' } })),
    ).toBe('accepted');
    m.advanceHours(10);
    m.do({ kind: 'submit_retro', actor: ALICE, answers });
    expect(retroState(m.state, m.now)).toBe('on_time');
    expect(codeOf(m.try({ kind: 'submit_retro', actor: ALICE, answers }))).toBe('RETRO_ALREADY_SUBMITTED');
  });

  it('is flagged overdue once past due, once, and a late submission counts as late', () => {
    const m = deployedEmergency();
    expect(codeOf(m.try({ kind: 'flag_retro_overdue' }))).toBe('INVALID_STATE');
    m.advanceHours(49);
    expect(retroState(m.state, m.now)).toBe('overdue');
    m.do({ kind: 'flag_retro_overdue' });
    expect(codeOf(m.try({ kind: 'flag_retro_overdue' }))).toBe('INVALID_STATE');
    m.do({ kind: 'submit_retro', actor: ALICE, answers });
    expect(retroState(m.state, m.now)).toBe('late');
  });

  it('is not required for other types, and not before deployment', () => {
    const normal = new Machine(request());
    expect(codeOf(normal.try({ kind: 'submit_retro', actor: ALICE, answers }))).toBe('RETRO_NOT_REQUIRED');
    const e = new Machine(request({ type: 'emergency', emergencyApprover: DAVE }));
    const r = e.try({ kind: 'submit_retro', actor: ALICE, answers });
    expect(!r.ok && r.error.code).toBe('INVALID_STATE');
  });
});
