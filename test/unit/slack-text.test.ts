import { describe, expect, it } from 'vitest';
import { parseChangeCommand } from '../../src/adapters/slack/command-parser.js';
import { escapeMrkdwn, truncate, userText } from '../../src/adapters/slack/views/text.js';

const TYPES = ['standard', 'normal', 'emergency', 'infrastructure'];

describe('mrkdwn escaping and truncation', () => {
  it('escapes &, < and > only, & first', () => {
    expect(escapeMrkdwn('<!channel> & <@U1> <https://evil|Approve>')).toBe(
      '&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://evil|Approve&gt;',
    );
  });

  it('shortens with an ellipsis, by characters not UTF-16 units, without splitting an escape', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('😀😀😀', 2)).toBe('😀…');
    const t = userText('<'.repeat(100), 20);
    expect(Array.from(t).length).toBeLessThanOrEqual(20);
    expect(t).toMatch(/^(&lt;)+…$/);
  });
});

describe('/change subcommands', () => {
  it.each([
    ['', { kind: 'new', type: null }],
    ['emergency', { kind: 'new', type: 'emergency' }],
    ['new infrastructure', { kind: 'new', type: 'infrastructure' }],
    ['help', { kind: 'help' }],
    ['list', { kind: 'list', scope: 'mine' }],
    ['list pending', { kind: 'list', scope: 'pending' }],
    ['show CR-42', { kind: 'show', n: 42 }],
    ['show #7', { kind: 'show', n: 7 }],
    ['deployed cr-42 staging abc123', { kind: 'deployed', n: 42, environment: 'staging', commit: 'abc123' }],
    ['verify CR-3', { kind: 'verify', n: 3 }],
    ['retro CR-3', { kind: 'retro', n: 3 }],
    ['cancel CR-3 not needed anymore', { kind: 'cancel', n: 3, reason: 'not needed anymore' }],
    [
      'token create github-actions',
      { kind: 'token', action: 'create', name: 'github-actions', scopes: [], environments: [] },
    ],
    [
      'token create auditor-bot audit:read',
      { kind: 'token', action: 'create', name: 'auditor-bot', scopes: ['audit:read'], environments: [] },
    ],
    [
      'token create deploy deployments:write ENV=Staging,production',
      {
        kind: 'token',
        action: 'create',
        name: 'deploy',
        scopes: ['deployments:write'],
        environments: ['staging', 'production'],
      },
    ],
    ['token revoke github-actions', { kind: 'token', action: 'revoke', name: 'github-actions' }],
    ['token list', { kind: 'token', action: 'list' }],
  ])('parses %j', (text, expected) => {
    expect(parseChangeCommand(text, TYPES)).toEqual(expected);
  });

  it.each([
    'dance',
    'show',
    'show CR-x',
    'list everything',
    'new yolo',
    'deployed CR-1 prod;rm',
    'token create',
    'token create bad/name',
    'token create ok env=prod;rm',
  ])('rejects %j with a message', (text) => {
    const r = parseChangeCommand(text, TYPES);
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') expect(r.message.length).toBeGreaterThan(5);
  });
});
