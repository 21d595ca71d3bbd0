import { expect } from 'vitest';
import { LATE, STILL_SAVING } from '../../src/adapters/slack/copy.js';
import { formatChangeId } from '../../src/domain/change.js';
import type { StoredMessage } from './fake-slack/server.js';
import type { TestApp } from './harness.js';
import { ALICE, APPROVALS } from './people.js';

export type Values = Record<string, Record<string, Record<string, unknown>>>;

const text = (value: string | null) => ({ value: { type: 'plain_text_input', value } });
const select = (value: string | null) => ({
  value: {
    type: 'static_select',
    selected_option: value ? { text: { type: 'plain_text', text: value }, value } : null,
  },
});
const radio = (value: string | null) => ({
  value: {
    type: 'radio_buttons',
    selected_option: value ? { text: { type: 'plain_text', text: value }, value } : null,
  },
});

export interface FormInput {
  type?: string;
  /** More inputs, exactly as Slack sends them (declared fields: block `field:<key>`). */
  extra?: Values;
  title?: string;
  description?: string;
  justification?: string;
  systems?: string;
  risk?: string | null;
  impact?: string;
  securityFlags?: string[];
  testPlan?: string;
  stagingTested?: string | null;
  testResults?: string;
  rollbackPlan?: string;
  plannedStart?: number | null;
  plannedEnd?: number | null;
  pr?: string | null;
  ticket?: string | null;
  reviewers?: string[];
  approver?: string | null;
  commit?: string | null;
}

/** `view.state.values` of a filled-in request modal, exactly as Slack sends it. */
export function formValues(f: FormInput = {}): Values {
  return { ...baseValues(f), ...f.extra };
}

function baseValues(f: FormInput): Values {
  const type = f.type ?? 'normal';
  if (type === 'emergency') {
    return {
      type: select(type),
      title: text(f.title ?? 'Hotfix: restore checkout payments'),
      justification: text(f.justification ?? 'Checkout is down for all EU customers (P1).'),
      systems: text(f.systems ?? 'payments-api'),
      emergency_approver: {
        value: { type: 'users_select', selected_user: f.approver === undefined ? 'U0123DAVE' : f.approver },
      },
      description: text(f.description ?? null),
      link_ticket: { value: { type: 'url_text_input', value: f.ticket ?? null } },
      link_pr: { value: { type: 'url_text_input', value: f.pr ?? null } },
      commit: text(f.commit ?? null),
    };
  }
  return {
    type: select(type),
    title: text(f.title ?? 'Upgrade api-gateway to v2.3'),
    description: text(f.description ?? 'Bump the gateway to 2.3.'),
    justification: text(f.justification ?? 'Upstream security fixes.'),
    systems: text(f.systems ?? 'api-gateway, billing-db'),
    risk: select(f.risk === undefined ? 'medium' : f.risk),
    impact: text(f.impact ?? 'Gateway restarts once; no data changes.'),
    security_flags: {
      value: {
        type: 'checkboxes',
        selected_options: (f.securityFlags ?? []).map((v) => ({
          text: { type: 'plain_text', text: v },
          value: v,
        })),
      },
    },
    test_plan: text(f.testPlan ?? 'Smoke suite in staging.'),
    staging_tested: radio(f.stagingTested === undefined ? 'yes' : f.stagingTested),
    test_results: text(f.testResults ?? null),
    rollback_plan: text(f.rollbackPlan ?? 'Redeploy v2.2.'),
    planned_start: { value: { type: 'datetimepicker', selected_date_time: f.plannedStart ?? null } },
    planned_end: { value: { type: 'datetimepicker', selected_date_time: f.plannedEnd ?? null } },
    link_pr: { value: { type: 'url_text_input', value: f.pr ?? null } },
    link_ticket: { value: { type: 'url_text_input', value: f.ticket ?? null } },
    reviewers: { value: { type: 'multi_users_select', selected_users: f.reviewers ?? [] } },
    commit: text(f.commit ?? null),
  };
}

/** Runs `/change [text]` and returns the modal the app opened (as the fake Slack stored it). */
export async function openRequestModal(t: TestApp, user = ALICE, text = '') {
  const before = t.fake.callsOf('views.open').length;
  const res = await t.slack.command('/change', text, { user });
  expect(res.status).toBe(200);
  const call = await t.fake.waitFor(() => t.fake.callsOf('views.open')[before]);
  return call.response.view as {
    id: string;
    hash: string;
    blocks: { block_id?: string }[];
    private_metadata: string;
    callback_id: string;
  };
}

/** Submits a modal openRequestModal opened, filled with `form`: Slack's request and the app's answer. */
export function submitOpenedModal(
  t: TestApp,
  view: Awaited<ReturnType<typeof openRequestModal>>,
  form: FormInput = {},
  user = ALICE,
) {
  return t.slack.submitView(
    {
      callbackId: view.callback_id,
      values: formValues(form),
      privateMetadata: view.private_metadata,
      blocks: view.blocks,
      viewId: view.id,
    },
    user,
  );
}

/** A modal answered before its submission was saved: too slow to answer in time, or still saving. */
function answeredLate(json: unknown): boolean {
  const errors = Object.values((json as { errors?: Record<string, string> } | null)?.errors ?? {});
  return errors.length === 1 && (errors[0] === LATE || errors[0] === STILL_SAVING);
}

/** Opens the modal with `/change`, submits it, and returns the new change's number. */
export async function submitRequest(t: TestApp, form: FormInput = {}, user = ALICE): Promise<number> {
  const view = await openRequestModal(t, user, form.type === 'emergency' ? 'emergency' : '');
  let res = await submitOpenedModal(t, view, form, user);
  // On a busy machine the modal may be answered "taking longer than it should" while its submission
  // goes on; the user sends the same form again, as the message says, and it closes once saved.
  for (let i = 0; i < 10 && answeredLate(res.json); i++) {
    await settled(t);
    res = await submitOpenedModal(t, view, form, user);
  }
  expect(res.status).toBe(200);
  expect(res.json, `submission refused: ${res.text}`).toBeNull();
  await settled(t);
  const latest = await t.app.models.Change.findOne({ requester: user, seq: { $gt: 0 } })
    .sort({ number: -1 })
    .lean();
  expect(latest).not.toBeNull();
  await rootMessage(t, latest!.number);
  return latest!.number;
}

/** The change's root message in the approvals channel (waits until it is posted). */
export function rootMessage(t: TestApp, n: number, channel = APPROVALS): Promise<StoredMessage> {
  const id = formatChangeId(n);
  return t.fake.waitFor(() => t.fake.posts(channel).find((m) => !m.thread_ts && m.text.startsWith(`${id}:`)));
}

export async function replies(t: TestApp, n: number): Promise<StoredMessage[]> {
  const root = await rootMessage(t, n);
  return t.fake.threadReplies(root.channel, root.ts);
}

/** Clicks a button on the change's root message as `user`. */
export async function clickOnChange(t: TestApp, n: number, actionId: string, value: string, user: string) {
  const root = await rootMessage(t, n);
  const res = await t.slack.click(actionId, value, { user, message: { channel: root.channel, ts: root.ts } });
  expect(res.status).toBe(200);
  return res;
}

/** Clicks Approve on stage `stage` as `user` and waits for everything the click set off. */
export async function approve(t: TestApp, n: number, stage: number, user: string) {
  await clickOnChange(t, n, 'change_approve', `${n}:${stage}`, user);
  await settled(t);
  return t.app.models.ChangeEvent.find({ changeNumber: n }).sort({ seq: 1 }).lean();
}

export async function waitForEvents(t: TestApp, n: number, count: number, timeoutMs = 5000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const events = await t.app.models.ChangeEvent.find({ changeNumber: n }).sort({ seq: 1 }).lean();
    if (events.length >= count) return events;
    if (Date.now() > until)
      throw new Error(
        `CR-${n}: expected ${count} events, have ${events.length}: ${events.map((e) => e.type).join(', ')}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until all work after Slack's ack has finished (thread replies, DMs, App Home). */
export async function settled(t: TestApp) {
  await t.app.inflight.drain(10_000);
}

export function ephemeralsFor(t: TestApp, user: string): string[] {
  return t.fake.ephemerals.filter((e) => e.args.user === user).map((e) => String(e.args.text));
}

/** A complete, valid body for POST /api/v1/changes (a low-risk normal change by Alice). */
export function apiChangeBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'normal',
    title: 'API change',
    requester: ALICE,
    description: 'Opened by a pipeline.',
    justification: 'Testing.',
    systems: ['api'],
    risk: 'low',
    testPlan: 'Unit tests.',
    stagingTested: 'yes',
    rollbackPlan: 'Revert.',
    impact: 'None expected.',
    ...overrides,
  };
}

/** Submits the post-deployment verification modal of change `n` as `user`. */
export async function verifyChange(
  t: TestApp,
  n: number,
  user: string,
  outcome: 'ok' | 'rolled_back' = 'ok',
  issues: string | null = null,
) {
  const res = await t.slack.submitView(
    {
      callbackId: 'change_verify_modal',
      privateMetadata: JSON.stringify({ n }),
      values: {
        outcome: {
          value: {
            type: 'radio_buttons',
            selected_option: { text: { type: 'plain_text', text: outcome }, value: outcome },
          },
        },
        issues: { value: { type: 'plain_text_input', value: issues } },
      },
    },
    user,
  );
  expect(res.status).toBe(200);
  await settled(t);
  return res;
}

/** Polls an async condition until it holds (or fails after `timeoutMs`). */
export async function eventually<T>(
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
