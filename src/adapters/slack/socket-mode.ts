import { setTimeout as sleep } from 'node:timers/promises';
import type { App, SocketModeReceiver } from '@slack/bolt';
import type { Logger } from '../../infra/logger.js';

/** Slack errors for which retrying with the same app-level token cannot help. */
const TOKEN_ERRORS = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'not_allowed_token_type',
  'missing_scope',
  'user_removed_from_team',
  'team_disabled',
]);

export type SocketState = 'connecting' | 'connected' | 'disconnected' | 'failed' | 'stopped';

export interface SocketModeLink {
  state(): SocketState;
  /** What Slack said the last time a connection could not be opened, in words. */
  lastProblem(): string | null;
}

/** `xapp-…1a2b`: enough to tell which token, never the token. */
export function tokenHint(token: string): string {
  return `${token.slice(0, 5)}…${token.slice(-4)}`;
}

/** Why a connection could not be opened, in one sentence naming the token and what Slack said. */
export function socketProblem(err: unknown, appToken: string): { text: string; retry: boolean } {
  const e = err as {
    code?: string;
    data?: { error?: string; needed?: string };
    original?: { cause?: { code?: string }; message?: string };
    message?: string;
  };
  const which = `the app-level token in SLACK_APP_TOKEN (${tokenHint(appToken)})`;
  const slackError = e.data?.error;
  if (slackError) {
    const retry = !TOKEN_ERRORS.has(slackError);
    const fix = retry
      ? 'retrying'
      : 'create an app-level token with the connections:write scope (your app → Basic Information → App-Level Tokens), set SLACK_APP_TOKEN to it and restart';
    return {
      text: `Socket Mode could not connect: Slack answered apps.connections.open with "${slackError}"${e.data?.needed ? ` (needs ${e.data.needed})` : ''} for ${which}; ${fix}.`,
      retry,
    };
  }
  const cause = e.original?.cause?.code ?? e.original?.message ?? e.message ?? String(err);
  return {
    text: `Socket Mode could not connect: Slack could not be reached (${cause}) with ${which}; retrying.`,
    retry: true,
  };
}

/**
 * Opens the Socket Mode connection in the background: the app serves (health, API) meanwhile, and
 * `/readyz` says Slack is not connected. A connection that cannot be opened is logged with the token
 * and Slack's answer; a bad token is not retried (it needs a restart with another), anything else is
 * retried with backoff until `stopping` aborts, which ends the wait at once.
 */
export function connectSocketMode(
  bolt: App,
  receiver: SocketModeReceiver,
  appToken: string,
  /** apps.connections.open with the app-level token: asked first, so a failure is ours to report. */
  openConnection: () => Promise<unknown>,
  logger: Logger,
  stopping: AbortSignal,
): SocketModeLink {
  const log = logger.child({ component: 'socket-mode' });
  let state: SocketState = 'connecting';
  let problem: string | null = null;
  const client = receiver.client;
  client.on('connected', () => {
    state = 'connected';
    problem = null;
    log.info('Socket Mode connected');
  });
  client.on('reconnecting', () => {
    if (state !== 'stopped') state = 'connecting';
  });
  client.on('disconnected', () => {
    if (state === 'connected') {
      state = 'disconnected';
      log.warn('Socket Mode disconnected; reconnecting');
    }
  });
  stopping.addEventListener('abort', () => {
    state = 'stopped';
  });

  void (async () => {
    for (let attempt = 1; !stopping.aborted; attempt++) {
      try {
        // Bolt's client retries some failures by itself, silently and past a stop: the first
        // question is asked here, so what Slack says is reported and a stop ends the wait.
        await openConnection();
        if (stopping.aborted) return;
        await bolt.start();
        return;
      } catch (err) {
        if (stopping.aborted) return;
        const p = socketProblem(err, appToken);
        problem = p.text;
        log.error(p.text);
        if (!p.retry) {
          state = 'failed';
          return;
        }
        state = 'connecting';
        const waitMs = Math.min(60_000, 2_000 * 2 ** Math.min(attempt - 1, 5));
        // Ends at once when the app stops (the abort rejects the wait).
        await sleep(waitMs, undefined, { signal: stopping }).catch(() => undefined);
      }
    }
  })();

  return { state: () => state, lastProblem: () => problem };
}
