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

/** How far an event's effects got: a retry repeats what is safe to repeat and skips the rest. */
export interface EffectProgress {
  /** The thread reply was posted (posting it again would duplicate it). */
  replied: boolean;
}

/**
 * Side effects after a change's event is stored: root message posted or updated (safe to repeat),
 * thread reply (marked in `progress` once posted), DMs and App Home (best effort). Throws when a
 * step that must happen failed; an error with `permanent: true` will never succeed on retry.
 */
export interface ChangeNotifier {
  changed(change: ChangeChange, progress?: EffectProgress): Promise<void>;
}

export interface EffectKey {
  changeNumber: number;
  seq: number;
}

export interface PendingEffect extends EffectKey {
  attempts: number;
  replied: boolean;
}

/** Change events whose Slack effects are not known to be delivered yet (see application/effects.ts). */
export interface EffectsOutbox {
  /** Records a pending effect; the first attempt owns it until `ownedUntil`. */
  add(key: EffectKey, ownedUntil: Date, now: Date): Promise<void>;
  done(key: EffectKey): Promise<void>;
  failed(
    key: EffectKey,
    state: { attempts: number; replied: boolean; retryAt: Date; error: string },
  ): Promise<void>;
  /** Effects due for a retry, oldest first. */
  due(now: Date, limit: number): Promise<PendingEffect[]>;
  /** One retrier per effect and attempt, across replicas. */
  claim(key: EffectKey, attempts: number, leaseMs: number): Promise<boolean>;
  count(): Promise<number>;
}

/** Work that continues after a use case returned (effects); shutdown waits for it. */
export interface BackgroundWork {
  track(work: Promise<unknown>): void;
}

export interface Deps {
  clock: Clock;
  logger: Logger;
  policy: LoadedPolicy;
  changes: ChangeRepository;
  directory: Directory;
  notifier: ChangeNotifier;
  effects: EffectsOutbox;
  background: BackgroundWork;
}

export type { ChangeDoc };
