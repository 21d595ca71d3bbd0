import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ENV_ADMIN_ROLE,
  emptyRoleWarnings,
  loadEffectivePolicy,
  loadPolicy,
  PolicyError,
  parsePolicy,
  policyHash,
  policyToYaml,
  withAdmins,
} from '../../src/config/policy.js';
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

  it('refuses malformed policy v2 definitions at their line, saying how to fix them', () => {
    const list = problems(`version: 1
roles:
  leads: { users: [U0123CAROL] }
  sec: { users: [U0123ERIN] }
stages:
  both: { name: Both, approvers: { eachOf: [leads, sec], roles: [leads] } }
  mixed: { name: Mixed, approvers: { eachOf: [leads, sec] }, quorum: 2 }
types:
  normal:
    name: N
    stages:
      - both
      - parallel: [mixed]
      - { stage: both, when: { risk: [enormous] } }
`);
    const at = (path: string) => list.find((p) => p.path === path);
    expect(at('stages.both.approvers.eachOf')).toMatchObject({
      line: 6,
      message: expect.stringContaining('eachOf stands alone'),
    });
    expect(at('stages.mixed.quorum')?.message).toContain('either quorum');
    expect(at('types.normal.stages.1.parallel')).toMatchObject({
      line: 13,
      message: expect.stringContaining('at least two stages'),
    });
    expect(at('types.normal.stages.2.when.risk.0')?.line).toBe(14);
  });

  it('refuses policy v2 cross-reference mistakes at their line, saying how to fix them', () => {
    const list = problems(`version: 1
roles:
  leads: { users: [U0123CAROL] }
environments: [staging, production]
stages:
  two: { name: Two, approvers: { roles: [leads] }, quorum: 2 }
  qa: { name: QA, approvers: { roles: [leads] }, after: { deployedTo: uat } }
types:
  normal:
    name: N
    stages:
      - two
      - parallel: [qa, two]
      - { stage: qa, when: { securityFlags: [quantum] } }
  quiet: { name: Q }
  loud: { name: L, preApproved: true, stages: [qa] }
  staged: { name: S, stages: [qa], requireDeployedTo: [production] }
`);
    const at = (path: string) => list.find((p) => p.path === path);
    expect(at('environments.1')).toMatchObject({
      line: 4,
      message: expect.stringContaining('keep it in one'),
    });
    expect(at('stages.two.quorum')).toMatchObject({
      line: 6,
      message: expect.stringContaining('quorum 2 is larger than the 1 person who can approve'),
    });
    expect(at('stages.qa.after.deployedTo')).toMatchObject({
      line: 7,
      message: expect.stringContaining('unknown environment "uat" (add it to environments'),
    });
    expect(at('types.normal.stages.1.parallel.1')).toMatchObject({
      line: 13,
      message: expect.stringContaining('stage "two" is listed twice'),
    });
    expect(at('types.normal.stages.2.when')?.message).toContain('unknown security flag "quantum"');
    expect(at('types.quiet.stages')?.message).toContain('say preApproved: true');
    expect(at('types.loud.preApproved')?.message).toContain('remove one of them');
    expect(at('types.staged.requireDeployedTo.0')?.message).toContain('is a production environment');
  });

  it('warns about every stage nobody can approve, naming the stage, its types and the role', () => {
    const { policy } = parsePolicy(
      `version: 1
roles:
  cto: { users: [] }
  heads: { users: [U0123CAROL] }
  security: { groups: [] }
  auditors: {}
stages:
  cto: { name: CTO sign-off, approvers: { roles: [cto] } }
  both: { name: Both, approvers: { eachOf: [heads, security] } }
  peer: { name: Peer, approvers: { anyone: true } }
types:
  normal: { name: N, stages: [peer, cto] }
  deviation: { name: D, stages: [both] }
freezes:
  - { name: Peak, yearly: { start: "10-01", end: "01-01" }, blocks: [normal], exceptionRoles: [cto] }
access: { seeAllChanges: [auditors] }
`,
      'p.yml',
    );
    expect(emptyRoleWarnings(policy)).toEqual([
      'stage "cto" (CTO sign-off; used by normal) cannot be approved: role "cto" has no users or groups; changes will wait there until you add people to the policy',
      'stage "both" (Both; used by deviation) cannot be approved: role "security" has no users or groups; changes will wait there until you add people to the policy',
      'nobody can grant an exception to "Peak": role "cto" has no users or groups',
      'role "auditors" has no users or groups: nobody holds the access the policy gives it',
    ]);
  });

  it.each<[string, string | undefined]>([
    ['built-in default', undefined],
    ...readdirSync(new URL('../../policies/examples/', import.meta.url))
      .filter((f) => f.endsWith('.yml'))
      .map((f): [string, string] => [f, `policies/examples/${f}`]),
    ['test policy', 'test/fixtures/policies/test-policy.yml'],
  ])('policy:print writes %s as a file that loads back to the same policy', (_name, path) => {
    const loaded = loadPolicy(path && new URL(`../../${path}`, import.meta.url).pathname);
    const printed = policyToYaml(loaded);
    expect(printed).toMatch(/^# Effective Changegate policy/);
    expect(parsePolicy(printed, 'printed.yml').hash).toBe(loaded.hash);
  });

  it("README's policy example is a valid policy (with its roles)", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const example = /One example per concept:\n\n```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const roles = ['head_of_engineering', 'security_officer', 'qa', 'security', 'cab'];
    const { policy } = parsePolicy(
      `version: 1\nroles:\n${roles.map((r) => `  ${r}: { users: [] }`).join('\n')}\n${example}`,
      'README.md',
    );
    expect(policy.types.normal?.stages.map((step) => step.map((s) => s.stage))).toEqual([
      ['two_reviews'],
      ['qa_signoff', 'security_review'],
      ['cab'],
    ]);
  });

  it('CHANGEGATE_ADMINS makes people administrators without editing the policy', () => {
    const base = loadPolicy(undefined);
    const withEnv = withAdmins(base, ['U0123ADMIN', 'U0123ADMIN']);
    expect(withEnv.policy.roles[ENV_ADMIN_ROLE]).toEqual({ users: ['U0123ADMIN'], groups: [] });
    expect(withEnv.policy.access.admins).toEqual([...base.policy.access.admins, ENV_ADMIN_ROLE]);
    expect(isInRoles(withEnv.policy, MEMBERSHIP, 'U0123ADMIN', withEnv.policy.access.admins)).toBe(true);
    expect(isInRoles(base.policy, MEMBERSHIP, 'U0123ADMIN', base.policy.access.admins)).toBe(false);
    expect(withEnv.hash).not.toBe(base.hash);
    expect(withAdmins(base, [])).toBe(base);
    // The effective policy prints and loads back to the same hash.
    expect(parsePolicy(policyToYaml(withEnv), 'printed.yml').hash).toBe(withEnv.hash);
    expect(loadEffectivePolicy({ CHANGEGATE_ADMINS: 'U0123ADMIN, not-a-user' }).hash).toBe(withEnv.hash);
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
          stages: [
            ...POLICY.types.normal!.stages,
            [{ stage: 'cto_approval', when: { risk: ['high' as const] } }],
          ],
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
