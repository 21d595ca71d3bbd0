import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/application/verify-audit.js';
import { checkDelegationLog } from '../../src/domain/delegation.js';
import { KeyRing } from '../../src/domain/ledger.js';
import { approve, replies, settled, submitRequest } from '../support/flows.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { ALICE, BOB, CAROL, DAVE, FRANK } from '../support/people.js';

/** `/change …` as `user`; returns the ephemeral answer's text. */
async function change(t: TestApp, user: string, text: string): Promise<string> {
  const before = t.fake.responsePosts.length;
  const res = await t.slack.command('/change', text, { user });
  expect(res.status).toBe(200);
  const answer = await t.fake.waitFor(() => t.fake.responsePosts[before]);
  return String(answer.body.text);
}

async function refusals(t: TestApp, n: number) {
  return (await t.app.models.ChangeEvent.find({ changeNumber: n, type: 'approval_refused' }).lean()).map(
    (e) => [e.actor, (e.data as { code: string }).code],
  );
}

describe('delegation: an approver away names a delegate who decides their stages, recorded with both names', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(import.meta.url);
    t.clock.set('2026-03-10T17:00:00Z');
  });
  afterAll(() => t?.stop());

  it('is used: the delegate decides the lead stage for the lead, and both names are recorded', async () => {
    // Slack sends the mention escaped (`should_escape: true`).
    const set = await change(t, CAROL, 'delegate <@U0123FRANK|frank> until 2026-03-12');
    expect(set).toMatch(/decides your approvals from .* until .*ends by itself/);
    expect(t.fake.dms(FRANK).at(-1)?.text).toMatch(/asked you to decide their approvals/);
    expect(await change(t, CAROL, 'delegate')).toContain(`You delegate to <@${FRANK}>`);

    const n = await submitRequest(t, { title: 'Upgrade the payments SDK' }, ALICE);
    await approve(t, n, 0, BOB);
    // FRANK's App Home lists the change waiting for CAROL.
    await t.slack.homeOpened(FRANK);
    const home = await t.fake.waitFor(() => {
      const h = JSON.stringify(t.fake.homes.get(FRANK) ?? {});
      return h.includes('Upgrade the payments SDK') ? h : null;
    });
    expect(home).toContain(`You decide for <@${CAROL}>`);
    // Reminders of the waiting stage reach the delegate as well as the lead.
    t.clock.set('2026-03-10T21:00:00Z'); // 4 business hours later in Los Angeles
    await t.app.reminders.approvals();
    for (const who of [CAROL, FRANK])
      expect(
        t.fake
          .dms(who)
          .some((m) => m.text.includes('waiting for your approval') && m.text.includes(`CR-${n}`)),
      ).toBe(true);

    const events = await approve(t, n, 1, FRANK);
    const decision = events.find((e) => e.type === 'stage_approved' && e.actor === FRANK)!;
    expect(decision.data).toMatchObject({ stageName: 'Engineering lead approval', onBehalfOf: CAROL });
    expect((decision.data as { delegation?: string }).delegation).toMatch(/^[0-9a-f-]{36}$/);
    expect((await t.app.models.Change.findOne({ number: n }).lean())?.status).toBe('approved');
    expect((await replies(t, n)).map((m) => m.text).join('\n')).toContain(
      `<@${FRANK}> (for <@${CAROL}>, as their delegate) approved *Engineering lead approval*`,
    );
    // The evidence names both.
    const json = await t.app.deps.changes.record(n);
    expect(json?.state?.decisions.find((d) => d.by === FRANK)?.onBehalfOf).toBe(CAROL);
  });

  it('counts people: the lead cannot decide a stage their delegate decided, nor the delegate one the lead did', async () => {
    const n = await submitRequest(t, { title: 'Rotate the signing key' }, ALICE);
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, CAROL); // the lead herself
    expect((await t.app.models.Change.findOne({ number: n }).lean())?.status).toBe('approved');
    // A second decision on the same stage by FRANK for CAROL is not possible.
    await approve(t, n, 1, FRANK);
    expect(
      (await t.app.models.ChangeEvent.find({ changeNumber: n, type: 'stage_approved' }).lean()).map(
        (e) => e.actor,
      ),
    ).toEqual([BOB, CAROL]);
  });

  it('is refused for the requester: the delegate never decides a change they raised, nor one the approver raised', async () => {
    const own = await submitRequest(t, { title: 'Frank’s own change' }, FRANK);
    await approve(t, own, 0, BOB);
    await approve(t, own, 1, FRANK);
    expect(await refusals(t, own)).toContainEqual([FRANK, 'SELF_APPROVAL_FORBIDDEN']);

    const carols = await submitRequest(t, { title: 'Carol’s change' }, CAROL);
    await approve(t, carols, 0, BOB);
    await approve(t, carols, 1, FRANK);
    expect(await refusals(t, carols)).toContainEqual([FRANK, 'NOT_AN_APPROVER']);
    expect((await t.app.models.Change.findOne({ number: carols }).lean())?.status).toBe('pending_approval');
    // Nobody delegates to themselves either.
    expect(await change(t, DAVE, `delegate <@${DAVE}|dave> until 2026-03-12`)).toMatch(
      /cannot delegate to yourself/,
    );
  });

  it('is refused when chained: the delegate cannot pass it on, and nobody delegates to someone away', async () => {
    expect(await change(t, FRANK, `delegate <@${BOB}|bob> until 2026-03-11`)).toMatch(/cannot be passed on/);
    expect(await change(t, DAVE, `delegate <@${CAROL}|carol> until 2026-03-11`)).toMatch(/is away then too/);
    expect(await change(t, DAVE, 'delegate <@U0NOBODY|ghost> until 2026-03-11')).toMatch(
      /cannot find|active, full member/,
    );
  });

  it('expires by itself: after its last day the delegate decides nothing for the lead', async () => {
    // Until 2026-03-12 inclusive, in CAROL's time zone (Los Angeles): over at 2026-03-13 07:00 UTC.
    t.clock.set('2026-03-13T08:00:00Z');
    const n = await submitRequest(t, { title: 'Bump the TLS library' }, ALICE);
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, FRANK);
    expect(await refusals(t, n)).toContainEqual([FRANK, 'NOT_AN_APPROVER']);
    expect(await change(t, CAROL, 'delegate')).toContain('You delegate to nobody');
    // …and a new one can be set, then ended early.
    expect(await change(t, CAROL, `delegate <@${DAVE}|dave> until 2026-03-20`)).toMatch(/✅/);
    expect(await change(t, CAROL, 'delegate cancel')).toMatch(/has ended/);
    await approve(t, n, 1, DAVE);
    expect(await refusals(t, n)).toContainEqual([DAVE, 'NOT_AN_APPROVER']);
    await settled(t);
  });

  it('delegations are sealed records of their own log, and verification checks them', async () => {
    const log = await t.app.deps.delegations.log();
    expect(log.map((r) => [r.kind, r.delegation.from, r.delegation.to])).toEqual([
      ['delegation_set', CAROL, FRANK],
      ['delegation_set', CAROL, DAVE],
      ['delegation_revoked', CAROL, DAVE],
    ]);
    const report = await verifyAudit(t.app.deps);
    expect(report.findings.filter((f) => f.detail.startsWith('delegations'))).toEqual([]);
    const ring = new KeyRing([t.app.deps.audit!.signer.publicKey]);
    const forged = log.map((r, i) => (i === 0 ? { ...r, delegation: { ...r.delegation, to: BOB } } : r));
    expect(checkDelegationLog(ring, forged).map((f) => f.kind)).toEqual(['edited']);
  });
});
