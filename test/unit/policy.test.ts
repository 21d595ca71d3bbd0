import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPolicy, PolicyError, parsePolicy, policyHash } from '../../src/config/policy.js';
import { planStages } from '../../src/domain/change.js';
import { activeFreezes, blockingFreezes } from '../../src/domain/freeze.js';
import { approversOf, isInRoles, matchesApproverSpec } from '../../src/domain/policy.js';
import { MEMBERSHIP, POLICY, request } from '../support/domain-fixtures.js';
import { BOB, CAROL, DAVE, ERIN } from '../support/people.js';

const problems = (yaml: string) => {
  try {
    parsePolicy(yaml, 'p.yml');
  } catch (err) {
    if (err instanceof PolicyError) return err.problems;
    throw err;
  }
  throw new Error('expected the policy to be invalid');
};

describe('policy file', () => {
  it('loads the built-in default with four change types and a stable hash', () => {
    const p = loadPolicy(undefined);
    expect(Object.keys(p.policy.types)).toEqual(['standard', 'normal', 'emergency', 'infrastructure']);
    expect(p.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(loadPolicy(undefined).hash).toBe(p.hash);
    expect(policyHash({ ...p.policy, organisation: 'Other' })).not.toBe(p.hash);
  });

  it('reports every problem with its line and column', () => {
    const list = problems(`version: 1
timezone: Mars/Olympus
stages:
  a:
    name: A
    approvers: { roles: [nope] }
types:
  normal:
    name: N
    stages: [a, b]
freezes:
  - name: x
    yearly: { start: "13-01", end: "01-01" }
    blocks: [normal]
`);
    expect(list).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          line: 2,
          path: 'timezone',
          message: expect.stringContaining('IANA time zone'),
        }),
        expect.objectContaining({ line: 13, path: 'freezes.0.yearly.start' }),
        expect.objectContaining({
          line: 6,
          path: 'stages.a.approvers.roles.0',
          message: expect.stringContaining('unknown role "nope"'),
        }),
        expect.objectContaining({
          line: 10,
          path: 'types.normal.stages.1',
          message: expect.stringContaining('unknown stage "b"'),
        }),
      ]),
    );
  });

  it('reports YAML syntax errors with their position, and unknown keys', () => {
    expect(problems('version: 1\n  bad: [')[0]).toMatchObject({ line: 1 });
    expect(problems('version: 1\nstages: {}\ntypes: { n: { name: N } }\ncolour: blue\n')[0]).toMatchObject({
      line: 1,
      message: expect.stringContaining('colour'),
    });
  });

  it('names a missing policy file', () => {
    expect(() => loadPolicy('/nonexistent/policy.yml')).toThrow(/file not found/);
  });

  it.each(
    readdirSync(new URL('../../policies/examples/', import.meta.url)).filter((f) => f.endsWith('.yml')),
  )('example policy %s is valid', (file) => {
    const text = readFileSync(new URL(`../../policies/examples/${file}`, import.meta.url), 'utf8');
    expect(() => parsePolicy(text, file)).not.toThrow();
  });
});

describe('policy evaluation', () => {
  it('resolves approvers from users, roles and user groups', () => {
    const security = POLICY.stages.security_review!.approvers;
    expect(matchesApproverSpec(POLICY, MEMBERSHIP, security, ERIN)).toBe(true);
    expect(matchesApproverSpec(POLICY, MEMBERSHIP, security, BOB)).toBe(false);
    expect(approversOf(POLICY, MEMBERSHIP, POLICY.stages.emergency_approval!.approvers).sort()).toEqual(
      [DAVE, ERIN].sort(),
    );
    expect(approversOf(POLICY, MEMBERSHIP, POLICY.stages.peer_review!.approvers)).toEqual([]);
    expect(isInRoles(POLICY, MEMBERSHIP, CAROL, ['leads'])).toBe(true);
  });

  it('plans conditional stages: security impact and high risk', () => {
    const policy = {
      ...POLICY,
      types: {
        ...POLICY.types,
        normal: {
          ...POLICY.types.normal!,
          stages: [...POLICY.types.normal!.stages, { stage: 'cto_approval', when: 'high_risk' as const }],
        },
      },
    };
    expect(planStages(policy, request({ risk: 'high' })).map((s) => s.key)).toEqual([
      'peer_review',
      'lead_approval',
      'cto_approval',
    ]);
    expect(planStages(policy, request({ risk: 'low' })).map((s) => s.key)).toEqual([
      'peer_review',
      'lead_approval',
    ]);
  });

  it('evaluates yearly and fixed freezes in their time zone', () => {
    const fixed = parsePolicy(
      `version: 1
stages: { s: { name: S, approvers: { anyone: true } } }
types: { normal: { name: N, stages: [s] } }
freezes:
  - name: Year end
    fixed: { start: "2026-12-20T00:00", end: "2027-01-03T00:00" }
    timezone: Europe/Berlin
    blocks: [normal]
`,
      'f.yml',
    ).policy;
    expect(blockingFreezes(fixed, 'normal', new Date('2026-12-19T22:59:00Z'))).toHaveLength(0);
    expect(blockingFreezes(fixed, 'normal', new Date('2026-12-19T23:00:00Z'))).toHaveLength(1);
    expect(
      blockingFreezes(fixed, 'normal', new Date('2026-12-10T00:00:00Z'), new Date('2026-12-21T00:00:00Z')),
    ).toHaveLength(1);
    expect(blockingFreezes(fixed, 'emergency', new Date('2026-12-25T00:00:00Z'))).toHaveLength(0);
    expect(activeFreezes(POLICY, new Date('2026-12-25T12:00:00Z')).map((f) => f.name)).toEqual([
      'Peak season',
    ]);
  });
});
