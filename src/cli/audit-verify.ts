import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type AuditReport, verifyAudit } from '../application/verify-audit.js';
import { formatChangeId } from '../domain/change.js';
import { verifyBundle } from '../domain/evidence.js';
import type { Finding } from '../domain/ledger.js';
import { cliContext } from './context.js';

const USAGE = `Usage:
  npm run audit:verify                                  verify the whole audit trail in the database
  npm run audit:verify -- --all-signatures              …checking every ledger entry's own signature too
  npm run audit:verify -- --public-key key.pem          …trusting this public key (besides the app's own)
  npm run audit:verify -- --export file.json --public-key key.pem
                                                        check an evidence export offline (no database)
Exit status: 0 verified, 1 findings, 2 usage or setup error.`;

const where = (f: Finding) =>
  [
    f.change !== null ? formatChangeId(f.change) : null,
    f.seq !== null ? `event ${f.seq}` : null,
    f.index !== null ? `ledger ${f.index}` : null,
    f.checkpoint !== null ? `checkpoint #${f.checkpoint}` : null,
  ]
    .filter(Boolean)
    .join(' · ');

function printReport(r: AuditReport, seconds: number): void {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(
    `Checked ${r.checkedChanges} changes, ${r.checkedEvents} events and ${r.ledgerSize} ledger entries against ${r.checkpoints} checkpoint(s) in ${seconds.toFixed(1)} s (keys: ${r.keys.join(', ') || 'none'}).`,
  );
  out(
    r.witness === 'compared'
      ? 'Checkpoints compared with the audit channel in Slack.'
      : r.witness === 'not_configured'
        ? 'No audit channel to compare checkpoints with (set channels.audit in the policy, and SLACK_BOT_TOKEN here).'
        : '⚠ The audit channel could not be read: checkpoints were not compared with it.',
  );
  if (r.unledgered > 0)
    out(`${r.unledgered} signed event(s) still wait for their ledger entry (the app writes them).`);
  if (r.intact) {
    out('✔ The audit trail verifies: nothing edited, inserted, deleted, reordered or truncated.');
    return;
  }
  out(`✘ ${r.findings.length + r.findingsOmitted} finding(s):`);
  for (const f of r.findings) out(`  ${f.kind.padEnd(30)} ${where(f).padEnd(34)} ${f.detail}`);
  if (r.findingsOmitted > 0) out(`  …and ${r.findingsOmitted} more.`);
}

function readKeys(paths: string[]): string[] {
  return paths.map((p) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      throw new Error(`cannot read the public key ${p}`);
    }
  });
}

/** `npm run audit:verify`: verifies the audit trail, or an evidence export offline. */
async function main() {
  const { values } = parseArgs({
    options: {
      export: { type: 'string' },
      'public-key': { type: 'string', multiple: true },
      'all-signatures': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const keys = readKeys(values['public-key'] ?? []);
  if (values.export) {
    if (keys.length === 0)
      throw new Error(`--export needs --public-key (get it from /api/v1/audit/public-key)\n${USAGE}`);
    const check = verifyBundle(readFileSync(values.export, 'utf8'), keys);
    process.stdout.write(
      `Checked ${check.changes} change(s) and ${check.events} event(s); ${check.proven} proven to be in the signed ledger.\n`,
    );
    for (const n of check.notes.slice(0, 20)) process.stdout.write(`  note: ${n}\n`);
    if (check.problems.length === 0) {
      process.stdout.write(
        '✔ The export verifies: signed by the trusted key, every row folded from signed events.\n',
      );
      return;
    }
    process.stdout.write(`✘ ${check.problems.length} problem(s):\n`);
    for (const p of check.problems) process.stdout.write(`  ${p}\n`);
    process.exitCode = 1;
    return;
  }
  const ctx = await cliContext();
  try {
    if (!ctx.deps.audit && keys.length === 0)
      throw new Error('Give --public-key (or set CHANGEGATE_AUDIT_KEY) so that signatures can be checked.');
    const started = Date.now();
    const report = await verifyAudit(ctx.deps, { allSignatures: values['all-signatures'], trust: keys });
    printReport(report, (Date.now() - started) / 1000);
    if (!report.intact) process.exitCode = 1;
  } finally {
    await ctx.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
