import type { Person, Workspace } from '../../domain/people.js';
import { type Membership, membershipFrom, type Policy, referencedGroups } from '../../domain/policy.js';
import { BoundedCache } from '../cache.js';
import type { Logger } from '../logger.js';
import type { SlackIdentity } from './identity.js';
import { SlackApiError, type SlackSender } from './sender.js';

interface SlackUser {
  id?: string;
  team_id?: string;
  deleted?: boolean;
  is_bot?: boolean;
  is_restricted?: boolean;
  is_ultra_restricted?: boolean;
  tz?: string;
  enterprise_user?: { enterprise_id?: string };
  profile?: { email?: string };
}

function toPerson(u: SlackUser, id: string): Person {
  return {
    id: u.id ?? id,
    deleted: u.deleted === true,
    guest: u.is_restricted === true || u.is_ultra_restricted === true,
    bot: u.is_bot === true,
    teamId: u.team_id ?? null,
    enterpriseId: u.enterprise_user?.enterprise_id ?? null,
    email: u.profile?.email?.toLowerCase() ?? null,
    tz: u.tz ?? null,
  };
}

export interface DirectoryTtl {
  /** User-group members: short, and refreshed at once by subteam events. */
  groupsMs: number;
  /** People (deactivation, guest status): refreshed at once by user_change events. */
  peopleMs: number;
  zonesMs: number;
}

const DEFAULT_TTL: DirectoryTtl = { groupsMs: 60_000, peopleMs: 5 * 60_000, zonesMs: 6 * 3_600_000 };

/**
 * Slack's directory, cached: who is in which user group (usergroups.users.list), who a person is
 * (users.info, users.lookupByEmail) and their time zone. A group that cannot be read counts as empty
 * and a person who cannot be looked up is `unavailable`, so a Slack outage never grants a right.
 * Caches are bounded in size and time, and Slack's events (subteam_members_changed, subteam_updated,
 * user_change) update them at once.
 */
export class SlackDirectory {
  private readonly groups = new BoundedCache<string, string[]>(1_000);
  private readonly inflightGroups = new Map<string, Promise<string[]>>();
  private readonly people = new BoundedCache<string, Person | null>(10_000);
  private readonly zones = new BoundedCache<string, string | null>(20_000);
  private readonly log: Logger;
  private readonly ttl: DirectoryTtl;

  constructor(
    private readonly sender: SlackSender,
    /** The policy in force, read at each use (a new version may name other groups). */
    private readonly policy: { readonly policy: Policy },
    logger: Logger,
    private readonly identity: SlackIdentity,
    ttl: Partial<DirectoryTtl> = {},
  ) {
    this.log = logger.child({ component: 'directory' });
    this.ttl = { ...DEFAULT_TTL, ...ttl };
  }

  async groupMembers(groupId: string): Promise<string[]> {
    const hit = this.groups.get(groupId);
    if (hit) return hit;
    let pending = this.inflightGroups.get(groupId);
    if (!pending) {
      pending = this.fetchGroup(groupId).finally(() => this.inflightGroups.delete(groupId));
      this.inflightGroups.set(groupId, pending);
    }
    return pending;
  }

  private async fetchGroup(groupId: string): Promise<string[]> {
    try {
      const res = await this.sender.call<{ ok: boolean; users?: string[] }>('usergroups.users.list', {
        usergroup: groupId,
      });
      const users = res.users ?? [];
      this.groups.set(groupId, users, this.ttl.groupsMs);
      return users;
    } catch (err) {
      const reason = err instanceof SlackApiError ? err.slackError : (err as Error).message;
      this.log.warn('could not read user group; treating it as empty', { groupId, reason });
      // Members are kept only while the source can confirm them: a removed member must not keep
      // approval rights because Slack was briefly unreachable.
      this.groups.set(groupId, [], 30_000);
      return [];
    }
  }

  /** A snapshot of every group the policy mentions. */
  async membership(): Promise<Membership> {
    const ids = referencedGroups(this.policy.policy);
    const entries = await Promise.all(ids.map(async (g) => [g, await this.groupMembers(g)] as const));
    return membershipFrom(Object.fromEntries(entries));
  }

  /** subteam_members_changed: the next look at the group asks Slack again. */
  groupChanged(groupId: string): void {
    this.groups.delete(groupId);
  }

  /** subteam_updated carries the members (up to 500; a longer list is truncated, so ask Slack). */
  groupUpdated(groupId: string, users: string[] | null): void {
    if (users && users.length < 500) this.groups.set(groupId, users, this.ttl.groupsMs);
    else this.groups.delete(groupId);
  }

  /** user_change: the person (deactivated, made a guest, moved) is looked up again next time. */
  personChanged(userId: string): void {
    this.people.delete(userId);
    this.zones.delete(userId);
  }

  /** Who a Slack user is; null when Slack does not know them, 'unavailable' when Slack cannot say. */
  async person(userId: string): Promise<Person | null | 'unavailable'> {
    const hit = this.people.get(userId);
    if (hit !== undefined) return hit;
    try {
      const res = await this.sender.call<{ ok: boolean; user?: SlackUser }>('users.info', { user: userId });
      const person = res.user ? toPerson(res.user, userId) : null;
      this.remember(userId, person);
      return person;
    } catch (err) {
      if (
        err instanceof SlackApiError &&
        (err.slackError === 'user_not_found' || err.slackError === 'user_not_visible')
      ) {
        this.remember(userId, null);
        return null;
      }
      this.log.warn('could not look a user up', { userId, err: (err as Error).message });
      return 'unavailable';
    }
  }

  /** Who owns an e-mail address in the workspace (users.lookupByEmail). */
  async personByEmail(email: string): Promise<Person | null | 'unavailable'> {
    try {
      const res = await this.sender.call<{ ok: boolean; user?: SlackUser }>('users.lookupByEmail', {
        email,
      });
      if (!res.user?.id) return null;
      const person = toPerson(res.user, res.user.id);
      this.remember(person.id, person);
      return person;
    } catch (err) {
      if (err instanceof SlackApiError && err.slackError === 'users_not_found') return null;
      this.log.warn('could not look an e-mail address up', { err: (err as Error).message });
      return 'unavailable';
    }
  }

  private remember(userId: string, person: Person | null): void {
    this.people.set(userId, person, this.ttl.peopleMs);
    if (person) this.zones.set(userId, person.tz, this.ttl.zonesMs);
  }

  /** The workspace the app is installed in (auth.test), or null while Slack cannot say. */
  async workspace(): Promise<Workspace | null> {
    try {
      const me = await this.identity.get();
      return { teamId: me.teamId, enterpriseId: me.enterpriseId };
    } catch {
      return null;
    }
  }

  /** The user's IANA time zone, or null when Slack does not say. */
  async timezone(userId: string): Promise<string | null> {
    const hit = this.zones.get(userId);
    if (hit !== undefined) return hit;
    const person = await this.person(userId);
    if (person === 'unavailable') {
      this.zones.set(userId, null, 60_000);
      return null;
    }
    const tz = person?.tz ?? null;
    this.zones.set(userId, tz, this.ttl.zonesMs);
    return tz;
  }
}
