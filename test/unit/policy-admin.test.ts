import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/config/policy.js';
import { policyDiff, policyTemplates, renderPolicy } from '../../src/config/policy-templates.js';
import { KeyRing } from '../../src/domain/ledger.js';
import {
  adoptTemplate,
  chainPolicyVersion,
  checkPolicyHistory,
  hasAdmin,
  type PolicyVersionRecord,
  policyForChange,
  setupChecklist,
  withAdmin,
  withChannels,
  withRoleMembers,
} from '../../src/domain/policy-admin.js';

const template = (id: string) => policyTemplates().find((t) => t.id === id)!.loaded.policy;

describe('which policy a change is decided under', () => {
  it('keeps the rules it was raised under and takes people, channels and the calendar from the version in force', () => {
    const raised = template('trove');
    const current = withChannels(
      withRoleMembers(template('builtin'), 'cto', { users: ['U0NEWCTO'], groups: [] }),
      {
        approvals: 'C0NEW',
      },
    );
    const p = policyForChange(raised, current);
    expect(p.types).toBe(raised.types);
    expect(p.stages).toBe(raised.stages);
    expect(p.separationOfDuties).toBe(raised.separationOfDuties);
    expect(p.fields).toBe(raised.fields);
    expect(p.roles).toBe(current.roles);
    expect(p.access).toBe(current.access);
    expect(p.freezes).toBe(current.freezes);
    expect(p.maintenanceWindows).toBe(current.maintenanceWindows);
    expect(p.channels.approvals).toBe('C0NEW');
    expect(policyForChange(current, current)).toBe(current);
  });
});

describe('admins', () => {
  it('a first admin joins a role that approves nothing, never an approving admin role', () => {
    const trove = template('trove'); // access.admins: [cto], and cto approves stages
    expect(hasAdmin(trove)).toBe(false);
    const p = withAdmin(trove, 'U0FIRST');
    expect(hasAdmin(p)).toBe(true);
    expect(p.roles.cto?.users).toEqual([]);
    expect(p.roles.admins?.users).toEqual(['U0FIRST']);
    expect(p.access.admins).toEqual(['cto', 'admins']);
    expect(withAdmin(p, 'U0FIRST')).toBe(p);
    // The built-in policy has an admin-only role: it is used.
    expect(withAdmin(template('builtin'), 'U0FIRST').roles.admins?.users).toEqual(['U0FIRST']);
  });

  it('a template keeps mapped roles of the same name, the channels and every admin', () => {
    let before = withAdmin(template('builtin'), 'U0ADMIN');
    before = withRoleMembers(before, 'cto', { users: ['U0CTO'], groups: ['S0EXEC'] });
    before = withRoleMembers(before, 'leads', { users: ['U0LEAD'], groups: [] });
    before = withChannels(before, { approvals: 'C0APPROVE', audit: 'C0AUDIT' });
    const next = adoptTemplate(template('trove'), before, ['U0CHOOSER']);
    expect(next.organisation).toBe('Trove');
    expect(next.roles.cto).toEqual({ users: ['U0CTO'], groups: ['S0EXEC'] });
    expect(next.roles.leads).toBeUndefined(); // Trove has no such role
    expect(next.channels).toMatchObject({ approvals: 'C0APPROVE', audit: 'C0AUDIT' });
    const admins = next.access.admins.flatMap((r) => next.roles[r]?.users ?? []);
    expect(admins).toEqual(expect.arrayContaining(['U0ADMIN', 'U0CHOOSER']));
    expect(renderPolicy(next, 'x').hash).toBe(parsePolicy(renderPolicy(next, 'x').yaml, 'x').hash);
  });

  it('the checklist names each role a stage or access needs, and each channel', () => {
    const items = setupChecklist(template('trove'));
    expect(items.find((i) => i.key === 'admin')?.done).toBe(false);
    expect(items.find((i) => i.key === 'role:cto')?.text).toMatch(/CTO approval/);
    expect(items.filter((i) => i.key.startsWith('channel:')).map((i) => i.done)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('the version history', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const ring = new KeyRing([pem]);
  const keyId = ring.ids()[0]!;
  const seal = (bytes: string) => ({
    keyId,
    sig: sign(null, Buffer.from(bytes), privateKey).toString('base64'),
  });

  function history(): PolicyVersionRecord[] {
    const out: PolicyVersionRecord[] = [];
    let prev: PolicyVersionRecord | null = null;
    let policy = template('builtin');
    let yaml: { yaml: string; hash: string } | null = null;
    for (let i = 0; i < 4; i++) {
      policy = withRoleMembers(policy, 'cto', { users: [`U0CTO${i}`], groups: [] });
      const r = renderPolicy(policy, 'test');
      prev = chainPolicyVersion(
        prev,
        {
          hash: r.hash,
          by: 'U0ADMIN',
          at: new Date(Date.UTC(2026, 0, i + 1)),
          origin: 'roles',
          note: 'cto',
          ...policyDiff(yaml, r),
        },
        seal,
      );
      yaml = r;
      out.push(prev);
    }
    return out;
  }

  it('verifies as recorded, and names each kind of tampering', () => {
    const h = history();
    expect(checkPolicyHistory(ring, h)).toEqual([]);
    expect(h[1]!.diff).toMatch(/^-\s+- U0CTO0$/m);
    expect(h[1]!.diff).toMatch(/^\+\s+- U0CTO1$/m);
    expect([h[1]!.added, h[1]!.removed]).toEqual([1, 1]);
    const kinds = (records: PolicyVersionRecord[]) => checkPolicyHistory(ring, records).map((f) => f.kind);
    expect(kinds(h.map((r) => (r.number === 2 ? { ...r, by: 'U0MALLORY' } : r)))).toEqual(['edited']);
    expect(kinds(h.filter((r) => r.number !== 2))).toContain('deleted');
    const forged = chainPolicyVersion(h[3]!, { ...h[3]!, note: 'forged' }, () => ({ keyId, sig: 'AAAA' }));
    expect(kinds([...h, forged])).toEqual(['inserted']);
    expect(kinds([...h, { ...forged, seal: null }])).toEqual(['inserted']);
  });
});
