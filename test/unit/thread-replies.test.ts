import { describe, expect, it } from 'vitest';
import { eventReply } from '../../src/adapters/slack/views/change.message.js';
import type { ChangeEvent } from '../../src/domain/lifecycle.js';
import { deployment, Machine, request } from '../support/domain-fixtures.js';
import { ALICE, BOB, CAROL, DAVE } from '../support/people.js';

/** The text of the thread reply to the machine's last event, as the channel reads it. */
const replyTo = (m: Machine, e: ChangeEvent = m.events.at(-1)!, waitingOn: string[] = []) =>
  eventReply(m.state, e, waitingOn)?.text ?? null;

const approvedNormal = () => {
  const m = new Machine(request());
  m.do({ kind: 'approve', stageIndex: 0, actor: BOB, comment: 'LGTM <!channel>' });
  m.do({ kind: 'approve', stageIndex: 1, actor: CAROL });
  return m;
};

describe('thread replies', () => {
  const cases: [string, () => Machine, string[], (string | RegExp)[], (string | RegExp)[]][] = [
    [
      'a submission waiting for review',
      () => new Machine(request()),
      [BOB],
      ['<@U0123ALICE> submitted CR-1 for approval', 'Next: *Peer review* (<@U0123BOB>)'],
      [],
    ],
    [
      'a pre-approved standard change',
      () => new Machine(request({ type: 'standard' })),
      [],
      ['a pre-approved Standard change: approved by policy'],
      ['Next:'],
    ],
    [
      'a stage approved, the next one named, user text escaped',
      () => {
        const m = new Machine(request());
        m.do({ kind: 'approve', stageIndex: 0, actor: BOB, comment: 'LGTM <!channel>' });
        return m;
      },
      [CAROL],
      [
        '<@U0123BOB> approved *Peer review*: LGTM &lt;!channel&gt;',
        'Next: *Engineering lead approval* (<@U0123CAROL>)',
      ],
      ['<!channel>'],
    ],
    [
      'the last stage approved',
      approvedNormal,
      [],
      ['approved *Engineering lead approval*.', 'CR-1 is fully approved and ready to deploy'],
      ['Next:'],
    ],
    [
      'a rejection with its reason',
      () => {
        const m = new Machine(request());
        m.do({ kind: 'reject', stageIndex: 0, actor: BOB, reason: 'No rollback *tested*' });
        return m;
      },
      [],
      ['❌ <@U0123BOB> rejected CR-1 at *Peer review*: No rollback *tested*'],
      [],
    ],
    [
      'a cancellation without a reason',
      () => {
        const m = new Machine(request());
        m.do({ kind: 'cancel', actor: ALICE, reason: '' });
        return m;
      },
      [],
      ['🚫 <@U0123ALICE> cancelled CR-1.'],
      [],
    ],
    [
      'a deployment from Slack, then verification asked of the requester',
      () => {
        const m = approvedNormal();
        m.do(deployment(ALICE));
        return m;
      },
      [],
      ['🚀 <@U0123ALICE> deployed to *production*.', 'Next: post-deployment verification by <@U0123ALICE>'],
      ['Unauthorised'],
    ],
    [
      'an unapproved deployment from a pipeline, flagged with its reason',
      () => {
        const m = new Machine(request());
        m.do(
          deployment('pipeline:ci', {
            source: 'api',
            commit: 'abc1234',
            pipelineUrl: 'https://ci.example.com/1',
          }),
        );
        return m;
      },
      [],
      [
        'Pipeline *ci* deployed to *production* (commit `abc1234`) <https://ci.example.com/1|pipeline run>.',
        '⚠️ *Unauthorised deployment*: the change is pending approval, not approved.',
      ],
      ['Next: post-deployment'],
    ],
    [
      'a failed deployment',
      () => {
        const m = approvedNormal();
        m.do(deployment(ALICE, { status: 'failed' }));
        return m;
      },
      [],
      ['reported a *failed* deployment to *production*'],
      ['Next:'],
    ],
    [
      'a rollback with its issues',
      () => {
        const m = approvedNormal();
        m.do(deployment(ALICE));
        m.do({ kind: 'verify', actor: ALICE, outcome: 'rolled_back', issues: 'Error rate 7%' });
        return m;
      },
      [],
      ['↩️ <@U0123ALICE> rolled the change back: Error rate 7%'],
      [],
    ],
    [
      'an emergency retrospective overdue, the requester named',
      () => {
        const m = new Machine(request({ type: 'emergency', emergencyApprover: DAVE }));
        m.do({ kind: 'approve', stageIndex: 0, actor: DAVE });
        m.do(deployment(ALICE));
        m.advanceHours(49);
        m.do({ kind: 'flag_retro_overdue' });
        return m;
      },
      [],
      ['The retrospective for CR-1 is overdue', '<@U0123ALICE>, please write it now.'],
      [],
    ],
  ];

  it.each(cases)('%s', (_name, make, waitingOn, contains, excludes) => {
    const text = replyTo(make(), undefined, waitingOn);
    expect(text).not.toBeNull();
    for (const c of contains) expect(text).toContain(c);
    for (const x of excludes) expect(text).not.toContain(x);
  });

  it('a refused attempt is never replied in the thread', () => {
    const m = new Machine(request());
    const e = m.record(
      {
        type: 'approval_refused',
        slot: null,
        data: { stageIndex: 0, stage: 'peer_review', action: 'approve', code: 'SELF_APPROVAL_FORBIDDEN' },
      },
      ALICE,
    );
    expect(replyTo(m, e)).toBeNull();
  });
});
