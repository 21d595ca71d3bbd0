import type { LoadedPolicy } from '../config/policy.js';
import type { EventSeal } from '../domain/audit.js';
import type { Meeting, MinutesRecord } from '../domain/board.js';
import type { DelegationRecord } from '../domain/delegation.js';
import type { LedgerLeaf, SignedCheckpoint, StoredLedgerEntry } from '../domain/ledger.js';
import type { StoredProjection } from '../domain/ledger-verify.js';
import type { ChangeState, EventDraft, StoredChangeEvent } from '../domain/lifecycle.js';
import type { Person, Workspace } from '../domain/people.js';
import type { Period } from '../domain/period.js';
import type { BoardDef, Membership } from '../domain/policy.js';
import type { PolicyVersionRecord } from '../domain/policy-admin.js';
import type { DayPart } from '../domain/rollup.js';
import type { Clock } from '../domain/time.js';
import type { VisibilityScope } from '../domain/visibility.js';
import type { DelegationBook } from './delegations.js';
import type { PolicyBook } from './policy-book.js';
import type { AuditReport } from './verify-audit.js';

/**
 * The ports the application owns: everything a use case needs from the outside world, as
 * interfaces of plain domain values. `src/infra` implements them (MongoDB, Slack, winston); the
 * application never imports infra, a database driver, Slack or express (a lint rule holds it).
 */

// ---- logging ----------------------------------------------------------------------------------

/** A narrow structured logger (winston behind it). */
export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
  child(meta: Record<string, unknown>): Logger;
}

// ---- changes ----------------------------------------------------------------------------------

/** Where a change's message lives in Slack (its thread is where its events are replied). */
export interface SlackRef {
  channel: string;
  ts: string;
  permalink: string | null;
}

/** A change's record: its current state (a projection of its log) and where its message lives. */
export interface ChangeRecord {
  number: number;
  /** Null while its submission is being written. */
  state: ChangeState | null;
  /** The last event the record reflects (seq 0 while submitting). */
  head: { seq: number; hash: string };
  slack: SlackRef | null;
  originChannel: string | null;
  /** When this copy's read began (epoch ms, wall clock), where the store knows it. */
  readAt?: number;
}

/** A change read from its event log (always current), with its record. */
export interface LoadedChange {
  state: ChangeState;
  events: StoredChangeEvent[];
  head: { seq: number; hash: string };
  record: ChangeRecord | null;
}

export type AppendResult =
  | { kind: 'appended'; event: StoredChangeEvent }
  | { kind: 'seq_conflict' }
  | { kind: 'slot_taken'; existing: StoredChangeEvent };

export interface EventMeta {
  actor: string;
  at: Date;
  policyHash: string;
}

export interface Page<T> {
  items: T[];
  total: number;
}

/** What the placeholder record of a change being submitted holds (see ChangeStore.claimNumber). */
export interface NumberClaim {
  title: string;
  type: string;
  requester: string;
  at: Date;
  originChannel: string | null;
  emergency: boolean;
}

/** Asked by a store about a change (its number, and the seq its index shows): true leaves it unread. */
export type SkipChange = (changeNumber: number, seq: number) => boolean;

/** Changes waiting on sweeps (reminders, escalations, digests). */
export type CandidateSet =
  | 'pending_approval'
  | 'deployed'
  | 'planned_window'
  | 'retro_open'
  | 'retro_review'
  | 'pir_due'
  | 'retro_overdue'
  | 'digest';

export interface ChangeSearch {
  status?: ChangeState['status'];
  type?: string;
  requester?: string;
  since?: Date;
  /** Only changes numbered below this (the cursor). */
  before?: number;
  limit: number;
}

/**
 * Changes and their append-only, hash-chained event logs. Invariants that must hold under
 * concurrent writers (unique numbers, one event per seq, one decision per stage) are enforced by
 * unique indexes on insert.
 */
export interface ChangeStore {
  /**
   * A change's log and state (always current), with its record (`known`: as already read).
   * `asRecorded`: the log only as far as `known` says it reaches, for a writer whose append is its
   * check (an event beyond it makes the append conflict, and the writer reads the whole log again).
   */
  load(
    changeNumber: number,
    known?: ChangeRecord | null,
    opts?: { asRecorded?: boolean },
  ): Promise<LoadedChange | null>;
  record(changeNumber: number): Promise<ChangeRecord | null>;
  /**
   * Events 1..seq of a change's log as recorded (fewer when not all are recorded yet), for readers
   * that only fold them (the change log's rollups): events this process read or recorded lately are
   * not read again, as an event never changes once recorded. Not for checks against tampering.
   */
  eventsThrough(changeNumber: number, seq: number): Promise<StoredChangeEvent[]>;
  append(
    changeNumber: number,
    head: { seq: number; hash: string } | null,
    draft: EventDraft,
    meta: EventMeta,
  ): Promise<AppendResult>;
  saveProjection(state: ChangeState, head: { seq: number; hash: string }, waitingOn: string[]): Promise<void>;
  /** Re-derives a change's record from its log (repair after a crash between the two). */
  refreshProjection(
    changeNumber: number,
    waitingOn: (s: ChangeState) => string[],
  ): Promise<LoadedChange | null>;
  claimNumber(init: NumberClaim): Promise<number>;
  releaseNumber(changeNumber: number): Promise<void>;
  setSlackRef(changeNumber: number, ref: SlackRef): Promise<void>;
  /** Claims `key` for `ttlMs` by an insert-only claim: true for the one caller that got it. */
  claimKey(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Claims the announcement of a change in Slack for a lease (the store's): not null for the one
   * caller that may post it, be it the submission itself or a repair run in any replica;
   * `taken_over` when an earlier holder ran out of time (it may have posted before it stopped).
   */
  claimAnnouncement(changeNumber: number): Promise<AnnouncementClaim | null>;

  // Named queries. `scope` restricts to what a viewer may see (domain/visibility.ts).
  pendingFor(userId: string, limit: number, scope?: VisibilityScope): Promise<Page<ChangeRecord>>;
  /** Changes `userId` raised; `openOnly`: not finished, or an emergency whose retrospective is owed. */
  raisedBy(userId: string, limit: number, openOnly: boolean): Promise<Page<ChangeRecord>>;
  open(scope: VisibilityScope, limit: number): Promise<Page<ChangeRecord>>;
  /** Overdue retrospectives, and deployments unverified since before `staleDeployBefore`. */
  overdue(scope: VisibilityScope, now: Date, staleDeployBefore: Date, limit: number): Promise<ChangeRecord[]>;
  /** A requester's reviews that are theirs to answer now: post-implementation reviews due, review questions. */
  reviewsOwedBy(userId: string, now: Date, limit: number): Promise<ChangeRecord[]>;
  /** A page, newest first; `nextBefore` continues it. */
  search(q: ChangeSearch): Promise<{ items: ChangeRecord[]; nextBefore: number | null }>;
  /**
   * Streamed: the changes a sweep looks at. `skip` is asked about each one, by number and the seq the
   * store's index shows, before its record is read: true leaves it out.
   */
  candidates(set: CandidateSet, now: Date, opts?: { skip?: SkipChange }): AsyncIterable<ChangeRecord>;
  /** Streamed: changes with any activity in the period that the scope may see. */
  inPeriod(period: Period, scope: VisibilityScope): AsyncIterable<ChangeRecord>;
  /** Streamed by number: every record's number and the head it claims (audit verification). */
  heads(): AsyncIterable<{ number: number; seq: number; hash: string }>;
  /** Streamed by change and seq: every event (audit verification). */
  allEvents(): AsyncIterable<StoredChangeEvent>;
  /** Streamed in no particular order: events recorded at or after `since` (the ledger's catch-up). */
  eventsSince(since: Date): AsyncIterable<StoredChangeEvent>;
  /** Streamed by number: every change record as stored, placeholders and released numbers too. */
  projections(): AsyncIterable<StoredProjection>;
  /** Seals an event written before the ledger existed (the migration); false if it was sealed. */
  sealLegacyEvent(changeNumber: number, seq: number, seal: EventSeal): Promise<boolean>;
  /** Numbers released before the ledger existed, kept as released (the migration); returns how many. */
  markReleasedBefore(upTo: number): Promise<number>;
  /** Numbers claimed before `before` whose submission never completed. */
  staleSubmissions(before: Date): Promise<number[]>;
  /** Recorded changes created before `before` that were never posted to Slack. */
  unannounced(before: Date): Promise<number[]>;
}

// ---- audit ledger -----------------------------------------------------------------------------

/** The audit key (Ed25519): its private half never leaves the process, never enters the database. */
export interface AuditSigner {
  keyId: string;
  /** PEM (SPKI). */
  publicKey: string;
  /** Base64 signature of the UTF-8 bytes. */
  sign(bytes: string): string;
}

export interface AuditKeys {
  signer: AuditSigner;
  /** The key being rotated out (CHANGEGATE_AUDIT_KEY_PREVIOUS), while a rotation is due. */
  previous: AuditSigner | null;
}

/** Where a checkpoint was witnessed outside the database. */
export interface WitnessRef {
  channel: string;
  ts: string;
}

export interface CheckpointRecord {
  checkpoint: SignedCheckpoint;
  /** The tree's right edge at the checkpoint, so the next one extends it (checked against the root). */
  frontier: { size: number; peaks: [number, string][] };
  witness: WitnessRef | null;
}

/**
 * The ledger's storage: entries under their index (claimed by insert), the checkpoints, the tree's
 * perfect subtrees (for inclusion proofs) and the migration's record.
 */
export interface LedgerStore {
  /** Signs and stores entries for these events, each at the next free index; resolves once stored (or kept for a retry). */
  ledger(events: readonly StoredChangeEvent[]): Promise<void>;
  /** Waits until every entry handed to `ledger` so far is stored (or failed). */
  flush(): Promise<void>;
  entryAt(index: number): Promise<StoredLedgerEntry | null>;
  /** Consecutive entries from `from`, up to `limit`, stopping before the first missing index. */
  entriesFrom(from: number, limit: number): Promise<StoredLedgerEntry[]>;
  /** The first index in (from, from + window] holding an entry: a hole at `from` when not null. */
  nextPresent(from: number, window: number): Promise<number | null>;
  /** Indexes this process handed out in a write that failed (some may be empty). */
  abandoned(): number[];
  /** Closes a hole with a signed filler; false when the index got taken meanwhile. */
  fill(leaf: LedgerLeaf): Promise<boolean>;
  /** Streamed in index order. */
  allEntries(): AsyncIterable<StoredLedgerEntry>;
  /** Streamed in (change, seq) order. */
  entriesByChange(): AsyncIterable<StoredLedgerEntry>;
  /** Records where these entries' events are (idempotent): the checkpoint maps what it covers. */
  mapEntries(entries: readonly StoredLedgerEntry[]): Promise<void>;
  /** Where an event's entry is, once a checkpoint covered it (null: not known). */
  indexOf(changeNumber: number, seq: number): Promise<number | null>;
  latestCheckpoint(): Promise<CheckpointRecord | null>;
  /** Streamed in number order. */
  checkpoints(): AsyncIterable<CheckpointRecord>;
  /** 'taken' when another process stored that number first. */
  addCheckpoint(
    record: CheckpointRecord,
    nodes: { height: number; index: number; hash: string }[],
  ): Promise<'added' | 'taken'>;
  setWitness(number: number, ref: WitnessRef): Promise<void>;
  unwitnessed(limit: number): Promise<CheckpointRecord[]>;
  /** A perfect subtree's root (height ≥ 1) stored by a checkpoint. */
  node(height: number, index: number): Promise<string | null>;
  migration(): Promise<{ at: Date; events: number } | null>;
  recordMigration(info: { at: Date; events: number }): Promise<void>;
}

/** Checkpoints posted where the database's administrator cannot edit them (the audit channel). */
export interface AuditWitness {
  /** False when the policy names no audit channel. */
  readonly configured: boolean;
  post(checkpoint: SignedCheckpoint): Promise<WitnessRef>;
  /** Every checkpoint the channel holds (null: the channel cannot be read now). */
  read(): Promise<SignedCheckpoint[] | null>;
  /** Posts a failed verification to the audit channel and the security roles. */
  alert(report: AuditReport): Promise<void>;
}

// ---- pipeline tokens --------------------------------------------------------------------------

export const API_SCOPES = ['changes:read', 'changes:write', 'deployments:write', 'audit:read'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** A pipeline's bearer token: only a hash of its secret is kept. */
export interface ApiToken {
  id: string;
  name: string;
  secretHash: string;
  scopes: ApiScope[];
  /** Environments it may gate and report; null on tokens from before environments were named. */
  environments: string[] | null;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
  revokedBy: string | null;
  lastUsedAt: Date | null;
}

export interface TokenStore {
  /** 'name_taken' when an active token has that name. */
  create(token: ApiToken): Promise<'created' | 'name_taken'>;
  list(): Promise<ApiToken[]>;
  byId(id: string): Promise<ApiToken | null>;
  activeByName(name: string): Promise<ApiToken | null>;
  /** Revokes a token; its name is freed (renamed to `freedName`). */
  revoke(id: string, by: string, at: Date, freedName: string): Promise<void>;
  touch(id: string, at: Date): Promise<void>;
}

// ---- exactly-once deliveries --------------------------------------------------------------------

export type Claim = { claimed: true; attempt: number } | { claimed: false; reason: 'sent' | 'in_progress' };

/** Exactly-once bookkeeping for outgoing reminders: claim a key before sending, mark it sent after. */
export interface DeliveryLedger {
  claim(key: string): Promise<Claim>;
  /** Records that the claim's `attempt` sent it; resolves once recorded. */
  markSent(key: string, attempt: number): Promise<void>;
  release(key: string, attempt: number): Promise<void>;
}

// ---- Slack's directory ------------------------------------------------------------------------

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

// ---- effects ----------------------------------------------------------------------------------

export interface ChangeChange {
  state: ChangeState;
  event: StoredChangeEvent;
  membership: Membership;
  /** The people the change waits on now (the current stage's approvers). */
  waitingOn: string[];
  /** The change's record as read with the event (its Slack message), when the caller has it. */
  record?: ChangeRecord | null;
  /**
   * The change's announcement claim, when the caller holds it: only then is a change's root message
   * posted (once), and only while the claim lasts. Without it, a change whose root message is not
   * known yet has its event's effects wait for the announcement (a retryable failure).
   */
  announcing?: AnnouncementClaim;
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
  /**
   * A lookup of change root messages already in Slack, for an announcement taken over from a
   * holder that stopped: it may have posted the root and stopped before recording it. A place is
   * read again only when its last read began before `postedBy` (what the holder posted was over by
   * then); null when the change has no root there. Throws when Slack could not be read for a reason
   * that may pass (try again later rather than post twice).
   */
  postedRoots(): RootLookup;
}

export type RootLookup = (
  changeNumber: number,
  originChannel: string | null,
  postedBy: Date,
) => Promise<SlackRef | null>;

/**
 * An announcement's claim, held until `until`: a first claim, or the takeover of one whose holder's
 * time ran out at `previousUntil` (whatever it posted was over by then).
 */
export type AnnouncementClaim =
  | { kind: 'claimed'; until: Date }
  | { kind: 'taken_over'; until: Date; previousUntil: Date };

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
  track<T>(work: Promise<T>): Promise<T>;
}

// ---- change-log rollups ------------------------------------------------------------------------

/** A pending difference of the rollups: an event about to be (or just) recorded. */
export interface RollupMark {
  id: string;
  changeNumber: number;
  seq: number;
  hash: string;
  /** Written long enough ago (minutes) that a mark still without its event never gets one. */
  stale: boolean;
}

export interface StoredRollupDay {
  day: string;
  part: DayPart;
  /** Marks already counted in `part` (a fold stopped before removing them). */
  folded: string[];
  updatedAt: Date;
}

/** The per-day rollups of the change log (domain/rollup.ts), by policy fingerprint. */
export interface RollupStore {
  /** Pending marks, oldest first, at most `limit`. */
  marks(limit: number): Promise<RollupMark[]>;
  dropMarks(ids: string[]): Promise<void>;
  /** Stored days of a fingerprint: those named, or all. */
  days(fingerprint: string, days?: string[]): Promise<StoredRollupDay[]>;
  saveDays(fingerprint: string, days: Omit<StoredRollupDay, 'updatedAt'>[], at: Date): Promise<void>;
  /** Removes the fingerprint's stored days not in `keep` (after a rebuild). */
  removeDaysExcept(fingerprint: string, keep: ReadonlySet<string>): Promise<void>;
  /** Whether the fingerprint's rollups are complete, being rebuilt (since when), or absent. */
  state(fingerprint: string): Promise<{ state: 'ready' | 'rebuilding'; at: Date } | null>;
  setState(fingerprint: string, state: 'ready' | 'rebuilding', at: Date): Promise<void>;
  /**
   * One holder per `key` and lease period (a unique insert), which keeps it until the period ends
   * (`remainingMs()`): null when another process holds it.
   */
  lease(key: string, leaseMs: number): Promise<{ remainingMs(): number } | null>;
}

// ---- the policy's versions ---------------------------------------------------------------------

/** The policy's texts by hash and its history of published versions (see domain/policy-admin.ts). */
export interface PolicyStore {
  /** Keeps a policy's text under its hash (idempotent). */
  keepText(hash: string, source: string, yaml: string, at: Date): Promise<void>;
  text(hash: string): Promise<{ yaml: string; source: string } | null>;
  /** The latest published version (null: none yet). */
  head(): Promise<PolicyVersionRecord | null>;
  /** Appends the next version; false when its number was taken meanwhile (another replica). */
  append(record: PolicyVersionRecord): Promise<boolean>;
  /** The latest versions, newest first. */
  recent(limit: number): Promise<PolicyVersionRecord[]>;
  version(number: number): Promise<PolicyVersionRecord | null>;
  /** The whole history in number order (audit verification). */
  all(): AsyncIterable<PolicyVersionRecord>;
  /** One-time setup codes, kept as their SHA-256. */
  addSetupCode(codeHash: string, at: Date): Promise<void>;
  hasSetupCode(codeHash: string): Promise<boolean>;
  clearSetupCodes(): Promise<void>;
  /** The first admin, claimed once for the installation (a unique insert). */
  claimFirstAdmin(userId: string, at: Date): Promise<boolean>;
  firstAdmin(): Promise<string | null>;
}

/** The delegation log (domain/delegation.ts): sealed records, numbered without a gap. */
export interface DelegationStore {
  /** False when the number was taken meanwhile (another writer). */
  append(record: DelegationRecord): Promise<boolean>;
  /** The records after `number`, in order (0: all). */
  after(number: number): Promise<DelegationRecord[]>;
}

/** A board meeting as stored: the meeting, its published agenda, and whether it was closed. */
export interface MeetingRecord extends Meeting {
  agendaItems: number[];
  agenda: { channel: string; ts: string } | null;
  agendaDigest: string | null;
  closedAt: Date | null;
  closedBy: string | null;
}

/** Board meetings and their minutes (domain/board.ts). */
export interface BoardStore {
  /** Creates the meeting once (a second call, or another replica's, changes nothing). */
  ensure(m: Meeting): Promise<MeetingRecord>;
  get(id: string): Promise<MeetingRecord | null>;
  /** Ad hoc meetings of the board not closed and not over at `now`. */
  openAdhoc(board: string, now: Date): Promise<MeetingRecord[]>;
  /** Meetings over (or closed early) whose minutes are not recorded yet. */
  toClose(now: Date): Promise<MeetingRecord[]>;
  setAgenda(id: string, ref: { channel: string; ts: string }, digest: string, items: number[]): Promise<void>;
  /** Once per key across replicas and restarts (a unique insert). */
  claim(key: string, at: Date): Promise<boolean>;
  /**
   * Like claim, for one lease period of `leaseMs`: work a crash interrupted is taken up again in a
   * later period (each of its steps is idempotent).
   */
  claimLease(key: string, at: Date, leaseMs: number): Promise<boolean>;
  markClosed(id: string, at: Date, by: string): Promise<void>;
  appendMinutes(r: MinutesRecord): Promise<boolean>;
  minutesAfter(number: number): Promise<MinutesRecord[]>;
  /** The newest minutes record (null: none yet). */
  lastMinutes(): Promise<MinutesRecord | null>;
  /** The minutes of a meeting, when recorded. */
  minutesOf(meeting: string): Promise<MinutesRecord | null>;
}

/** Posts a board's agenda (updated in place) and minutes; the Slack adapter implements it. */
export interface BoardNotifier {
  agenda(
    m: MeetingRecord,
    board: BoardDef,
    items: ChangeState[],
    open: boolean,
  ): Promise<{ channel: string; ts: string } | null>;
  minutes(m: MeetingRecord, board: BoardDef, minutes: MinutesRecord): Promise<void>;
}

/** GitHub logins mapped to Slack people (first claim wins; see application/github-users.ts). */
export interface GithubUsers {
  slackOf(login: string): Promise<string | null>;
  loginsOf(slackUser: string): Promise<string[]>;
  /** `linked`, `same` (already theirs) or `taken` (mapped to someone else). */
  link(login: string, slackUser: string, at: Date): Promise<'linked' | 'same' | 'taken'>;
}

/** Which changes each pull request is linked to (`owner/repo#number`). */
export interface GithubLinks {
  add(pr: string, change: number): Promise<void>;
  remove(pr: string, change: number): Promise<void>;
  changesOf(pr: string): Promise<number[]>;
}

/** GitHub's REST API as the App (infra/github/client.ts). */
export interface GithubApi {
  /** Answers a deployment protection rule: approved / rejected, or a status report (no state). */
  reviewDeployment(
    installationId: number,
    callbackUrl: string,
    body: { environment_name: string; state?: 'approved' | 'rejected'; comment: string },
  ): Promise<void>;
  /** A GitHub user's public e-mail (GitHub shows only verified addresses there); null when none. */
  publicEmail(installationId: number, login: string): Promise<string | null>;
  /** A pull request's reviews, oldest first (state lower-cased). */
  reviews(
    installationId: number,
    repo: string,
    number: number,
  ): Promise<{ id: number; by: string; state: string; commit: string }[]>;
  /** The completed check runs on a commit. */
  checkRuns(
    installationId: number,
    repo: string,
    sha: string,
  ): Promise<{ id: number; name: string; conclusion: string }[]>;
  /** The pull requests a commit belongs to (the merged one that introduced it, on the default branch). */
  pullsForCommit(
    installationId: number,
    repo: string,
    sha: string,
  ): Promise<{ number: number; merged: boolean; mergeCommit: string | null }[]>;
}

/** A deployment protection rule GitHub asked about, until it is answered for good. */
export interface PendingGate {
  /** The callback URL (one per workflow run and environment). */
  id: string;
  installationId: number;
  repo: string;
  environment: string;
  sha: string;
  change: number;
  /** GitHub's deployment id: its deployment_status events are recorded on this change. */
  deploymentId: number;
  reports: number;
  lastReport: string;
  state: 'pending' | 'approved' | 'rejected';
}

export interface GateStore {
  /** Records the rule (a second request for the same run and environment changes nothing). */
  add(g: PendingGate): Promise<void>;
  pendingFor(change: number): Promise<PendingGate[]>;
  /** Once per rule and outcome across replicas: true for the one that may answer. */
  claimAnswer(id: string, state: 'approved' | 'rejected'): Promise<boolean>;
  reported(id: string, text: string): Promise<void>;
  /** The change a GitHub deployment was gated for (null: none asked). */
  changeOfDeployment(deploymentId: number): Promise<number | null>;
}

// ---- everything a use case may use -------------------------------------------------------------

export interface Deps {
  clock: Clock;
  logger: Logger;
  /** The policy in force (a live view: a version published from App Home takes over at once). */
  policy: LoadedPolicy;
  /** The policy's versions: the one a change was raised under, publishing, setup. */
  policies: PolicyBook;
  /** Who decides for whom while an approver is away. */
  delegations: DelegationBook;
  /** Change advisory board meetings and their minutes. */
  boards: BoardStore;
  /** The per-day rollups of the change log. */
  rollups: RollupStore;
  /** GitHub logins mapped to Slack people. */
  githubUsers: GithubUsers;
  /** Which changes each pull request is linked to. */
  githubLinks: GithubLinks;
  changes: ChangeStore;
  ledger: LedgerStore;
  /** Null in a process without the audit key (command-line tools): it cannot write events. */
  audit: AuditKeys | null;
  witness: AuditWitness;
  tokens: TokenStore;
  directory: Directory;
  notifier: ChangeNotifier;
  effects: EffectsOutbox;
  background: BackgroundWork;
}

/** What reading changes needs (App Home, lists): no notifier, so its builders can feed one. */
export type ReadDeps = Pick<
  Deps,
  | 'clock'
  | 'logger'
  | 'policy'
  | 'policies'
  | 'delegations'
  | 'boards'
  | 'rollups'
  | 'changes'
  | 'directory'
  | 'ledger'
  | 'audit'
>;

/** What the audit use cases need. */
export type AuditDeps = Pick<
  Deps,
  | 'clock'
  | 'logger'
  | 'policy'
  | 'policies'
  | 'delegations'
  | 'boards'
  | 'rollups'
  | 'changes'
  | 'ledger'
  | 'audit'
  | 'witness'
>;
