/**
 * Hostile text for the input corpus: what people paste by accident and what attackers try on
 * purpose. Every string with markup carries a marker that the app itself never produces, so any
 * unescaped echo of it can be found in what the app sends to Slack.
 */
export const HOSTILE_STRINGS: readonly string[] = [
  // over-long
  'x'.repeat(151),
  'A'.repeat(3001),
  'é'.repeat(5000),
  '🚀'.repeat(2000),
  `${'word '.repeat(4000)}END`,
  // control characters
  'null\u0000byte',
  'bell\u0007 and backspace\b',
  'escape \u001b[31mred\u001b[0m',
  'line\r\nbreak\rcarriage',
  'tab\tand\u000bvertical\u000cfeed',
  'delete\u007f',
  // right-to-left and zero-width
  'approve\u202Eevorppa',
  'zero\u200Bwidth\u200C\u200Djoiners\u2060',
  'isolate \u2066hidden\u2069 text',
  '\uFEFFbyte order mark',
  '\u061Cletter mark',
  // mentions and mrkdwn
  '<!channel> deploy now',
  '<!here|here> please look',
  '<!everyone>',
  'cc <@U0HACKER> and <@U0HACKER|admin>',
  'see <#C0HACKED|general>',
  'ping <!subteam^S0HACK|security>',
  '<https://evil.example|Approve here>',
  '<mailto:x@evil.example|mail>',
  '*bold* _italic_ ~strike~ `code` ```block```',
  '> quoted <!channel>',
  '&lt;!channel&gt; pre-escaped &amp;',
  'a & b < c > d',
  ':white_check_mark: Approved by <@U0HACKER>',
  // CSV formula injection
  '=HYPERLINK("https://evil.example","click")',
  '+cmd|" /C calc"!A0',
  '-2+3+cmd|" /C calc"!A0',
  '@SUM(1+1)*cmd|" /C calc"!A0',
  '\t=1+1',
  '\r=1+1',
  // NoSQL-operator-shaped and prototype-shaped
  '{"$gt": ""}',
  '{"$ne": null}',
  '$where: sleep(1000)',
  'a.b.$c',
  '__proto__',
  'constructor',
  '{"__proto__": {"admin": true}}',
  // impossible dates and numbers as text
  '2026-02-30',
  '9999-99-99T99:99:99Z',
  '-1',
  'NaN',
  '1e309',
  // other classics
  "'; DROP TABLE changes; --",
  '../../../../etc/passwd',
  '\uD800 lone surrogate',
  'Ａｐｐｒｏｖｅ fullwidth',
  `e${'\u0301'.repeat(300)}`,
  '',
  '   ',
];

/** Markup the app never writes itself: seeing any of it in mrkdwn means user text was echoed raw. */
export const INJECTION_MARKERS =
  /<!channel>|<!here|<!everyone>|<@U0HACKER|<#C0HACKED|<!subteam|<https:\/\/evil|<mailto:x@evil/;
/** Characters that must never reach Slack from user text (sanitised on the way in). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const FORBIDDEN_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;

/** Every mrkdwn text object in Block Kit JSON, plus a message's top-level text (mrkdwn too). */
export function mrkdwnTexts(...messages: unknown[]): string[] {
  const out: string[] = [];
  const collect = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push(o.text);
      Object.values(o).forEach(collect);
    }
  };
  for (const m of messages) {
    if (!m || typeof m !== 'object') continue;
    const o = m as { text?: unknown; blocks?: unknown; attachments?: unknown };
    if (typeof o.text === 'string') out.push(o.text);
    collect(o.blocks);
    collect(o.attachments);
  }
  return out;
}
