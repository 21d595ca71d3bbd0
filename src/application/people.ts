import { isSlackUserId, type Standing, standingOf } from '../domain/people.js';
import type { Deps } from './ports.js';

/** A person named by id or e-mail, as the directory resolves them. */
export interface ResolvedPerson {
  userId: string | null;
  standing: Standing;
}

/** The standing in the workspace of a Slack user (a pipeline or a malformed id is unknown). */
export async function standingOfUser(deps: Pick<Deps, 'directory'>, userId: string): Promise<Standing> {
  if (!isSlackUserId(userId)) return 'unknown';
  const [person, workspace] = await Promise.all([deps.directory.person(userId), deps.directory.workspace()]);
  return standingOf(person, workspace);
}

const EMAIL = /^[^\s@<>]{1,64}@[^\s@<>]{1,255}$/;

/** Resolves a Slack user id or an e-mail address to a person of the workspace, with their standing. */
export async function resolvePerson(
  deps: Pick<Deps, 'directory'>,
  idOrEmail: string,
): Promise<ResolvedPerson> {
  const given = idOrEmail.trim();
  if (isSlackUserId(given)) return { userId: given, standing: await standingOfUser(deps, given) };
  if (!EMAIL.test(given)) return { userId: null, standing: 'unknown' };
  const [person, workspace] = await Promise.all([
    deps.directory.personByEmail(given.toLowerCase()),
    deps.directory.workspace(),
  ]);
  return {
    userId: person && person !== 'unavailable' ? person.id : null,
    standing: standingOf(person, workspace),
  };
}
