import { verifyAudit } from '../application/verify-audit.js';
import { formatChangeId } from '../domain/change.js';
import { cliContext } from './context.js';

/** `npm run audit:verify`: re-verifies every change's hash chain; exits 1 when any is broken. */
async function main() {
  const ctx = await cliContext();
  try {
    const started = Date.now();
    const report = await verifyAudit(ctx.deps);
    process.stdout.write(
      `Checked ${report.checkedChanges} changes and ${report.checkedEvents} events in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`,
    );
    if (report.broken.length === 0) {
      process.stdout.write('✔ Every hash chain is intact.\n');
      return;
    }
    process.stdout.write(
      `✘ ${report.broken.length} change(s) with a broken chain (first broken link each):\n`,
    );
    for (const b of report.broken) {
      process.stdout.write(
        `  ${formatChangeId(b.change)}  event ${b.break.seq}: ${b.break.problem.replace(/_/g, ' ')}\n`,
      );
    }
    process.exitCode = 1;
  } finally {
    await ctx.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
