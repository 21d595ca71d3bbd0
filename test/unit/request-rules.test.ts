import { describe, expect, it } from 'vitest';
import { validateRequest } from '../../src/domain/request-rules.js';
import { sanitizeLine, sanitizeMultiline } from '../../src/domain/text.js';
import { MEMBERSHIP, POLICY, request } from '../support/domain-fixtures.js';
import { ALICE, BOB, DAVE, ERIN } from '../support/people.js';

const NOW = new Date('2026-03-10T18:00:00Z');
const fields = (overrides: Parameters<typeof request>[0]) =>
  validateRequest(POLICY, MEMBERSHIP, request(overrides), ALICE, NOW).map((i) => i.field);

describe('request rules', () => {
  it('accepts a complete request', () => {
    expect(fields({})).toEqual([]);
  });

  it('requires what the seeds require of a full request', () => {
    expect(
      fields({
        description: '',
        rollbackPlan: ' ',
        testPlan: '',
        impact: '',
        justification: '',
        systems: [],
        risk: null,
        stagingTested: null,
      }).sort(),
    ).toEqual(
      [
        'description',
        'impact',
        'justification',
        'risk',
        'rollbackPlan',
        'stagingTested',
        'systems',
        'testPlan',
      ].sort(),
    );
  });

  it('limits lengths and checks links', () => {
    expect(fields({ title: 'x'.repeat(151) })).toEqual(['title']);
    expect(fields({ description: 'x'.repeat(3001) })).toEqual(['description']);
    expect(fields({ links: { pr: 'javascript:alert(1)', ticket: 'https://jira.example.com/X-1' } })).toEqual([
      'links.pr',
    ]);
  });

  it('checks the planned window: end after start, not in the past, not years away', () => {
    const at = (s: string) => new Date(s);
    expect(
      fields({ plannedStart: at('2026-03-12T10:00:00Z'), plannedEnd: at('2026-03-12T09:00:00Z') }),
    ).toEqual(['plannedEnd']);
    expect(fields({ plannedStart: at('2025-01-01T10:00:00Z') })).toEqual(['plannedStart']);
    expect(fields({ plannedStart: at('2031-01-01T10:00:00Z') })).toEqual(['plannedStart']);
    expect(fields({ plannedEnd: at('2026-03-12T10:00:00Z') })).toEqual(['plannedStart']);
  });

  it('asks an emergency only what, why and who approved; the approver must be allowed and not the requester', () => {
    const e = (o: Parameters<typeof request>[0]) =>
      fields({
        type: 'emergency',
        description: '',
        impact: '',
        testPlan: '',
        rollbackPlan: '',
        risk: null,
        stagingTested: null,
        ...o,
      });
    expect(e({ emergencyApprover: DAVE })).toEqual([]);
    expect(e({ emergencyApprover: ERIN })).toEqual([]);
    expect(e({ emergencyApprover: null })).toEqual(['emergencyApprover']);
    expect(e({ emergencyApprover: BOB })).toEqual(['emergencyApprover']);
    expect(e({ emergencyApprover: ALICE })).toEqual(['emergencyApprover']);
  });

  it('refuses the requester as their own reviewer and unknown types', () => {
    expect(fields({ suggestedReviewers: [ALICE] })).toEqual(['suggestedReviewers']);
    expect(fields({ type: 'yolo' })).toEqual(['type']);
  });
});

describe('text cleaning', () => {
  it('removes control characters, NULs and bidi overrides, keeps newlines in multi-line text', () => {
    expect(sanitizeMultiline('a\u0000b\u202Ec\u0007d\r\ne\u200B')).toBe('abcd\ne');
    expect(sanitizeLine(' two\nlines  here ')).toBe('two lines here');
  });
});
