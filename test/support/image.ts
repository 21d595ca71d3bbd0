import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Helpers to run the app as the Docker image or `npm start` does: a separate process group. */

export const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The command line the Docker image runs (its CMD, under `tini -g`), read from the Dockerfile: Node
 * directly, so that SIGTERM reaches the app and not npm.
 */
export function imageCommand(): string[] {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  if (!cmd) throw new Error('the Dockerfile has no exec-form CMD');
  return JSON.parse(cmd) as string[];
}

/** Runs the image's command (or `npm start`) as a separate process with only the given environment. */
export function npmStart(
  env: Record<string, string>,
  cwd = ROOT,
  command: string[] = ['npm', 'start', '--silent'],
): ChildProcess & { output: () => string } {
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, as under the image's init (tini -g)
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return Object.assign(child, { output: () => out });
}

export const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Processes whose command line mentions `text` (Linux /proc). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
/**
 * Resolves when the process has exited and its output pipes have closed. `npm start` exits on
 * SIGTERM at once while the app (its child, sharing the pipes) is still shutting down; 'close' waits
 * for both, so the app's last log lines are read.
 */
export const exitOf = (child: ChildProcess) =>
  child.stdout?.readableEnded && !running(child)
    ? Promise.resolve(child.exitCode)
    : new Promise<number | null>((r) => child.once('close', (code) => r(code)));
