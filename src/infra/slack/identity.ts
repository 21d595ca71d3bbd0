import type { Logger } from '../logger.js';
import { SlackApiError, type SlackSender } from './sender.js';

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

export class SlackAuthError extends Error {
  readonly code = 'SLACK_AUTH_REJECTED';
}

const FATAL_AUTH = new Set([
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
  'not_allowed_token_type',
]);

/** auth.test at start-up: a rejected token stops the start; an unreachable Slack only warns (it is retried later). */
export async function checkBotToken(identity: SlackIdentity, logger: Logger): Promise<BotIdentity | null> {
  try {
    const me = await Promise.race([
      identity.get(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('auth.test timed out after 5 s')), 5_000).unref(),
      ),
    ]);
    logger.info('connected to Slack', { component: 'slack', team: me.teamId, botUserId: me.botUserId });
    return me;
  } catch (err) {
    if (err instanceof SlackApiError && FATAL_AUTH.has(err.slackError)) {
      throw new SlackAuthError(
        `Slack rejected SLACK_BOT_TOKEN (${err.slackError}). Copy the Bot User OAuth Token again from "OAuth & Permissions".`,
      );
    }
    logger.warn(
      'Slack is not reachable right now; Changegate starts anyway and retries on the next request',
      { component: 'slack', err: (err as Error).message },
    );
    return null;
  }
}
