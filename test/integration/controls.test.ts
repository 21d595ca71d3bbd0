import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiClient, createToken } from '../support/api.js';
import { TestClock } from '../support/clock.js';
import {
  approve,
  clickOnChange,
  ephemeralsFor,
  replies,
  settled,
  submitRequest,
  verifyChange,
} from '../support/flows.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { ALICE, APPROVALS, BOB, CAROL, ERIN } from '../support/people.js';

const SHA = '4f6c2e1d9a7b3c5e8f0a1b2c3d4e5f6a7b8c9d0e';
const OTHER = '9999999d9a7b3c5e8f0a1b2c3d4e5f6a7b8c9d0e';
const NOW = '2026-03-10T17:00:00Z';

/**
 * Controls that hold at every door: each test goes through signed Slack requests and the HTTP API
 * of the real app, on the real database, with the fake Slack.
 */
describe('controls', () => {
  let t: TestApp;
  let token = '';
  const api = apiClient(
    () => t,
    () => token,
  );
  const gate = (n: number, query = 'environment=production') => api(`/changes/CR-${n}/gate?${query}`);
  const report = (n: number, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    api(`/changes/CR-${n}/deployments`, { method: 'POST', body, headers });

  /** A normal change by Alice, approved by Bob (peer review) and Carol (lead). */
  async function approvedChange(form: Parameters<typeof submitRequest>[1] = {}): Promise<number> {
    const n = await submitRequest(t, form);
    await approve(t, n, 0, BOB);
    await approve(t, n, 1, CAROL);
    return n;
  }

  beforeAll(async () => {
    t = await startTestApp(import.meta.url, { clock: new TestClock(NOW) });
    token = await createToken(t, 'pipeline');
  });
  afterAll(() => t.stop());
  beforeEach(() => {
    t.fake.clear();
    t.clock.set(NOW);
  });

  describe('an approval is for one deployment of one thing', () => {
    it('a change that names a commit refuses gate checks and flags deployments of another', async () => {
      const n = await approvedChange({ commit: SHA.toUpperCase() });
      const view = await api(`/changes/CR-${n}`);
      expect(view.json).toMatchObject({ commit: SHA });

      const other = await gate(n, `environment=production&commit=${OTHER}`);
      expect(other.status).toBe(409);
      expect(other.json).toMatchObject({ allowed: false, reasons: [{ code: 'commit_mismatch' }] });
      expect((await gate(n)).json).toMatchObject({ reasons: [{ code: 'commit_mismatch' }] });
      expect((await gate(n, `environment=staging&commit=${OTHER}`)).status).toBe(409);
      expect((await gate(n, `environment=production&commit=${SHA.slice(0, 7)}`)).status).toBe(200);

      const wrong = await report(n, { environment: 'production', status: 'succeeded', commit: OTHER });
      expect(wrong.status).toBe(201);
      expect(wrong.json).toMatchObject({
        unauthorised: true,
        reasons: ['commit_mismatch'],
        status: 'approved',
      });
      await settled(t);
      const alert = (text: string) => text.includes('*Unauthorised deployment*');
      expect(t.fake.posts(APPROVALS).filter((m) => !m.thread_ts && alert(m.text))).toHaveLength(1);
      expect(
        t.fake
          .dms(ERIN)
          .filter((m) => alert(m.text))
          .at(-1)!.text,
      ).toContain('not the commit the change was approved for');

      // In Slack, naming another commit is refused.
      await t.slack.command('/change', `deployed CR-${n} production ${OTHER}`, { user: ALICE });
      await settled(t);
      expect(String(t.fake.responsePosts.at(-1)!.body.text)).toContain(`approved for ${SHA.slice(0, 7)}`);

      const right = await report(n, { environment: 'production', status: 'succeeded', commit: SHA });
      expect(right.json).toMatchObject({ unauthorised: false, status: 'deployed' });
    });

    it('a change deployed and verified is finished: the gate refuses it and a pipeline redeploy is flagged', async () => {
      const n = await approvedChange();
      await clickOnChange(t, n, 'change_record_deployment', String(n), ALICE);
      await settled(t);
      expect((await gate(n)).json).toMatchObject({ reasons: [{ code: 'unverified_previous_deployment' }] });
      await verifyChange(t, n, ALICE);
      expect((await api(`/changes/CR-${n}`)).json).toMatchObject({ status: 'verified' });

      t.clock.set('2026-06-10T17:00:00Z'); // months later, the old number is no deploy pass
      const res = await gate(n);
      expect(res.status).toBe(409);
      expect(res.json).toMatchObject({ reasons: [{ code: 'already_deployed' }] });
      const again = await report(n, { environment: 'production', status: 'succeeded' });
      expect(again.json).toMatchObject({
        unauthorised: true,
        reasons: ['already_deployed'],
        status: 'verified',
      });
      await clickOnChange(t, n, 'change_record_deployment', String(n), ALICE);
      await settled(t);
      expect(ephemeralsFor(t, ALICE).at(-1)).toContain('it is finished');
    });

    it('the gate fails closed on a change whose history does not verify', async () => {
      const n = await approvedChange();
      expect((await gate(n)).status).toBe(200);
      // Someone with database access edits the lead's approval comment.
      await t.app.models.ChangeEvent.updateOne(
        { changeNumber: n, type: 'stage_approved', seq: 3 },
        { $set: { 'data.comment': 'approved (edited)' } },
      );
      const res = await gate(n);
      expect(res.status).toBe(409);
      expect(res.json).toMatchObject({ allowed: false, reasons: [{ code: 'audit_trail_broken' }] });
      const deployed = await report(n, { environment: 'production', status: 'succeeded' });
      expect(deployed.json).toMatchObject({ unauthorised: true, reasons: ['audit_trail_broken'] });
      await settled(t);
      expect((await replies(t, n)).at(-1)!.text).toContain('recorded history does not verify');
    });
  });
});
