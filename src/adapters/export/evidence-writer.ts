import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { type EvidenceRow, neutraliseFormula } from '../../domain/change-log.js';

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
  { key: 'decisions', header: 'Decisions' },
  { key: 'event_chain_head', header: 'Event chain head (sha256)' },
  { key: 'policy_version', header: 'Policy version' },
];

function csvCells(row: EvidenceRow): string[] {
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
 * Streams evidence rows as CSV (RFC 4180 quoting by csv-stringify; every cell neutralised against
 * formula injection) or JSON (an array written row by row). Returns the number of rows.
 */
export async function writeEvidence(
  rows: AsyncIterable<EvidenceRow>,
  format: EvidenceFormat,
  out: Writable,
): Promise<number> {
  let count = 0;
  if (format === 'csv') {
    async function* records() {
      for await (const row of rows) {
        count++;
        yield csvCells(row);
      }
    }
    await pipeline(
      Readable.from(records()),
      stringify({ header: true, columns: CSV_COLUMNS.map((c) => c.header), bom: true }),
      out,
    );
    return count;
  }
  async function* json() {
    yield '[';
    for await (const row of rows) {
      yield `${count === 0 ? '\n' : ',\n'}${JSON.stringify(row)}`;
      count++;
    }
    yield '\n]\n';
  }
  await pipeline(Readable.from(json()), out);
  return count;
}
