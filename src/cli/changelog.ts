import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { fieldColumns, writeEvidence } from '../adapters/export/evidence-writer.js';
import { buildChangeLog } from '../application/build-change-log.js';
import { exportEvidence } from '../application/export-evidence.js';
import { parsePeriod } from '../domain/period.js';
import { cliContext } from './context.js';

/**
 * `npm run changelog -- --from 2026-09-01 --to 2026-09-30 --format csv [--out file]`
 * `npm run changelog -- --period 2026-Q3 --summary`
 * The evidence export (every change with activity in the period) or the summary, for auditors.
 */
const USAGE =
  'Usage: npm run changelog -- (--from YYYY-MM-DD --to YYYY-MM-DD | --period 2026-Q3) [--format csv|json] [--out file] [--summary]';

async function main() {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      period: { type: 'string' },
      format: { type: 'string', default: 'csv' },
      out: { type: 'string' },
      summary: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.format !== 'csv' && values.format !== 'json')
    throw new Error(`--format must be csv or json\n${USAGE}`);
  const text =
    values.period ??
    (values.from && values.to ? `from ${values.from} to ${values.to}` : values.from || values.to ? null : '');
  if (text === null) throw new Error(`Give both --from and --to.\n${USAGE}`);
  const ctx = await cliContext();
  try {
    const parsed = parsePeriod(text, ctx.deps.clock.now(), ctx.deps.policy.policy.timezone);
    if (!parsed.ok) throw new Error(`${parsed.message}\n${USAGE}`);
    const out = values.out ? createWriteStream(values.out) : process.stdout;
    if (values.summary) {
      const { summary } = await buildChangeLog(ctx.deps, { kind: 'system' }, parsed.period);
      out.write(`${JSON.stringify(summary, null, 2)}\n`);
    } else {
      const evidence = await exportEvidence(ctx.deps, { kind: 'system' }, parsed.period, {
        proofs: values.format === 'json',
      });
      const count = await writeEvidence(evidence, values.format, out, fieldColumns(ctx.deps.policy.policy));
      process.stderr.write(`${count} change(s) exported for ${parsed.period.label}.\n`);
    }
  } finally {
    await ctx.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
