import { isSlackUserId, pipelineName } from '../../../domain/people.js';

/**
 * Text for Block Kit: user-typed text is escaped before it enters mrkdwn (no `<!channel>`, fake
 * links or mentions) and shortened to Slack's limits with an ellipsis.
 */
export const escapeMrkdwn = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Shortens to at most `max` characters (code points, not UTF-16 units), ending with an ellipsis. */
export function truncate(s: string, max: number): string {
  const chars = Array.from(s);
  if (chars.length <= max) return s;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** Escaped and shortened user text, safe inside mrkdwn. Escaping can lengthen text, so cut after escaping. */
export function userText(s: string, max: number): string {
  const escaped = escapeMrkdwn(s);
  if (Array.from(escaped).length <= max) return escaped;
  // Cut the raw text and escape again so an entity is never split in half.
  let cut = Array.from(s).slice(0, max - 1);
  while (Array.from(escapeMrkdwn(cut.join(''))).length > max - 1)
    cut = cut.slice(0, -Math.max(1, Math.ceil(cut.length / 20)));
  return `${escapeMrkdwn(cut.join(''))}…`;
}

/** plain_text objects are never parsed for mentions; they only need the length limit. */
export function plain(s: string, max = 3000) {
  return { type: 'plain_text' as const, text: truncate(s || ' ', max), emoji: true };
}

export function mrkdwn(text: string) {
  return { type: 'mrkdwn' as const, text: truncate(text || ' ', 3000) };
}

/** A date every reader sees in their own time zone. */
export function slackDate(d: Date, format = '{date_short_pretty} {time}'): string {
  const unix = Math.floor(d.getTime() / 1000);
  return `<!date^${unix}^${format}|${d.toISOString().replace('T', ' ').slice(0, 16)} UTC>`;
}

/** A person as a mention; a pipeline (`pipeline:<token>`) by its token's name. */
export function mention(actor: string): string {
  if (isSlackUserId(actor)) return `<@${actor}>`;
  const pipeline = pipelineName(actor);
  return pipeline !== null ? `pipeline *${escapeMrkdwn(pipeline)}*` : escapeMrkdwn(actor);
}
export const groupMention = (groupId: string) => `<!subteam^${groupId}>`;

/** Splits long user text into escaped chunks that each fit a section block. */
export function chunks(s: string, size = 2900): string[] {
  const out: string[] = [];
  const chars = Array.from(s);
  for (let i = 0; i < chars.length; i += size) out.push(escapeMrkdwn(chars.slice(i, i + size).join('')));
  return out.length ? out : [''];
}
