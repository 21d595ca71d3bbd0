import { currentApprovers } from '../../application/current-approvers.js';
import type { ChangeRecord, Deps } from '../../application/ports.js';
import type { DigestItem, ReminderNotifier } from '../../application/reminder-sweep.js';
import type { ChangeState } from '../../domain/lifecycle.js';
import { groupsOf } from '../../domain/policy.js';
import type { Reminder } from '../../domain/reminders.js';
import type { SlackSender } from '../../infra/slack/sender.js';
import { digestMessage, reminderMessage } from './views/reminder.messages.js';

/** Posts reminders through the rate-limited sender: DMs to people, replies in the change's thread. */
export class SlackReminderNotifier implements ReminderNotifier {
  constructor(
    private readonly deps: Deps,
    private readonly sender: SlackSender,
  ) {}

  async send(r: Reminder, change: { state: ChangeState; record: ChangeRecord }, _now: Date): Promise<void> {
    const { state, record: doc } = change;
    const policy = this.deps.policy.policy;
    const stage = state.stages[r.stageIndex ?? state.currentStage ?? -1];
    const membership = await this.deps.directory.membership();
    const msg = reminderMessage(r, state, {
      permalink: doc.slack?.permalink ?? null,
      waitingOn: currentApprovers(state, policy, membership),
      groups: stage ? groupsOf(policy, stage.approvers) : [],
    });
    if (msg.user) {
      await this.sender.call('chat.postMessage', {
        channel: msg.user,
        text: msg.text,
        blocks: msg.blocks,
        unfurl_links: false,
      });
    } else if (doc.slack) {
      await this.sender.call('chat.postMessage', {
        channel: doc.slack.channel,
        thread_ts: doc.slack.ts,
        text: msg.text,
        unfurl_links: false,
      });
    } else {
      throw new Error(`CR-${state.number} has no Slack thread yet`);
    }
  }

  async sendDigest(userId: string, items: DigestItem[]): Promise<void> {
    const msg = digestMessage(items);
    await this.sender.call('chat.postMessage', {
      channel: userId,
      text: msg.text,
      blocks: msg.blocks,
      unfurl_links: false,
    });
  }
}
