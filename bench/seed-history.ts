import { currentApprovers } from '../src/application/current-approvers.js';
import type { AuditSigner } from '../src/application/ports.js';
import type { LoadedPolicy } from '../src/config/policy.js';
import { eventContentHash, eventSealBytes, GENESIS_HASH, hashEvent } from '../src/domain/audit.js';
import type { ChangeRequest } from '../src/domain/change.js';
import { formatChangeId } from '../src/domain/change.js';
import { entryBytes, entryLeaf, type LedgerLeaf } from '../src/domain/ledger.js';
import {
  applyEvent,
  type ChangeEvent,
  type ChangeState,
  type Command,
  decide,
  submissionDraft,
} from '../src/domain/lifecycle.js';
import type { MerkleFrontier } from '../src/domain/merkle.js';
import { approversOf, type Membership, membershipFrom, type SecurityFlag } from '../src/domain/policy.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/domain/time.js';
import { projectionFields } from '../src/infra/db/change-repository.js';
import { eventId, ledgerId, type Models } from '../src/infra/db/models.js';
import { deployment } from '../test/support/domain-fixtures.js';

/**
 * Generates a realistic change history (types, outcomes, approvals, freezes, emergencies with
 * on-time, late and missing retrospectives, rollbacks, unverified deployments, unauthorised
 * deployments) by driving the real domain state machine, so every seeded change is a legal history
 * with a valid hash chain. Written in batches with insertMany.
 */

export interface SeedOptions {
  changes: number;
  months: number;
  end: Date;
  seed?: number;
  firstNumber?: number;
  batch?: number;
  engineers?: number;
  /** Extra group members (the security group of the test policy). */
  groups?: Record<string, string[]>;
  /**
   * Written as the app writes them: each event sealed with the audit key and entered in the ledger
   * (entries and the event → index map); the tree's leaves go into `frontier` for a checkpoint.
   */
  audit?: { signer: AuditSigner; frontier: MerkleFrontier };
  onProgress?: (done: number) => void;
}

function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYSTEMS = [
  'api-gateway',
  'billing',
  'checkout-web',
  'payments-api',
  'search',
  'auth-service',
  'orders-db',
  'mobile-bff',
  'data-pipeline',
  'cdn',
];
const VERBS = ['Upgrade', 'Patch', 'Add', 'Remove', 'Tune', 'Migrate', 'Rotate', 'Refactor', 'Enable', 'Fix'];
const THINGS = [
  'TLS certificates',
  'connection pool',
  'feature flag',
  'index on orders',
  'rate limiter',
  'retry policy',
  'node runtime',
  'cache TTL',
  'IAM role',
  'webhook',
];

export async function seedHistory(
  models: Models,
  loaded: LoadedPolicy,
  opts: SeedOptions,
): Promise<{ changes: number; events: number }> {
  const policy = loaded.policy;
  const rnd = prng(opts.seed ?? 42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const chance = (p: number) => rnd() < p;
  const expo = (meanMs: number) => -Math.log(1 - rnd()) * meanMs;
  const membership: Membership = membershipFrom(opts.groups ?? {});
  const engineers = Array.from(
    { length: opts.engineers ?? 40 },
    (_, i) => `U0ENG${String(i).padStart(4, '0')}`,
  );
  const start = opts.end.getTime() - opts.months * 30 * DAY_MS;
  const typeKeys = Object.keys(policy.types);
  const weights: Record<string, number> = { standard: 35, normal: 45, infrastructure: 12, emergency: 8 };
  const weighted = typeKeys.flatMap((k) => Array.from({ length: weights[k] ?? 10 }, () => k));
  let totalEvents = 0;
  let number = opts.firstNumber ?? 1;
  const batchSize = opts.batch ?? 500;

  for (let done = 0; done < opts.changes; ) {
    const events: (ChangeEvent & { prevHash: string; hash: string })[] = [];
    const docs: Record<string, unknown>[] = [];
    const n = Math.min(batchSize, opts.changes - done);
    for (let i = 0; i < n; i++, number++) {
      const type = pick(weighted);
      const def = policy.types[type]!;
      const requester = pick(engineers);
      let now = new Date(start + rnd() * (opts.end.getTime() - start - 2 * HOUR_MS));
      const emergency = def.form === 'emergency';
      const firstStage = emergency ? policy.stages[def.stages[0]?.[0]?.stage ?? '']?.approvers : undefined;
      const emergencyApprover = firstStage ? (approversOf(policy, membership, firstStage)[0] ?? null) : null;
      const flags: SecurityFlag[] =
        !emergency && chance(0.15)
          ? [pick(['auth', 'encryption', 'data_access', 'third_party', 'regulated_data'] as const)]
          : [];
      const request: ChangeRequest = {
        fields: {},
        type,
        title: `${pick(VERBS)} ${pick(THINGS)} on ${pick(SYSTEMS)}`,
        description: emergency ? '' : 'Routine change generated for the change-log benchmark and tests.',
        justification: emergency ? 'P1 incident: customers affected.' : 'Keeps the platform current.',
        systems: [pick(SYSTEMS)],
        risk: emergency ? null : pick(['low', 'medium', 'high'] as const),
        impact: emergency ? '' : 'Brief restart.',
        securityFlags: flags,
        testPlan: emergency ? '' : 'Smoke tests in staging.',
        stagingTested: emergency ? null : pick(['yes', 'yes', 'yes', 'no', 'na'] as const),
        testResults: '',
        rollbackPlan: emergency ? '' : 'Redeploy the previous version.',
        plannedStart: null,
        plannedEnd: null,
        links: { pr: chance(0.7) ? `https://github.com/acme/app/pull/${number}` : null, ticket: null },
        suggestedReviewers: [],
        emergencyApprover,
        commit: null,
      };
      const changeEvents: (ChangeEvent & { prevHash: string; hash: string })[] = [];
      let state: ChangeState | null = null;
      let prev = GENESIS_HASH;
      const append = (draft: ReturnType<typeof submissionDraft>, actor: string) => {
        const seq = changeEvents.length + 1;
        const base = {
          changeNumber: number,
          seq,
          slot: draft.slot ?? `e:${seq}`,
          type: draft.type,
          actor,
          at: new Date(now),
          policyHash: loaded.hash,
          data: draft.data,
        };
        const hash = hashEvent(prev, base);
        const e = { _id: eventId(number, seq), ...base, prevHash: prev, hash } as ChangeEvent & {
          prevHash: string;
          hash: string;
        };
        changeEvents.push(e);
        prev = hash;
        state = applyEvent(state, e);
      };
      const tryDo = (cmd: Command): boolean => {
        const r = decide(state!, cmd, { now, policy, membership });
        if (!r.ok) return false;
        append(r.value, 'actor' in cmd ? cmd.actor : 'system');
        return true;
      };
      append(submissionDraft(policy, request, chance(0.2) ? 'api' : 'slack'), requester);

      // Approvals, stage by stage; sometimes rejected or cancelled; freezes need an exception.
      const s = () => state as unknown as ChangeState;
      let guard = 0;
      while (s().status === 'pending_approval' && guard++ < 10) {
        now = new Date(now.getTime() + expo(emergency ? 30 * MINUTE_MS : 5 * HOUR_MS));
        if (now.getTime() > opts.end.getTime()) break;
        if (chance(0.02)) {
          tryDo({ kind: 'cancel', actor: requester, reason: 'No longer needed' });
          break;
        }
        const stage = s().stages[s().currentStage!]!;
        const candidates = stage.approvers.anyone
          ? engineers.filter((e) => e !== requester && !s().decisions.some((d) => d.by === e))
          : approversOf(policy, membership, stage.approvers).filter(
              (u) => u !== requester && !s().decisions.some((d) => d.by === u),
            );
        const approver = candidates.length ? pick(candidates) : null;
        if (!approver) break;
        if (chance(0.01)) tryDo({ kind: 'approve', stageIndex: s().currentStage!, actor: requester }); // a refused self-approval
        if (chance(0.05)) {
          tryDo({
            kind: 'reject',
            stageIndex: s().currentStage!,
            actor: approver,
            reason: 'Needs a rollback test first',
          });
          break;
        }
        if (!tryDo({ kind: 'approve', stageIndex: s().currentStage!, actor: approver })) {
          // Frozen: an exception holder lets most through, the rest are cancelled.
          const freeze = policy.freezes.find((f) => f.blocks.includes(type));
          const holders = freeze
            ? approversOf(policy, membership, freeze.exception.approvers).filter((u) => u !== requester)
            : [];
          if (
            freeze &&
            holders.length &&
            chance(0.7) &&
            tryDo({
              kind: 'grant_exception',
              actor: pick(holders),
              freeze: freeze.name,
              reason: 'Business-critical fix',
              risk: 'Small, reversible; rollback rehearsed',
            })
          )
            continue;
          tryDo({ kind: 'cancel', actor: requester, reason: 'Waiting for the freeze to end' });
          break;
        }
      }

      if (s().status === 'approved') {
        now = new Date(now.getTime() + expo(emergency ? 20 * MINUTE_MS : 20 * HOUR_MS));
        if (now.getTime() < opts.end.getTime() && chance(0.96)) {
          if (chance(0.02)) {
            tryDo(deployment('pipeline:ci', { status: 'failed', commit: 'deadbeef', source: 'api' }));
          }
          tryDo(deployment(requester));
          now = new Date(now.getTime() + expo(2 * HOUR_MS));
          if (now.getTime() < opts.end.getTime() && chance(0.94)) {
            const rollback = chance(0.05);
            tryDo({
              kind: 'verify',
              actor: requester,
              outcome: rollback ? 'rolled_back' : 'ok',
              issues: rollback ? 'Error rate rose to 6%' : '',
            });
          }
          if (emergency && s().retro.dueAt) {
            const r = rnd();
            const due = s().retro.dueAt!.getTime();
            const at = r < 0.75 ? due - rnd() * 40 * HOUR_MS : r < 0.9 ? due + rnd() * 24 * HOUR_MS : null;
            if (at !== null && at < opts.end.getTime()) {
              now = new Date(Math.max(now.getTime(), at));
              tryDo({
                kind: 'submit_retro',
                actor: requester,
                answers: {
                  whatChanged: request.title,
                  why: request.justification,
                  approval: 'Emergency approval in Changegate',
                  rootCause: 'Config drift',
                  preventable: 'Yes',
                  followUps: 'Add an alert',
                },
              });
            } else if (opts.end.getTime() > due) {
              now = new Date(Math.max(now.getTime(), due + HOUR_MS));
              tryDo({ kind: 'flag_retro_overdue' });
            }
          }
        }
      } else if (s().status === 'pending_approval' && chance(0.01)) {
        tryDo(deployment('pipeline:ci', { commit: 'cafe42', source: 'api' }));
      }

      const last = changeEvents[changeEvents.length - 1]!;
      const st = s();
      docs.push({
        _id: formatChangeId(number),
        originChannel: null,
        slack: null,
        ...projectionFields(st, { seq: last.seq, hash: last.hash }, currentApprovers(st, policy, membership)),
      });
      events.push(...changeEvents);
    }
    if (opts.audit) {
      const { signer, frontier } = opts.audit;
      const entries = events.map((e) => {
        (e as { seal?: unknown }).seal = { keyId: signer.keyId, sig: signer.sign(eventSealBytes(e)) };
        const leaf: LedgerLeaf = {
          index: frontier.size,
          changeNumber: e.changeNumber,
          seq: e.seq,
          eventHash: e.hash,
          contentHash: eventContentHash(e),
        };
        frontier.push(entryLeaf(leaf));
        return {
          _id: ledgerId(leaf.index),
          ...leaf,
          keyId: signer.keyId,
          sig: signer.sign(entryBytes(leaf)),
        };
      });
      await models.AuditEntry.insertMany(entries, { ordered: false, lean: true });
      await models.AuditEventIndex.insertMany(
        entries.map((x) => ({ _id: eventId(x.changeNumber, x.seq), index: x.index })),
        { ordered: false, lean: true },
      );
    }
    await models.ChangeEvent.insertMany(events, { ordered: false, lean: true });
    await models.Change.insertMany(docs, { ordered: false, lean: true });
    totalEvents += events.length;
    done += n;
    opts.onProgress?.(done);
  }
  return { changes: opts.changes, events: totalEvents };
}
