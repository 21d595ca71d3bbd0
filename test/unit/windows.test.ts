import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/config/policy.js';
import { insideMaintenanceWindow } from '../../src/domain/freeze.js';
import { evaluateGate } from '../../src/domain/gate.js';
import { exceptionOptions } from '../../src/domain/lifecycle.js';
import { validateRequest } from '../../src/domain/request-rules.js';
import { deployment, Machine, MEMBERSHIP, request } from '../support/domain-fixtures.js';
import { ALICE, BOB, CAROL, DAVE, ERIN } from '../support/people.js';

/**
 * Freezes and maintenance windows constrain deployments (never approvals), scoped to environments
 * and systems; exceptions follow the stage rules (quorum, one per role) with a reason and a risk note.
 */
const POLICY = parsePolicy(
  `version: 1
timezone: Europe/London
roles:
  peers: { users: [U0123BOB] }
  head_of_engineering: { users: [U0123CAROL] }
  security_officer: { users: [U0123ERIN] }
  cto: { users: [U0123DAVE] }
environments: [staging]
stages:
  review: { name: Review, approvers: { roles: [peers] } }
  cto: { name: CTO, approvers: { roles: [cto] } }
types:
  normal: { name: Normal, stages: [review] }
  emergency: { name: Emergency, form: emergency, stages: [cto], retrospectiveDueHours: 24 }
freezes:
  - name: Billing freeze
    fixed: { start: "2026-03-01T00:00", end: "2026-04-01T00:00" }
    blocks: [normal]
    systems: [billing-db]
    environments: [production, staging]
    exception: { approvers: { eachOf: [head_of_engineering, security_officer] } }
maintenanceWindows:
  - name: Weeknights
    days: [tue, thu]
    start: "20:00"
    end: "02:00"
    exempt: [emergency]
    exception: { approvers: { roles: [cto] } }
`,
  'windows-test.yml',
).policy;

const codeOf = (r: { ok: true } | { ok: false; error: { code: string } }) => (r.ok ? 'ok' : r.error.code);
const gateCodes = (m: Machine, environment = 'production') =>
  evaluateGate(m.state, POLICY, m.now, { environment, commit: null, chainIntact: true }).reasons.map(
    (r) => r.code,
  );

function approved(now: string, systems = ['api-gateway']): Machine {
  const m = new Machine(request({ type: 'normal', systems }), { policy: POLICY, now });
  m.do({ kind: 'approve', stageIndex: 0, actor: BOB });
  return m;
}

describe('maintenance windows', () => {
  const win = POLICY.maintenanceWindows[0]!;

  it('are recurring, in their time zone, and may run past midnight', () => {
    // Tuesday 10 March 2026: London is on GMT (UTC+0).
    expect(insideMaintenanceWindow(win, new Date('2026-03-10T19:59:00Z'))).toBe(false);
    expect(insideMaintenanceWindow(win, new Date('2026-03-10T20:00:00Z'))).toBe(true);
    expect(insideMaintenanceWindow(win, new Date('2026-03-11T01:59:00Z'))).toBe(true); // Wed, from Tue
    expect(insideMaintenanceWindow(win, new Date('2026-03-11T02:00:00Z'))).toBe(false);
    expect(insideMaintenanceWindow(win, new Date('2026-03-11T21:00:00Z'))).toBe(false); // Wednesday
    // After the clocks change (BST, UTC+1) 20:00 London is 19:00 UTC.
    expect(insideMaintenanceWindow(win, new Date('2026-04-07T19:00:00Z'))).toBe(true);
  });

  it('the gate refuses production outside them; staging is not governed; emergencies are exempt', () => {
    const m = approved('2026-03-10T12:00:00Z');
    expect(gateCodes(m)).toEqual(['outside_maintenance_window']);
    expect(gateCodes(m, 'staging')).toEqual([]);
    m.now = new Date('2026-03-10T21:00:00Z');
    expect(gateCodes(m)).toEqual([]);
    const hotfix = new Machine(request({ type: 'emergency', emergencyApprover: DAVE }), {
      policy: POLICY,
      now: '2026-03-10T12:00:00Z',
    });
    hotfix.do({ kind: 'approve', stageIndex: 0, actor: DAVE });
    expect(gateCodes(hotfix)).toEqual([]);
  });

  it('an exception lets a change deploy outside them, and is offered only where they govern', () => {
    const m = approved('2026-03-10T12:00:00Z');
    expect(exceptionOptions(m.state, POLICY, m.now)).toEqual(['Weeknights']);
    const grant = (actor: string) =>
      m.try({ kind: 'grant_exception', actor, freeze: 'Weeknights', reason: 'Vendor cut-over', risk: 'Low' });
    expect(codeOf(grant(BOB))).toBe('NOT_ALLOWED');
    m.do({
      kind: 'grant_exception',
      actor: DAVE,
      freeze: 'Weeknights',
      reason: 'Vendor cut-over',
      risk: 'Low',
    });
    expect(gateCodes(m)).toEqual([]);
    expect(codeOf(m.try(deployment(ALICE)))).toBe('ok');
  });
});

describe('freezes scoped to systems and environments, with a two-role exception', () => {
  const inFreeze = '2026-03-10T21:00:00Z'; // inside the weeknight window, inside the billing freeze

  it('freezes only the systems it names, in the environments it names', () => {
    expect(gateCodes(approved(inFreeze, ['api-gateway']))).toEqual([]);
    const billing = approved(inFreeze, ['billing-db', 'api']);
    expect(gateCodes(billing)).toEqual(['frozen']);
    expect(gateCodes(billing, 'staging')).toEqual(['frozen']);
    expect(codeOf(billing.try(deployment(ALICE)))).toBe('FROZEN');
  });

  it('refuses to plan a window in the freeze for the systems it covers', () => {
    const at = new Date('2026-02-20T12:00:00Z');
    const issues = (systems: string[]) =>
      validateRequest(
        POLICY,
        MEMBERSHIP,
        request({
          type: 'normal',
          systems,
          plannedStart: new Date('2026-03-31T22:00:00Z'),
          plannedEnd: new Date('2026-04-01T02:00:00Z'),
        }),
        ALICE,
        at,
      ).filter((i) => i.field === 'plannedStart');
    expect(issues(['billing-db'])[0]?.message).toContain('falls in Billing freeze');
    expect(issues(['api-gateway'])).toEqual([]);
  });

  it('the exception needs the Head of Engineering and the Security Officer, each with a risk note', () => {
    const m = approved(inFreeze, ['billing-db']);
    const grant = (actor: string, risk = 'Reversible in 5 minutes') =>
      m.try({ kind: 'grant_exception', actor, freeze: 'Billing freeze', reason: 'Tax rate change', risk });
    expect(codeOf(grant(DAVE))).toBe('NOT_ALLOWED');
    expect(codeOf(grant(CAROL, ''))).toBe('REASON_REQUIRED');
    m.do({
      kind: 'grant_exception',
      actor: CAROL,
      freeze: 'Billing freeze',
      reason: 'Tax rate change',
      risk: 'Low',
    });
    expect(codeOf(grant(CAROL))).toBe('ALREADY_DECIDED');
    expect(m.state.exceptions).toEqual([]);
    expect(gateCodes(m)).toEqual(['frozen']);
    m.do({
      kind: 'grant_exception',
      actor: ERIN,
      freeze: 'Billing freeze',
      reason: 'Tax rate change',
      risk: 'Low',
    });
    expect(m.state.exceptions).toMatchObject([{ freeze: 'Billing freeze', approvedBy: [CAROL, ERIN] }]);
    expect(gateCodes(m)).toEqual([]);
    expect(codeOf(grant(DAVE))).toBe('EXCEPTION_EXISTS');
  });
});
