import type { LoadedPolicy } from '../config/policy.js';
import type { ChangeState } from '../domain/lifecycle.js';
import type { Person, Workspace } from '../domain/people.js';
import type { Membership } from '../domain/policy.js';
import type { Clock } from '../domain/time.js';
import type { ChangeRepository, StoredChangeEvent } from '../infra/db/change-repository.js';
import type { ChangeDoc } from '../infra/db/models.js';
import type { Logger } from '../infra/logger.js';

/** Group memberships, people and time zones (Slack's directory, cached). */
export interface Directory {
  membership(): Promise<Membership>;
  groupMembers(groupId: string): Promise<string[]>;
  timezone(userId: string): Promise<string | null>;
  /** Who a user is; null when unknown, 'unavailable' when the directory cannot say right now. */
  person(userId: string): Promise<Person | null | 'unavailable'>;
  personByEmail(email: string): Promise<Person | null | 'unavailable'>;
  /** The workspace the app is installed in; null while it cannot be read. */
  workspace(): Promise<Workspace | null>;
}

export interface ChangeChange {
  state: ChangeState;
  event: StoredChangeEvent;
  membership: Membership;
  /** The change's record as read before the event (its Slack message), when the caller has it. */
  doc?: ChangeDoc | null;
}

/** Side effects after a change's event is stored: Slack thread reply, root message update, DMs, App Home. */
export interface ChangeNotifier {
  changed(change: ChangeChange): Promise<void>;
}

export interface Deps {
  clock: Clock;
  logger: Logger;
  policy: LoadedPolicy;
  changes: ChangeRepository;
  directory: Directory;
  notifier: ChangeNotifier;
}

export type { ChangeDoc };
