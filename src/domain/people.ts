/**
 * Who acts. A person is a Slack user of the workspace Changegate is installed in; a pipeline acts
 * through an API token and is recorded as `pipeline:<token name>`. Only full, active members of the
 * workspace may take a control decision (approve, reject, deploy, verify, grant an exception).
 */

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;
const PIPELINE = 'pipeline:';

export const isSlackUserId = (id: string): boolean => SLACK_USER_ID.test(id);

/** The actor id of a pipeline token. */
export const pipelineActor = (tokenName: string): string => `${PIPELINE}${tokenName}`;

/** The token name of a pipeline actor, or null for a person. */
export function pipelineName(actor: string): string | null {
  return actor.startsWith(PIPELINE) ? actor.slice(PIPELINE.length) : null;
}

/** What Slack says about a user (users.info), reduced to what standing depends on. */
export interface Person {
  id: string;
  deleted: boolean;
  /** A multi-channel guest (`is_restricted`) or single-channel guest (`is_ultra_restricted`). */
  guest: boolean;
  bot: boolean;
  teamId: string | null;
  enterpriseId: string | null;
  email: string | null;
  tz: string | null;
}

/** The workspace (and Enterprise Grid organisation) the app is installed in. */
export interface Workspace {
  teamId: string;
  enterpriseId: string | null;
}

export type Standing = 'member' | 'guest' | 'deactivated' | 'foreign' | 'bot' | 'unknown' | 'unverifiable';

/**
 * A person's standing in the workspace: `unknown` when Slack does not know the user,
 * `unverifiable` when Slack could not be asked (a control decision then waits; it never passes).
 */
export function standingOf(person: Person | null | 'unavailable', workspace: Workspace | null): Standing {
  if (person === 'unavailable' || !workspace) return 'unverifiable';
  if (!person) return 'unknown';
  if (person.deleted) return 'deactivated';
  if (person.bot) return 'bot';
  const sameOrg = workspace.enterpriseId !== null && person.enterpriseId === workspace.enterpriseId;
  if (!sameOrg && person.teamId !== workspace.teamId) return 'foreign';
  if (person.guest) return 'guest';
  return 'member';
}

/** Why someone of this standing may not take a control decision (null for members). */
export function standingProblem(standing: Standing): string | null {
  switch (standing) {
    case 'member':
      return null;
    case 'guest':
      return 'Guest accounts cannot approve, reject, deploy, verify or grant exceptions in Changegate.';
    case 'deactivated':
      return 'This account is deactivated, so it cannot take decisions in Changegate.';
    case 'foreign':
      return 'Only members of the workspace Changegate is installed in can take decisions on its changes.';
    case 'bot':
      return 'Bots cannot take decisions in Changegate.';
    case 'unknown':
      return 'Slack does not know this account, so it cannot take decisions in Changegate.';
    case 'unverifiable':
      return 'Changegate could not confirm your account with Slack just now. Nothing was recorded; please try again in a minute.';
  }
}
