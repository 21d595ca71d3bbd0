import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentApprovers } from '../../src/application/current-approvers.js';
import type { CandidateSet } from '../../src/application/ports.js';
import { submitChange } from '../../src/application/submit-change.js';
import { formatChangeId } from '../../src/domain/change.js';
import type { VisibilityScope } from '../../src/domain/visibility.js';
import { ChangeRepository, candidateFilter } from '../../src/infra/db/change-repository.js';
import { ChangeTodoList, IN_FLIGHT, MAY_HAVE_WORK, TODO_FILLED } from '../../src/infra/db/change-todo.js';
import type { ChangeDoc } from '../../src/infra/db/models.js';
import { TestClock } from '../support/clock.js';
import { request } from '../support/domain-fixtures.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { testPolicy } from '../support/harness-policy.js';
import { generateHistories } from '../support/histories.js';
import { ALICE, BOB, FRANK, QUINN } from '../support/people.js';
import { storeHistory } from '../support/store-history.js';

const END = new Date('2026-11-20T18:00:00Z');
const DAY = 86_400_000;
const SETS: CandidateSet[] = [
  'pending_approval',
  'deployed',
  'planned_window',
  'retro_open',
  'retro_review',
  'pir_due',
  'retro_overdue',
  'digest',
];

/**
 * On FerretDB the sweeps and the start-up repair read the to-do list of changes that may have work
 * (infra/db/change-todo.ts) instead of every change. Here that path (a repository of the FerretDB
 * flavour, on whichever database runs) is held against a scan of every change with the same query.
 */
describe('the to-do list of changes with work', () => {
  let t: TestApp;
  const clock = new TestClock(END);
  const numbers = async (it: AsyncIterable<{ number?: number; state?: { number: number } | null }>) => {
    const out: number[] = [];
    for await (const r of it) out.push(r.state?.number ?? r.number!);
    return out;
  };
  /** A scan of every change record with the sweep's query: what the list must give. */
  const scan = async (filter: object) =>
    (
      await t.app.models.Change.find(filter, { number: 1 }).sort({ number: 1 }).lean<{ number: number }[]>()
    ).map((d) => d.number);
  const entries = async () =>
    (await t.app.models.ChangeTodo.find({}).lean<{ number: number }[]>())
      .map((d) => d.number)
      .sort((a, b) => a - b);

  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { clock, rollups: { everyMs: 1_000_000_000 } });
    // Four months of random history, written as the app writes it, then work in flight: a
    // submission interrupted after its number was claimed, and a change recorded but not announced.
    const generated = [
      ...generateHistories(testPolicy(), {
        changes: 200,
        months: 4,
        end: new Date(END.getTime() - 3_600_000),
        seed: 5,
        firstNumber: 1,
        groups: { S0SECURITY: ['U0123ERIN'] },
      }),
    ];
    await storeHistory(
      t.app,
      generated.map((g) => ({
        number: g.number,
        state: g.state,
        events: g.events.map(({ _id, prevHash, hash, ...e }) => e),
        waitingOn: currentApprovers(g.state, testPolicy().policy, g.membership),
      })),
      testPolicy().hash,
    );
    await t.app.deps.changes.claimNumber({
      title: 'Interrupted',
      type: 'normal',
      requester: ALICE,
      emergency: false,
      at: clock.now(),
      originChannel: null,
    });
    const submitted = await submitChange(t.app.deps, {
      request: request({ title: 'Recorded, never announced' }),
      requester: ALICE,
      source: 'slack',
      originChannel: null,
    });
    expect(submitted.ok).toBe(true);
    // Waiting on approvers now (App Home's lists): raised by several people.
    for (const [i, requester] of [ALICE, BOB, FRANK, ALICE, QUINN].entries()) {
      const raised = await submitChange(t.app.deps, {
        request: request({
          title: `Waiting ${i}`,
          // Standard with a security impact: waiting on the security group (named people).
          ...(i % 2 === 1 ? { type: 'standard', securityFlags: ['auth' as const] } : {}),
        }),
        requester,
        source: 'slack',
        originChannel: null,
      });
      expect(raised.ok).toBe(true);
    }
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('gives every sweep and the repair exactly what a scan of every change gives', async () => {
    const repo = new ChangeRepository(t.app.models, 'ferretdb');
    let found = 0;
    for (const set of SETS)
      for (const now of [new Date(END.getTime() - 30 * DAY), END, new Date(END.getTime() + 30 * DAY)]) {
        const expected = await scan({ $and: [candidateFilter(set, now), { seq: { $gt: 0 } }] });
        expect(await numbers(repo.candidates(set, now)), `${set} at ${now.toISOString()}`).toEqual(expected);
        found += expected.length;
      }
    expect(found).toBeGreaterThan(100);
    const later = new Date(Date.now() + DAY);
    const stale = await repo.staleSubmissions(later);
    expect(stale).toEqual(await scan({ seq: 0, status: 'submitting' }));
    expect(stale.length).toBe(1);
    const unannounced = await repo.unannounced(later);
    expect(unannounced).toEqual(await scan({ unannounced: true, seq: { $gt: 0 }, slack: null }));
    expect(unannounced.length).toBeGreaterThan(0);
    // The repair reads the submissions in flight, not every change with work: its query matches
    // the entries of the interrupted claim and the six submissions never announced here.
    const inFlight = await t.app.models.ChangeInflight.find(IN_FLIGHT as object).lean();
    expect(inFlight.map((e) => e.number).sort((a, b) => a - b)).toEqual(await scan(IN_FLIGHT));
    expect(inFlight.length).toBe(7);
    expect((await scan(MAY_HAVE_WORK)).length).toBeGreaterThan(20);
  });

  it('holds every change with work; the hourly check drops finished ones and mends one that fell behind', async () => {
    const repo = new ChangeRepository(t.app.models, 'ferretdb');
    await numbers(repo.candidates('digest', END)); // filled, if this database had no list yet
    const withWork = await scan(MAY_HAVE_WORK);
    // Changes that finished since they were added (as every change is, while it has work).
    const finished = (await scan({ seq: { $gt: 0 } })).filter((n) => !withWork.includes(n)).slice(0, 20);
    expect(finished.length).toBe(20);
    await t.app.models.ChangeTodo.insertMany(
      finished.map((n) => ({
        _id: formatChangeId(n),
        number: n,
        status: 'approved',
        seq: 1,
        at: new Date(),
      })),
      { ordered: false },
    ).catch(() => undefined);
    const held = await entries();
    expect(withWork.filter((n) => !held.includes(n))).toEqual([]);
    expect(held.length).toBeGreaterThanOrEqual(withWork.length + 20);
    // An entry behind its record (a write lost to a crash): missed by its sweep until the check.
    const pending = await scan({ $and: [candidateFilter('deployed', END), { seq: { $gt: 0 } }] });
    expect(pending.length).toBeGreaterThan(0);
    await t.app.models.ChangeTodo.updateOne(
      { _id: formatChangeId(pending[0]!) },
      { $set: { status: 'approved' } },
    );
    // (Each sweep below is another process's, whose view of the list is read now: a process's own
    // view shows a write made elsewhere only when it next reads the list, within 30 s.)
    const sweep = (set: CandidateSet) =>
      numbers(new ChangeRepository(t.app.models, 'ferretdb').candidates(set, END));
    expect(await sweep('deployed')).not.toContain(pending[0]);

    // Young entries stay (their writer may be between its two writes); old ones of finished changes go.
    const list = new ChangeTodoList(t.app.models);
    await list.tidy();
    expect(await entries()).toEqual(held);
    expect(await sweep('deployed')).toEqual(pending);
    await t.app.models.ChangeTodo.updateMany({}, { $set: { at: new Date(Date.now() - 3_600_000) } });
    expect(await list.tidy()).toBe(withWork.length);
    expect(await entries()).toEqual(withWork);
  });

  it('is filled once, by one scan, where it did not exist', async () => {
    const before = await entries();
    await t.app.models.ChangeTodo.deleteMany({});
    await t.app.models.Setting.deleteOne({ _id: TODO_FILLED });
    const repo = new ChangeRepository(t.app.models, 'ferretdb');
    expect(await numbers(repo.candidates('pending_approval', END))).toEqual(
      await scan({ $and: [candidateFilter('pending_approval', END), { seq: { $gt: 0 } }] }),
    );
    expect(await entries()).toEqual(await scan(MAY_HAVE_WORK));
    expect(await t.app.models.Setting.exists({ _id: TODO_FILLED })).toBeTruthy();
    expect(before.length).toBeGreaterThan(0);

    // A list from before App Home read it (entries without its fields) is rewritten once.
    await t.app.models.ChangeTodo.updateMany(
      {},
      { $unset: { requester: 1, currentApprovers: 1, participants: 1, openToAnyone: 1, deployedAt: 1 } },
    );
    await t.app.models.Setting.deleteOne({ _id: TODO_FILLED });
    const again = new ChangeRepository(t.app.models, 'ferretdb');
    const asked = (await t.app.models.Change.find({ status: 'pending_approval' }).lean()).find(
      (d) => d.currentApprovers.length > 0,
    )!;
    const want = await new ChangeRepository(t.app.models, 'mongodb').pendingFor(
      asked.currentApprovers[0]!,
      100,
    );
    expect(want.total).toBeGreaterThan(0);
    const got = await again.pendingFor(asked.currentApprovers[0]!, 100);
    expect(got.items.map((r) => r.number)).toEqual(want.items.map((r) => r.number));
  });

  it("gives App Home's lists and /change list what a scan of every change gives", async () => {
    const todo = new ChangeRepository(t.app.models, 'ferretdb');
    const scanning = new ChangeRepository(t.app.models, 'mongodb');
    const docs = await t.app.models.Change.find({ seq: { $gt: 0 } }).lean();
    // The people with the most waiting on them, and those with the most changes open.
    const most = (ids: string[]) => {
      const count = new Map<string, number>();
      for (const id of ids) count.set(id, (count.get(id) ?? 0) + 1);
      return [...count]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([id]) => id);
    };
    const open = docs.filter((d) => ['pending_approval', 'approved', 'deployed'].includes(d.status));
    const people = [
      ...new Set([...most(open.flatMap((d) => d.currentApprovers)), ...most(open.map((d) => d.requester))]),
    ];
    expect(people.length).toBeGreaterThan(3);
    const scopes: VisibilityScope[] = [{ kind: 'all' }];
    const nums = (p: { items: { number: number }[]; total: number }) => ({
      items: p.items.map((r) => r.number),
      total: p.total,
    });
    let listed = 0;
    for (const u of people) {
      const mine: VisibilityScope[] = [
        ...scopes,
        { kind: 'own', userId: u },
        { kind: 'involved', userId: u, emergencies: false },
        { kind: 'involved', userId: u, emergencies: true },
      ];
      for (const limit of [3, 1000]) {
        for (const scope of mine) {
          const want = nums(await scanning.pendingFor(u, limit, scope));
          expect(nums(await todo.pendingFor(u, limit, scope)), `pending for ${u}`).toEqual(want);
          const all = nums(await scanning.open(scope, limit));
          expect(nums(await todo.open(scope, limit)), `open, ${JSON.stringify(scope)}`).toEqual(all);
          for (const at of [END, new Date(END.getTime() + 30 * DAY)]) {
            const over = (await scanning.overdue(scope, at, new Date(at.getTime() - DAY), limit)).map(
              (r) => r.number,
            );
            const got = (await todo.overdue(scope, at, new Date(at.getTime() - DAY), limit)).map(
              (r) => r.number,
            );
            expect(got, `overdue, ${JSON.stringify(scope)}`).toEqual(over);
            listed += over.length;
          }
          listed += want.items.length + all.items.length;
        }
        const raised = nums(await scanning.raisedBy(u, limit, true));
        expect(nums(await todo.raisedBy(u, limit, true)), `raised by ${u}`).toEqual(raised);
        for (const at of [END, new Date(END.getTime() + 30 * DAY)]) {
          const owed = (await scanning.reviewsOwedBy(u, at, limit)).map((r) => r.number);
          expect(
            (await todo.reviewsOwedBy(u, at, limit)).map((r) => r.number),
            `reviews of ${u}`,
          ).toEqual(owed);
          listed += owed.length;
        }
        listed += raised.items.length;
      }
    }
    expect(listed).toBeGreaterThan(200);

    // Asked for at once, as App Home builds them: read together, each as a scan gives it.
    for (const u of people) {
      const ask = (repo: ChangeRepository) =>
        Promise.all([
          repo.pendingFor(u, 12).then(nums),
          repo.raisedBy(u, 12, true).then(nums),
          repo.overdue(
            { kind: 'involved', userId: u, emergencies: true },
            END,
            new Date(END.getTime() - DAY),
            12,
          ),
          repo.reviewsOwedBy(u, END, 12),
          repo.open({ kind: 'all' }, 5).then(nums),
        ]);
      const [want, got] = [await ask(scanning), await ask(todo)];
      const numbersOf = (r: Awaited<ReturnType<typeof ask>>) => [
        r[0],
        r[1],
        r[2].map((c) => c.number),
        r[3].map((c) => c.number),
        r[4],
      ];
      expect(numbersOf(got), `App Home of ${u}`).toEqual(numbersOf(want));
    }
    // Hundreds of scans of the whole history to compare with: 21 s alone on a slow 2-core VM.
  }, 120_000);

  it("answers App Home from a view: this process's writes at once, another's after the view's age, never waiting for a re-read", async () => {
    let now = Date.now();
    const clock = () => now;
    const a = new ChangeTodoList(t.app.models, undefined, clock);
    const b = new ChangeTodoList(t.app.models, undefined, clock); // another replica
    const who = 'U0VIEWTEST';
    const entry: Partial<ChangeDoc> = {
      status: 'pending_approval',
      seq: 1,
      currentApprovers: [who],
      slack: null,
    };
    const total = async (filter: object) => (await a.page(filter, 0, 1)).total;
    const waiting = { currentApprovers: who };
    try {
      expect(await total(waiting)).toBe(0);
      await a.write(90_001, entry);
      expect(await total(waiting)).toBe(1);
      await b.write(90_002, entry);
      expect(await total(waiting)).toBe(1); // read under 30 s ago
      now += 31_000;
      expect(await total(waiting)).toBe(1); // the old view answers while the list is read again
      let seen = 0;
      for (let i = 0; i < 200 && seen < 2; i++) {
        seen = await total(waiting);
        if (seen < 2) await new Promise((r) => setTimeout(r, 25));
      }
      expect(seen).toBe(2);
      // A field a write removes leaves the view too (announced: no longer unannounced).
      await a.write(90_003, { ...entry, unannounced: true });
      expect(await total({ unannounced: true, currentApprovers: who })).toBe(1);
      await a.write(90_003, { ...entry, slack: { channel: 'C1', ts: '1.0', permalink: null } } as never);
      expect(await total({ unannounced: true, currentApprovers: who })).toBe(0);
      expect(await total(waiting)).toBe(3);
    } finally {
      await t.app.models.ChangeTodo.deleteMany({ number: { $in: [90_001, 90_002, 90_003] } });
    }
  });
});
