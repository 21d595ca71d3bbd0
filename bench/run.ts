/**
 * `npm run bench [-- --only ack,modal,slash,replicas,reminders,scale,audit]`: Changegate's speed and memory targets,
 * measured on loopback against the database the tests use, with the fake Slack Web API. Results go to
 * bench/results/<time>.json and .md (and latest.json / latest.md).
 *
 *  ack        2,000 signed Approve clicks at concurrency 50 through the real HTTP server: time to
 *             ack and time to done, side by side with a bare Bolt app that only acks. Both first
 *             get --warmup clicks (200) on the same connections; the app's measured clicks start
 *             once the warm-up clicks' decisions are done, so both are measured warm. Then, on a
 *             quiet app, 300 clicks at a steady 5/s: click → thread reply. Peak RSS of the app.
 *  modal      /change → views.open received by the fake Slack, while another click load runs.
 *  slash      /change acks beside a bare Bolt app opening a trivial modal, each with its own fake
 *             Slack process, in interleaved rounds; CPU per command on every side.
 *  replicas   decisions per second with one and with two app replicas on one database.
 *  reminders  10,000 reminders due at once, Slack enforcing its rate limit with 429s.
 *  scale      one database grown to 1k, 10k, 50k, 200k changes: /change-log from the rollups and
 *             the scan they replace, the rebuild, start-up, export and verification at each size.
 *  audit      the verification of a ledger of about 1M events.

 * Diagnostics: BENCH_APP_LOG=info sets the app's log level; BENCH_APP_LOG_DIR=<dir> keeps each app's
 * output and every load generator's raw timings there; CHILD_ELD=<ms> makes the app print its
 * event-loop delay, server-side request times, database calls and how often the Slack sender had
 * nothing queued every <ms>; CHILD_NODE_ARGS adds Node flags (e.g. --cpu-prof --cpu-prof-dir=<dir>).
 * FerretDB's CPU profile: FERRETDB_BIN=<a script running `.cache/bin/ferretdb -pprof-addr
 * 127.0.0.1:6060 "$@"`>, then `curl -o f.prof 'http://127.0.0.1:6060/debug/pprof/profile?seconds=60'`
 * during the case and `go tool pprof -top -cum .cache/bin/ferretdb f.prof`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { checkpointNow } from '../src/application/audit-ledger.js';
import { buildChangeLog } from '../src/application/build-change-log.js';
import { DelegationBook } from '../src/application/delegations.js';
import { PolicyBook } from '../src/application/policy-book.js';
import type { AuditSigner, Deps } from '../src/application/ports.js';
import { rebuildRollups } from '../src/application/rollups.js';
import { verifyAudit } from '../src/application/verify-audit.js';
import { NO_WITNESS, OFFLINE_DIRECTORY, SILENT_NOTIFIER } from '../src/cli/context.js';
import type { LoadedPolicy } from '../src/config/policy.js';
import { eventContentHash, eventSealBytes, GENESIS_HASH, hashEvent } from '../src/domain/audit.js';
import { formatChangeId } from '../src/domain/change.js';
import { ChangeLogAccumulator, type ChangeLogSummary } from '../src/domain/change-log.js';
import { type CheckpointBody, checkpointBytes, entryBytes, type LedgerLeaf } from '../src/domain/ledger.js';
import { applyEvent, submissionDraft } from '../src/domain/lifecycle.js';
import { MerkleFrontier } from '../src/domain/merkle.js';
import { parsePeriod } from '../src/domain/period.js';
import { DAY_MS } from '../src/domain/time.js';
import { signerFrom } from '../src/infra/audit-key.js';
import { MongoBoardStore } from '../src/infra/db/board-store.js';
import {
  CANDIDATE_SETS,
  ChangeRepository,
  candidateFilter,
  projectionFields,
  recorded,
} from '../src/infra/db/change-repository.js';
import { ChangeTodoList, IN_FLIGHT_LIST, MAY_HAVE_WORK } from '../src/infra/db/change-todo.js';
import { MongoDelegationStore } from '../src/infra/db/delegation-store.js';
import { MongoEffectsOutbox } from '../src/infra/db/effects-outbox.js';
import { MongoGithubLinks, MongoGithubUsers } from '../src/infra/db/github-links.js';
import { MongoLedgerStore } from '../src/infra/db/ledger-store.js';
import { createModels, ensureIndexes, eventId, ledgerId, type Models } from '../src/infra/db/models.js';
import { MongoPolicyStore } from '../src/infra/db/policy-store.js';
import { MongoRollupStore } from '../src/infra/db/rollup-store.js';
import { MongoTokenStore } from '../src/infra/db/token-store.js';
import { createLogger } from '../src/infra/logger.js';
import { type ChildApp, startChildApp } from '../test/support/child.js';
import { TestClock } from '../test/support/clock.js';
import { acquireDatabase } from '../test/support/database.js';
import { request } from '../test/support/domain-fixtures.js';
import type { FakeSlack } from '../test/support/fake-slack/server.js';
import { AUDIT_KEY, childAppEnv, cliEnv, SIGNING_SECRET, startFakeSlack } from '../test/support/harness.js';
import { testPolicy } from '../test/support/harness-policy.js';
import { AUDITOR, CAROL } from '../test/support/people.js';
import { SlackRequests } from '../test/support/slack-requests.js';
import { seedHistory } from './seed-history.js';

const ROOT = resolve(import.meta.dirname, '..');
const BENCH_DATA_DIR = resolve(ROOT, '.cache/bench-ferretdb');
const { values: opts } = parseArgs({
  options: {
    only: { type: 'string', default: 'ack,modal,slash,replicas,reminders,scale,audit' },
    clicks: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '50' },
    modals: { type: 'string', default: '1000' },
    'modal-background': { type: 'string', default: '1000' },
    reminders: { type: 'string', default: '10000' },
    'reminder-rate': { type: 'string', default: '100' },
    sizes: { type: 'string', default: '1000,10000,50000,200000' },
    months: { type: 'string', default: '13' },
    'verify-max': { type: 'string', default: '50000' },
    'export-max': { type: 'string', default: '200000' },
    'slash-rounds': { type: 'string', default: '7' },
    'paced-clicks': { type: 'string', default: '300' },
    'paced-rate': { type: 'string', default: '5' },
    'replica-clicks': { type: 'string', default: '1000' },
    'slash-commands': { type: 'string', default: '300' },
    'audit-events': { type: 'string', default: '1000000' },
  },
});
const only = new Set(opts.only.split(','));
const policy = testPolicy();
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

// ---------------------------------------------------------------------------------------------

interface Dist {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function dist(samples: number[]): Dist {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? Number.NaN;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: s.length, p50: r(at(0.5)), p95: r(at(0.95)), p99: r(at(0.99)), max: r(s.at(-1) ?? Number.NaN) };
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** CPU seconds of a process and all its descendants (the database runs under a guard shell). */
function treeCpuSeconds(pid: number): number {
  let children: number[] = [];
  try {
    children = readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    // gone
  }
  return cpuSeconds(pid) + children.reduce((t, c) => t + treeCpuSeconds(c), 0);
}

function peakRssMb(pid: number): { peakMb: number; currentMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 'NaN');
  return { peakMb: Math.round(kb('VmHWM') / 1024), currentMb: Math.round(kb('VmRSS') / 1024) };
}

async function connect(
  uri: string,
  dbName: string,
): Promise<{ models: Models; close(): Promise<void>; drop(): Promise<void> }> {
  const conn = await mongoose.createConnection(uri, { autoIndex: false }).asPromise();
  const db = conn.useDb(dbName, { useCache: true });
  const models = createModels(db);
  await ensureIndexes(Object.values(models));
  const drop = async () => {
    await db.dropDatabase();
    // FerretDB's SQLite backend leaves a dropped database's -wal and -shm files behind.
    const files = existsSync(BENCH_DATA_DIR) ? readdirSync(BENCH_DATA_DIR) : [];
    for (const f of files.filter((x) => x.startsWith(`${dbName}.sqlite`)))
      rmSync(resolve(BENCH_DATA_DIR, f), { force: true });
  };
  return { models, close: () => conn.close(), drop };
}

/** The test audit key, as the child apps hold it: bench histories are written sealed and ledgered. */
const benchSigner = signerFrom(AUDIT_KEY);

/**
 * Pending normal changes at peer review, their root messages already in the fake's channel, their
 * events sealed and ledgered as the app writes them (so the app finds nothing to migrate).
 */
async function insertPending(
  models: Models,
  fake: FakeSlack,
  count: number,
  opts: { reviewers?: (i: number) => string[]; submittedAt: Date; firstNumber?: number },
) {
  const first = opts.firstNumber ?? 1;
  for (let offset = 0; offset < count; offset += 1000) {
    const events = [];
    const docs = [];
    for (let i = offset; i < Math.min(count, offset + 1000); i++) {
      const n = first + i;
      const req = request({ title: `Bench change ${n}`, suggestedReviewers: opts.reviewers?.(i) ?? [] });
      const draft = submissionDraft(policy.policy, req, 'slack');
      const base = {
        changeNumber: n,
        seq: 1,
        slot: 'submitted',
        type: draft.type,
        actor: 'U0123ALICE',
        at: opts.submittedAt,
        policyHash: policy.hash,
        data: draft.data,
      };
      const hash = hashEvent(GENESIS_HASH, base);
      const seal = { keyId: benchSigner.keyId, sig: benchSigner.sign(eventSealBytes({ ...base, hash })) };
      const e = { _id: eventId(n, 1), ...base, prevHash: GENESIS_HASH, hash, seal };
      const state = applyEvent(null, e as Parameters<typeof applyEvent>[1]);
      const root = fake.injectMessage('C0123CHG01', `${formatChangeId(n)}: Bench change ${n}`);
      events.push(e);
      docs.push({
        _id: formatChangeId(n),
        originChannel: null,
        slack: { ...root, permalink: null },
        ...projectionFields(state, { seq: 1, hash }, opts.reviewers?.(i) ?? []),
      });
    }
    const entries = events.map((e) => {
      const leaf: LedgerLeaf = {
        index: e.changeNumber - first,
        changeNumber: e.changeNumber,
        seq: 1,
        eventHash: e.hash,
        contentHash: eventContentHash(e),
      };
      return {
        _id: ledgerId(leaf.index),
        ...leaf,
        keyId: benchSigner.keyId,
        sig: benchSigner.sign(entryBytes(leaf)),
      };
    });
    await models.ChangeEvent.insertMany(events, { ordered: false });
    await models.AuditEntry.insertMany(entries, { ordered: false });
    await models.Change.insertMany(docs, { ordered: false });
  }
  await recordMigrationsDone(models, opts.submittedAt);
}

/**
 * A history written as the app writes it (sealed, ledgered) is one its one-time migrations have
 * nothing to do on: recorded as done, as the app's own first start would have, so that a case does
 * not measure an upgrade's one-off pass over the whole history (20,000 reads at 10,000 changes).
 */
async function recordMigrationsDone(models: Models, at: Date) {
  await new MongoLedgerStore(
    models,
    benchSigner,
    createLogger({ level: 'error', format: 'pretty' }),
  ).recordMigration({ at, events: 0 });
  await models.Setting.updateOne(
    { _id: 'migration:unannounced' },
    { $set: { value: 'done', at } },
    { upsert: true },
  );
}

function childEnv(
  fake: FakeSlack,
  mongoUri: string,
  dbName: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return childAppEnv(
    { apiUrl: fake.apiUrl, mongoUri, dbName },
    { LOG_LEVEL: process.env.BENCH_APP_LOG ?? 'error', ...extra },
  );
}

async function withTimeout<T>(name: string, ms: number, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      run(),
      new Promise<never>(
        (_, rej) => (timer = setTimeout(() => rej(new Error(`${name}: timed out after ${ms / 1000} s`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// 1 + 5: acknowledgement under load (with the bare Bolt baseline) and peak RSS

/** Sends pre-signed requests from the separate load-generator process (bench/load.ts). */
type Signed = { id: string; body: string; headers: Record<string, string> };

async function load(
  url: string,
  concurrency: number,
  requests: Signed[],
  warmup: Signed[] = [],
  startAtEpochMs?: number,
  /** Between the warm-up and the measured requests: wait for what the warm-up set off to finish. */
  settle?: () => Promise<void>,
  ratePerSecond?: number,
) {
  const dir = mkdtempSync(resolve(tmpdir(), 'changegate-load-'));
  const file = resolve(dir, 'job.json');
  const waitForGo = Boolean(settle);
  writeFileSync(
    file,
    JSON.stringify({ url, concurrency, requests, warmup, startAtEpochMs, waitForGo, ratePerSecond }),
  );
  const out = await new Promise<string>((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'bench/load.ts'), file], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const lines = d.toString();
      if (!lines.includes('WARM\n')) return void process.stderr.write(lines);
      void settle!().then(() => child.stdin.end('GO\n'), rej);
    });
    child.once('exit', (code) =>
      code === 0 ? res(text) : rej(new Error(`load generator exited with ${code}`)),
    );
  });
  rmSync(dir, { recursive: true, force: true });
  keepForStudy(`load-${Date.now()}.json`, out);
  return JSON.parse(out) as { id: string; sentAt: number; ackMs: number; status: number }[];
}

async function clickLoad(
  slack: SlackRequests,
  url: string,
  numbers: number[],
  concurrency: number,
  rootOf: (n: number) => { channel: string; ts: string },
  options: {
    warmup?: number[];
    startAtEpochMs?: number;
    settle?: () => Promise<void>;
    ratePerSecond?: number;
  } = {},
) {
  const build = (n: number, i: number) => ({
    id: String(n),
    ...slack.buildClick('change_approve', `${n}:0`, {
      user: `U0BENCH${String(i).padStart(5, '0')}`,
      message: rootOf(n),
    }),
  });
  const warmup = options.warmup ?? [];
  const results = await load(
    `${url}/slack/events`,
    concurrency,
    numbers.map(build),
    warmup.map((n, i) => build(n, i + numbers.length)),
    options.startAtEpochMs,
    options.settle,
    options.ratePerSecond,
  );
  return {
    sent: new Map(results.map((r) => [Number(r.id), r.sentAt])),
    ack: results.map((r) => r.ackMs),
    /** The slowest ack in each tenth of the run (by send time): where the tail comes from. */
    maxAckByTenth: byTenth(results),
    non200: results.filter((r) => r.status !== 200).length,
  };
}

function byTenth(results: { sentAt: number; ackMs: number }[]): number[] {
  const sorted = [...results].sort((a, b) => a.sentAt - b.sentAt);
  const size = Math.ceil(sorted.length / 10);
  return Array.from({ length: 10 }, (_, i) =>
    Math.round(Math.max(0, ...sorted.slice(i * size, (i + 1) * size).map((r) => r.ackMs))),
  );
}

/** BENCH_APP_LOG_DIR=<dir> keeps app output (logs, --trace-gc lines) and raw load timings for study. */
function keepForStudy(file: string, text: string) {
  const dir = process.env.BENCH_APP_LOG_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, file), text);
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/**
 * When each change's first thread reply (its decision's) reached Slack, looking at calls from
 * `fromCall` on; waits until every change has one or `timeoutMs` has passed. New calls are scanned
 * once each, so that this never starves the fake Slack, which shares this process.
 */
async function awaitReplies(
  fake: FakeSlack,
  numbers: number[],
  rootOf: (n: number) => { channel: string; ts: string },
  fromCall: number,
  timeoutMs = 300_000,
): Promise<Map<number, number>> {
  const byRootTs = new Map(numbers.map((n) => [rootOf(n).ts, n]));
  const firstReply = new Map<number, number>();
  let scanned = fromCall;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (; scanned < fake.calls.length; scanned++) {
      const c = fake.calls[scanned]!;
      if (c.method !== 'chat.postMessage' || c.response.ok !== true) continue;
      const n = byRootTs.get(String(c.args.thread_ts));
      if (n !== undefined && !firstReply.has(n)) firstReply.set(n, c.receivedAt!);
    }
    if (firstReply.size === numbers.length || Date.now() > deadline) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  return firstReply;
}

/** Time from each click's send to its decision's thread reply reaching Slack. */
async function timeToReply(
  fake: FakeSlack,
  numbers: number[],
  rootOf: (n: number) => { channel: string; ts: string },
  sent: Map<number, number>,
  fromCall: number,
): Promise<number[]> {
  const replies = await awaitReplies(fake, numbers, rootOf, fromCall);
  return [...replies].map(([n, at]) => at - sent.get(n)!);
}

/**
 * Cases 1, 2 and 5 share one app process: the measured click load (with its bare Bolt baseline),
 * then /change commands sent while a second click load runs, with peak RSS read at the end.
 */
async function benchInteractive(db: { uri: string }, fake: FakeSlack) {
  const clicks = Number(opts.clicks);
  const concurrency = Number(opts.concurrency);
  const modals = only.has('modal') ? Number(opts.modals) : 0;
  const background = modals > 0 ? Number(opts['modal-background']) : 0;
  const paced = Number(opts['paced-clicks']);
  const warmup = Number(opts.warmup);
  const dbName = `bench_ack_${Date.now()}`;
  const { models, close, drop } = await connect(db.uri, dbName);
  // A fixed working-day clock outside any freeze, so the clicks approve.
  const now = new Date('2026-03-10T17:00:00Z');
  const total = clicks + warmup + background + paced;
  log(`ack: inserting ${total} changes waiting for review`);
  await insertPending(models, fake, total, {
    submittedAt: new Date(now.getTime() - 3_600_000),
  });
  const roots = new Map(
    fake
      .posts('C0123CHG01')
      .map((m) => [Number(/CR-(\d+)/.exec(m.text)?.[1]), { channel: m.channel, ts: m.ts }]),
  );
  const rootOf = (n: number) => roots.get(n)!;
  // Each click comes from its own engineer of the workspace (clickLoad names them U0BENCH…): only
  // people Slack knows as active members may approve.
  for (let i = 0; i < total; i++) fake.addUser(`U0BENCH${String(i).padStart(5, '0')}`);
  const measured = range(1, clicks);
  const warm = range(clicks + 1, warmup);
  const backgroundNumbers = range(clicks + warmup + 1, background);
  const pacedNumbers = range(clicks + warmup + background + 1, paced);

  const app: ChildApp = await startChildApp(
    childEnv(fake, db.uri, dbName, {
      TEST_NOW: now.toISOString(),
      CHILD_OPTIONS: JSON.stringify({ slack: { rateScale: 1000 }, scheduler: { enabled: false } }),
    }),
    CHILD_APP,
  );
  const appUrl = `http://127.0.0.1:${app.port}`;
  const appSlack = new SlackRequests(appUrl, SIGNING_SECRET, fake);
  try {
    const before = peakRssMb(app.process.pid!);
    log(
      `ack: ${clicks} clicks at concurrency ${concurrency} (after ${warmup} warm-up clicks on the same connections, and their decisions)`,
    );
    const started = performance.now();
    const cpuBefore = cpuSeconds(app.process.pid!);
    const callsBefore = fake.calls.length;
    // The warm-up clicks open the connections and warm both paths, the ack and the decision after
    // it; measuring starts once their decisions are done (the bare baseline has nothing to wait for).
    const warmRoots = new Set(warm.map((n) => rootOf(n).ts));
    const settle = async () => {
      const until = Date.now() + 60_000;
      const replied = () =>
        new Set(
          fake.calls
            .filter((c) => c.method === 'chat.postMessage' && warmRoots.has(String(c.args.thread_ts)))
            .map((c) => String(c.args.thread_ts)),
        ).size;
      while (replied() < warmRoots.size && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      // …and the start-up's once-a-day audit verification, so the clicks measure the steady state.
      const verified = () => models.Delivery.exists({ _id: { $regex: '^audit-verify:' }, state: 'sent' });
      while (!(await verified()) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    };
    const run = await clickLoad(appSlack, appUrl, measured, concurrency, rootOf, { warmup: warm, settle });
    const done = await timeToReply(fake, measured, rootOf, run.sent, callsBefore);
    const wall = (performance.now() - started) / 1000;
    const appCpuMsPerClick =
      Math.round((((cpuSeconds(app.process.pid!) - cpuBefore) * 1000) / (clicks + warmup)) * 10) / 10;
    const decisions = await models.ChangeEvent.countDocuments({
      type: 'stage_approved',
      changeNumber: { $lte: clicks },
    });

    log('ack: bare Bolt baseline, same load');
    const bare = await startChildApp({ SLACK_SIGNING_SECRET: SIGNING_SECRET }, BARE_BOLT);
    const bareUrl = `http://127.0.0.1:${bare.port}`;
    const bareSlack = new SlackRequests(bareUrl, SIGNING_SECRET, fake);
    const baseline = await clickLoad(bareSlack, bareUrl, measured, concurrency, rootOf, {
      warmup: warm,
      settle: async () => {},
    });
    await bare.kill('SIGTERM');

    const modal = modals > 0 ? await benchModal(app, fake, appSlack, rootOf, backgroundNumbers) : null;
    // Decisions at a human pace: clicks at a steady rate (open loop), click → thread reply.
    let pace: Record<string, unknown> | null = null;
    if (paced > 0) {
      const rate = Number(opts['paced-rate']);
      // On a quiet app: every decision the earlier cases set off has replied, and 2 s more.
      const earlier = [...measured, ...backgroundNumbers];
      const quiet = await awaitReplies(fake, earlier, rootOf, 0, 120_000);
      log(
        `pace: ${paced} Approve clicks at ${rate} per second (${quiet.size}/${earlier.length} earlier decisions replied before)`,
      );
      await new Promise((r) => setTimeout(r, 2000));
      const from = fake.calls.length;
      const p = await clickLoad(appSlack, appUrl, pacedNumbers, 50, rootOf, { ratePerSecond: rate });
      const replies = await timeToReply(fake, pacedNumbers, rootOf, p.sent, from);
      pace = {
        clicks: paced,
        perSecond: rate,
        non200: p.non200,
        timeToAckMs: dist(p.ack),
        timeToReplyMs: dist(replies),
        replies: replies.length,
        target: 'click → thread reply p99 under 500 ms',
      };
    }
    const memory = peakRssMb(app.process.pid!);

    const ackDist = dist(run.ack);
    const bareDist = dist(baseline.ack);
    return {
      ack: {
        clicks,
        concurrency,
        warmupClicks: warmup,
        non200: run.non200,
        decisionsRecorded: decisions,
        threadReplies: done.length,
        wallSeconds: Math.round(wall * 10) / 10,
        appCpuMsPerClick,
        timeToAckMs: ackDist,
        timeToDoneMs: dist(done),
        bareBoltTimeToAckMs: bareDist,
        maxAckMsByTenthOfRun: run.maxAckByTenth,
        bareMaxAckMsByTenthOfRun: baseline.maxAckByTenth,
        p99AckRatio: Math.round((ackDist.p99 / bareDist.p99) * 100) / 100,
        target: 'p99 ack within 1.5× the bare Bolt app',
      },
      modal,
      pace,
      memory: {
        peakRssMb: memory.peakMb,
        rssBeforeLoadMb: before.currentMb,
        rssAfterMb: memory.currentMb,
        target: 'peak RSS under 250 MB during benchmark 1',
      },
    };
  } finally {
    await app.kill('SIGTERM');
    keepForStudy('interactive.log', app.output());
    await drop();
    await close();
  }
}

// ---------------------------------------------------------------------------------------------
// 2: modal opening under load

async function benchModal(
  app: ChildApp,
  fake: FakeSlack,
  slack: SlackRequests,
  rootOf: (n: number) => { channel: string; ts: string },
  backgroundNumbers: number[],
) {
  const count = Number(opts.modals);
  const modalConcurrency = 10;
  const backgroundConcurrency = 40;
  const url = `http://127.0.0.1:${app.port}`;
  const before = fake.calls.length;
  // Requests are signed ahead of the run; latency is measured from the send, so the fake's 3-second
  // trigger clock (which starts at signing here) is lengthened for this case.
  fake.triggerLifetimeMs = 600_000;
  log(
    `modal: ${count} /change commands at concurrency ${modalConcurrency} beside ${backgroundNumbers.length} Approve clicks at concurrency ${backgroundConcurrency}`,
  );
  const requests = Array.from({ length: count }, (_, i) => {
    const fields = slack.commandFields('/change', '', { user: `U0MODAL${String(i).padStart(5, '0')}` });
    return { id: fields.trigger_id, ...slack.buildForm(fields) };
  });
  const startAtEpochMs = Date.now() + 3000; // both generators have started and warmed up by then
  const [results, backgroundRun] = await Promise.all([
    load(`${url}/slack/events`, modalConcurrency, requests, [], startAtEpochMs + 500),
    clickLoad(slack, url, backgroundNumbers, backgroundConcurrency, rootOf, { startAtEpochMs }),
  ]);
  await new Promise((r) => setTimeout(r, 1000));
  fake.triggerLifetimeMs = 3000;
  const sentAt = new Map(results.map((r) => [r.id, r.sentAt]));
  const opens = fake.calls.slice(before).filter((c) => c.method === 'views.open');
  const latencies = opens
    .filter((c) => c.response.ok)
    .map((c) => c.receivedAt! - sentAt.get(String(c.args.trigger_id))!);
  const lastModal = Math.max(...results.map((r) => r.sentAt + r.ackMs));
  const lastClick = Math.max(...[...backgroundRun.sent.values()]);
  return {
    commands: count,
    concurrency: modalConcurrency,
    backgroundClicks: backgroundNumbers.length,
    backgroundConcurrency,
    backgroundStillSendingAfterLastModal: lastClick > lastModal,
    backgroundTimeToAckMs: dist(backgroundRun.ack),
    opened: latencies.length,
    failed: opens.filter((c) => !c.response.ok).length,
    missing: count - opens.length,
    toViewsOpenMs: dist(latencies),
    targetMs: 300,
    target: 'p99 under 10% of the 3-second trigger lifetime (300 ms)',
  };
}

// ---------------------------------------------------------------------------------------------
// slash: /change (ack, then views.open) beside a bare Bolt app doing the same with a trivial modal

/**
 * A fake Slack in its own process (bench/fake-slack-proc.ts) that accepts the given trigger ids. It
 * runs at a lower priority, as FerretDB does: it stands for Slack's servers, whose work (reading and
 * checking each view, keeping it) happens on Slack's hosts in a deployment, not on the app's.
 */
async function fakeSlackProcess(triggers: string[]) {
  const dir = mkdtempSync(resolve(tmpdir(), 'changegate-fake-'));
  writeFileSync(resolve(dir, 'triggers.json'), JSON.stringify(triggers));
  const child = spawn('nice', ['-n', '10', process.execPath, FAKE_SLACK, resolve(dir, 'triggers.json')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const apiUrl = await new Promise<string>((res, rej) => {
    const timer = setInterval(() => {
      const m = /READY (\S+)/.exec(out);
      if (m) {
        clearInterval(timer);
        res(m[1]!);
      }
    }, 20);
    child.once('exit', (code) => rej(new Error(`fake Slack exited (${code})`)));
  });
  return {
    apiUrl,
    /** CPU seconds the fake Slack has used so far (nice execs node: same process). */
    cpu: () => cpuSeconds(child.pid!),
    async stop(): Promise<{ opened: number; failed: number }> {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
      const last = out.trim().split('\n').at(-1) ?? '{}';
      return JSON.parse(last) as { opened: number; failed: number };
    },
  };
}

/**
 * `/change` at concurrency 25 through the app and through a bare Bolt app that acks and opens a
 * trivial modal, each with its own fake Slack in its own process, in interleaved rounds (the order
 * alternates). Reported: time to ack for both, the p50 and p99 ratios overall and per round, and the
 * app's CPU per command.
 */
async function benchSlash(db: { uri: string }, fake: FakeSlack) {
  const rounds = Number(opts['slash-rounds']);
  const perRound = Number(opts['slash-commands']);
  const concurrency = 25;
  const warmup = 200;
  const build = (slack: SlackRequests, n: number) =>
    Array.from({ length: n }, () => {
      const fields = slack.commandFields('/change', '', { user: 'U0123ALICE' });
      return { id: fields.trigger_id, ...slack.buildForm(fields) };
    });
  const dbName = `bench_slash_${Date.now()}`;
  const { close, drop } = await connect(db.uri, dbName);
  // Requests are signed up front for both servers (the signature covers no URL).
  const signer = new SlackRequests('http://unused', SIGNING_SECRET, fake);
  const appWarm = build(signer, warmup);
  const bareWarm = build(signer, warmup);
  const appRounds = Array.from({ length: rounds }, () => build(signer, perRound));
  const bareRounds = Array.from({ length: rounds }, () => build(signer, perRound));
  const appFake = await fakeSlackProcess([...appWarm, ...appRounds.flat()].map((r) => r.id));
  const bareFake = await fakeSlackProcess([...bareWarm, ...bareRounds.flat()].map((r) => r.id));
  const app = await startChildApp(
    childEnv({ apiUrl: appFake.apiUrl } as FakeSlack, db.uri, dbName, {
      CHILD_OPTIONS: JSON.stringify({ scheduler: { enabled: false } }),
    }),
    CHILD_APP,
  );
  const bare = await startChildApp(
    { SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: bareFake.apiUrl },
    BARE_BOLT,
  );
  const appUrl = `http://127.0.0.1:${app.port}/slack/events`;
  const bareUrl = `http://127.0.0.1:${bare.port}/slack/events`;
  try {
    log(`slash: ${rounds} interleaved rounds of ${perRound} /change at concurrency ${concurrency}`);
    await load(appUrl, concurrency, [], appWarm);
    await load(bareUrl, concurrency, [], bareWarm);
    const appAcks: number[] = [];
    const bareAcks: number[] = [];
    const perRoundRatios: { p50: number; p99: number }[] = [];
    // CPU seconds of each server and of its fake Slack over its measured rounds.
    const sides = {
      app: { url: appUrl, pid: app.process.pid!, fake: appFake, rounds: appRounds, cpu: 0, slackCpu: 0 },
      bare: { url: bareUrl, pid: bare.process.pid!, fake: bareFake, rounds: bareRounds, cpu: 0, slackCpu: 0 },
    };
    for (let r = 0; r < rounds; r++) {
      const measure = async (side: (typeof sides)['app']) => {
        const c = cpuSeconds(side.pid);
        const s = side.fake.cpu();
        const res = await load(side.url, concurrency, side.rounds[r]!);
        side.cpu += cpuSeconds(side.pid) - c;
        side.slackCpu += side.fake.cpu() - s;
        return res.map((x) => x.ackMs);
      };
      const runApp = () => measure(sides.app);
      const runBare = () => measure(sides.bare);
      // The order alternates, so neither server always runs on a machine the other just warmed.
      let a: number[];
      let b: number[];
      if (r % 2 === 0) {
        a = await runApp();
        b = await runBare();
      } else {
        b = await runBare();
        a = await runApp();
      }
      appAcks.push(...a);
      bareAcks.push(...b);
      const da = dist(a);
      const db2 = dist(b);
      perRoundRatios.push({
        p50: Math.round((da.p50 / db2.p50) * 100) / 100,
        p99: Math.round((da.p99 / db2.p99) * 100) / 100,
      });
    }
    await new Promise((r) => setTimeout(r, 1000));
    const perCommand = (cpu: number) => Math.round(((cpu * 1000) / (rounds * perRound)) * 100) / 100;
    const appDist = dist(appAcks);
    const bareDist = dist(bareAcks);
    return {
      rounds,
      commandsPerRound: perRound,
      concurrency,
      timeToAckMs: appDist,
      bareBoltTimeToAckMs: bareDist,
      p50Ratio: Math.round((appDist.p50 / bareDist.p50) * 100) / 100,
      p99Ratio: Math.round((appDist.p99 / bareDist.p99) * 100) / 100,
      perRoundRatios,
      appCpuMsPerCommand: perCommand(sides.app.cpu),
      bareCpuMsPerCommand: perCommand(sides.bare.cpu),
      // CPU of each side's fake Slack during its rounds (the views it reads, checks and keeps).
      appSlackCpuMsPerCommand: perCommand(sides.app.slackCpu),
      bareSlackCpuMsPerCommand: perCommand(sides.bare.slackCpu),
      target: 'p99 ack within 1.2× the bare Bolt app',
      appViews: await appFake.stop(),
      bareViews: await bareFake.stop(),
    };
  } finally {
    await app.kill('SIGTERM');
    await bare.kill('SIGTERM');
    keepForStudy('slash.log', app.output());
    await drop();
    await close();
  }
}

/**
 * Decisions per second with one and with two app replicas on one database: the same number of
 * Approve clicks (concurrency 50 in all, split evenly across the replicas) on changes waiting for
 * review, from the first click sent to the last decision's thread reply. Each replica first gets
 * warm-up clicks and their decisions; then the database holds exactly one decision per click.
 */
async function benchReplicas(db: { uri: string }, fake: FakeSlack) {
  const clicks = Number(opts['replica-clicks']);
  const warmup = 100;
  const concurrency = 50;
  const dbName = `bench_replicas_${Date.now()}`;
  const { models, close, drop } = await connect(db.uri, dbName);
  const now = new Date('2026-03-10T17:00:00Z');
  const total = 2 * clicks + 3 * warmup;
  log(`replicas: inserting ${total} changes waiting for review`);
  await insertPending(models, fake, total, { submittedAt: new Date(now.getTime() - 3_600_000) });
  const roots = new Map(
    fake
      .posts('C0123CHG01')
      .map((m) => [Number(/CR-(\d+)/.exec(m.text)?.[1]), { channel: m.channel, ts: m.ts }]),
  );
  const rootOf = (n: number) => roots.get(n)!;
  for (let i = 0; i < total; i++) fake.addUser(`U0BENCH${String(i).padStart(5, '0')}`);
  let next = 1;
  const take = (count: number) => {
    const numbers = range(next, count);
    next += count;
    return numbers;
  };
  const runs: Record<string, unknown>[] = [];
  try {
    for (const replicas of [1, 2]) {
      const apps = await Promise.all(
        range(0, replicas).map(() =>
          startChildApp(
            childEnv(fake, db.uri, dbName, {
              TEST_NOW: now.toISOString(),
              CHILD_OPTIONS: JSON.stringify({ slack: { rateScale: 1000 }, scheduler: { enabled: false } }),
            }),
            CHILD_APP,
          ),
        ),
      );
      try {
        const targets = apps.map((app) => {
          const url = `http://127.0.0.1:${app.port}`;
          return { app, url, slack: new SlackRequests(url, SIGNING_SECRET, fake) };
        });
        // Warm-up: each replica decides its own clicks, and the start-up's work is done.
        const warmFrom = fake.calls.length;
        const warm = targets.map(() => take(warmup));
        await Promise.all(
          targets.map((t, i) => clickLoad(t.slack, t.url, warm[i]!, concurrency / replicas, rootOf)),
        );
        await awaitReplies(fake, warm.flat(), rootOf, warmFrom, 120_000);
        await new Promise((r) => setTimeout(r, 3000));

        log(`replicas: ${clicks} clicks across ${replicas} replica(s) at concurrency ${concurrency}`);
        const numbers = take(clicks);
        const parts = targets.map((_, i) => numbers.filter((_, j) => j % replicas === i));
        const from = fake.calls.length;
        const cpuBefore = apps.map((a) => cpuSeconds(a.process.pid!));
        const loads = await Promise.all(
          targets.map((t, i) => clickLoad(t.slack, t.url, parts[i]!, concurrency / replicas, rootOf)),
        );
        const replies = await awaitReplies(fake, numbers, rootOf, from);
        const sent = new Map(loads.flatMap((l) => [...l.sent]));
        const firstSent = Math.min(...sent.values());
        const lastReply = Math.max(...replies.values());
        const decided = await models.ChangeEvent.countDocuments({
          type: 'stage_approved',
          changeNumber: { $gte: numbers[0]!, $lte: numbers.at(-1)! },
        });
        const seconds = (lastReply - firstSent) / 1000;
        runs.push({
          replicas,
          clicks,
          non200: loads.reduce((n, l) => n + l.non200, 0),
          decisionsRecorded: decided,
          threadReplies: replies.size,
          seconds: Math.round(seconds * 10) / 10,
          decisionsPerSecond: Math.round((replies.size / seconds) * 10) / 10,
          timeToAckMs: dist(loads.flatMap((l) => l.ack)),
          timeToReplyMs: dist([...replies].map(([n, at]) => at - sent.get(n)!)),
          appCpuSeconds: apps.map(
            (a, i) => Math.round((cpuSeconds(a.process.pid!) - cpuBefore[i]!) * 10) / 10,
          ),
        });
      } finally {
        await Promise.all(apps.map((a) => a.kill('SIGTERM')));
      }
    }
    return { runs, note: 'both replicas share this machine’s two cores with the database and the load' };
  } finally {
    await drop();
    await close();
  }
}

// ---------------------------------------------------------------------------------------------
// 3: reminder fan-out against Slack's rate limit

async function benchReminders(db: { uri: string }, fake: FakeSlack, dbPid: number | null) {
  const count = Number(opts.reminders);
  const rate = Number(opts['reminder-rate']); // messages per second Slack allows here
  const reviewers = Array.from({ length: 200 }, (_, i) => `U0REV${String(i).padStart(5, '0')}`);
  for (const r of reviewers) fake.addUser(r, { tz: 'UTC' });
  const dbName = `bench_rem_${Date.now()}`;
  const { models, close, drop } = await connect(db.uri, dbName);
  const now = new Date('2026-03-10T12:00:00Z'); // a Tuesday noon, UTC: inside everyone's working hours
  log(`reminders: inserting ${count} changes waiting for review`);
  await insertPending(models, fake, count, {
    submittedAt: new Date(now.getTime() - 1.5 * DAY_MS),
    reviewers: (i) => [reviewers[i % reviewers.length]!],
    firstNumber: 1,
  });
  fake.clear();
  fake.setRateLimit('chat.postMessage', rate, 1000, 1);
  const app = await startChildApp(
    childEnv(fake, db.uri, dbName, {
      TEST_NOW: now.toISOString(),
      TEST_REMINDER_CONCURRENCY: 'app-default',
      CHILD_OPTIONS: JSON.stringify({
        slack: {
          rateScale: 1,
          // The sender is told Slack's limit: a bucket of 3 refilled at (rate - 3)/s never exceeds
          // `rate` in any second, and absorbs short stalls instead of losing their tokens.
          limits: {
            'chat.postMessage': { perMinute: (rate - 3) * 60, burst: 3, perChannelPerSecond: 50 },
            'users.info': { perMinute: 60_000, burst: 100 },
            'usergroups.users.list': { perMinute: 60_000, burst: 100 },
          },
        },
        // The production cadence and sizing: the scheduler polls every 30 s (CHANGEGATE_JOB_INTERVAL's
        // default; polling every 200 ms, 150 times as often, cost FerretDB a fifth of its CPU in
        // Agenda's findAndModify calls, profiled), the sweeps run each minute.
        scheduler: { enabled: true, processEvery: '30 seconds' },
        reminders: { interval: '1 minute', leaseMs: 300_000 },
      }),
    }),
    CHILD_APP,
  );
  try {
    log(`reminders: waiting for ${count} DMs at ${rate}/s`);
    const deadline = Date.now() + Math.max(600_000, (count / rate) * 3000);
    // The reminders are the DMs to the reviewers; the app posts other messages meanwhile (the audit
    // checkpoint at start), which are neither counted nor timed.
    const reviewerSet = new Set(reviewers);
    const posted = () =>
      fake.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 200 && c.response.ok);
    const delivered = () => posted().filter((c) => reviewerSet.has(String(c.args.channel)));
    // Where the CPU goes while the reminders go out: the app, the database, this process (the fake
    // Slack and the polling), from the first delivery to the last.
    const cpu = () => ({
      app: treeCpuSeconds(app.process.pid!),
      database: dbPid ? treeCpuSeconds(dbPid) : Number.NaN,
      bench: process.cpuUsage(),
    });
    let cpuAtFirst: ReturnType<typeof cpu> | null = null;
    let cpuAtLast: ReturnType<typeof cpu> | null = null;
    for (let n = 0; n < count && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 500));
      const now = delivered().length;
      if (now > 0 && !cpuAtFirst) cpuAtFirst = cpu();
      if (now > n || !cpuAtLast) cpuAtLast = cpu();
      n = now;
    }
    await new Promise((r) => setTimeout(r, 5000)); // later sweeps must add nothing
    const ok = delivered();
    const others = posted().filter((c) => !reviewerSet.has(String(c.args.channel)));
    const perPair = new Map<string, number>();
    for (const c of ok) {
      const key = `${String(c.args.channel)}:${/CR-(\d+)/.exec(String(c.args.text))?.[1]}`;
      perPair.set(key, (perPair.get(key) ?? 0) + 1);
    }
    const first = Math.min(...ok.map((c) => c.receivedAt!));
    const last = Math.max(...ok.map((c) => c.receivedAt!));
    const seconds = (last - first) / 1000;
    const allowed = (ok.length - 1) / rate;
    // Where the time above the rate limit went: each tenth of the deliveries should take 1/10 of it.
    const times = ok.map((c) => c.receivedAt!).sort((a, b) => a - b);
    const at = (fraction: number) => times[Math.floor(fraction * (times.length - 1))]!;
    const perTenth = Array.from(
      { length: 10 },
      (_, k) => Math.round((at((k + 1) / 10) - at(k / 10)) / 100) / 10,
    );
    // The longest pauses between two deliveries (the sender's pace leaves about 10 ms): when they
    // came, in seconds after the first delivery, and how long they lasted.
    const pauses = times
      .slice(1)
      .map((t, k) => ({ atSecond: Math.round((times[k]! - first) / 100) / 10, ms: t - times[k]! }))
      .filter((p) => p.ms >= 100)
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 12);
    return {
      reminders: count,
      slackLimitPerSecond: rate,
      delivered: ok.length,
      duplicates: [...perPair.values()].filter((v) => v > 1).length,
      distinct: perPair.size,
      http429: fake.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 429).length,
      otherMessages: others.map((c) => ({
        channel: String(c.args.channel),
        text: String(c.args.text ?? '').slice(0, 400),
        secondsBeforeFirstReminder:
          Math.round((Math.min(...ok.map((o) => o.receivedAt!)) - c.receivedAt!) / 100) / 10,
      })),
      seconds: Math.round(seconds * 10) / 10,
      rateLimitAllowsSeconds: Math.round(allowed * 10) / 10,
      overheadPercent: Math.round(((seconds - allowed) / allowed) * 1000) / 10,
      secondsByTenthOfDeliveries: perTenth,
      longestPauses: pauses,
      cpuSecondsWhileDelivering:
        cpuAtFirst && cpuAtLast
          ? {
              app: round2(cpuAtLast.app - cpuAtFirst.app),
              database: round2(cpuAtLast.database - cpuAtFirst.database),
              benchAndFakeSlack: round2(
                (cpuAtLast.bench.user +
                  cpuAtLast.bench.system -
                  cpuAtFirst.bench.user -
                  cpuAtFirst.bench.system) /
                  1e6,
              ),
            }
          : null,
      target: 'all delivered, none twice, total time within 10% of what the rate limit allows',
    };
  } finally {
    fake.clearRateLimits();
    await app.kill('SIGTERM');
    keepForStudy('reminders.log', app.output());
    await drop();
    await close();
  }
}

// ---------------------------------------------------------------------------------------------
// 4: the 12-month change log over the seeded history

/** Reads a process's peak RSS until it exits (VmHWM only grows; the last read is the peak). */
function watchPeakRss(pid: number): () => number {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, peakRssMb(pid).peakMb);
    } catch {
      // exited
    }
  }, 100);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

const seconds = (ms: number) => Math.round(ms / 10) / 100;

/**
 * The scale curves: one database grown to each size in turn (default 1k, 10k, 50k, 200k changes
 * over 13 months, written as the app writes them: sealed, ledgered, migrations recorded). At each
 * size: the rollups rebuilt from the event log (the one-off cost of an existing installation), the
 * change log of 12 months, a year, 90 and 30 days from the rollups (3 runs each) and the full scan
 * it replaces (same figures, checked), /change-log end to end through Slack, the app's start-up
 * (time to serve, and the CPU the app and the database spend in the 75 s after it), the year's
 * evidence export through the command line (time, peak RSS) and, up to --verify-max, the audit
 * verification of the whole ledger.
 */
async function benchScale(db: { uri: string; flavor: string }, fake: FakeSlack, dbPid: number | null) {
  const sizes = opts.sizes
    .split(',')
    .map(Number)
    .sort((a, b) => a - b);
  const months = Number(opts.months);
  const end = new Date('2026-11-01T00:00:00Z');
  const dbName = 'bench_scale';
  const { models, close, drop } = await connect(db.uri, dbName);
  await drop();
  await ensureIndexes(Object.values(models));
  const logger = createLogger({ level: 'error', format: 'pretty' });
  const flavor = db.flavor === 'ferretdb' ? 'ferretdb' : 'mongodb';
  const ledger = new MongoLedgerStore(models, benchSigner, logger);
  await recordMigrationsDone(models, end);
  const deps = await benchDeps(models, flavor, end, ledger, benchSigner);

  const tz = policy.policy.timezone;
  const periodOf = (text: string) => {
    const p = parsePeriod(text, end, tz);
    if (!p.ok) throw new Error(p.message);
    return p.period;
  };
  const frontier = new MerkleFrontier();
  const uri = `${db.uri.replace(/\/?$/, '/')}${dbName}`;
  const curve: Record<string, unknown>[] = [];
  let seeded = 0;
  try {
    for (const size of sizes) {
      log(`scale: seeding to ${size} changes`);
      let t0 = performance.now();
      await seedHistory(models, policy, {
        changes: size - seeded,
        firstNumber: seeded + 1,
        seed: size,
        months,
        end,
        groups: { S0SECURITY: ['U0123ERIN'] },
        audit: { signer: benchSigner, frontier },
        onProgress: (done) => done % 20000 === 0 && log(`scale: ${seeded + done} seeded`),
      });
      // The to-do list of changes with work, as the app's writes keep it (one scan; FerretDB reads it).
      // …and the list of submissions in flight (none here), both marked filled as the app marks them.
      for (const list of [new ChangeTodoList(models), new ChangeTodoList(models, IN_FLIGHT_LIST)]) {
        await list.fill();
        await list.markFilled();
      }
      const seedSeconds = seconds(performance.now() - t0);
      seeded = size;
      // Signed into a checkpoint, as the app's checkpoint job does every few minutes while history
      // accumulates: a start then finds only what came after the last checkpoint to cover.
      t0 = performance.now();
      const checkpoint = await checkpointNow(deps);
      if (checkpoint.kind === 'refused') throw new Error(`checkpoint refused: ${checkpoint.reason}`);
      const checkpointSeconds = seconds(performance.now() - t0);
      const events = await models.ChangeEvent.estimatedDocumentCount();

      log(`scale ${size}: rebuilding the rollups from the event log`);
      t0 = performance.now();
      const rebuilt = await rebuildRollups(deps, { force: true });
      const rebuildSeconds = seconds(performance.now() - t0);

      const summaries: Record<string, number[]> = {};
      let year: ChangeLogSummary | null = null;
      for (const text of ['12m', '1y', '90d', '30d']) {
        summaries[text] = [];
        for (let i = 0; i < 3; i++) {
          t0 = performance.now();
          const r = await buildChangeLog(deps, { kind: 'system' }, periodOf(text));
          summaries[text]!.push(seconds(performance.now() - t0));
          if (r.source !== 'rollups') throw new Error(`the ${text} summary did not come from the rollups`);
          if (text === '12m') year = r.summary;
        }
      }
      log(`scale ${size}: the full scan the rollups replace, for comparison`);
      t0 = performance.now();
      const acc = new ChangeLogAccumulator(periodOf('12m'), policy.policy, end);
      for await (const r of deps.changes.inPeriod(periodOf('12m'), { kind: 'all' }))
        acc.add(r.state!, r.slack?.permalink ?? null);
      const scan = acc.result();
      const scanSeconds = seconds(performance.now() - t0);

      log(`scale ${size}: start-up, /change-log through Slack`);
      const startup = await measureStartup(fake, models, db.uri, dbName, end, dbPid);
      const exported = size <= Number(opts['export-max']) ? await measureExport(uri, size) : null;
      let verify: Record<string, unknown> | null = null;
      if (size <= Number(opts['verify-max'])) {
        log(`scale ${size}: audit verification of the whole ledger`);
        t0 = performance.now();
        const report = await verifyAudit(deps, {});
        verify = {
          seconds: seconds(performance.now() - t0),
          events: report.checkedEvents,
          intact: report.intact,
          findings: report.findings.slice(0, 3).map((f) => f.detail),
        };
      }
      curve.push({
        changes: size,
        events,
        seedSeconds,
        checkpointSeconds,
        rebuild: { seconds: rebuildSeconds, days: rebuilt.days, events: rebuilt.events },
        changeLogSeconds: summaries,
        raisedIn12m: year?.raised ?? null,
        fullScanSeconds: scanSeconds,
        sameFiguresAsFullScan: isDeepStrictEqual(year, scan),
        ...startup,
        export: exported,
        verify,
      });
      log(`scale ${size}: ${JSON.stringify(curve.at(-1))}`);
    }
  } finally {
    await close();
  }
  let plans: unknown = 'FerretDB has no query planner: plans are printed when the benchmark runs on MongoDB';
  if (db.flavor === 'mongodb') plans = await hotPathPlans(db.uri, dbName);
  return { sizes, months, curve, plans };
}

/** The window after a start: the start-up's work and every periodic job's first run (1 min at most). */
const AFTER_START_MS = 75_000;
/** The window of a start without the scheduler: the start-up's own work (repair, rollups, ledger). */
const START_ONLY_MS = 20_000;

/**
 * Starts the app on the database and measures it twice. First without the scheduler, the start-up
 * proper (the repair of interrupted submissions, the rollups' and the ledger's catch-up): time until
 * it serves and the CPU the app and the database use in the 20 s after. Then as production starts
 * (scheduler on): time until it serves, the CPU in the 75 s after, which adds each periodic job's
 * first run (reminder sweeps, digests: their work follows the changes still open, counted beside),
 * what the app sent to Slack meanwhile, and /change-log 12m through Slack. A restart: the audit
 * trail was verified today already (the once-a-day verification of the whole ledger runs at the
 * first start of a day; its cost, which grows with the ledger, is the audit case's and `verify`).
 */
async function measureStartup(
  fake: FakeSlack,
  models: Models,
  uri: string,
  dbName: string,
  now: Date,
  dbPid: number | null,
) {
  const day = now.toISOString().slice(0, 10);
  await models.Delivery.updateOne(
    { _id: `audit-verify:${day}` },
    { $set: { state: 'sent', attempt: 1, claimedAt: now, sentAt: now } },
    { upsert: true },
  );
  const openChanges = await models.Change.countDocuments(MAY_HAVE_WORK);
  const idle0 = dbPid ? treeCpuSeconds(dbPid) : 0;
  await new Promise((r) => setTimeout(r, 5_000));
  const databaseIdleCpuSecondsIn5s = dbPid ? Math.round((treeCpuSeconds(dbPid) - idle0) * 100) / 100 : null;
  const cpu = (pid: number, from: number) => Math.round((cpuSeconds(pid) - from) * 100) / 100;
  const dbCpu = (from: number) => (dbPid ? Math.round((treeCpuSeconds(dbPid) - from) * 100) / 100 : null);
  const start = async (scheduler: boolean) => {
    const t0 = performance.now();
    const app = await startChildApp(
      childEnv(fake, uri, dbName, {
        TEST_NOW: now.toISOString(),
        // The app's own job timings (the test app's defaults are the crash tests' fast ones).
        CHILD_OPTIONS: JSON.stringify({
          scheduler: { enabled: scheduler, processEvery: '30 seconds' },
          reminders: { interval: '1 minute', leaseMs: 5 * 60_000 },
        }),
        TEST_REMINDER_CONCURRENCY: 'app-default',
        LOG_LEVEL: 'info',
      }),
      CHILD_APP,
      300_000,
    );
    return { app, readySeconds: seconds(performance.now() - t0) };
  };

  const proper = await start(false);
  let startOnly: Record<string, unknown>;
  try {
    const appCpu0 = cpuSeconds(proper.app.process.pid!);
    const dbCpu0 = dbPid ? treeCpuSeconds(dbPid) : 0;
    await new Promise((r) => setTimeout(r, START_ONLY_MS));
    startOnly = {
      readySeconds: proper.readySeconds,
      appCpuSeconds: cpu(proper.app.process.pid!, appCpu0),
      databaseCpuSeconds: dbCpu(dbCpu0),
    };
  } finally {
    await proper.app.kill('SIGTERM');
  }

  const { app, readySeconds } = await start(true);
  try {
    const appCpu0 = cpuSeconds(app.process.pid!);
    const dbCpu0 = dbPid ? treeCpuSeconds(dbPid) : 0;
    const calls0 = fake.calls.length;
    await new Promise((r) => setTimeout(r, AFTER_START_MS));
    const appCpu = cpu(app.process.pid!, appCpu0);
    const databaseCpu = dbCpu(dbCpu0);
    // What the app told Slack meanwhile (reminders due, digests): work, not reading.
    const slackCalls: Record<string, number> = {};
    for (const c of fake.calls.slice(calls0)) slackCalls[c.method] = (slackCalls[c.method] ?? 0) + 1;
    const slack = new SlackRequests(`http://127.0.0.1:${app.port}`, SIGNING_SECRET, fake);
    const before = fake.responsePosts.length;
    const t1 = performance.now();
    await slack.command('/change-log', '12m', { user: AUDITOR });
    const until = Date.now() + 600_000;
    while (fake.responsePosts.length === before && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    const slackChangeLogSeconds = seconds(performance.now() - t1);
    // App Home as a lead opens it (every change visible; the lead approvals waiting on them), three
    // times: event to views.publish.
    const home: number[] = [];
    for (let i = 0; i < 3; i++) {
      const published = fake.callsOf('views.publish').length;
      const t2 = performance.now();
      await slack.homeOpened(CAROL, { eventId: `Ev0BENCHHOME${i}${Date.now()}` });
      await fake.waitFor(() => fake.callsOf('views.publish').length > published, 600_000);
      home.push(seconds(performance.now() - t2));
    }
    return {
      startup: {
        startOnly,
        readySeconds,
        appCpuSecondsAfter: appCpu,
        databaseCpuSecondsAfter: databaseCpu,
        databaseIdleCpuSecondsIn5sBefore: databaseIdleCpuSecondsIn5s,
        openChanges,
        slackCalls,
      },
      slackChangeLogSeconds,
      appHomeSeconds: home,
      appPeakRssMb: peakRssMb(app.process.pid!).peakMb,
    };
  } finally {
    await app.kill('SIGTERM');
    keepForStudy(`startup-${dbName}-${Date.now()}.log`, app.output());
  }
}

/** The year's evidence export through the command line, as an auditor runs it: time and peak RSS. */
async function measureExport(uri: string, size: number) {
  const out = resolve(tmpdir(), `changegate-export-${size}.csv`);
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      resolve(BUILD_DIR, 'src/cli/changelog.js'),
      ...['--from', '2025-11-01', '--to', '2026-10-31', '--format', 'csv', '--out', out],
    ],
    {
      cwd: ROOT,
      env: cliEnv(uri),
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const peak = watchPeakRss(child.pid!);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const peakRss = peak();
  const rows = existsSync(out) ? readFileSync(out, 'utf8').split('\n').length - 2 : 0;
  rmSync(out, { force: true });
  if (code !== 0) return { error: err.slice(0, 500) };
  return { seconds: seconds(performance.now() - t0), rows, peakRssMb: peakRss };
}

/**
 * The plan MongoDB picks for each query on a hot path (run on MongoDB only: FerretDB has no
 * planner): the stages of the winning plan, so a COLLSCAN shows.
 */
async function hotPathPlans(uri: string, dbName: string): Promise<Record<string, string>> {
  const { models, close } = await connect(uri, dbName);
  const now = new Date();
  const u = 'U0123BOB';
  const queries: Record<string, { explain(v: string): Promise<unknown> }> = {
    'App Home: waiting for me': models.Change.find({
      $or: [{ status: 'pending_approval' }, { retroReview: 'pending' }],
      currentApprovers: u,
      seq: { $gt: 0 },
    }),
    'App Home: raised by me': models.Change.find({ requester: u, seq: { $gt: 0 } }).sort({ number: -1 }),
    // Each sweep's own query, as the store runs it on MongoDB.
    ...Object.fromEntries(
      CANDIDATE_SETS.map((set) => [
        `sweeps: ${set}`,
        models.Change.find(recorded(candidateFilter(set, now))),
      ]),
    ),
    'start-up: unannounced changes': models.Change.find({ unannounced: true, seq: { $gt: 0 }, slack: null }),
    'start-up: interrupted submissions': models.Change.find({ seq: 0, status: 'submitting' }),
    "decisions: a change's events": models.ChangeEvent.find({ changeNumber: 1 }).sort({ seq: 1 }),
    'search: by type since': models.Change.find({ type: 'normal', submittedAt: { $gte: now } }).sort({
      number: -1,
    }),
    'change log (narrow scopes): changes active in a period': models.Change.find({
      submittedAt: { $lt: now },
      lastEventAt: { $gte: new Date(now.getTime() - 30 * DAY_MS) },
      requester: u,
    }),
    "change log: a period's rollup days": models.RollupDay.find({ fingerprint: 'x' }),
    'rollups: pending marks': models.RollupMark.find({}).sort({ at: 1 }).limit(200),
  };
  const stages = (plan: unknown): string[] => {
    const p = plan as { stage?: string; indexName?: string; inputStage?: unknown; inputStages?: unknown[] };
    const here = p.stage ? [`${p.stage}${p.indexName ? `(${p.indexName})` : ''}`] : [];
    return [...here, ...(p.inputStage ? stages(p.inputStage) : []), ...(p.inputStages ?? []).flatMap(stages)];
  };
  const out: Record<string, string> = {};
  try {
    for (const [name, q] of Object.entries(queries)) {
      const e = (await q.explain('queryPlanner')) as { queryPlanner?: { winningPlan?: unknown } };
      out[name] = stages(e.queryPlanner?.winningPlan ?? {}).join(' < ');
    }
  } finally {
    await close();
  }
  return out;
}

/**
 * Verifying the whole audit trail of about `audit-events` events (seeded once, signed and ledgered
 * as the app writes them, with a checkpoint over them): time, and the verifier's memory, which
 * must not grow with the number of events.
 */
async function benchAudit(db: { uri: string; flavor: string }, dbPid: number | null) {
  const target = Number(opts['audit-events']);
  const changes = Math.ceil(target / 3.88); // the seeded histories average 3.88 events per change
  const end = new Date('2026-11-01T00:00:00Z');
  const dbName = 'bench_audit';
  const { models, close, drop } = await connect(db.uri, dbName);
  const markerId = `bench-audit-seed:${changes}:${end.toISOString()}`;
  let marker = await models.PolicyVersion.findById(markerId).lean<{ yaml: string }>();
  const logger = createLogger({ level: 'error', format: 'pretty' });
  const flavor = db.flavor === 'ferretdb' ? 'ferretdb' : 'mongodb';
  const ledger = new MongoLedgerStore(models, null, logger);
  let seedSeconds: number | null = null;
  try {
    if (!marker) {
      log(`audit: seeding ${changes} changes, signed and ledgered (one time; kept for later runs)`);
      await drop();
      await ensureIndexes(Object.values(models));
      const key = generateKeyPairSync('ed25519')
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
      const signer = signerFrom(key);
      const frontier = new MerkleFrontier();
      const t0 = performance.now();
      await seedHistory(models, policy, {
        changes,
        months: 24,
        end,
        groups: { S0SECURITY: ['U0123ERIN'] },
        audit: { signer, frontier },
        onProgress: (done) => done % 20000 === 0 && log(`audit: ${done} changes seeded`),
      });
      const body: CheckpointBody = {
        kind: 'checkpoint',
        number: 1,
        treeSize: frontier.size,
        rootHash: frontier.root(),
        time: end.toISOString(),
        previous: null,
        keyId: signer.keyId,
      };
      await ledger.addCheckpoint(
        {
          checkpoint: { body, sig: signer.sign(checkpointBytes(body)) },
          frontier: frontier.toJSON(),
          witness: null,
        },
        [],
      );
      seedSeconds = Math.round((performance.now() - t0) / 100) / 10;
      await models.PolicyVersion.create({
        _id: markerId,
        source: 'bench',
        yaml: key,
        firstSeenAt: new Date(),
      });
      marker = { yaml: key };
    }
    const signer = signerFrom(marker.yaml);
    const deps = await benchDeps(models, flavor, end, ledger, signer);

    const measure = async (allSignatures: boolean) => {
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      let heapPeak = process.memoryUsage().heapUsed;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        rssPeak = Math.max(rssPeak, m.rss);
        heapPeak = Math.max(heapPeak, m.heapUsed);
      }, 50);
      const t0 = performance.now();
      const report = await verifyAudit(deps, { allSignatures });
      const seconds = Math.round((performance.now() - t0) / 100) / 10;
      clearInterval(sampler);
      log(
        `audit: verified ${report.checkedEvents} events in ${seconds} s (all signatures: ${allSignatures})`,
      );
      return {
        seconds,
        intact: report.intact,
        findings: report.findings.length,
        events: report.checkedEvents,
        changes: report.checkedChanges,
        ledgerEntries: report.ledgerSize,
        eventsPerSecond: Math.round(report.checkedEvents / seconds),
        rssBeforeMb: Math.round(rssBefore / 1048576),
        rssPeakMb: Math.round(rssPeak / 1048576),
        heapPeakMb: Math.round(heapPeak / 1048576),
      };
    };
    log('audit: verifying (checkpointed entries authenticated by the signed root)');
    const byRoot = await measure(false);
    log('audit: verifying again, every entry signature checked');
    const everySignature = await measure(true);
    return {
      seededChanges: changes,
      seedSeconds,
      byCheckpointRoot: byRoot,
      everySignature,
      // FerretDB 1.x sorts in its own memory (it pushes no sort down); MongoDB reads the same
      // streams in index order. Its peak over the whole case, seeding included.
      databasePeakRssMb: dbPid ? peakRssMb(dbPid).peakMb : null,
    };
  } finally {
    await close();
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * The app and the bare Bolt baseline run compiled, as `npm start` runs the app (node on plain
 * JavaScript, no TypeScript loader in the process whose memory and latency are measured).
 */
const BUILD_DIR = resolve(ROOT, '.cache/bench-build');
const CHILD_APP = '.cache/bench-build/test/support/child-app.js';
const BARE_BOLT = '.cache/bench-build/bench/bare-bolt.js';
const FAKE_SLACK = resolve(ROOT, '.cache/bench-build/bench/fake-slack-proc.js');

function compile(): void {
  log('compiling the app and the baseline (tsc)');
  rmSync(BUILD_DIR, { recursive: true, force: true });
  const tsc = resolve(ROOT, 'node_modules/typescript/bin/tsc');
  const res = spawnSync(
    process.execPath,
    [tsc, '-p', 'tsconfig.json', '--noEmit', 'false', '--outDir', BUILD_DIR],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  if (res.status !== 0) throw new Error('tsc failed');
  // Data files the compiled test support reads next to itself.
  cpSync(resolve(ROOT, 'test/fixtures'), resolve(BUILD_DIR, 'test/fixtures'), { recursive: true });
}

/** The Node flags `npm start` gives the app (heap sizing), so the benchmark runs it the same way. */
function startFlags(): string {
  const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  return (pkg.scripts.start.match(/--max-[a-z-]+=\d+/g) ?? []).join(' ');
}

async function main() {
  const started = new Date();
  compile();
  process.env.CHILD_NODE_ARGS ??= startFlags();
  log(`app and baseline run with: node ${process.env.CHILD_NODE_ARGS}`);
  // FerretDB runs at a lower priority: on this one machine it would otherwise take the CPU that, in a
  // deployment, its own host provides, and starve the app and the load generator being measured.
  const db = await acquireDatabase({ dataDir: BENCH_DATA_DIR, nice: 10 });
  log(`database: ${db.mongo.flavor} ${db.mongo.version} via ${db.source}`);
  const fake = await startFakeSlack();
  const results: Record<string, unknown> = {};
  // A case that fails is reported as failed; the others' figures are still written.
  const run = async (name: string, minutes: number, body: () => Promise<void>) => {
    try {
      await withTimeout(name, minutes * 60_000, body);
    } catch (err) {
      log(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      results[name] = { error: err instanceof Error ? err.message.slice(0, 2000) : String(err) };
    }
    fake.clear();
  };
  try {
    if (only.has('ack') || only.has('modal'))
      await run('ack', 20, async () => {
        const r = await benchInteractive(db.mongo, fake);
        results.ack = r.ack;
        if (r.modal) results.modal = r.modal;
        if (r.pace) results.pace = r.pace;
        results.memory = r.memory;
      });
    if (only.has('slash'))
      await run('slash', 20, async () => {
        results.slash = await benchSlash(db.mongo, fake);
      });
    if (only.has('replicas'))
      await run('replicas', 20, async () => {
        results.replicas = await benchReplicas(db.mongo, fake);
      });
    if (only.has('reminders'))
      await run('reminders', 30, async () => {
        results.reminders = await benchReminders(db.mongo, fake, db.pid);
      });
    if (only.has('scale'))
      await run('scale', 150, async () => {
        results.scale = await benchScale(db.mongo, fake, db.pid);
      });
    if (only.has('audit'))
      await run('audit', 120, async () => {
        results.audit = await benchAudit(db.mongo, db.pid);
      });
  } finally {
    await fake.stop();
    await db.stop();
  }
  const report = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: process.platform,
    },
    database: { flavor: db.mongo.flavor, version: db.mongo.version },
    app: { nodeFlags: process.env.CHILD_NODE_ARGS ?? '' },
    results,
  };
  const dir = resolve(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const md = markdown(report);
  writeFileSync(resolve(dir, `${stamp}.json`), json);
  writeFileSync(resolve(dir, `${stamp}.md`), md);
  writeFileSync(resolve(dir, 'latest.json'), json);
  writeFileSync(resolve(dir, 'latest.md'), md);
  process.stdout.write(md);
}

function markdown(r: {
  machine: Record<string, unknown>;
  database: Record<string, unknown>;
  startedAt: string;
  results: Record<string, unknown>;
}): string {
  const all = r.results as Record<string, Record<string, unknown>>;
  const rows: string[] = [];
  const res: Record<string, Record<string, unknown>> = {};
  for (const [name, value] of Object.entries(all)) {
    if ('error' in value)
      rows.push(`| ${name} | **failed** | ${String(value.error).split('\n')[0]!.slice(0, 200)} |`);
    else res[name] = value;
  }
  const fmt = (d: unknown) => {
    const x = d as Dist | undefined;
    return x ? `p50 ${x.p50} · p95 ${x.p95} · p99 ${x.p99}` : '—';
  };
  if (res.ack) {
    rows.push(
      `| Approve clicks: time to ack (ms) | ${fmt(res.ack.timeToAckMs)} | bare Bolt ${fmt(res.ack.bareBoltTimeToAckMs)}; ratio p99 **${res.ack.p99AckRatio}×** (target ≤ 1.5×) |`,
    );
    rows.push(
      `| Approve clicks: time to done (ms) | ${fmt(res.ack.timeToDoneMs)} | ${res.ack.clicks} clicks at concurrency ${res.ack.concurrency}; ${res.ack.decisionsRecorded} decisions, ${res.ack.threadReplies} thread replies |`,
    );
  }
  if (res.memory)
    rows.push(`| Peak RSS during the click load | ${res.memory.peakRssMb} MB | target < 250 MB |`);
  if (res.modal)
    rows.push(
      `| /change → views.open (ms) | ${fmt(res.modal.toViewsOpenMs)} | ${res.modal.commands} commands; target p99 < 300 ms; ${res.modal.failed} failed |`,
    );
  if (res.pace)
    rows.push(
      `| Approve at ${res.pace.perSecond} clicks/s: click → thread reply (ms) | ${fmt(res.pace.timeToReplyMs)} | ${res.pace.clicks} clicks, ${res.pace.replies} replies; ack ${fmt(res.pace.timeToAckMs)}; target p99 < 500 ms |`,
    );
  if (res.slash)
    rows.push(
      `| /change: time to ack (ms), ${res.slash.rounds} rounds × ${res.slash.commandsPerRound} at concurrency ${res.slash.concurrency} | ${fmt(res.slash.timeToAckMs)} | bare Bolt (ack + trivial modal) ${fmt(res.slash.bareBoltTimeToAckMs)}; ratio p50 **${res.slash.p50Ratio}×**, p99 **${res.slash.p99Ratio}×** (target p99 ≤ 1.2×); CPU ms per command: app ${res.slash.appCpuMsPerCommand}, bare ${res.slash.bareCpuMsPerCommand}, their fake Slacks ${res.slash.appSlackCpuMsPerCommand} and ${res.slash.bareSlackCpuMsPerCommand} (at nice 10) |`,
    );
  if (res.replicas)
    for (const run of res.replicas.runs as Record<string, unknown>[])
      rows.push(
        `| Decisions with ${run.replicas} replica(s) on one database | ${run.decisionsPerSecond} decisions/s | ${run.clicks} clicks at concurrency 50 in ${run.seconds} s; ${run.decisionsRecorded} decisions, ${run.threadReplies} replies; click → reply ${fmt(run.timeToReplyMs)} |`,
      );
  if (res.reminders) {
    rows.push(
      `| ${res.reminders.reminders} reminders at ${res.reminders.slackLimitPerSecond}/s | ${res.reminders.seconds} s (limit allows ${res.reminders.rateLimitAllowsSeconds} s, +${res.reminders.overheadPercent}%); CPU s while delivering ${JSON.stringify(res.reminders.cpuSecondsWhileDelivering)} | ${res.reminders.delivered} delivered, ${res.reminders.duplicates} duplicates, ${res.reminders.http429} × 429 |`,
    );
  }
  if (res.scale) {
    const curve = res.scale.curve as Record<string, unknown>[];
    const get = (c: Record<string, unknown>, path: string) =>
      path.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown> | null)?.[k], c);
    const med = (xs: unknown) => {
      const v = [...((xs as number[]) ?? [])].sort((a, b) => a - b);
      return v.length ? v[Math.floor(v.length / 2)] : '—';
    };
    rows.push(
      ...curve.map(
        (c) =>
          `| /change-log from rollups, ${c.changes} changes (${c.events} events) | 12m ${med(get(c, 'changeLogSeconds.12m'))} s · 1y ${med(get(c, 'changeLogSeconds.1y'))} s · 90d ${med(get(c, 'changeLogSeconds.90d'))} s · 30d ${med(get(c, 'changeLogSeconds.30d'))} s (median of 3) | through Slack ${c.slackChangeLogSeconds} s; the full scan it replaces ${c.fullScanSeconds} s; same figures: ${c.sameFiguresAsFullScan ? 'yes' : '**no**'}; one-off rebuild ${get(c, 'rebuild.seconds')} s |`,
      ),
      ...curve.map(
        (c) =>
          `| App Home at ${c.changes} changes | ${(get(c, 'appHomeSeconds') as number[] | undefined)?.join(' · ') ?? '—'} s (three opens) | a lead's (every change visible): \`app_home_opened\` to \`views.publish\`, right after the start-up window |`,
      ),
      ...curve.map(
        (c) =>
          `| Start-up at ${c.changes} changes | start-up proper (no scheduler): ready in ${get(c, 'startup.startOnly.readySeconds')} s; in the 20 s after: app ${get(c, 'startup.startOnly.appCpuSeconds')} CPU s, database ${get(c, 'startup.startOnly.databaseCpuSeconds')} CPU s. With the scheduler: ready in ${get(c, 'startup.readySeconds')} s; in the 75 s after (and each job's first run over the ${get(c, 'startup.openChanges')} changes still open): app ${get(c, 'startup.appCpuSecondsAfter')} CPU s, database ${get(c, 'startup.databaseCpuSecondsAfter')} CPU s; Slack calls ${JSON.stringify(get(c, 'startup.slackCalls'))} (database idle before: ${get(c, 'startup.databaseIdleCpuSecondsIn5sBefore')} CPU s in 5 s) | a restart with the app's job timings; today's audit verification already done |`,
      ),
      ...curve
        .filter((c) => c.export)
        .map(
          (c) =>
            `| Evidence export of a year, ${c.changes} changes | ${get(c, 'export.seconds')} s, peak RSS ${get(c, 'export.peakRssMb')} MB, ${get(c, 'export.rows')} rows | \`npm run changelog\` (CSV) |`,
        ),
      ...curve
        .filter((c) => c.verify)
        .map(
          (c) =>
            `| Audit verification, ${c.changes} changes | ${get(c, 'verify.seconds')} s for ${get(c, 'verify.events')} events, ${get(c, 'verify.intact') ? 'intact' : 'findings'} | whole ledger, rollups included |`,
        ),
    );
  }
  if (res.audit) {
    const a = res.audit as Record<string, Record<string, number | boolean>>;
    const line = (x: Record<string, number | boolean>) =>
      `${x.seconds} s (${x.eventsPerSecond} events/s), RSS ${x.rssBeforeMb} → peak ${x.rssPeakMb} MB, heap peak ${x.heapPeakMb} MB, ${x.intact ? 'intact' : `${x.findings} findings`}`;
    rows.push(
      `| Verify the audit trail: ${a.byCheckpointRoot!.events} events, ${a.byCheckpointRoot!.changes} changes | ${line(a.byCheckpointRoot!)} | checkpointed entries authenticated by the signed root |`,
    );
    rows.push(
      `| …checking every entry's signature too | ${line(a.everySignature!)} | \`--all-signatures\` |`,
    );
  }
  return [
    `# Changegate benchmarks, ${r.startedAt}`,
    '',
    `Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGb} GiB, Node ${r.machine.node}. Database: ${r.database.flavor} ${r.database.version}.`,
    '',
    '| Case | Result | Notes |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

/** The use cases' dependencies over a benchmark database, at a fixed time, without Slack. */
async function benchDeps(
  models: Models,
  flavor: 'mongodb' | 'ferretdb',
  now: Date,
  ledger: MongoLedgerStore,
  signer: AuditSigner,
): Promise<Deps> {
  const policies = await fixedPolicies(models, policy);
  return {
    clock: new TestClock(now),
    logger: createLogger({ level: 'error', format: 'pretty' }),
    policy: policies.live,
    policies,
    delegations: new DelegationBook(new MongoDelegationStore(models), null),
    boards: new MongoBoardStore(models),
    rollups: new MongoRollupStore(models),
    githubUsers: new MongoGithubUsers(models),
    githubLinks: new MongoGithubLinks(models),
    changes: new ChangeRepository(models, flavor),
    ledger,
    audit: { signer, previous: null },
    witness: NO_WITNESS,
    directory: OFFLINE_DIRECTORY,
    notifier: SILENT_NOTIFIER,
    tokens: new MongoTokenStore(models),
    effects: new MongoEffectsOutbox(models),
    background: { track: (work) => work },
  };
}

/** The benchmark's policy as the one in force (a file: nothing is published). */
async function fixedPolicies(models: Models, policy: LoadedPolicy): Promise<PolicyBook> {
  const book = new PolicyBook({
    store: new MongoPolicyStore(models),
    clock: new TestClock(),
    logger: createLogger({ level: 'error', format: 'pretty' }),
    signer: null,
    file: policy,
    initial: policy,
    envAdmins: [],
  });
  await book.init();
  return book;
}
