import {
  createApiToken,
  DEFAULT_PIPELINE_SCOPES,
  displayName,
  listApiTokens,
  revokeApiToken,
} from '../../application/api-tokens.js';
import { API_SCOPES, type ApiScope, type Deps } from '../../application/ports.js';
import type { ChangeCommand } from './command-parser.js';
import { mention, userText } from './views/text.js';

/** `/change token create|list|revoke`: pipeline tokens for the deployment gate API, for admins. */
export async function tokenCommand(
  deps: Deps,
  userId: string,
  cmd: Extract<ChangeCommand, { kind: 'token' }>,
): Promise<{ text: string }> {
  if (cmd.action === 'create') {
    const asked = cmd.scopes;
    const bad = asked.filter((s) => s !== 'all' && !(API_SCOPES as readonly string[]).includes(s));
    if (bad.length)
      return {
        text: `⚠️ Unknown scope ${bad.map((b) => `\`${userText(b, 40)}\``).join(', ')}. Scopes: ${API_SCOPES.join(', ')}, or all.`,
      };
    const scopes: ApiScope[] = asked.includes('all')
      ? [...API_SCOPES]
      : asked.length
        ? (asked as ApiScope[])
        : DEFAULT_PIPELINE_SCOPES;
    const res = await createApiToken(deps, userId, cmd.name, scopes, cmd.environments);
    if (!res.ok) return { text: `⚠️ ${res.message}` };
    return {
      text: `🔑 Token *${userText(cmd.name, 40)}* (scopes: ${scopes.join(', ')}; ${environmentsText(res.value.environments)}). Copy it now: it is shown only this once.\n\`${res.value.token}\`\nUse it as \`Authorization: Bearer <token>\` against \`/api/v1\`.`,
    };
  }
  if (cmd.action === 'revoke') {
    const res = await revokeApiToken(deps, userId, cmd.name);
    return {
      text: res.ok
        ? `🔒 Token *${userText(cmd.name, 40)}* is revoked: requests with it now get 401.`
        : `⚠️ ${res.message}`,
    };
  }
  const res = await listApiTokens(deps, userId);
  if (!res.ok) return { text: `⚠️ ${res.message}` };
  if (res.value.length === 0)
    return { text: 'No pipeline tokens yet. Create one with `/change token create <name>`.' };
  const lines = res.value.map(
    (t) =>
      `• *${userText(displayName(t.name), 40)}* ${t.scopes.join(', ')} · ${environmentsText(t.environments ?? null)} · created by ${mention(t.createdBy)} ${t.createdAt.toISOString().slice(0, 10)}${
        t.lastUsedAt
          ? ` · last used ${t.lastUsedAt.toISOString().slice(0, 16).replace('T', ' ')}`
          : ' · never used'
      }${t.revokedAt ? ` · *revoked* ${t.revokedAt.toISOString().slice(0, 10)}` : ''}`,
  );
  return { text: `*Pipeline tokens*\n${lines.join('\n')}` };
}

function environmentsText(environments: string[] | null): string {
  return environments ? `environments: ${environments.join(', ')}` : 'every environment';
}
