import type { SlackIdentity } from '../../infra/slack/identity.js';
import type { SlackSender } from '../../infra/slack/sender.js';

interface HistoryMessage {
  ts?: string;
  bot_id?: string;
  app_id?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/**
 * The app's own messages in a channel carrying message metadata of `eventType`, newest first, as
 * conversations.history gives them (at most `maxPages` pages of 200). Another app's or a person's
 * message is skipped whatever its metadata says. Slack's errors are thrown to the caller.
 */
export async function* ownMessagesWithMetadata(
  sender: SlackSender,
  identity: SlackIdentity,
  channel: string,
  eventType: string,
  maxPages: number,
): AsyncGenerator<{ ts: string; payload: Record<string, unknown> }> {
  const me = await identity.get();
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const res = await sender.call<{
      messages?: HistoryMessage[];
      has_more?: boolean;
      response_metadata?: { next_cursor?: string };
    }>('conversations.history', { channel, limit: 200, include_all_metadata: true, cursor });
    for (const m of res.messages ?? []) {
      if (m.metadata?.event_type !== eventType || !m.ts) continue;
      if (m.bot_id !== me.botId && (!me.appId || m.app_id !== me.appId)) continue; // not ours
      yield { ts: m.ts, payload: m.metadata.event_payload ?? {} };
    }
    cursor = res.response_metadata?.next_cursor || undefined;
    if (!res.has_more || !cursor) return;
  }
}
