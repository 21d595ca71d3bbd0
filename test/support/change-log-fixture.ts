import type { ChangeState } from '../../src/domain/lifecycle.js';
import { deployment, Machine, request } from './domain-fixtures.js';
import { ALICE, BOB, CAROL, DAVE, ERIN, FRANK } from './people.js';

/**
 * A hand-built month of changes (September 2026, Los Angeles) with known figures, for checking every
 * number of the change-log summary and export. `at` is local-ish shorthand: hours after 2026-09-01T17:00Z.
 */
export const SEPTEMBER = {
  from: new Date('2026-09-01T07:00:00Z'),
  to: new Date('2026-10-01T07:00:00Z'),
  label: '2026-09',
};
export const NOW = new Date('2026-10-05T17:00:00Z');

const base = Date.parse('2026-09-01T17:00:00Z');
const h = (hours: number) => new Date(base + hours * 3_600_000);

function at(m: Machine, hours: number) {
  m.now = h(hours);
}

function deploy(m: Machine, actor = ALICE) {
  m.do(deployment(actor));
}

export function septemberChanges(): {
  states: ChangeState[];
  byName: Record<string, ChangeState>;
  machines: Machine[];
} {
  const made: Record<string, Machine> = {};
  let number = 100;
  const start = (name: string, hours: number, req = request(), requester = ALICE) => {
    const m = new Machine(req, { now: h(hours).toISOString(), requester, number: ++number });
    made[name] = m;
    return m;
  };

  // A: normal, peer +2 h, lead +8 h, deployed +24 h, verified.
  const a = start('A', 24);
  at(a, 26);
  a.do({ kind: 'approve', stageIndex: 0, actor: BOB });
  at(a, 32);
  a.do({ kind: 'approve', stageIndex: 1, actor: CAROL });
  at(a, 48);
  deploy(a);
  at(a, 50);
  a.do({ kind: 'verify', actor: ALICE, outcome: 'ok', issues: '' });

  // B: normal, peer +1 h, lead +4 h, deployed +10 h, rolled back.
  const b = start('B', 96, request({ title: '=HYPERLINK("evil"), "quoted", newline\nhere' }));
  at(b, 97);
  b.do({ kind: 'approve', stageIndex: 0, actor: BOB });
  at(b, 100);
  b.do({ kind: 'approve', stageIndex: 1, actor: CAROL });
  at(b, 106);
  deploy(b);
  at(b, 107);
  b.do({ kind: 'verify', actor: ALICE, outcome: 'rolled_back', issues: '+cmd|calc, errors at 9%' });

  // C: standard, auto-approved, deployed +2 h, never verified.
  const c = start('C', 216, request({ type: 'standard', securityFlags: [] }));
  at(c, 218);
  deploy(c);

  // D: normal, rejected at peer review after 5 h; one refused self-approval on the way.
  const d = start('D', 264);
  at(d, 265);
  d.record(
    {
      type: 'approval_refused',
      slot: null,
      data: { stageIndex: 0, stage: 'peer_review', action: 'approve', code: 'SELF_APPROVAL_FORBIDDEN' },
    },
    ALICE,
  );
  at(d, 269);
  d.do({ kind: 'reject', stageIndex: 0, actor: FRANK, reason: 'No tests' });

  // E: emergency, approved +0.5 h, deployed +1 h, retrospective on time.
  const e = start('E', 336, request({ type: 'emergency', emergencyApprover: DAVE, risk: null }));
  at(e, 336.5);
  e.do({ kind: 'approve', stageIndex: 0, actor: DAVE });
  at(e, 337);
  deploy(e);
  at(e, 347);
  e.do({
    kind: 'submit_retro',
    actor: ALICE,
    answers: { whatChanged: 'x', why: 'y', approval: 'z', rootCause: 'r', preventable: 'p', followUps: '' },
  });

  // F: emergency, approved +1 h, deployed +2 h, retrospective 60 h after deployment (late).
  const f = start('F', 456, request({ type: 'emergency', emergencyApprover: DAVE, risk: null }));
  at(f, 457);
  f.do({ kind: 'approve', stageIndex: 0, actor: DAVE });
  at(f, 458);
  deploy(f);
  at(f, 518);
  f.do({
    kind: 'submit_retro',
    actor: ALICE,
    answers: { whatChanged: 'x', why: 'y', approval: 'z', rootCause: 'r', preventable: 'p', followUps: '' },
  });

  // G: emergency, approved +1 h, deployed +2 h, no retrospective: overdue by NOW.
  const g = start('G', 576, request({ type: 'emergency', emergencyApprover: DAVE, risk: null }));
  at(g, 577);
  g.do({ kind: 'approve', stageIndex: 0, actor: DAVE });
  at(g, 578);
  deploy(g);

  // H: infrastructure raised in August, both approvals in September (peer +14 days, CTO +3 h more).
  const hh = start('H', -288, request({ type: 'infrastructure', securityFlags: ['auth'] }));
  at(hh, 48);
  hh.do({ kind: 'approve', stageIndex: 0, actor: BOB });
  at(hh, 60);
  hh.do({ kind: 'approve', stageIndex: 1, actor: ERIN });
  at(hh, 63);
  hh.do({ kind: 'approve', stageIndex: 2, actor: DAVE });

  // I: pending normal change deployed by a pipeline anyway: an unauthorised deployment.
  const i = start('I', 600);
  at(i, 601);
  i.do(deployment('pipeline:ci', { commit: 'abc', source: 'api' }));

  // J: raised in August and closed in August: outside the period entirely.
  const j = start('J', -400, request({ type: 'standard' }));
  at(j, -399);
  deploy(j);

  const byName = Object.fromEntries(Object.entries(made).map(([k, m]) => [k, m.state]));
  return { states: Object.values(byName), byName, machines: Object.values(made) };
}
