/**
 * The benchmark's load generator, in its own process so that its timings are not disturbed by the
 * fake Slack (which shares the main benchmark process). Reads a JSON file of pre-signed requests,
 * sends them at the given concurrency, prints one result per request as JSON on stdout.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

interface Job {
  url: string;
  concurrency: number;
  /** Sent first on the same connections, not reported (opens connections, warms the JIT). */
  warmup: { id: string; body: string; headers: Record<string, string> }[];
  requests: { id: string; body: string; headers: Record<string, string> }[];
  /** When set, the measured requests start at this time (ms since the epoch). */
  startAtEpochMs?: number;
  /** After the warm-up, print WARM on stderr and wait for a line on stdin before measuring. */
  waitForGo?: boolean;
  /** Open loop: the measured requests leave at this steady rate (per second), whatever the answers. */
  ratePerSecond?: number;
}

const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Job;
const epochMs = () => performance.timeOrigin + performance.now();
// One kept-alive connection per concurrent sender, opened during the warm-up and reused: the load
// is the same for every server measured, and no connection is opened while measuring.
const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency, maxFreeSockets: job.concurrency });

function post(r: Job['requests'][number]): Promise<number> {
  return new Promise((resolve) => {
    const req = request(job.url, { method: 'POST', headers: r.headers, agent }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', () => resolve(-1));
    });
    req.once('error', () => resolve(-1));
    req.end(r.body);
  });
}

async function paced(requests: Job['requests'], rate: number) {
  const results: { id: string; sentAt: number; ackMs: number; status: number }[] = [];
  const start = epochMs();
  await Promise.all(
    requests.map(async (r, i) => {
      await new Promise((res) => setTimeout(res, Math.max(0, start + (i * 1000) / rate - epochMs())));
      const sentAt = epochMs();
      const status = await post(r);
      results.push({ id: r.id, sentAt, ackMs: epochMs() - sentAt, status });
    }),
  );
  return results;
}

async function run(requests: Job['requests']) {
  const results: { id: string; sentAt: number; ackMs: number; status: number }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < requests.length) {
        const r = requests[next++]!;
        const sentAt = epochMs();
        const status = await post(r);
        results.push({ id: r.id, sentAt, ackMs: epochMs() - sentAt, status });
      }
    }),
  );
  return results;
}

await run(job.warmup);
if (job.waitForGo) {
  // The bench lets what the warm-up set off finish, then says go (the connections stay open).
  process.stderr.write('WARM\n');
  await new Promise((r) => process.stdin.once('data', r));
}
// Several generators can be told to start together (the modal case runs beside a click load).
if (job.startAtEpochMs) await new Promise((r) => setTimeout(r, Math.max(0, job.startAtEpochMs! - epochMs())));
process.stdout.write(
  JSON.stringify(job.ratePerSecond ? await paced(job.requests, job.ratePerSecond) : await run(job.requests)),
);
