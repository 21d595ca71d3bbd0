import type { SlackSender } from './sender.js';

export interface BotIdentity {
  teamId: string;
  /** The Enterprise Grid organisation, when installed in one. */
  enterpriseId: string | null;
  /** The Slack app (requests for another app are not ours). */
  appId: string | null;
  botUserId: string;
  botId: string;
  url: string;
}

/**
 * Who the bot is (auth.test), cached once it succeeds. A failure is not cached, so a Slack outage at
 * start-up heals by itself on the next request instead of poisoning every later event.
 */
export class SlackIdentity {
  private cached: Promise<BotIdentity> | null = null;

  constructor(private readonly sender: SlackSender) {}

  get(): Promise<BotIdentity> {
    this.cached ??= this.sender
      .call<{
        team_id?: string;
        enterprise_id?: string;
        app_id?: string;
        user_id?: string;
        bot_id?: string;
        url?: string;
      }>('auth.test', {})
      .then((r) => ({
        teamId: r.team_id ?? '',
        enterpriseId: r.enterprise_id || null,
        appId: r.app_id || null,
        botUserId: r.user_id ?? '',
        botId: r.bot_id ?? '',
        url: r.url ?? '',
      }))
      .catch((err: unknown) => {
        this.cached = null;
        throw err;
      });
    return this.cached;
  }
}
