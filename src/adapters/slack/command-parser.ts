import { parseChangeId } from '../../domain/change.js';
import { sanitizeLine } from '../../domain/text.js';
import { userText } from './views/text.js';

export type ChangeCommand =
  | { kind: 'new'; type: string | null }
  | { kind: 'help' }
  | { kind: 'list'; scope: 'mine' | 'pending' | 'open' }
  | { kind: 'show'; n: number }
  | { kind: 'deployed'; n: number; environment: string | null; commit: string | null }
  | { kind: 'verify'; n: number }
  | { kind: 'retro'; n: number }
  | { kind: 'cancel'; n: number; reason: string }
  | { kind: 'token'; action: 'create'; name: string; scopes: string[]; environments: string[] }
  | { kind: 'token'; action: 'list' }
  | { kind: 'token'; action: 'revoke'; name: string }
  | { kind: 'meeting'; n: number }
  | { kind: 'github'; login: string | null }
  | { kind: 'delegate'; action: 'set'; to: string; until: string; from: string | null }
  | { kind: 'delegate'; action: 'show' }
  | { kind: 'delegate'; action: 'cancel' }
  | { kind: 'invalid'; message: string };

/**
 * `/change` has `should_escape: true` (so a mention arrives as `<@U…|name>`): free text is turned
 * back into what the person typed (`@name`, `#channel`, the link).
 */
export function unescapeSlack(text: string): string {
  return text
    .replace(/<@([UW][A-Z0-9]+)(?:\|([^>]*))?>/g, (_, id: string, name?: string) => `@${name || id}`)
    .replace(/<#([CG][A-Z0-9]+)(?:\|([^>]*))?>/g, (_, id: string, name?: string) => `#${name || id}`)
    .replace(
      /<!([a-z]+)(?:\^[^|>]*)?(?:\|([^>]*))?>/g,
      (_, what: string, label?: string) => label || `@${what}`,
    )
    .replace(/<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

const DELEGATE_USAGE =
  'Usage: `/change delegate @someone until 2026-12-24 [from 2026-12-20]`, `/change delegate` (yours), `/change delegate cancel`';
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseDelegate(words: string[]): ChangeCommand {
  if (words.length === 0) return { kind: 'delegate', action: 'show' };
  if (words.length === 1 && ['cancel', 'stop', 'end'].includes(words[0]!.toLowerCase()))
    return { kind: 'delegate', action: 'cancel' };
  const mention = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(words[0]!);
  const to =
    mention?.[1] ??
    (/^[UW][A-Z0-9]{2,}$/.test(words[0]!)
      ? words[0]!
      : /^[^\s@<>]+@[^\s@<>]+$/.test(words[0]!)
        ? words[0]!.toLowerCase()
        : null);
  if (!to) return { kind: 'invalid', message: `Whom? Mention them. ${DELEGATE_USAGE}` };
  let until: string | null = null;
  let from: string | null = null;
  for (let i = 1; i < words.length; i += 2) {
    const key = words[i]!.toLowerCase();
    const value = words[i + 1] ?? '';
    if (!DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
      return { kind: 'invalid', message: `Dates are written 2026-12-24. ${DELEGATE_USAGE}` };
    if (key === 'until' || key === 'to') until = value;
    else if (key === 'from' || key === 'since') from = value;
    else return { kind: 'invalid', message: DELEGATE_USAGE };
  }
  if (!until) return { kind: 'invalid', message: `Until when? ${DELEGATE_USAGE}` };
  return { kind: 'delegate', action: 'set', to, until, from };
}

const MAX_TEXT = 2000;

/** Parses the text after `/change`. Unknown input yields `invalid`, which shows the help. */
export function parseChangeCommand(raw: string, typeKeys: readonly string[]): ChangeCommand {
  const escaped = sanitizeLine(raw ?? '').slice(0, MAX_TEXT);
  if (!escaped) return { kind: 'new', type: null };
  const [escapedHead = '', ...escapedRest] = escaped.split(' ');
  if (escapedHead.toLowerCase() === 'delegate') return parseDelegate(escapedRest);
  const text = unescapeSlack(escaped);
  const [head = '', ...rest] = text.split(' ');
  const verb = head.toLowerCase();
  const needId = (usage: string): number | { kind: 'invalid'; message: string } => {
    const n = rest[0] ? parseChangeId(rest[0]) : null;
    return n ?? { kind: 'invalid', message: `Which change? Usage: \`${usage}\`` };
  };
  switch (verb) {
    case 'help':
    case '?':
      return { kind: 'help' };
    case 'new':
    case 'request': {
      const t = rest[0]?.toLowerCase() ?? null;
      if (t && !typeKeys.includes(t))
        return {
          kind: 'invalid',
          message: `Unknown change type "${userText(t, 40)}". Types: ${typeKeys.join(', ')}.`,
        };
      return { kind: 'new', type: t };
    }
    case 'emergency':
    case 'hotfix':
      return { kind: 'new', type: typeKeys.includes('emergency') ? 'emergency' : null };
    case 'list': {
      const scope = (rest[0] ?? 'mine').toLowerCase();
      if (scope === 'mine' || scope === 'pending' || scope === 'open') return { kind: 'list', scope };
      return { kind: 'invalid', message: 'Usage: `/change list [mine|pending|open]`' };
    }
    case 'show': {
      const n = needId('/change show CR-42');
      return typeof n === 'number' ? { kind: 'show', n } : n;
    }
    case 'deployed':
    case 'deploy': {
      const n = needId('/change deployed CR-42 [environment] [commit]');
      if (typeof n !== 'number') return n;
      const environment = rest[1] && /^[A-Za-z0-9._-]{1,40}$/.test(rest[1]) ? rest[1] : null;
      if (rest[1] && !environment)
        return { kind: 'invalid', message: 'The environment must be a short name such as production.' };
      const commit = rest[2] && /^[A-Za-z0-9._/+:@-]{1,140}$/.test(rest[2]) ? rest[2] : null;
      if (rest[2] && !commit)
        return { kind: 'invalid', message: 'The commit must be a hash or tag without spaces.' };
      return { kind: 'deployed', n, environment, commit };
    }
    case 'verify': {
      const n = needId('/change verify CR-42');
      return typeof n === 'number' ? { kind: 'verify', n } : n;
    }
    case 'github': {
      if (rest.length === 0) return { kind: 'github', login: null };
      if ((rest[0] ?? '').toLowerCase() === 'link' && rest[1] && rest.length === 2)
        return { kind: 'github', login: rest[1].replace(/^@/, '') };
      return {
        kind: 'invalid',
        message: 'Usage: `/change github link <your GitHub login>`, `/change github`',
      };
    }
    case 'meeting':
    case 'cab': {
      const n = needId('/change meeting CR-42');
      return typeof n === 'number' ? { kind: 'meeting', n } : n;
    }
    case 'retro':
    case 'retrospective': {
      const n = needId('/change retro CR-42');
      return typeof n === 'number' ? { kind: 'retro', n } : n;
    }
    case 'cancel': {
      const n = needId('/change cancel CR-42 [reason]');
      return typeof n === 'number'
        ? { kind: 'cancel', n, reason: rest.slice(1).join(' ').slice(0, 1000) }
        : n;
    }
    case 'token': {
      const action = (rest[0] ?? '').toLowerCase();
      const name = rest[1] ?? '';
      const usage =
        'Usage: `/change token create <name> [scopes] env=<environments>`, `/change token list`, `/change token revoke <name>` (names: letters, digits, . _ -; scopes: changes:read changes:write deployments:write audit:read, or all; environments: e.g. env=staging,production)';
      if (action === 'list') return { kind: 'token', action: 'list' };
      if (!/^[A-Za-z0-9._-]{1,40}$/.test(name)) return { kind: 'invalid', message: usage };
      if (action === 'revoke') return { kind: 'token', action, name };
      if (action === 'create') {
        const words = rest.slice(2).map((x) => x.toLowerCase());
        const envWords = words.filter((w) => w.startsWith('env='));
        const environments = envWords.flatMap((w) => w.slice(4).split(',')).filter(Boolean);
        if (environments.some((e) => !/^[a-z0-9._-]{1,40}$/.test(e)))
          return {
            kind: 'invalid',
            message: 'Environments are short names such as `env=staging,production`.',
          };
        return {
          kind: 'token',
          action,
          name,
          scopes: words.filter((w) => !w.startsWith('env=')),
          environments,
        };
      }
      return { kind: 'invalid', message: usage };
    }
    default:
      return { kind: 'invalid', message: `I don't know "${userText(head, 40)}".` };
  }
}
