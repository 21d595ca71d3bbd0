import { createHash } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { Evidence } from '../../application/export-evidence.js';
import { type EvidenceRow, neutraliseFormula } from '../../domain/change-log.js';
import { SIGNATURE_MARK } from '../../domain/evidence.js';
import type { Policy } from '../../domain/policy.js';

export type EvidenceFormat = 'csv' | 'json';

/** CSV columns, in the order of the seeds' change-log table, then the audit extras. */
export const CSV_COLUMNS: { key: keyof EvidenceRow; header: string }[] = [
  { key: 'date', header: 'Date' },
  { key: 'change', header: 'Change' },
  { key: 'type', header: 'Change type' },
  { key: 'title', header: 'Title' },
  { key: 'description', header: 'Description' },
  { key: 'systems_affected', header: 'Systems affected' },
  { key: 'raised_by', header: 'Raised by' },
  { key: 'reviewed_by', header: 'Reviewed by' },
  { key: 'final_approval', header: 'CTO / lead approval' },
  { key: 'staging_tested', header: 'Staging tested' },
  { key: 'deployed_to_production', header: 'Deployed to production' },
  { key: 'post_deployment_verified', header: 'Post-deployment verified' },
  { key: 'issues_encountered', header: 'Issues encountered' },
  { key: 'status', header: 'Status' },
  { key: 'risk', header: 'Risk' },
  { key: 'security_impact', header: 'Security impact' },
  { key: 'freeze_exceptions', header: 'Freeze exceptions' },
  { key: 'unauthorised_deployments', header: 'Unauthorised deployments' },
  { key: 'retrospective', header: 'Retrospective' },
  { key: 'links', header: 'Links' },
  { key: 'commit', header: 'Approved commit' },
  { key: 'post_implementation_reviews', header: 'Post-implementation reviews' },
  { key: 'decisions', header: 'Decisions' },
  { key: 'pull_requests', header: 'Pull requests' },
  { key: 'pr_approvals', header: 'PR approvals (reviewer at commit)' },
  { key: 'pr_self_approvals', header: 'PR self-approvals (not counted)' },
  { key: 'pr_ci', header: 'PR CI on head commit' },
  { key: 'pr_merge', header: 'PR merge commit and merger' },
  { key: 'event_chain_head', header: 'Event chain head (sha256)' },
  { key: 'policy_version', header: 'Policy version' },
  { key: 'integrity', header: 'Integrity' },
];

/** A column per field the policy declares: its label, and N/A where a change has no value. */
export type FieldColumns = readonly { key: string; label: string }[];

export function fieldColumns(policy: Policy): FieldColumns {
  return Object.values(policy.fields).map((f) => ({ key: f.key, label: f.label }));
}

function csvCells(row: EvidenceRow, fields: FieldColumns): string[] {
  const declared = fields.map(({ key }) => neutraliseFormula(row.fields?.[key] || 'N/A'));
  return [...baseCells(row), ...declared];
}

function baseCells(row: EvidenceRow): string[] {
  return CSV_COLUMNS.map(({ key }) => {
    const v = row[key];
    const text =
      key === 'decisions'
        ? row.decisions
            .map((d) => `${d.stage}: ${d.outcome} by ${d.by} at ${d.at}${d.note ? ` (${d.note})` : ''}`)
            .join('; ')
        : String(v ?? '');
    return neutraliseFormula(text);
  });
}

/**
 * Streams the evidence as CSV (RFC 4180 quoting by csv-stringify; every cell neutralised against
 * formula injection) or as a JSON bundle (domain/evidence.ts): the header, the changes one by one
 * with their events and proofs, then the app's signature over the SHA-256 of every byte before it,
 * so an auditor can check the file offline. Returns the number of changes.
 */
export async function writeEvidence(
  evidence: Evidence,
  format: EvidenceFormat,
  out: Writable,
  fields: FieldColumns = [],
): Promise<number> {
  let count = 0;
  if (format === 'csv') {
    async function* records() {
      for await (const change of evidence.changes) {
        count++;
        yield csvCells(change, fields);
      }
    }
    await pipeline(
      Readable.from(records()),
      stringify({
        header: true,
        columns: [...CSV_COLUMNS.map((c) => c.header), ...fields.map((f) => f.label)],
        bom: true,
      }),
      out,
    );
    return count;
  }
  const digest = createHash('sha256');
  const signed = (text: string) => {
    digest.update(text, 'utf8');
    return text;
  };
  async function* json() {
    const head = JSON.stringify(evidence.header);
    yield signed(`${head.slice(0, -1)},"changes":[`);
    for await (const change of evidence.changes) {
      yield signed(`${count === 0 ? '\n' : ',\n'}${JSON.stringify(change)}`);
      count++;
    }
    // The signature covers every byte up to the newline that opens its property (SIGNATURE_MARK).
    const signature = evidence.sign(digest.copy().update('\n],\n').digest('hex'));
    yield signature ? `\n],${SIGNATURE_MARK}${JSON.stringify(signature)}}\n` : '\n]}\n';
  }
  await pipeline(Readable.from(json()), out);
  return count;
}
