import { type Membership, membershipFrom, type Policy, referencedGroups } from '../../domain/policy.js';
import type { Logger } from '../logger.js';
import { SlackApiError, type SlackSender } from './sender.js';

interface Cached<T> {
  value: T;
  until: number;
}

/**
 * Who is in which Slack user group (usergroups.users.list) and which time zone a person is in
 * (users.info), cached. A group that cannot be read counts as empty and is logged, so a Slack
 * outage never grants approval rights.
 */
export class SlackDirectory {
  private readonly groups = new Map<string, Cached<string[]>>();
  private readonly inflightGroups = new Map<string, Promise<string[]>>();
  private readonly zones = new Map<string, Cached<string | null>>();
  private readonly log: Logger;

  constructor(
    private readonly sender: SlackSender,
    private readonly policy: Policy,
    logger: Logger,
    private readonly ttl = { groupsMs: 5 * 60_000, zonesMs: 6 * 3_600_000 },
  ) {
    this.log = logger.child({ component: 'directory' });
  }

  async groupMembers(groupId: string): Promise<string[]> {
    const hit = this.groups.get(groupId);
    if (hit && hit.until > Date.now()) return hit.value;
    let pending = this.inflightGroups.get(groupId);
    if (!pending) {
      pending = this.fetchGroup(groupId, hit?.value).finally(() => this.inflightGroups.delete(groupId));
      this.inflightGroups.set(groupId, pending);
    }
    return pending;
  }

  private async fetchGroup(groupId: string, stale: string[] | undefined): Promise<string[]> {
    try {
      const res = await this.sender.call<{ ok: boolean; users?: string[] }>('usergroups.users.list', {
        usergroup: groupId,
      });
      const users = res.users ?? [];
      this.groups.set(groupId, { value: users, until: Date.now() + this.ttl.groupsMs });
      return users;
    } catch (err) {
      const reason = err instanceof SlackApiError ? err.slackError : (err as Error).message;
      this.log.warn('could not read user group; treating it as empty', { groupId, reason });
      const value = stale ?? [];
      this.groups.set(groupId, { value, until: Date.now() + 30_000 });
      return value;
    }
  }

  /** A snapshot of every group the policy mentions. */
  async membership(): Promise<Membership> {
    const ids = referencedGroups(this.policy);
    const entries = await Promise.all(ids.map(async (g) => [g, await this.groupMembers(g)] as const));
    return membershipFrom(Object.fromEntries(entries));
  }

  /** The user's IANA time zone, or null when Slack does not say. */
  async timezone(userId: string): Promise<string | null> {
    const hit = this.zones.get(userId);
    if (hit && hit.until > Date.now()) return hit.value;
    try {
      const res = await this.sender.call<{ ok: boolean; user?: { tz?: string } }>('users.info', {
        user: userId,
      });
      const tz = res.user?.tz ?? null;
      this.zones.set(userId, { value: tz, until: Date.now() + this.ttl.zonesMs });
      return tz;
    } catch (err) {
      this.log.warn('could not read user time zone', { userId, err: (err as Error).message });
      this.zones.set(userId, { value: null, until: Date.now() + 60_000 });
      return null;
    }
  }
}
