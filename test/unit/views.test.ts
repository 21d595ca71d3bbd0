import type { ContextBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { blankRequestFormText, buildRequestModal } from '../../src/adapters/slack/request-form.js';
import { changeRootMessage, toMessageModel } from '../../src/adapters/slack/views/change.message.js';
import { helpMessage, showMessage } from '../../src/adapters/slack/views/command.messages.js';
import { homeView } from '../../src/adapters/slack/views/home.view.js';
import {
  changeRequestModal,
  exceptionModal,
  pirModal,
  rejectModal,
  retroModal,
  reviewTextModal,
  verifyModal,
} from '../../src/adapters/slack/views/modals.js';
import { FIELD_KINDS } from '../../src/domain/fields.js';
import { wireArgs } from '../../src/infra/slack/sender.js';
import { deployment, Machine, POLICY, request } from '../support/domain-fixtures.js';
import { BlockKitErrors, validateBlocks, validateView } from '../support/fake-slack/block-kit.js';
import { ALICE, BOB, CAROL, DAVE } from '../support/people.js';

const valid = (blocks: unknown[]) => {
  const e = new BlockKitErrors();
  validateBlocks(e, blocks, '/blocks', 'message');
  return e.messages;
};

function states() {
  const pending = new Machine(
    request({ suggestedReviewers: [BOB], links: { pr: 'https://github.com/acme/gw/pull/7', ticket: null } }),
  );
  const approved = new Machine(request());
  approved.do({ kind: 'approve', stageIndex: 0, actor: BOB });
  approved.do({ kind: 'approve', stageIndex: 1, actor: CAROL });
  const rejected = new Machine(request());
  rejected.do({ kind: 'reject', stageIndex: 0, actor: BOB, reason: 'No <rollback> & no tests' });
  const frozen = new Machine(request(), { now: '2026-11-16T18:00:00Z' });
  const overdue = new Machine(request({ type: 'emergency', emergencyApprover: DAVE, risk: null }));
  overdue.do({ kind: 'approve', stageIndex: 0, actor: DAVE });
  overdue.do(deployment(ALICE, { commit: 'abc' }));
  overdue.advanceHours(50);
  return { pending, approved, rejected, frozen, overdue };
}

describe('Block Kit builders', () => {
  it.each(Object.entries(states()))('root message: %s', (_name, m) => {
    const msg = changeRootMessage(
      toMessageModel(m.state, POLICY, m.now, m.state.status === 'pending_approval' ? [BOB] : []),
    );
    expect(valid(msg.blocks)).toEqual([]);
    expect(msg).toMatchSnapshot();
  });

  it('a blank request form is written out once per policy, type and channel, as a fresh build would be', () => {
    const fresh = (type: string | null, channel: string | null) =>
      JSON.stringify(changeRequestModal(buildRequestModal(POLICY, type, channel, {})));
    for (const [type, channel] of [
      ['normal', 'C0123CHG01'],
      ['emergency', null],
      [null, null],
      ['normal', 'C0123CHG02'],
    ] as const) {
      expect(blankRequestFormText(POLICY, type, channel)).toBe(fresh(type, channel));
      expect(blankRequestFormText(POLICY, type, channel)).toBe(fresh(type, channel));
    }
    // Another policy (a new version) gets its own forms, never one written for the old.
    const renamed = {
      ...POLICY,
      types: { ...POLICY.types, normal: { ...POLICY.types.normal!, name: 'Regular' } },
    };
    expect(blankRequestFormText(renamed, 'normal', 'C0123CHG01')).toContain('Regular');
    expect(blankRequestFormText(POLICY, 'normal', 'C0123CHG01')).not.toContain('Regular');
  });

  it('Web API arguments go out as their wire text: objects as JSON, the rest untouched', () => {
    const view = { type: 'modal', blocks: [{ type: 'divider' }] };
    const file = Buffer.from('x');
    const args = { trigger_id: 't', view, blocks: [view], n: 1, ok: true, file, none: null };
    const out = wireArgs(args);
    expect(out).toEqual({ ...args, view: JSON.stringify(view), blocks: JSON.stringify([view]) });
    expect(out.file).toBe(file);
    expect(args.view).toBe(view); // the caller's arguments are not changed
    const plainArgs = { channel: 'C1', text: 'hi' };
    expect(wireArgs(plainArgs)).toBe(plainArgs);
  });

  it('request modal (full and emergency), decision modals and App Home are valid views', () => {
    const full = changeRequestModal(buildRequestModal(POLICY, 'normal', 'C0123CHG01', {}));
    const emergency = changeRequestModal(buildRequestModal(POLICY, 'emergency', null, { title: 'kept' }));
    const s = states();
    const home = homeView({
      pending: [{ state: s.pending.state, permalink: 'https://acme.slack.com/archives/C1/p1' }],
      pendingTotal: 30,
      mine: [{ state: s.approved.state, permalink: null }],
      mineTotal: 1,
      overdue: [{ state: s.overdue.state, permalink: null }],
      now: s.overdue.now,
    });
    for (const view of [
      full,
      emergency,
      rejectModal(42, 1),
      exceptionModal(42, ['Peak season']),
      verifyModal(42, 'rolled_back'),
      retroModal(42, { whatChanged: 'w', why: 'y', approval: 'a' }, 'Due soon'),
      reviewTextModal(42, 'questions', ''),
      reviewTextModal(42, 'answer', 'Questions from the review:\nWhich config <b>?'),
      pirModal(42, 2, 'Full review', ['Objectives achieved?', 'Security maintained?', 'Lessons learned?']),
      changeRequestModal({
        ...buildRequestModal(POLICY, 'normal', null, {}),
        fields: FIELD_KINDS.map((kind, i) => ({
          key: `f${i}`,
          label: `Field ${kind}`,
          kind,
          help: 'help',
          options: kind.includes('select') ? [{ value: 'a', label: 'A' }] : [],
          required: i % 2 === 0,
        })),
      }),
      home,
    ]) {
      expect(validateView(view).messages).toEqual([]);
    }
    expect(full).toMatchSnapshot('request modal');
    expect(emergency).toMatchSnapshot('emergency modal');
    expect(home).toMatchSnapshot('app home');
  });

  it('help and show messages stay within Slack limits, even with a long audit trail', () => {
    expect(valid(helpMessage().blocks!)).toEqual([]);
    const m = new Machine(
      request({
        description: 'd'.repeat(3000),
        testPlan: 't'.repeat(3000),
        impact: 'i'.repeat(3000),
        rollbackPlan: 'r'.repeat(3000),
      }),
    );
    const events = Array.from({ length: 120 }, (_, i) => ({
      ...m.events[0]!,
      seq: i + 1,
      type: 'approval_refused' as const,
      data: {
        stageIndex: 0,
        stage: 'peer_review',
        action: 'approve' as const,
        code: 'NOT_AN_APPROVER' as const,
      },
      prevHash: '',
      hash: '',
    }));
    const show = showMessage(m.state, events, m.now, null, m.policy);
    expect(show.blocks!.length).toBeLessThanOrEqual(50);
    expect(valid(show.blocks!)).toEqual([]);
    // Every event of the trail is listed, packed several to a block: none is cut to fit.
    const trail = show
      .blocks!.filter((b) => b.type === 'context')
      .flatMap((b) => ((b as ContextBlock).elements[0] as { text: string }).text.split('\n'));
    expect(trail.map((line) => Number(/^(\d+)\. /.exec(line)?.[1]))).toEqual(events.map((e) => e.seq));
  });
});
