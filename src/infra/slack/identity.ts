import type { SlackSender } from './sender.js';

export interface BotIdentity {
  teamId: string;
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
      .call<{ team_id?: string; user_id?: string; bot_id?: string; url?: string }>('auth.test', {})
      .then((r) => ({
        teamId: r.team_id ?? '',
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
