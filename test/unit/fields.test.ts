import { describe, expect, it } from 'vitest';
import { PolicyError, parsePolicy } from '../../src/config/policy.js';
import { planStages } from '../../src/domain/change.js';
import { builtinRequirement, typeFields } from '../../src/domain/fields.js';
import { validateRequest } from '../../src/domain/request-rules.js';
import { MEMBERSHIP, request } from '../support/domain-fixtures.js';
import { ALICE, BOB, DAVE } from '../support/people.js';

/** The request form as the policy declares it: declared fields, per-type requirements, validation. */
const POLICY = parsePolicy(
  `version: 1
roles: { cto: { users: [U0123DAVE] } }
fields:
  developer: { label: Assigned developer, kind: user, requirement: required }
  reviewers: { label: Reviewers, kind: users }
  priority: { label: Priority, kind: select, options: [High, Medium, Low] }
  category:
    label: Category
    kind: select
    options: [{ value: feature, label: Feature }, { value: bug, label: Bug }, { value: security, label: Security }]
  areas: { label: Areas, kind: multi_select, options: [api, web] }
  timeline: { label: Implementation timeline, kind: long_text }
  go_live: { label: Go-live date, kind: date }
  demo_at: { label: Demo, kind: datetime }
  dashboard: { label: Dashboard, kind: url }
  docs_updated: { label: Documentation updated, kind: yes_no_na }
  note: { label: Note, kind: text, help: One line }
stages:
  review: { name: Review, approvers: { anyone: true } }
  security: { name: Security review, approvers: { roles: [cto] } }
  cto: { name: CTO, approvers: { roles: [cto] } }
types:
  normal:
    name: Normal
    fields: { priority: required, category: required, ticket: required, note: hidden }
    stages:
      - review
      - { stage: security, when: { field: { key: category, in: [security] } } }
  emergency:
    name: Emergency
    form: emergency
    stages: [cto]
    retrospectiveDueHours: 24
    fields: { rollbackPlan: required, developer: optional, priority: hidden }
`,
  'fields-test.yml',
).policy;

const NOW = new Date('2026-03-10T18:00:00Z');
const complete = {
  developer: BOB,
  priority: 'High',
  category: 'feature',
};

function issues(over: Parameters<typeof request>[0]) {
  const req = request({ type: 'normal', links: { pr: null, ticket: 'https://jira.example/T-1' }, ...over });
  return validateRequest(POLICY, MEMBERSHIP, req, ALICE, NOW).map((i) => `${i.field}: ${i.message}`);
}

describe('declared fields', () => {
  it('asks the fields per type: required, optional or hidden', () => {
    expect(typeFields(POLICY, 'normal').map((f) => `${f.key}${f.required ? '*' : ''}`)).toEqual([
      'developer*',
      'reviewers',
      'priority*',
      'category*',
      'areas',
      'timeline',
      'go_live',
      'demo_at',
      'dashboard',
      'docs_updated',
    ]);
    expect(typeFields(POLICY, 'emergency').map((f) => f.key)).not.toContain('priority');
    expect(builtinRequirement(POLICY, 'emergency', 'rollbackPlan')).toBe('required');
    expect(builtinRequirement(POLICY, 'emergency', 'testPlan')).toBe('hidden');
    expect(builtinRequirement(POLICY, 'normal', 'ticket')).toBe('required');
  });

  it('accepts a complete request', () => {
    expect(
      issues({
        fields: {
          ...complete,
          reviewers: [BOB, DAVE],
          areas: ['api'],
          timeline: 'Week 1: build\nWeek 2: ship',
          go_live: '2026-03-20',
          demo_at: '2026-03-19T15:00:00.000Z',
          dashboard: 'https://grafana.example/d/1',
          docs_updated: 'na',
        },
      }),
    ).toEqual([]);
  });

  it('refuses each bad value with a message naming the field', () => {
    expect(issues({ fields: {} })).toEqual([
      'fields.developer: Assigned developer is required for this type of change.',
      'fields.priority: Priority is required for this type of change.',
      'fields.category: Category is required for this type of change.',
    ]);
    const bad = (fields: Record<string, string | string[]>) => issues({ fields: { ...complete, ...fields } });
    expect(bad({ priority: 'Urgent' })).toEqual([
      'fields.priority: Priority must be one of: High, Medium, Low.',
    ]);
    expect(bad({ developer: 'bob' })).toEqual([
      'fields.developer: Assigned developer must name people of the workspace.',
    ]);
    expect(bad({ developer: [BOB] })).toEqual(['fields.developer: Assigned developer takes one value.']);
    expect(bad({ areas: 'api' })).toEqual(['fields.areas: Areas takes a list.']);
    expect(bad({ areas: ['mobile'] })).toEqual(['fields.areas: Areas must be one of: api, web.']);
    expect(bad({ go_live: '2026-02-30' })).toEqual([
      'fields.go_live: Go-live date must be a date (YYYY-MM-DD).',
    ]);
    expect(bad({ demo_at: 'tomorrow' })).toEqual(['fields.demo_at: Demo must be a date and time.']);
    expect(bad({ dashboard: 'javascript:alert(1)' })).toEqual([
      'fields.dashboard: Dashboard must be a full http(s) link.',
    ]);
    expect(bad({ docs_updated: 'maybe' })).toEqual([
      'fields.docs_updated: Documentation updated must be yes, no or not applicable.',
    ]);
    expect(bad({ timeline: 'x'.repeat(3001) })).toEqual([
      'fields.timeline: Keep Implementation timeline under 3001 characters.',
    ]);
    expect(bad({ note: 'hidden here' })).toEqual(['fields.note: Note is not asked for this type of change.']);
    expect(bad({ colour: 'blue' })[0]).toContain('Unknown field "colour"');
  });

  it('built-in fields follow the type: a required ticket, a rollback plan for emergencies', () => {
    expect(issues({ fields: complete, links: { pr: null, ticket: null } })).toEqual([
      'links.ticket: Link the ticket: this type of change requires it.',
    ]);
    const hotfix = request({
      type: 'emergency',
      emergencyApprover: DAVE,
      rollbackPlan: '',
      fields: {},
    });
    expect(validateRequest(POLICY, MEMBERSHIP, hotfix, ALICE, NOW).map((i) => i.field)).toEqual([
      'rollbackPlan',
    ]);
  });

  it('a field value can add a stage', () => {
    const keys = (category: string) =>
      planStages(POLICY, request({ type: 'normal', fields: { ...complete, category } })).map((s) => s.key);
    expect(keys('feature')).toEqual(['review']);
    expect(keys('security')).toEqual(['review', 'security']);
  });

  it('a bad field definition fails at load with its line and how to fix it', () => {
    const problems = (yaml: string) => {
      try {
        parsePolicy(yaml, 'p.yml');
      } catch (err) {
        if (err instanceof PolicyError) return err.problems.map((p) => `${p.line} ${p.path}: ${p.message}`);
        throw err;
      }
      return [];
    };
    expect(
      problems(`version: 1
fields:
  colour: { label: Colour, kind: rainbow }
  size: { label: Size, kind: select }
stages: { s: { name: S, approvers: { anyone: true } } }
types:
  normal:
    name: N
    fields: { weight: required }
    stages: [s, { stage: s, when: { field: { key: shape, in: [round] } } }]
`),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^3 fields\.colour\.kind: unknown field kind "rainbow": use one of text, long_text/,
        ),
        '4 fields.size.options: a select field needs options',
        '10 types.normal.stages.1.when.field: unknown field "shape" (declare it under fields)',
        expect.stringMatching(
          /^9 types\.normal\.fields\.weight: unknown field "weight": declare it under fields/,
        ),
      ]),
    );
    expect(
      problems(`version: 1
fields:
  size: { label: Size, kind: select, options: [S, M] }
stages: { s: { name: S, approvers: { anyone: true } }, t: { name: T, approvers: { anyone: true } } }
types:
  normal:
    name: N
    fields: { weight: required }
    stages: [s, { stage: t, when: { field: { key: size, in: [XL] } } }]
`),
    ).toEqual([
      expect.stringMatching(/^9 types\.normal\.stages\.1\.when\.field\.in: "XL" is not an option of size/),
      expect.stringMatching(
        /^8 types\.normal\.fields\.weight: unknown field "weight": declare it under fields/,
      ),
    ]);
  });
});
