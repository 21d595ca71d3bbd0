import { describe, expect, it } from 'vitest';
import { PolicyError, parsePolicy, policyToYaml } from '../../src/config/policy.js';
import { canonicalJson } from '../../src/domain/audit.js';
import { adhocMeeting, agendaTime, currentOrNextMeeting, onAgenda } from '../../src/domain/board.js';
import { Machine, request } from '../support/domain-fixtures.js';
import { BOB, CAROL, DAVE } from '../support/people.js';

const YAML = `version: 1
timezone: Europe/London
roles:
  board: { users: [U0123CAROL, U0123DAVE] }
boards:
  cab:
    name: CAB
    members: [board]
    channel: null
    meets: { days: [tue, thu], at: "10:00", minutes: 60 }
    agendaCutoffHours: 24
stages:
  peer_review: { name: Peer review, approvers: { anyone: true } }
  cab_review: { name: CAB review, approvers: { roles: [board] }, board: cab }
types:
  normal: { name: Normal, stages: [peer_review, cab_review] }
separationOfDuties: { oneStagePerPerson: false }
`;
const loaded = parsePolicy(YAML, 'test');
const board = loaded.policy.boards!.cab!;

describe('board meetings', () => {
  it('are found on the board’s own clock, across a daylight-saving change', () => {
    // London moves to summer time on Sunday 29 March 2026: 10:00 is 10:00 UTC before, 09:00 UTC after.
    const before = currentOrNextMeeting('cab', board, new Date('2026-03-26T12:00:00Z')); // Thu, after the meeting
    expect(before.start.toISOString()).toBe('2026-03-31T09:00:00.000Z'); // Tue, summer time
    const during = currentOrNextMeeting('cab', board, new Date('2026-03-26T10:30:00Z'));
    expect(during.start.toISOString()).toBe('2026-03-26T10:00:00.000Z');
    expect(during.end.toISOString()).toBe('2026-03-26T11:00:00.000Z');
    expect(agendaTime(board, during).toISOString()).toBe('2026-03-25T10:00:00.000Z');
  });

  it('put a change on the agenda when its board stage opened before the cut-off, until deferred there', () => {
    const m = new Machine(request(), { policy: loaded.policy, now: '2026-03-24T08:00:00Z' });
    m.do({ kind: 'approve', stageIndex: 0, actor: BOB });
    const tuesday = currentOrNextMeeting('cab', board, new Date('2026-03-24T08:00:00Z')); // Tue 24th 10:00
    const thursday = currentOrNextMeeting('cab', board, new Date('2026-03-24T12:00:00Z'));
    expect(onAgenda(m.state, tuesday, board.agendaCutoffHours)).toBe(false); // opened after the cut-off
    expect(onAgenda(m.state, thursday, board.agendaCutoffHours)).toBe(true);
    // Outside a meeting nobody decides it; at the meeting a member does.
    expect(m.try({ kind: 'approve', stageIndex: 1, actor: CAROL })).toMatchObject({
      ok: false,
      error: { code: 'BOARD_MEETING_REQUIRED' },
    });
    const ctx = m.ctx.bind(m);
    m.ctx = () => ({ ...ctx(), meetings: [{ id: thursday.id, board: 'cab' }] });
    m.do({ kind: 'defer_board', stageIndex: 1, actor: DAVE, reason: 'needs the load test' });
    expect(onAgenda(m.state, thursday, board.agendaCutoffHours)).toBe(false);
    expect(m.try({ kind: 'defer_board', stageIndex: 1, actor: BOB, reason: '' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_AN_APPROVER' },
    });
    const adhoc = adhocMeeting('cab', board, new Date('2026-03-25T09:00:00Z'), [m.state.number]);
    expect(onAgenda(m.state, adhoc, board.agendaCutoffHours)).toBe(true);
    m.ctx = () => ({ ...ctx(), meetings: [{ id: adhoc.id, board: 'cab' }] });
    const e = m.do({ kind: 'approve', stageIndex: 1, actor: CAROL });
    expect(e.data).toMatchObject({ meeting: adhoc.id });
    expect(m.state.status).toBe('approved');
  });

  it('are checked in the policy: a known board, and never for an emergency type; written back as loaded', () => {
    expect(() => parsePolicy(YAML.replace('board: cab }', 'board: cob }'), 'x')).toThrow(
      /unknown board "cob"/,
    );
    const emergency = YAML.replace(
      'normal: { name: Normal, stages: [peer_review, cab_review] }',
      'normal: { name: Normal, stages: [peer_review, cab_review] }\n  emergency: { name: E, form: emergency, stages: [cab_review], retrospectiveDueHours: 24 }',
    );
    expect(() => parsePolicy(emergency, 'x')).toThrow(PolicyError);
    expect(() => parsePolicy(emergency, 'x')).toThrow(/emergency changes never wait for one/);
    expect(parsePolicy(policyToYaml(loaded), 'again').hash).toBe(loaded.hash);
    // A policy without boards keeps the hash it had before boards existed (nothing hashed for them).
    const plain = parsePolicy(
      YAML.replace(/boards:[\s\S]*?agendaCutoffHours: 24\n/, '').replace(', board: cab', ''),
      'x',
    );
    expect(canonicalJson(plain.policy)).not.toMatch(/"boards":|"board":"/);
  });
});
