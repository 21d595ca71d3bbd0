import { cancelDelegation, delegationsOf, setDelegation } from '../../application/delegations.js';
import { resolvePerson } from '../../application/people.js';
import type { Deps } from '../../application/ports.js';
import { addLocalDays, atLocalMinute } from '../../domain/time.js';
import type { SlackSender } from '../../infra/slack/sender.js';
import type { ChangeCommand } from './command-parser.js';
import { errorMessage, infoMessage, type Reply } from './views/command.messages.js';
import { mention, slackDate } from './views/text.js';

type DelegateCommand = Extract<ChangeCommand, { kind: 'delegate' }>;

/** `/change delegate …`: set, show or cancel the person's delegation (rules: application/delegations.ts). */
export async function delegateCommand(
  deps: Deps,
  sender: SlackSender,
  user: string,
  cmd: DelegateCommand,
): Promise<{ ok: boolean; reply: Reply }> {
  if (cmd.action === 'show') {
    const { given, held } = await delegationsOf(deps, user);
    const lines = [
      given
        ? `You delegate to ${mention(given.to)} from ${slackDate(given.start)} until ${slackDate(given.until)} (\`/change delegate cancel\` ends it).`
        : 'You delegate to nobody. `/change delegate @someone until 2026-12-24` names a delegate while you are away.',
      ...held.map((d) => `You decide for ${mention(d.from)} until ${slackDate(d.until)}.`),
    ];
    return { ok: true, reply: infoMessage(lines.join('\n')) };
  }
  if (cmd.action === 'cancel') {
    const res = await cancelDelegation(deps, user);
    if (!res.ok) return { ok: false, reply: errorMessage(res.message) };
    await tell(
      sender,
      res.delegation.to,
      `${mention(user)} ended their delegation: you no longer decide for them.`,
    );
    return { ok: true, reply: infoMessage(`Your delegation to ${mention(res.delegation.to)} has ended.`) };
  }
  const person = await resolvePerson(deps, cmd.to);
  if (!person.userId)
    return {
      ok: false,
      reply: errorMessage('I cannot find that person in this workspace: mention them (@name).'),
    };
  // Dates are the person's own calendar days: from the start of `from` to the end of `until`.
  const tz = (await deps.directory.timezone(user)) ?? deps.policy.policy.timezone;
  const res = await setDelegation(deps, {
    actor: user,
    to: person.userId,
    start: cmd.from ? atLocalMinute(cmd.from, 0, tz) : undefined,
    until: atLocalMinute(addLocalDays(cmd.until, 1), 0, tz),
  });
  if (!res.ok) return { ok: false, reply: errorMessage(res.message) };
  const d = res.delegation;
  await tell(
    sender,
    d.to,
    `${mention(user)} asked you to decide their approvals from ${slackDate(d.start)} until ${slackDate(d.until)}. Changes waiting for them appear in your App Home; your decisions record both names.`,
  );
  return {
    ok: true,
    reply: infoMessage(
      `✅ ${mention(d.to)} decides your approvals from ${slackDate(d.start)} until ${slackDate(d.until)}; it ends by itself. They were told. Every decision they take for you records both names.`,
    ),
  };
}

async function tell(sender: SlackSender, userId: string, text: string): Promise<void> {
  await sender.call('chat.postMessage', { channel: userId, text }).catch(() => undefined);
}
