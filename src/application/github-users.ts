import { standingProblem } from '../domain/people.js';
import { standingOfUser } from './people.js';
import type { Deps } from './ports.js';

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

export type GithubLinkOutcome =
  | { ok: true; login: string; already: boolean }
  | { ok: false; code: 'INVALID_LOGIN' | 'TAKEN' | 'ACTOR_NOT_ELIGIBLE'; message: string };

/**
 * `/change github link <login>`: a person names their GitHub login, so that their reviews of pull
 * requests are theirs for separation of duties (their approval of a PR linked to a change they
 * raised is never counted). A login is claimed once: nobody takes over someone else's.
 */
export async function linkGithubLogin(deps: Deps, actor: string, login: string): Promise<GithubLinkOutcome> {
  if (!LOGIN.test(login))
    return {
      ok: false,
      code: 'INVALID_LOGIN',
      message: 'That is not a GitHub login (letters, digits and single hyphens, up to 39).',
    };
  const problem = standingProblem(await standingOfUser(deps, actor));
  if (problem) return { ok: false, code: 'ACTOR_NOT_ELIGIBLE', message: problem };
  const res = await deps.githubUsers.link(login, actor, deps.clock.now());
  if (res === 'taken')
    return {
      ok: false,
      code: 'TAKEN',
      message: `The GitHub login ${login} is already linked to someone else; ask an admin if it is yours.`,
    };
  deps.logger.info('GitHub login linked', { userId: actor, login: login.toLowerCase() });
  return { ok: true, login: login.toLowerCase(), already: res === 'same' };
}
