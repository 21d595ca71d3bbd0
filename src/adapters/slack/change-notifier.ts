import { pendingRetroReviewers } from '../../application/current-approvers.js';
import type {
  ChangeChange,
  ChangeNotifier,
  ChangeStore,
  EffectProgress,
  RootLookup,
  SlackRef,
} from '../../application/ports.js';
import type { LoadedPolicy } from '../../config/policy.js';
import { formatChangeId } from '../../domain/change.js';
import { currentStage } from '../../domain/lifecycle.js';
import { isSlackUserId } from '../../domain/people.js';
import { type Membership, usersInRoles } from '../../domain/policy.js';
import type { Clock } from '../../domain/time.js';
import type { Logger } from '../../infra/logger.js';
import type { SlackIdentity } from '../../infra/slack/identity.js';
import { SlackApiError, type SlackSender } from '../../infra/slack/sender.js';
import type { HomePublisher } from './home-publisher.js';
import { ownMessagesWithMetadata } from './own-messages.js';
import {
  changeRootMessage,
  decisionButtons,
  directMessage,
  eventReply,
  retroButton,
  reviewButtons,
  stakeholderAnnouncement,
  toMessageModel,
} from './views/change.message.js';
import { unauthorisedReasonText } from './views/reasons.js';
import { mention, slackDate, userText } from './views/text.js';

/**
 * An event's effects on a change whose root message is not known yet: they wait for its
 * announcement (retried; the repair job announces a change its submission did not).
 */
export class NotAnnouncedYet extends Error {
  readonly permanent = false;
  constructor(changeNumber: number) {
    super(`${formatChangeId(changeNumber)} is not announced in Slack yet`);
    this.name = 'NotAnnouncedYet';
  }
}

const FALLBACK_TO_DM = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'restricted_action']);

/** The metadata type a change's root message carries: `{ change: <number> }` (read back by postedRoots). */
export const CHANGE_ROOT_EVENT = 'changegate_change';

/**
 * Messages a root lookup reads back in a channel, newest first (5 pages of 200): an announcement
 * left unrecorded by a stopped process is minutes old when its claim is taken over, and Slack posts
 * about one message a second in a channel.
 */
const ROOT_LOOKUP_PAGES = 5;

/**
 * Slack follows the record: after each stored event the change's root message is posted (first
 * time) or updated in place, the event is replied in its thread, the people concerned get a DM, and
 * their App Home is refreshed.
 */
export class SlackChangeNotifier implements ChangeNotifier {
  private readonly log: Logger;

  constructor(
    private readonly sender: SlackSender,
    private readonly changes: ChangeStore,
    private readonly policy: LoadedPolicy,
    private readonly clock: Clock,
    logger: Logger,
    private readonly home: HomePublisher,
    private readonly identity: SlackIdentity,
  ) {
    this.log = logger.child({ component: 'notifier' });
  }

  /** Where a change's root message goes first (postRoot); a requester's DM is not read back. */
  private rootChannel(originChannel: string | null): string | null {
    const channel = this.policy.policy.channels.approvals ?? originChannel;
    return channel && /^[CG][A-Z0-9]+$/.test(channel) ? channel : null;
  }

  postedRoots(): RootLookup {
    const reads = new Map<string, { startedAt: number; roots: Promise<Map<number, string>> }>();
    return async (changeNumber, originChannel, postedBy) => {
      const channel = this.rootChannel(originChannel);
      if (!channel) return null;
      let read = reads.get(channel);
      if (!read || read.startedAt <= postedBy.getTime()) {
        const fresh = { startedAt: Date.now(), roots: this.readRoots(channel) };
        reads.set(channel, fresh);
        // A failed read is tried again by the next lookup.
        fresh.roots.catch(() => reads.get(channel) === fresh && reads.delete(channel));
        read = fresh;
      }
      const ts = (await read.roots).get(changeNumber);
      if (!ts) return null;
      const ref: SlackRef = { channel, ts, permalink: null };
      ref.permalink = await this.permalink(changeNumber, ref);
      return ref;
    };
  }

  /**
   * The app's own change root messages in a channel, newest first, by change number. A channel the
   * app cannot read (no history scope, not a member) has none: the caller posts, as it would have.
   */
  private async readRoots(channel: string): Promise<Map<number, string>> {
    const found = new Map<number, string>();
    await this.identity.get(); // not knowing who the app is: try again later (it throws)
    try {
      const posted = ownMessagesWithMetadata(
        this.sender,
        this.identity,
        channel,
        CHANGE_ROOT_EVENT,
        ROOT_LOOKUP_PAGES,
      );
      for await (const m of posted) {
        const n = m.payload.change;
        if (typeof n === 'number' && Number.isSafeInteger(n) && !found.has(n)) found.set(n, m.ts);
      }
    } catch (err) {
      if (!(err instanceof SlackApiError)) throw err;
      this.log.warn('cannot read the channel back to look for unrecorded change messages', {
        channel,
        error: err.slackError,
      });
    }
    return found;
  }

  async changed(
    { state, event, membership, waitingOn, record: known, announcing }: ChangeChange,
    progress: EffectProgress = { replied: false },
  ): Promise<void> {
    if (event.type === 'approval_refused') return;
    const policy = this.policy.policy;
    const now = this.clock.now();
    const doc = known?.slack ? known : await this.changes.record(state.number);
    const message = changeRootMessage(toMessageModel(state, policy, now, waitingOn));

    let ref: SlackRef | null = doc?.slack ?? null;
    if (!ref) {
      // Only the holder of the announcement's claim posts the root message: once, in its time.
      if (!announcing) throw new NotAnnouncedYet(state.number);
      // Without an approvals channel, a pipeline's change goes to whoever created its token.
      const owner = isSlackUserId(state.requester)
        ? state.requester
        : (state.raisedVia?.tokenCreator ?? state.requester);
      ref = await this.postRoot(state.number, doc?.originChannel ?? null, owner, message, announcing.until);
    } else {
      await this.sender.call('chat.update', {
        channel: ref.channel,
        ts: ref.ts,
        text: message.text,
        blocks: message.blocks,
      });
    }
    const reply = progress.replied ? null : eventReply(state, event, waitingOn);
    if (reply) {
      await this.sender.call('chat.postMessage', {
        channel: ref.channel,
        thread_ts: ref.ts,
        text: reply.text,
        unfurl_links: false,
        unfurl_media: false,
      });
    }
    if (progress.replied) return; // a retry: the DMs went out with the reply's first delivery
    progress.replied = true;
    // Best effort from here: DMs, announcements and App Home never make the effect fail (a retry
    // would repeat them).
    await this.directMessages(state, event, ref, membership);
    await this.announce(state, event, ref);
    await this.home
      .refresh([
        state.requester,
        event.actor,
        ...waitingOn,
        ...state.decisions.map((d) => d.by),
        ...(state.request.emergencyApprover ? [state.request.emergencyApprover] : []),
      ])
      .catch((err) => this.log.warn('could not refresh App Home', { changeId: state.number, err }));
  }

  private async postRoot(
    changeNumber: number,
    originChannel: string | null,
    requester: string,
    message: { text: string; blocks: unknown[] },
    claimedUntil: Date,
  ): Promise<SlackRef> {
    const preferred = this.policy.policy.channels.approvals ?? originChannel ?? requester;
    // The change's number rides in the message's metadata: a takeover finds the post (postedRoots).
    const metadata = { event_type: CHANGE_ROOT_EVENT, event_payload: { change: changeNumber } };
    // Over while the claim lasts, so the post is in the channel before anyone may take it over;
    // one that waited too long behind Slack's pacing is not sent (the repair takes over).
    const settleBy = claimedUntil.getTime();
    let res: { channel?: string; ts?: string };
    try {
      res = await this.sender.call<{ channel?: string; ts?: string }>(
        'chat.postMessage',
        {
          channel: preferred,
          text: message.text,
          blocks: message.blocks,
          unfurl_links: false,
          metadata,
        },
        { settleBy },
      );
    } catch (err) {
      if (!(err instanceof SlackApiError) || !FALLBACK_TO_DM.has(err.slackError) || preferred === requester)
        throw err;
      this.log.warn("cannot post in the approvals channel; using the requester's DM", {
        changeId: changeNumber,
        channel: preferred,
        error: err.slackError,
      });
      res = await this.sender.call<{ channel?: string; ts?: string }>(
        'chat.postMessage',
        {
          channel: requester,
          text: message.text,
          blocks: message.blocks,
          unfurl_links: false,
          metadata,
        },
        { settleBy },
      );
    }
    // Recorded at once, before any other Slack call: the message exists, and a process stopping now
    // should not leave it unknown (a takeover would have to find it in the channel).
    const ref: SlackRef = { channel: res.channel!, ts: res.ts!, permalink: null };
    await this.changes.setSlackRef(changeNumber, ref);
    ref.permalink = await this.permalink(changeNumber, ref);
    if (ref.permalink) await this.changes.setSlackRef(changeNumber, ref);
    return ref;
  }

  /** A message's permalink; null when Slack would not give it (best effort). */
  private async permalink(changeNumber: number, ref: SlackRef): Promise<string | null> {
    try {
      const link = await this.sender.call<{ ok: boolean; permalink?: string }>('chat.getPermalink', {
        channel: ref.channel,
        message_ts: ref.ts,
      });
      return link.permalink ?? null;
    } catch (err) {
      this.log.warn('could not get a permalink', { changeId: changeNumber, err });
      return null;
    }
  }

  private async dm(
    userId: string,
    text: string,
    permalink: string | null,
    buttons: ReturnType<typeof decisionButtons> = [],
  ) {
    if (!isSlackUserId(userId)) return; // a change raised by a pipeline has no one to DM
    const msg = directMessage(text, permalink, buttons);
    try {
      await this.sender.call('chat.postMessage', {
        channel: userId,
        text: msg.text,
        blocks: msg.blocks,
        unfurl_links: false,
      });
    } catch (err) {
      this.log.warn('could not send a DM', { userId, err });
    }
  }

  /** The type's stakeholder channels hear what the type says they should (see stakeholderAnnouncement). */
  private async announce(
    state: ChangeChange['state'],
    event: ChangeChange['event'],
    ref: SlackRef,
  ): Promise<void> {
    const channels = this.policy.policy.types[state.type]?.announce ?? [];
    if (channels.length === 0) return;
    const msg = stakeholderAnnouncement(state, event, ref.permalink);
    if (!msg) return;
    for (const channel of channels) {
      await this.sender
        .call('chat.postMessage', { channel, text: msg.text, unfurl_links: false })
        .catch((err) =>
          this.log.warn('could not post a stakeholder announcement', {
            changeId: state.number,
            channel,
            err,
          }),
        );
    }
  }

  private async directMessages(
    state: ChangeChange['state'],
    event: ChangeChange['event'],
    ref: SlackRef,
    membership: Membership,
  ): Promise<void> {
    const id = formatChangeId(state.number);
    const title = `*${id}* “${userText(state.request.title, 150)}”`;
    const link = ref.permalink;
    switch (event.type) {
      case 'submitted': {
        const stage = currentStage(state);
        await this.dm(
          state.requester,
          event.data.autoApproved
            ? `Your change ${title} is recorded and pre-approved by policy. Record the deployment when it is done: \`/change deployed ${id}\`.`
            : `Your change ${title} is submitted. It now waits for *${userText(stage?.name ?? 'approval', 80)}*.`,
          link,
        );
        if (
          state.emergency &&
          state.request.emergencyApprover &&
          stage &&
          state.currentStage !== null &&
          state.request.emergencyApprover !== state.requester
        ) {
          await this.dm(
            state.request.emergencyApprover,
            `🚨 ${mention(state.requester)} named you as the approver of emergency change ${title}.\n*Why:* ${userText(state.request.justification, 1500)}`,
            link,
            decisionButtons(state.number, state.currentStage, stage.name),
          );
        }
        return;
      }
      case 'stage_approved':
        if (state.status === 'approved') {
          await this.dm(
            state.requester,
            `🎉 ${title} is approved. Deploy it and record the deployment: \`/change deployed ${id}\`.`,
            link,
          );
        }
        return;
      case 'rejected':
        await this.dm(
          state.requester,
          `❌ ${title} was rejected by ${mention(event.actor)} at *${userText(event.data.stageName, 80)}*: ${userText(event.data.reason, 1500)}`,
          link,
        );
        return;
      case 'freeze_exception_granted':
        if (event.actor !== state.requester) {
          await this.dm(
            state.requester,
            `🧊 ${mention(event.actor)} granted ${title} an exception to *${userText(event.data.freeze, 80)}*.`,
            link,
          );
        }
        return;
      case 'deployment_recorded': {
        if (event.data.unauthorised) await this.alertUnauthorised(state, event, ref, membership);
        if (
          state.retro.dueAt &&
          !state.retro.submittedAt &&
          event.data.production &&
          event.data.status === 'succeeded'
        ) {
          await this.dm(
            state.requester,
            `📝 ${title} is deployed. Its retrospective is due ${slackDate(state.retro.dueAt)}: what changed, why, the approval received, the root cause and follow-ups.`,
            link,
            [retroButton(state.number)],
          );
        }
        return;
      }
      case 'retro_submitted':
      case 'retro_answered': {
        // The reviewers' turn: each gets the buttons (never the requester, who cannot review).
        const reviewers = pendingRetroReviewers(state, this.policy.policy, membership);
        for (const u of reviewers)
          await this.dm(
            u,
            `🔎 ${event.type === 'retro_answered' ? 'The requester answered your questions on' : 'Please review the retrospective of'} emergency change ${title}: accept it, or send it back with questions.`,
            link,
            reviewButtons(state.number, 'pending'),
          );
        return;
      }
      case 'retro_reviewed':
        if (event.data.outcome === 'questions')
          await this.dm(
            state.requester,
            `❓ ${mention(event.actor)} sent the retrospective of ${title} back with questions: ${userText(event.data.note, 1500)}`,
            link,
            reviewButtons(state.number, 'questions'),
          );
        return;
      default:
        return;
    }
  }

  /** An unauthorised deployment is posted to the approvals channel and sent to the security role. */
  private async alertUnauthorised(
    state: ChangeChange['state'],
    event: ChangeChange['event'],
    ref: SlackRef,
    membership: Membership,
  ) {
    if (event.type !== 'deployment_recorded') return;
    const policy = this.policy.policy;
    const id = formatChangeId(state.number);
    const reasons = event.data.reasons.map((r) => unauthorisedReasonText(r, state.status));
    const text = `⚠️ *Unauthorised deployment* of ${id} “${userText(state.request.title, 150)}” to *${userText(event.data.environment, 40)}* reported by ${
      event.actor.startsWith('pipeline:')
        ? `pipeline *${userText(event.actor.slice(9), 80)}*`
        : mention(event.actor)
    }: ${reasons.join('; ')}.`;
    const channels = new Set([
      ref.channel,
      ...(policy.channels.approvals ? [policy.channels.approvals] : []),
      ...(policy.channels.security ? [policy.channels.security] : []),
    ]);
    for (const channel of channels) {
      await this.sender
        .call('chat.postMessage', {
          channel,
          text: `${text}${ref.permalink ? ` <${ref.permalink}|Open the change>` : ''}`,
          unfurl_links: false,
        })
        .catch((err) => this.log.warn('could not post the unauthorised-deployment alert', { channel, err }));
    }
    for (const user of usersInRoles(policy, membership, policy.access.securityAlerts)) {
      await this.dm(user, text, ref.permalink);
    }
  }
}
