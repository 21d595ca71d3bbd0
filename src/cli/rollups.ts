import { rebuildRollups } from '../application/rollups.js';
import { cliContext } from './context.js';

/**
 * `npm run rollups:rebuild`: rebuilds the change log's per-day rollups of the policy in force from
 * the event log (after a finding of the audit verification, or to rebuild them at a quiet time).
 * Safe while the app runs: events recorded meanwhile are folded in after it.
 */
async function main() {
  const ctx = await cliContext();
  try {
    const started = Date.now();
    const r = await rebuildRollups(ctx.deps, { force: true });
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    process.stdout.write(
      r.outcome === 'rebuilt'
        ? `Rebuilt the change-log rollups from ${r.events} events of ${r.changes} changes: ${r.days} days, in ${seconds} s.\n`
        : 'Another process holds the rollups right now; try again in a minute.\n',
    );
    if (r.outcome !== 'rebuilt') process.exitCode = 1;
  } finally {
    await ctx.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
