import { describe, expect, it } from 'vitest';
import { crashTestBed } from '../support/crash-bed.js';
import { formValues } from '../support/flows.js';
import { SIGNING_SECRET } from '../support/harness.js';
import { ALICE, APPROVALS } from '../support/people.js';
import { SlackRequests } from '../support/slack-requests.js';

/**
 * A replica is killed with SIGKILL while change requests pour in, then started again: every
 * submission Slack saw acknowledged (modal closed) is stored whole and announced exactly once.
 * (Reminders under a kill: test/integration/reminder-crash.test.ts, in the normal suite.)
 */
describe('SIGKILL under a submission load', () => {
  const bed = crashTestBed(import.meta.url, '2026-03-10T17:00:00Z');

  it('keeps every acknowledged submission and announces each once after the restart', async () => {
    const { t } = bed;
    const env = bed.env({
      TEST_NOW: '2026-03-10T17:00:00Z',
      // The repair's timings scaled down from a minute's delay, every 5 minutes, a 5-minute lease:
      // a claim to announce that the kill cut off is taken over after 15 s (a holder's post must be
      // over within its claim, its 10-second Slack timeout included).
      CHILD_OPTIONS: JSON.stringify({ repair: { afterMs: 1000, interval: '1 second', leaseMs: 15_000 } }),
    });
    const first = await bed.start(env);
    const slack = new SlackRequests(`http://127.0.0.1:${first.port}`, SIGNING_SECRET, t.fake);
    const opened = await slack.command('/change', '', { user: ALICE });
    expect(opened.status).toBe(200);
    const view = (await t.fake.waitFor(() => t.fake.callsOf('views.open')[0])).response.view as {
      callback_id: string;
      private_metadata: string;
      blocks: unknown[];
    };
    // Slack is a little slow, so announcements are still in flight when the kill lands.
    t.fake.latencyMs = 40;

    const total = 120;
    const requests = Array.from({ length: total }, (_, i) => {
      const title = `Load ${String(i).padStart(3, '0')}`;
      const payload = slack.viewSubmissionPayload(
        {
          callbackId: view.callback_id,
          values: formValues({ title }),
          privateMetadata: view.private_metadata,
          blocks: view.blocks,
        },
        ALICE,
      );
      return { title, ...slack.buildForm({ payload: JSON.stringify(payload) }) };
    });
    const acknowledged = new Set<string>();
    let next = 0;
    let killed = false;
    const send = async () => {
      while (next < requests.length && !killed) {
        const r = requests[next++]!;
        const res = await fetch(`http://127.0.0.1:${first.port}/slack/events`, {
          method: 'POST',
          headers: r.headers,
          body: r.body,
        }).catch(() => null);
        if (res?.status === 200 && (await res.text()) === '') acknowledged.add(r.title);
      }
    };
    // Four people submitting without pause: with eight, a submission took 1-2.5 s on a quiet 2-core
    // machine, and on a busy one most went past the modal's 2.7 s answer ("try again", not saved yet),
    // so the kill point (30 closed modals) was never reached. The kill needs load, not saturation.
    const senders = Array.from({ length: 4 }, send);
    // Kill while announcements are in flight at Slack: once 30 submissions are acknowledged, Slack
    // stalls (new calls wait unprocessed, as a slow Slack would), and the kill comes when those it
    // already stored have had time to be recorded. A kill in the milliseconds between Slack storing a
    // message and the app saving its reference leaves a message the restarted replica must find in
    // the channel rather than post again (chat.postMessage has no idempotency key).
    await t.fake.waitFor(() => acknowledged.size >= 30, 60_000);
    t.fake.latencyMs = 10_000;
    await t.fake.waitFor(() => t.fake.pending > 0 && Date.now() - t.fake.lastStoredAt > 500, 30_000);
    await first.kill('SIGKILL');
    killed = true;
    await Promise.all(senders);
    expect(acknowledged.size).toBeGreaterThanOrEqual(30);
    expect(acknowledged.size).toBeLessThan(total);
    const announcedBeforeRestart = t.fake.posts(APPROVALS).filter((m) => !m.thread_ts).length;

    t.fake.latencyMs = 40;
    const second = await bed.start(env);
    const roots = () => t.fake.posts(APPROVALS).filter((m) => !m.thread_ts && /Load \d{3}/.test(m.text));
    // Every acknowledged change reaches the approvals channel (announced late if the kill cut it off).
    const missing = () => {
      const shown = new Set(roots().map((m) => /Load \d{3}/.exec(m.text)![0]));
      return [...acknowledged].filter((title) => !shown.has(title));
    };
    await t.fake
      .waitFor(() => missing().length === 0, 60_000)
      .catch(() => {
        throw new Error(`never announced: ${missing().join(', ')}\n${second.output().slice(-4000)}`);
      });
    await new Promise((r) => setTimeout(r, 2500)); // more repair runs: nothing else may be posted
    await second.kill('SIGTERM');
    t.fake.latencyMs = 0;

    const changes = await t.app.models.Change.find({}).lean();
    const stored = new Map(changes.map((c) => [c.title, c]));
    for (const title of acknowledged) {
      const c = stored.get(title);
      expect(c, `${title} was acknowledged but is missing`).toBeDefined();
      expect(c!.seq).toBeGreaterThanOrEqual(1);
    }
    // Whole records only: a number the kill left claimed without its submission is released by the
    // repair (kept, marked released, so the gap in the numbering is explained), never left pending;
    // no acknowledged submission is among them; every head is its last event.
    const placeholders = changes.filter((c) => c.seq === 0);
    expect(placeholders.filter((c) => c.status !== 'released')).toEqual([]);
    for (const c of placeholders)
      expect(acknowledged.has(c.title), `${c.title} was acknowledged`).toBe(false);
    for (const c of changes.filter((x) => x.seq > 0)) {
      expect(await t.app.models.ChangeEvent.countDocuments({ changeNumber: c.number }), c._id).toBe(c.seq);
    }
    // Announced once each.
    const perTitle = new Map<string, number>();
    for (const m of roots()) {
      const title = /Load \d{3}/.exec(m.text)![0];
      perTitle.set(title, (perTitle.get(title) ?? 0) + 1);
    }
    expect([...perTitle].filter(([, count]) => count > 1)).toEqual([]);
    expect(announcedBeforeRestart).toBeLessThanOrEqual(perTitle.size);
  });
});
