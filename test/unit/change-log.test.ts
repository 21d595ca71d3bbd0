import { generateKeyPairSync } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { writeEvidence } from '../../src/adapters/export/evidence-writer.js';
import type { Evidence } from '../../src/application/export-evidence.js';
import {
  ChangeLogAccumulator,
  type EvidenceRow,
  evidenceRow,
  neutraliseFormula,
} from '../../src/domain/change-log.js';
import {
  BUNDLE_FORMAT,
  type BundleChange,
  bundleSignatureBytes,
  verifyBundle,
} from '../../src/domain/evidence.js';
import { deploysTheChange } from '../../src/domain/lifecycle.js';
import { signerOf } from '../../src/infra/audit-key.js';
import { NOW, SEPTEMBER, septemberChanges } from '../support/change-log-fixture.js';
import { POLICY } from '../support/domain-fixtures.js';
import { ALICE, BOB, CAROL, DAVE, ERIN } from '../support/people.js';

/** An export of these rows, as the application hands it to the writer. */
function evidence(changes: AsyncGenerator<BundleChange>, sign: Evidence['sign'] = () => null): Evidence {
  return {
    scope: 'all',
    header: {
      format: BUNDLE_FORMAT,
      generatedAt: NOW.toISOString(),
      period: 'test',
      checkpoint: null,
      publicKeys: [],
      rotations: [],
    },
    changes,
    sign,
  };
}

describe('change-log summary over a hand-built month', () => {
  const { states, byName } = septemberChanges();
  const acc = new ChangeLogAccumulator(SEPTEMBER, POLICY, NOW);
  for (const s of states) acc.add(s);
  const s = acc.result();

  it('counts changes raised by type and outcome, deployments, approvals and rejections', () => {
    expect(s.raised).toBe(8);
    expect(Object.fromEntries(s.byType.map((t) => [t.type, t.count]))).toEqual({
      normal: 4,
      standard: 1,
      emergency: 3,
    });
    expect(s.byOutcome).toEqual({
      verified: 1,
      rolled_back: 1,
      deployed: 4,
      rejected: 1,
      pending_approval: 1,
    });
    expect(s.deployed).toBe(7);
    expect(s.approvals.total).toBe(10);
    expect(s.rejections).toBe(1);
    expect(s.refusedAttempts).toBe(1);
    expect(s.securityChanges).toBe(0);
  });

  it("counts what the policy's reports ask for: deployed, security patches, incidents, rollbacks", () => {
    // Changes that reached production as approved (an unauthorised deployment is reported apart).
    const succeeded = states.filter((x) =>
      x.deployments.some(
        (d) =>
          d.production &&
          d.status === 'succeeded' &&
          deploysTheChange(d.reasons) &&
          d.at >= SEPTEMBER.from &&
          d.at < SEPTEMBER.to,
      ),
    ).length;
    expect(succeeded).toBe(6);
    expect(s.counts).toEqual([
      { label: 'Changes deployed', count: succeeded },
      { label: 'Security patches applied', count: 0 },
      { label: 'Incidents resolved', count: 3 },
      { label: 'Rollbacks performed', count: s.rollbacks.total },
    ]);
    // Counted by the policy's own categories: here by a custom count on the emergency type.
    const policy = {
      ...POLICY,
      reports: {
        counts: [
          { label: 'Normal changes raised', event: 'raised' as const, when: { types: ['normal'] } },
          { label: 'High-risk deployments', event: 'deployed' as const, when: { risk: ['high' as const] } },
        ],
      },
    };
    const custom = new ChangeLogAccumulator(SEPTEMBER, policy, NOW);
    for (const x of states) custom.add(x);
    const expectedHigh = states.filter(
      (x) =>
        x.request.risk === 'high' &&
        x.deployedAt &&
        x.deployedAt >= SEPTEMBER.from &&
        x.deployedAt < SEPTEMBER.to,
    ).length;
    expect(custom.result().counts).toEqual([
      { label: 'Normal changes raised', count: 4 },
      { label: 'High-risk deployments', count: expectedHigh },
    ]);
  });

  it('lists approvals with approver and time, newest first', () => {
    // The newest approval is G's emergency approval, 577 hours after 1 September 17:00 UTC.
    expect(s.approvals.items[0]).toMatchObject({
      number: 107,
      detail: 'Emergency approval approved',
      who: DAVE,
    });
    expect(s.approvals.items[0]!.at.toISOString()).toBe(
      new Date(Date.parse('2026-09-01T17:00:00Z') + 577 * 3_600_000).toISOString(),
    );
    expect(s.approvals.items.map((i) => i.who)).toEqual([DAVE, DAVE, DAVE, CAROL, BOB, DAVE, ERIN, BOB]);
    expect(byName.H!.submittedAt < SEPTEMBER.from).toBe(true); // H was raised in August: its approvals count, it does not
  });

  it('reports emergency retrospectives on time, late and overdue', () => {
    expect(s.emergencies).toMatchObject({ total: 3, onTime: 1, late: 1, overdue: 1, pending: 0 });
    expect(s.emergencies.items.map((i) => i.detail).sort()).toEqual([
      'retrospective overdue',
      'retrospective submitted late',
    ]);
  });

  it('computes rollbacks, the change failure rate and deployments never verified', () => {
    expect(s.rollbacks.total).toBe(1);
    expect(s.rollbacks.items[0]).toMatchObject({ detail: '+cmd|calc, errors at 9%', who: ALICE });
    expect(s.changeFailureRate).toBe(0.1429); // 1 of 7 deployed changes
    expect(s.failedDeployments).toBe(0);
    expect(s.neverVerified.total).toBe(4);
    expect(s.unauthorised.total).toBe(1);
    expect(s.unauthorised.items[0]).toMatchObject({ who: 'pipeline:ci', detail: 'production: not approved' });
    expect(s.freezeDeployments.total).toBe(0);
  });

  it('computes lead times and approval waits (median and 90th percentile, hours)', () => {
    expect(s.leadTimeToApproval).toEqual({ n: 6, medianHours: 1, p90Hours: 8 });
    expect(s.leadTimeToDeploy).toEqual({ n: 6, medianHours: 2, p90Hours: 24 });
    const wait = Object.fromEntries(s.stageWait.map((w) => [w.stage, w.wait]));
    expect(wait['Peer review']).toEqual({ n: 3, medianHours: 2, p90Hours: 336 });
    expect(wait['Engineering lead approval']).toEqual({ n: 2, medianHours: 3, p90Hours: 6 });
    expect(wait['Emergency approval']).toEqual({ n: 3, medianHours: 1, p90Hours: 1 });
    expect(wait['Security review']).toEqual({ n: 1, medianHours: 12, p90Hours: 12 });
    expect(wait['CTO approval']).toEqual({ n: 1, medianHours: 3, p90Hours: 3 });
  });

  it('counts deployments inside a freeze, with or without an exception', () => {
    const october = {
      from: new Date('2026-10-01T07:00:00Z'),
      to: new Date('2026-11-01T07:00:00Z'),
      label: '2026-10',
    };
    const oct = new ChangeLogAccumulator(october, POLICY, NOW);
    for (const st of septemberChanges().states) oct.add(st);
    expect(oct.result().freezeDeployments.total).toBe(0);
  });
});

describe('evidence export', () => {
  const { byName } = septemberChanges();

  it('has the seed change-log fields for each change', () => {
    const row = evidenceRow(byName.A!, 'headhash', NOW);
    expect(row).toMatchObject({
      change: 'CR-101',
      type: 'Normal',
      raised_by: ALICE,
      reviewed_by: expect.stringContaining(`${BOB} (Peer review,`),
      final_approval: expect.stringContaining(`${CAROL} (Engineering lead approval,`),
      staging_tested: 'Yes',
      post_deployment_verified: 'Yes',
      event_chain_head: 'headhash',
    });
    expect(row.decisions).toHaveLength(2);
    expect(evidenceRow(byName.C!, 'h', NOW).final_approval).toBe('pre-approved by policy');
    expect(evidenceRow(byName.B!, 'h', NOW).post_deployment_verified).toBe('Rolled back');
  });

  it('gives every seed change-log column a value on every row: N/A where it does not apply, never blank', () => {
    const seedColumns = [
      'date',
      'type',
      'description',
      'systems_affected',
      'raised_by',
      'reviewed_by',
      'final_approval',
      'staging_tested',
      'deployed_to_production',
      'post_deployment_verified',
      'issues_encountered',
    ] as const;
    for (const s of Object.values(byName)) {
      const row = evidenceRow(s, 'h', NOW);
      for (const c of seedColumns) expect(String(row[c]), `${row.change} ${c}`).not.toBe('');
    }
    // An emergency change that was never deployed: nothing to verify, nothing encountered.
    const pending = Object.values(byName).find((s) => !s.deployedAt)!;
    expect(evidenceRow(pending, 'h', NOW)).toMatchObject({
      deployed_to_production: 'No',
      post_deployment_verified: 'N/A',
      issues_encountered: 'N/A',
    });
  });

  it('CSV: commas, quotes and newlines survive; = + - @ at the start are neutralised', async () => {
    const rows = [evidenceRow(byName.B!, 'h', NOW)];
    rows[0]!.description = '@SUM(A1:A9)';
    rows[0]!.systems_affected = '-2+3';
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    async function* gen() {
      for (const r of rows) yield { ...r, audit: { events: [], ledger: [] } };
    }
    expect(await writeEvidence(evidence(gen()), 'csv', out)).toBe(1);
    const parsed = parse(Buffer.concat(chunks).toString('utf8'), { columns: true, bom: true }) as Record<
      string,
      string
    >[];
    expect(parsed).toHaveLength(1);
    expect(parsed[0]!.Title).toBe('\'=HYPERLINK("evil"), "quoted", newline\nhere');
    expect(parsed[0]!.Description).toBe("'@SUM(A1:A9)");
    expect(parsed[0]!['Systems affected']).toBe("'-2+3");
    expect(parsed[0]!['Issues encountered']).toBe("'+cmd|calc, errors at 9%");
    expect(neutraliseFormula('plain')).toBe('plain');
    expect(neutraliseFormula('\tx')).toBe("'\tx");
  });

  it('JSON: a valid bundle, text kept as written, signed over every byte before the signature', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    async function* gen() {
      yield { ...evidenceRow(byName.B!, 'h', NOW), audit: { events: [], ledger: [] } };
      yield { ...evidenceRow(byName.A!, 'h', NOW), audit: { events: [], ledger: [] } };
    }
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = signerOf(privateKey);
    await writeEvidence(
      evidence(gen(), (sha256) => ({
        keyId: signer.keyId,
        sha256,
        sig: signer.sign(bundleSignatureBytes(sha256)),
      })),
      'json',
      out,
    );
    const text = Buffer.concat(chunks).toString('utf8');
    const data = JSON.parse(text) as { format: string; changes: EvidenceRow[] };
    expect(data.format).toBe(BUNDLE_FORMAT);
    expect(data.changes.map((r) => r.change)).toEqual(['CR-102', 'CR-101']);
    expect(data.changes[0]!.title).toBe('=HYPERLINK("evil"), "quoted", newline\nhere');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const problems = (t: string) => verifyBundle(t, [pem]).problems;
    // The rows carry no events here, so only the file's signature is of interest.
    expect(problems(text).filter((p) => p.includes('signature') || p.includes('changed'))).toEqual([]);
    expect(problems(text.replace('CR-101', 'CR-109'))).toContain(
      'the file was changed after Changegate signed it',
    );
  });
});
