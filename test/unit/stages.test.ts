import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/config/policy.js';
import { planStages } from '../../src/domain/change.js';
import { evaluateGate } from '../../src/domain/gate.js';
import { decide, stageProgress, waitingFor } from '../../src/domain/lifecycle.js';
import { approversOf, membershipFrom } from '../../src/domain/policy.js';
import { assignRoles, quorumShortfalls } from '../../src/domain/stages.js';
import { deployment, Machine, request } from '../support/domain-fixtures.js';
import { ALICE, BOB, CAROL, DAVE, ERIN, FRANK, QUINN } from '../support/people.js';

/**
 * Policy v2 stage rules on the pure state machine: quorums, one approval per role, parallel steps,
 * prerequisites (a deployment to staging) and conditions. Every refusal asserts its code.
 */
const POLICY = parsePolicy(
  `version: 1
roles:
  engineers: { users: [U0123BOB, U0123FRANK, U0123CAROL, U0123QUINN] }
  head_of_engineering: { users: [U0123CAROL, U0123DAVE] }
  security_officer: { users: [U0123DAVE, U0123ERIN] }
  qa: { users: [U0123QUINN] }
  cto: { users: [U0123DAVE] }
environments: [development, staging]
securityFlags:
  auth: Authentication / authorisation
  encryption: Encryption
  data_access: Data access
stages:
  two_reviews: { name: Two reviews, approvers: { roles: [engineers] }, quorum: 2 }
  both_heads: { name: Heads sign-off, approvers: { eachOf: [head_of_engineering, security_officer] } }
  qa: { name: QA sign-off, approvers: { roles: [qa] }, after: { deployedTo: staging }, marksStagingTested: true }
  security: { name: Security review, approvers: { roles: [security_officer] } }
  cto: { name: CTO sign-off, approvers: { roles: [cto] }, after: { deployedTo: staging } }
  cab: { name: Change approval meeting, approvers: { roles: [head_of_engineering] } }
types:
  normal:
    name: Normal
    stages:
      - two_reviews
      - parallel: [qa, { stage: security, when: { securityFlags: [auth, encryption] } }]
      - { stage: cab, when: { risk: [high] } }
  deviation:
    name: Deviation
    stages: [both_heads]
  staged:
    name: Staged
    requireDeployedTo: [staging]
    stages: [cto]
  routine:
    name: Routine
    preApproved: true
    stages:
      - { stage: security, when: { securityFlags: any } }
`,
  'stages-test.yml',
).policy;

const at = (policy = POLICY, over: Parameters<typeof request>[0] = {}) =>
  new Machine(request({ type: 'normal', ...over }), { policy });

function refusal(m: Machine, cmd: Parameters<Machine['try']>[0]): string {
  const r = m.try(cmd);
  return r.ok ? 'ok' : r.error.code;
}

describe('planning: conditions and parallel steps', () => {
  it('adds stages by security flag (a listed flag, or any) and by risk; drops an empty step', () => {
    const keys = (over: Parameters<typeof request>[0]) =>
      planStages(POLICY, request({ type: 'normal', ...over })).map((s) => `${s.key}@${s.step}`);
    expect(keys({ securityFlags: [], risk: 'low' })).toEqual(['two_reviews@0', 'qa@1']);
    expect(keys({ securityFlags: ['auth'], risk: 'low' })).toEqual(['two_reviews@0', 'qa@1', 'security@1']);
    expect(keys({ securityFlags: ['data_access'], risk: 'high' })).toEqual([
      'two_reviews@0',
      'qa@1',
      'cab@2',
    ]);
    const routine = (flags: string[]) =>
      planStages(POLICY, request({ type: 'routine', securityFlags: flags }));
    expect(routine([])).toEqual([]);
    expect(routine(['data_access']).map((s) => s.key)).toEqual(['security']);
  });
});

describe('quorum: N distinct approvers', () => {
  it('needs two different engineers; the same person twice is refused', () => {
    const m = at();
    m.do({ kind: 'approve', stageIndex: 0, actor: BOB });
    expect(m.state.status).toBe('pending_approval');
    expect(stageProgress(m.state)[0]).toMatchObject({ status: 'current', approvals: 1, needed: 2 });
    expect(refusal(m, { kind: 'approve', stageIndex: 0, actor: BOB })).toBe('ALREADY_DECIDED_STAGE');
    expect(refusal(m, { kind: 'approve', stageIndex: 0, actor: ERIN })).toBe('NOT_AN_APPROVER');
    expect(refusal(m, { kind: 'approve', stageIndex: 0, actor: ALICE })).toBe('SELF_APPROVAL_FORBIDDEN');
    m.do({ kind: 'approve', stageIndex: 0, actor: FRANK });
    expect(stageProgress(m.state)[0]).toMatchObject({ status: 'approved', approvals: 2 });
    expect(refusal(m, { kind: 'approve', stageIndex: 0, actor: CAROL })).toBe('ALREADY_DECIDED_STAGE');
  });

  it('gives each approver their own slot, and a single-seat stage one slot', () => {
    const m = at();
    const a = m.try({ kind: 'approve', stageIndex: 0, actor: BOB });
    expect(a.ok && a.value.slot).toBe(`stage:0:${BOB}`);
    const d = new Machine(request({ type: 'staged' }), { policy: POLICY });
    d.do(deployment(ALICE, { environment: 'staging' }));
    const c = d.try({ kind: 'approve', stageIndex: 0, actor: DAVE });
    expect(c.ok && c.value.slot).toBe('stage:0');
  });

  it('one rejection rejects the change, whatever approvals came before', () => {
    const m = at();
    m.do({ kind: 'approve', stageIndex: 0, actor: BOB });
    m.do({ kind: 'reject', stageIndex: 0, actor: FRANK, reason: 'No tests' });
    expect(m.state.status).toBe('rejected');
    expect(stageProgress(m.state)[0]?.status).toBe('rejected');
  });
});

describe('eachOf: one approver from each role, distinct people', () => {
  it('Head of Engineering and Security Officer: two people, one per role', () => {
    const m = new Machine(request({ type: 'deviation' }), { policy: POLICY });
    m.do({ kind: 'approve', stageIndex: 0, actor: CAROL }); // head of engineering only
    expect(stageProgress(m.state)[0]).toMatchObject({
      approvals: 1,
      needed: 2,
      missingRoles: ['security_officer'],
    });
    // Another head of engineering cannot fill the security officer's place.
    expect(refusal(m, { kind: 'approve', stageIndex: 0, actor: ALICE })).toBe('SELF_APPROVAL_FORBIDDEN');
    m.do({ kind: 'approve', stageIndex: 0, actor: ERIN });
    expect(m.state.status).toBe('approved');
  });

  it('refuses an approval that fills no open role', () => {
    const policy = parsePolicy(
      `version: 1
roles:
  head_of_engineering: { users: [U0123CAROL, U0123FRANK] }
  security_officer: { users: [U0123ERIN] }
stages:
  both: { name: Both, approvers: { eachOf: [head_of_engineering, security_officer] } }
types:
  deviation: { name: Deviation, stages: [both] }
`,
      't.yml',
    ).policy;
    const m = new Machine(request({ type: 'deviation' }), { policy });
    m.do({ kind: 'approve', stageIndex: 0, actor: CAROL });
    expect(refusal(m, { kind: 'approve', stageIndex: 0, actor: FRANK })).toBe('ROLE_ALREADY_SIGNED');
    expect(refusal(m, { kind: 'approve', stageIndex: 0, actor: BOB })).toBe('NOT_AN_APPROVER');
    // Rejecting is open to every member of the stage's roles.
    expect(refusal(m, { kind: 'reject', stageIndex: 0, actor: FRANK, reason: 'Too risky' })).toBe('ok');
  });

  it('one person in both roles counts once; the roles are matched so a later approver still fits', () => {
    // DAVE is in both roles. He approves first; CAROL (head only) can still complete the stage,
    // DAVE then standing for the security officer.
    const m = new Machine(request({ type: 'deviation' }), { policy: POLICY });
    m.do({ kind: 'approve', stageIndex: 0, actor: DAVE });
    expect(m.state.status).toBe('pending_approval');
    m.do({ kind: 'approve', stageIndex: 0, actor: CAROL });
    expect(m.state.status).toBe('approved');
    expect(
      assignRoles(
        ['head_of_engineering', 'security_officer'],
        [
          { by: DAVE, roles: ['head_of_engineering', 'security_officer'] },
          { by: CAROL, roles: ['head_of_engineering'] },
        ],
      ),
    ).toEqual(
      new Map([
        ['head_of_engineering', CAROL],
        ['security_officer', DAVE],
      ]),
    );
  });
});

describe('parallel stages and prerequisites', () => {
  it('opens a step’s stages together once its prerequisite happened, in any order', () => {
    const m = at(POLICY, { securityFlags: ['auth'] });
    m.do({ kind: 'approve', stageIndex: 0, actor: BOB });
    m.do({ kind: 'approve', stageIndex: 0, actor: FRANK });
    // Step 2: QA waits for a deployment to staging; the security review is open now.
    const progress = () => stageProgress(m.state).map((p) => `${p.key}:${p.status}`);
    expect(progress()).toEqual(['two_reviews:approved', 'qa:blocked', 'security:current']);
    expect(refusal(m, { kind: 'approve', stageIndex: 1, actor: QUINN })).toBe('PREREQUISITE_PENDING');
    expect(waitingFor(m.state, m.now)).toBe('Security review');
    m.do({ kind: 'approve', stageIndex: 2, actor: ERIN });
    expect(m.state.status).toBe('pending_approval');
    expect(waitingFor(m.state, m.now)).toBe('a deployment to staging (before QA sign-off)');
    // A failed deployment, or one to another environment, opens nothing.
    m.do(deployment(ALICE, { environment: 'staging', status: 'failed' }));
    m.do(deployment(ALICE, { environment: 'development' }));
    expect(refusal(m, { kind: 'approve', stageIndex: 1, actor: QUINN })).toBe('PREREQUISITE_PENDING');
    m.do(deployment(ALICE, { environment: 'Staging' }));
    expect(progress()).toEqual(['two_reviews:approved', 'qa:current', 'security:approved']);
    m.do({ kind: 'approve', stageIndex: 1, actor: QUINN });
    expect(m.state.status).toBe('approved');
  });

  it('a later step is not open while an earlier one waits', () => {
    const m = at(POLICY, { risk: 'high' });
    expect(refusal(m, { kind: 'approve', stageIndex: 9, actor: CAROL })).toBe('STAGE_NOT_CURRENT');
    expect(refusal(m, { kind: 'approve', stageIndex: 2, actor: CAROL })).toBe('STAGE_NOT_CURRENT');
    expect(stageProgress(m.state).map((p) => p.status)).toEqual(['current', 'waiting', 'waiting']);
  });

  it('the production gate refuses until the required environment was reached', () => {
    const m = new Machine(request({ type: 'staged' }), { policy: POLICY });
    const gate = () =>
      evaluateGate(m.state, POLICY, m.now, { environment: 'production', commit: null, chainIntact: true });
    expect(gate().reasons.map((r) => r.code)).toEqual(['not_approved', 'missing_prior_deployment']);
    expect(refusal(m, { kind: 'approve', stageIndex: 0, actor: DAVE })).toBe('PREREQUISITE_PENDING');
    m.do(deployment(ALICE, { environment: 'staging' }));
    m.do({ kind: 'approve', stageIndex: 0, actor: DAVE });
    expect(gate().allowed).toBe(true);
  });

  it('separation of duties still holds across parallel stages', () => {
    const policy = { ...POLICY, separationOfDuties: { oneStagePerPerson: true } };
    const m = at(policy, { securityFlags: ['auth'] });
    m.do({ kind: 'approve', stageIndex: 0, actor: BOB });
    m.do({ kind: 'approve', stageIndex: 0, actor: QUINN });
    m.do(deployment(ALICE, { environment: 'staging' }));
    const r = decide(m.state, { kind: 'approve', stageIndex: 1, actor: QUINN }, m.ctx());
    expect(r.ok ? 'ok' : r.error.code).toBe('SEPARATION_OF_DUTIES');
  });
});

describe('the review of an emergency retrospective', () => {
  const policy = parsePolicy(
    `version: 1
roles: { cto: { users: [U0123DAVE] }, cab: { users: [U0123ERIN, U0123BOB] } }
stages: { cto: { name: CTO, approvers: { roles: [cto] } } }
types:
  emergency: { name: Emergency, form: emergency, stages: [cto], retrospectiveDueHours: 24, retrospectiveReviewers: [cab] }
`,
    'review.yml',
  ).policy;
  const answers = {
    whatChanged: 'w',
    why: 'y',
    approval: 'a',
    rootCause: 'r',
    preventable: 'p',
    followUps: '',
  };

  it('opens with the retrospective, goes back and forth, and ends accepted; each refusal has its code', () => {
    const m = new Machine(request({ type: 'emergency', emergencyApprover: DAVE }), { policy });
    const review = (actor: string, outcome: 'accepted' | 'questions', note = 'Why?') =>
      refusal(m, { kind: 'review_retro', actor, outcome, note });
    expect(m.state.retroReview.status).toBe('not_yet');
    expect(review(ERIN, 'accepted')).toBe('INVALID_STATE');
    m.do({ kind: 'approve', stageIndex: 0, actor: DAVE });
    m.do(deployment(ALICE));
    m.do({ kind: 'submit_retro', actor: ALICE, answers });
    expect(m.state.retroReview.status).toBe('pending');
    expect(waitingFor(m.state, m.now)).toBe('post-deployment verification');
    expect(review(DAVE, 'accepted')).toBe('NOT_ALLOWED');
    expect(review(ERIN, 'questions', ' ')).toBe('REASON_REQUIRED');
    m.do({ kind: 'review_retro', actor: ERIN, outcome: 'questions', note: 'Which config?' });
    expect(review(BOB, 'questions')).toBe('INVALID_STATE');
    expect(refusal(m, { kind: 'answer_review', actor: BOB, answer: 'x' })).toBe('NOT_ALLOWED');
    m.do({ kind: 'answer_review', actor: ALICE, answer: 'The timeout flag' });
    expect(m.state.retroReview.status).toBe('pending');
    m.do({ kind: 'review_retro', actor: BOB, outcome: 'accepted', note: '' });
    expect(m.state.retroReview.status).toBe('accepted');
    expect(review(ERIN, 'accepted')).toBe('ALREADY_DECIDED');
    expect(m.state.retroReview.history.map((h) => `${h.kind}:${h.by}`)).toEqual([
      `questions:${ERIN}`,
      `answer:${ALICE}`,
      `accepted:${BOB}`,
    ]);
  });

  it('needs no review where the type names no reviewers', () => {
    const m = new Machine(request({ type: 'emergency', emergencyApprover: DAVE }));
    expect(m.state.retroReview.status).toBe('not_required');
    expect(refusal(m, { kind: 'review_retro', actor: ERIN, outcome: 'accepted', note: '' })).toBe(
      'RETRO_NOT_REQUIRED',
    );
  });
});

describe('post-implementation reviews', () => {
  const policy = parsePolicy(
    `version: 1
stages: { peer: { name: Peer, approvers: { anyone: true } } }
types:
  normal:
    name: Normal
    stages: [peer]
    postImplementationReviews:
      - { name: Health check, afterHours: 0, questions: [Objectives achieved?] }
      - { name: Full review, afterHours: 168, questions: [Lessons learned?, Documentation complete?] }
`,
    'pir.yml',
  ).policy;

  it('are due after a successful verification, answered once each by the requester, in full', () => {
    const m = new Machine(request({ type: 'normal' }), { policy });
    const answer = (actor: string, checkpoint: number, answers: string[]) =>
      refusal(m, { kind: 'answer_pir', actor, checkpoint, answers });
    expect(answer(ALICE, 0, ['Yes'])).toBe('INVALID_STATE'); // not verified yet
    m.do({ kind: 'approve', stageIndex: 0, actor: BOB });
    m.do(deployment(ALICE));
    m.do({ kind: 'verify', actor: ALICE, outcome: 'ok', issues: '' });
    expect(waitingFor(m.state, m.now)).toBe('the Health check review');
    expect(answer(BOB, 0, ['Yes'])).toBe('NOT_ALLOWED');
    expect(answer(ALICE, 0, [' '])).toBe('VALIDATION');
    expect(answer(ALICE, 1, ['x', 'y'])).toBe('INVALID_STATE'); // due in a week
    expect(answer(ALICE, 5, ['x'])).toBe('INVALID_STATE');
    m.do({ kind: 'answer_pir', actor: ALICE, checkpoint: 0, answers: ['Yes'] });
    expect(answer(ALICE, 0, ['Again'])).toBe('ALREADY_DECIDED');
    m.now = new Date(m.now.getTime() + 169 * 3_600_000);
    expect(answer(ALICE, 1, ['Fewer manual steps'])).toBe('VALIDATION'); // both questions
    m.do({ kind: 'answer_pir', actor: ALICE, checkpoint: 1, answers: ['Fewer manual steps', 'Yes'] });
    expect(waitingFor(m.state, m.now)).toBe('nothing');
  });

  it('are not owed by a change that was rolled back', () => {
    const m = new Machine(request({ type: 'normal' }), { policy });
    m.do({ kind: 'approve', stageIndex: 0, actor: BOB });
    m.do(deployment(ALICE));
    m.do({ kind: 'verify', actor: ALICE, outcome: 'rolled_back', issues: 'Errors at 5%' });
    expect(refusal(m, { kind: 'answer_pir', actor: ALICE, checkpoint: 0, answers: ['x'] })).toBe(
      'INVALID_STATE',
    );
  });
});

describe('quorums the eligible people cannot reach', () => {
  it('are found once user groups are resolved (anyone-stages and single approvals are not counted)', () => {
    const policy = parsePolicy(
      `version: 1
roles: { leads: { groups: [S0LEADS] }, sec: { users: [U0123ERIN] }, heads: { users: [U0123CAROL] } }
stages:
  three: { name: Three leads, approvers: { roles: [leads] }, quorum: 3 }
  peers: { name: Peers, approvers: { anyone: true }, quorum: 2 }
  both: { name: Both, approvers: { eachOf: [sec, heads] } }
  one: { name: One lead, approvers: { roles: [leads] } }
types: { normal: { name: N, stages: [three, peers, both, one] } }
`,
      'q.yml',
    ).policy;
    const membership = membershipFrom({ S0LEADS: [BOB, FRANK] });
    const short = quorumShortfalls(policy.stages, (a) => approversOf(policy, membership, a));
    expect(short).toEqual([{ stage: 'three', name: 'Three leads', needed: 3, available: 2 }]);
  });
});
