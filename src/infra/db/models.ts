import { type Connection, type Model, Schema } from 'mongoose';
import type { ApiToken, SlackRef } from '../../application/ports.js';
import type { StoredEvent } from '../../domain/audit.js';
import type { ChangeStatus } from '../../domain/lifecycle.js';

/**
 * Mongoose models. Only plain, unique and compound indexes (FerretDB has no TTL, partial or text
 * indexes); every key of a unique index is required and scalar. Records are never expired.
 */

/** A stored event: the hashed fields and the chain (domain/audit.ts), under `<changeNumber>:<seq>`. */
export interface ChangeEventDoc extends StoredEvent {
  _id?: string; // see eventId
}

/** An entry of the audit ledger (domain/ledger.ts) under its index, zero-padded (see ledgerId). */
export interface AuditEntryDoc {
  _id: string;
  index: number;
  changeNumber: number;
  seq: number;
  eventHash: string;
  contentHash: string;
  keyId: string;
  sig: string;
}

/** Where an event's ledger entry is: `_id` is the event's id (a lookup FerretDB pushes down). */
export interface AuditEventIndexDoc {
  _id: string;
  index: number;
}

/** A signed checkpoint under its number, zero-padded; the frontier lets the next one extend it. */
export interface AuditCheckpointDoc {
  _id: string;
  number: number;
  body: Record<string, unknown>;
  sig: string;
  rotationSig: string | null;
  /** The frontier as JSON text (FerretDB stores no nested arrays). */
  frontier: string;
  witness: { channel: string; ts: string } | null;
  createdAt: Date;
}

/** A perfect subtree of the ledger's Merkle tree (height ≥ 1), for inclusion proofs: `<height>:<index>`. */
export interface AuditNodeDoc {
  _id: string;
  hash: string;
}

export interface AuditMetaDoc {
  _id: string;
  at: Date;
  events: number;
}

/** Zero-padded so that the string order of `_id`s is the numeric order. */
export const ledgerId = (n: number) => String(n).padStart(12, '0');

const auditEntrySchema = new Schema<AuditEntryDoc>(
  {
    _id: { type: String, required: true },
    index: { type: Number, required: true },
    changeNumber: { type: Number, required: true },
    seq: { type: Number, required: true },
    eventHash: { type: String, required: true },
    contentHash: { type: String, required: true },
    keyId: { type: String, required: true },
    sig: { type: String, required: true },
  },
  { collection: 'audit_ledger', versionKey: false },
);
auditEntrySchema.index({ changeNumber: 1, seq: 1 }, { name: 'by_event' });

const auditEventIndexSchema = new Schema<AuditEventIndexDoc>(
  { _id: { type: String, required: true }, index: { type: Number, required: true } },
  { collection: 'audit_ledger_events', versionKey: false },
);

const auditCheckpointSchema = new Schema<AuditCheckpointDoc>(
  {
    _id: { type: String, required: true },
    number: { type: Number, required: true },
    body: { type: Schema.Types.Mixed, required: true },
    sig: { type: String, required: true },
    rotationSig: { type: String, default: null },
    frontier: { type: String, required: true },
    witness: { type: { channel: String, ts: String }, default: null, _id: false },
    createdAt: { type: Date, required: true },
  },
  { collection: 'audit_checkpoints', versionKey: false, minimize: false },
);

const auditNodeSchema = new Schema<AuditNodeDoc>(
  { _id: { type: String, required: true }, hash: { type: String, required: true } },
  { collection: 'audit_tree', versionKey: false },
);

const auditMetaSchema = new Schema<AuditMetaDoc>(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    events: { type: Number, required: true },
  },
  { collection: 'audit_meta', versionKey: false },
);

/** The current state of a change: a projection of its events, plus where its Slack message lives. */
export interface ChangeDoc {
  _id: string; // CR-42
  number: number;
  seq: number; // 0 while the submission is being written
  headHash: string;
  title: string;
  type: string;
  /** `released`: the number was claimed by a submission that never completed (kept, so no number goes missing). */
  status: ChangeStatus | 'submitting' | 'released';
  requester: string;
  emergency: boolean;
  submittedAt: Date;
  approvedAt: Date | null;
  deployedAt: Date | null;
  closedAt: Date | null;
  retroDueAt: Date | null;
  retroSubmittedAt: Date | null;
  currentApprovers: string[];
  /** Everyone who takes part in the change (see domain/visibility.ts), for who-sees-what queries. */
  participants: string[];
  /** Pending at a stage any member may approve (peer review): visible to every member. */
  openToAnyone: boolean;
  stageStartedAt: Date | null;
  retroReview?: 'pending' | 'questions' | null;
  pirDueAt?: Date | null;
  plannedStart: Date | null;
  deployedBy: string | null;
  /** Time of the change's latest event (the clock's, not the database write's). */
  lastEventAt: Date;
  /**
   * The folded ChangeState as JSON: the projection is a cache of the event log, never queried
   * inside; one string value is several times cheaper to store and load than a nested document
   * (above all on FerretDB, whose cost grows with the number of values in a document).
   */
  stateJson: string | null;
  slack: SlackRef | null;
  /** Set until the change's root message is posted: the start-up repair reads only these. */
  unannounced?: boolean;
  originChannel: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface IdempotencyKeyDoc {
  _id: string;
  at: Date;
  expiresAt: Date;
  /** Who holds it, for a lease its holder renews within its period. */
  holder?: string;
  /** What the claimed work produced (a change's id), once it did: see IdempotencyStore.settle. */
  outcome?: string;
}

/**
 * One outgoing reminder: the insert of `_id` (its idempotency key) is the claim; once Slack accepted
 * it, a record `<key>#sent` (state `sent`) is inserted beside it (a claim written `sent` in place, as
 * before that record, counts the same). A claim with no such record, left by a crashed process, is
 * taken over after its lease through an insert-guarded takeover record, so two replicas never both
 * take it over.
 */
export interface DeliveryDoc {
  _id: string;
  state: 'claimed' | 'sent' | 'takeover';
  attempt: number;
  claimedAt: Date;
  sentAt: Date | null;
  /** The claimant's token on a first claim: tells its own insert from another's after a retry. */
  by?: string;
}

const deliverySchema = new Schema<DeliveryDoc>(
  {
    _id: { type: String, required: true },
    state: { type: String, required: true },
    attempt: { type: Number, required: true },
    claimedAt: { type: Date, required: true },
    sentAt: { type: Date, default: null },
    by: { type: String, required: false },
  },
  { collection: 'reminder_deliveries', versionKey: false },
);
deliverySchema.index({ claimedAt: 1 }, { name: 'by_claimed' });

/**
 * A change event whose Slack effects (root message update, thread reply, DMs) are not known to be
 * delivered yet: written with the event, removed once delivered, retried by a job until then.
 */
export interface SlackEffectDoc {
  _id: string; // `<changeNumber>:<seq>`
  changeNumber: number;
  seq: number;
  attempts: number;
  /** The thread reply went out: a retry must not post it again. */
  replied: boolean;
  /** Not retried before this time (the first attempt owns it until then). */
  nextAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
}

const slackEffectSchema = new Schema<SlackEffectDoc>(
  {
    _id: { type: String, required: true },
    changeNumber: { type: Number, required: true },
    seq: { type: Number, required: true },
    attempts: { type: Number, required: true },
    replied: { type: Boolean, default: false },
    nextAttemptAt: { type: Date, required: true },
    lastError: { type: String, default: null },
    createdAt: { type: Date, required: true },
  },
  { collection: 'slack_effects', versionKey: false },
);
slackEffectSchema.index({ nextAttemptAt: 1 }, { name: 'by_next_attempt' });

/** A pipeline's bearer token (see ApiToken), stored under its public id (the part before the secret). */
export type ApiTokenDoc = Omit<ApiToken, 'id' | 'scopes' | 'environments'> & {
  _id: string;
  scopes: string[];
  /** Absent on tokens created before tokens were scoped to environments. */
  environments?: string[] | null;
};

const apiTokenSchema = new Schema<ApiTokenDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    secretHash: { type: String, required: true },
    scopes: { type: [String], default: [] },
    environments: { type: [String], default: null },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    revokedAt: { type: Date, default: null },
    revokedBy: { type: String, default: null },
    lastUsedAt: { type: Date, default: null },
  },
  { collection: 'api_tokens', versionKey: false },
);
apiTokenSchema.index({ name: 1 }, { unique: true, name: 'uniq_token_name' });

/** People who opened App Home at least once: only their Home tabs are refreshed when changes move. */
export interface HomeUserDoc {
  _id: string; // Slack user id
  openedAt: Date;
}

export interface PolicyVersionDoc {
  _id: string; // hash
  source: string;
  yaml: string;
  firstSeenAt: Date;
}

/** An event's `_id`: deterministic, so a change's log can be read by `_id` lookups (see ChangeRepository). */
export const eventId = (changeNumber: number, seq: number) => `${changeNumber}:${seq}`;

const changeEventSchema = new Schema<ChangeEventDoc>(
  {
    _id: { type: String, required: true },
    changeNumber: { type: Number, required: true },
    seq: { type: Number, required: true },
    slot: { type: String, required: true },
    type: { type: String, required: true },
    actor: { type: String, required: true },
    at: { type: Date, required: true },
    policyHash: { type: String, required: true },
    data: { type: Schema.Types.Mixed, default: {} },
    prevHash: { type: String, required: true },
    hash: { type: String, required: true },
    seal: { type: { keyId: String, sig: String }, default: null, _id: false },
  },
  { collection: 'change_events', versionKey: false, minimize: false },
);
// One event per sequence number: the insert is the commit point of every state change.
changeEventSchema.index({ changeNumber: 1, seq: 1 }, { unique: true, name: 'uniq_change_seq' });
// One event per slot: one decision per stage, one cancellation, one retrospective, one record per idempotency key.
changeEventSchema.index({ changeNumber: 1, slot: 1 }, { unique: true, name: 'uniq_change_slot' });
changeEventSchema.index({ at: 1 }, { name: 'by_time' });

const changeSchema = new Schema<ChangeDoc>(
  {
    _id: { type: String, required: true },
    number: { type: Number, required: true },
    seq: { type: Number, required: true },
    headHash: { type: String, default: '' },
    title: { type: String, required: true },
    type: { type: String, required: true },
    status: { type: String, required: true },
    requester: { type: String, required: true },
    emergency: { type: Boolean, default: false },
    submittedAt: { type: Date, required: true },
    approvedAt: { type: Date, default: null },
    deployedAt: { type: Date, default: null },
    closedAt: { type: Date, default: null },
    retroDueAt: { type: Date, default: null },
    retroSubmittedAt: { type: Date, default: null },
    currentApprovers: { type: [String], default: [] },
    participants: { type: [String], default: [] },
    openToAnyone: { type: Boolean, default: false },
    stageStartedAt: { type: Date, default: null },
    retroReview: { type: String, default: null },
    pirDueAt: { type: Date, default: null },
    plannedStart: { type: Date, default: null },
    deployedBy: { type: String, default: null },
    lastEventAt: { type: Date, default: null },
    stateJson: { type: String, default: null },
    slack: { type: { channel: String, ts: String, permalink: String }, default: null, _id: false },
    unannounced: { type: Boolean, required: false },
    originChannel: { type: String, default: null },
  },
  { collection: 'changes', versionKey: false, timestamps: true, minimize: false },
);
// Only changes not announced yet carry the field: the repair's query reads those, not the history.
changeSchema.index({ unannounced: 1 }, { sparse: true, name: 'by_unannounced' });
// A unique change number, claimed by inserting.
changeSchema.index({ number: 1 }, { unique: true, name: 'uniq_number' });
changeSchema.index({ status: 1, number: -1 }, { name: 'by_status' });
changeSchema.index({ requester: 1, number: -1 }, { name: 'by_requester' });
changeSchema.index({ currentApprovers: 1, status: 1 }, { name: 'by_approver' });
changeSchema.index({ participants: 1, number: -1 }, { name: 'by_participant' });
changeSchema.index({ submittedAt: 1 }, { name: 'by_submitted' });
changeSchema.index({ deployedAt: 1 }, { name: 'by_deployed' });
changeSchema.index({ status: 1, retroDueAt: 1 }, { name: 'by_retro_due' });
// The sweeps' retrospectives owed and overdue (and the digest's second branch) name no status.
changeSchema.index({ emergency: 1, retroDueAt: 1 }, { name: 'by_emergency_retro_due' });
changeSchema.index({ status: 1, plannedStart: 1 }, { name: 'by_window' });
changeSchema.index({ lastEventAt: 1 }, { name: 'by_activity' });
changeSchema.index({ retroReview: 1 }, { name: 'by_retro_review', sparse: true });
changeSchema.index({ pirDueAt: 1 }, { name: 'by_pir_due', sparse: true });

const idempotencySchema = new Schema<IdempotencyKeyDoc>(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    holder: { type: String },
    outcome: { type: String },
  },
  { collection: 'idempotency_keys', versionKey: false },
);
idempotencySchema.index({ expiresAt: 1 }, { name: 'by_expiry' });

const policyVersionSchema = new Schema<PolicyVersionDoc>(
  {
    _id: { type: String, required: true },
    source: { type: String, required: true },
    yaml: { type: String, required: true },
    firstSeenAt: { type: Date, required: true },
  },
  { collection: 'policy_versions', versionKey: false },
);

/** A published policy version (domain/policy-admin.ts), under its zero-padded number: unique on insert. */
export interface PolicyHistoryDoc {
  _id: string;
  number: number;
  hash: string;
  previousHash: string | null;
  by: string;
  at: Date;
  origin: string;
  note: string;
  diff: string;
  added: number;
  removed: number;
  prevRecordHash: string;
  recordHash: string;
  seal: { keyId: string; sig: string } | null;
}

const policyHistorySchema = new Schema<PolicyHistoryDoc>(
  {
    _id: { type: String, required: true },
    number: { type: Number, required: true },
    hash: { type: String, required: true },
    previousHash: { type: String, default: null },
    by: { type: String, required: true },
    at: { type: Date, required: true },
    origin: { type: String, required: true },
    note: { type: String, default: '' },
    diff: { type: String, default: '' },
    added: { type: Number, required: true },
    removed: { type: Number, required: true },
    prevRecordHash: { type: String, required: true },
    recordHash: { type: String, required: true },
    seal: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'policy_history', versionKey: false },
);

/** The `_id` of a numbered log record (policy history, delegations): sorts as the number does. */
export const logRecordId = (n: number) => String(n).padStart(9, '0');

/** A record of the delegation log (domain/delegation.ts), under its zero-padded number. */
export interface DelegationLogDoc {
  _id: string;
  number: number;
  kind: string;
  delegation: { id: string; from: string; to: string; start: Date; until: Date };
  by: string;
  at: Date;
  prevRecordHash: string;
  recordHash: string;
  seal: { keyId: string; sig: string } | null;
}

const delegationLogSchema = new Schema<DelegationLogDoc>(
  {
    _id: { type: String, required: true },
    number: { type: Number, required: true },
    kind: { type: String, required: true },
    delegation: { type: Schema.Types.Mixed, required: true },
    by: { type: String, required: true },
    at: { type: Date, required: true },
    prevRecordHash: { type: String, required: true },
    recordHash: { type: String, required: true },
    seal: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'delegation_log', versionKey: false },
);

/** A board meeting (domain/board.ts): created once under its id, closed once (a claim in settings). */
export interface BoardMeetingDoc {
  _id: string;
  board: string;
  kind: string;
  start: Date;
  end: Date;
  items: number[];
  /** The changes on the agenda as last published. */
  agendaItems: number[];
  agenda: { channel: string; ts: string } | null;
  agendaDigest: string | null;
  closedAt: Date | null;
  closedBy: string | null;
}

const boardMeetingSchema = new Schema<BoardMeetingDoc>(
  {
    _id: { type: String, required: true },
    board: { type: String, required: true },
    kind: { type: String, required: true },
    start: { type: Date, required: true },
    end: { type: Date, required: true },
    items: { type: [Number], default: [] },
    agendaItems: { type: [Number], default: [] },
    agenda: { type: Schema.Types.Mixed, default: null },
    agendaDigest: { type: String, default: null },
    closedAt: { type: Date, default: null },
    closedBy: { type: String, default: null },
  },
  { collection: 'board_meetings', versionKey: false },
);
boardMeetingSchema.index({ closedAt: 1, end: 1 }, { name: 'by_open_end' });

/** A record of the board minutes log (domain/board.ts), under its zero-padded number. */
export interface MinutesLogDoc {
  _id: string;
  [key: string]: unknown;
}

const minutesLogSchema = new Schema<MinutesLogDoc>(
  { _id: { type: String, required: true } },
  { collection: 'board_minutes', versionKey: false, strict: false },
);
minutesLogSchema.index({ meeting: 1 }, { name: 'by_meeting' });

/** Which changes a pull request (`owner/repo#number`) is linked to: how reviews and checks find them. */
export interface GithubLinkDoc {
  _id: string;
  changes: number[];
}

const githubLinkSchema = new Schema<GithubLinkDoc>(
  { _id: { type: String, required: true }, changes: { type: [Number], default: [] } },
  { collection: 'github_links', versionKey: false },
);

/** A deployment protection rule waiting for its answer (application/github-gates.ts). */
export interface GithubGateDoc {
  _id: string;
  installationId: number;
  repo: string;
  environment: string;
  sha: string;
  change: number;
  deploymentId: number;
  reports: number;
  lastReport: string;
  state: string;
}

const githubGateSchema = new Schema<GithubGateDoc>(
  {
    _id: { type: String, required: true },
    installationId: { type: Number, required: true },
    repo: { type: String, required: true },
    environment: { type: String, required: true },
    sha: { type: String, required: true },
    change: { type: Number, required: true },
    deploymentId: { type: Number, required: true },
    reports: { type: Number, default: 0 },
    lastReport: { type: String, default: '' },
    state: { type: String, required: true },
  },
  { collection: 'github_gates', versionKey: false },
);
githubGateSchema.index({ change: 1, state: 1 }, { name: 'by_change_state' });
githubGateSchema.index({ deploymentId: 1 }, { name: 'by_deployment' });

/** A GitHub login (lower case) mapped to a Slack person. */
export interface GithubUserDoc {
  _id: string;
  slackUser: string;
  at: Date;
}

const githubUserSchema = new Schema<GithubUserDoc>(
  {
    _id: { type: String, required: true },
    slackUser: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'github_users', versionKey: false },
);
githubUserSchema.index({ slackUser: 1 }, { name: 'by_slack_user' });

/** Installation settings claimed once (the first admin) and one-time setup codes (by their hash). */
export interface SettingDoc {
  _id: string;
  value: string;
  at: Date;
}

const settingSchema = new Schema<SettingDoc>(
  {
    _id: { type: String, required: true },
    value: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'settings', versionKey: false },
);

const homeUserSchema = new Schema<HomeUserDoc>(
  { _id: { type: String, required: true }, openedAt: { type: Date, required: true } },
  { collection: 'home_users', versionKey: false },
);

/**
 * A change-log rollup's pending difference: written before the event it announces (`_id` =
 * `<change>:<seq>:<hash prefix>`), folded into the days and then removed. One with no event is a
 * write that lost its race or crashed before its event: dropped once old enough.
 */
export interface RollupMarkDoc {
  _id: string;
  changeNumber: number;
  seq: number;
  hash: string;
  at: Date;
}

const rollupMarkSchema = new Schema<RollupMarkDoc>(
  {
    _id: { type: String, required: true },
    changeNumber: { type: Number, required: true },
    seq: { type: Number, required: true },
    hash: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'rollup_marks', versionKey: false },
);
// The fold reads the oldest marks first.
rollupMarkSchema.index({ at: 1 }, { name: 'by_time' });

/**
 * A change that may still have work (FerretDB only; `_id` = its id, CR-42), with the fields of its
 * record the queries over the list read: the periodic sweeps, the start-up repair and App Home's
 * lists run their queries over these few instead of over every change, which FerretDB cannot narrow
 * by an index. See change-todo.ts for how the list is kept.
 */
export interface ChangeTodoDoc
  extends Partial<
    Pick<
      ChangeDoc,
      | 'seq'
      | 'status'
      | 'emergency'
      | 'retroDueAt'
      | 'retroSubmittedAt'
      | 'retroReview'
      | 'pirDueAt'
      | 'plannedStart'
      | 'deployedAt'
      | 'unannounced'
      | 'createdAt'
      | 'requester'
      | 'currentApprovers'
      | 'participants'
      | 'openToAnyone'
    >
  > {
  /** The change's id (CR-42): FerretDB narrows a query by a string `_id`. */
  _id: string;
  number: number;
  /** When the entry was last written. */
  at: Date;
  /** Whether the record has a Slack message (its reference is not copied). */
  slack?: true | null;
}

const changeTodoSchema = new Schema<ChangeTodoDoc>(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    number: { type: Number, required: true },
    seq: Number,
    status: String,
    emergency: Boolean,
    retroDueAt: Date,
    retroSubmittedAt: Date,
    retroReview: String,
    pirDueAt: Date,
    plannedStart: Date,
    deployedAt: Date,
    unannounced: Boolean,
    createdAt: Date,
    requester: String,
    currentApprovers: [String],
    participants: [String],
    openToAnyone: Boolean,
    slack: Boolean,
  },
  { collection: 'change_todo', versionKey: false },
);

/** One day of the change-log rollup of one policy fingerprint (`_id` = `<fingerprint>:<day>`). */
export interface RollupDayDoc {
  _id: string;
  fingerprint: string;
  day: string;
  /** See domain/rollup.ts StoredDay. */
  counters: string;
  items: unknown[];
  open: unknown[];
  /** Marks already in these figures (a fold that stopped before removing them). */
  folded: string[];
  updatedAt: Date;
}

const rollupDaySchema = new Schema<RollupDayDoc>(
  {
    _id: { type: String, required: true },
    fingerprint: { type: String, required: true },
    day: { type: String, required: true },
    counters: { type: String, default: '' },
    items: { type: Schema.Types.Mixed, required: true },
    open: { type: Schema.Types.Mixed, required: true },
    folded: { type: [String], default: [] },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'rollup_days', versionKey: false, minimize: false },
);
rollupDaySchema.index({ fingerprint: 1, day: 1 }, { name: 'by_fingerprint_day' });

export interface Models {
  Change: Model<ChangeDoc>;
  ChangeEvent: Model<ChangeEventDoc>;
  IdempotencyKey: Model<IdempotencyKeyDoc>;
  PolicyVersion: Model<PolicyVersionDoc>;
  PolicyHistory: Model<PolicyHistoryDoc>;
  Setting: Model<SettingDoc>;
  DelegationLog: Model<DelegationLogDoc>;
  BoardMeeting: Model<BoardMeetingDoc>;
  MinutesLog: Model<MinutesLogDoc>;
  GithubLink: Model<GithubLinkDoc>;
  GithubGate: Model<GithubGateDoc>;
  GithubUser: Model<GithubUserDoc>;
  HomeUser: Model<HomeUserDoc>;
  Delivery: Model<DeliveryDoc>;
  ApiToken: Model<ApiTokenDoc>;
  SlackEffect: Model<SlackEffectDoc>;
  AuditEntry: Model<AuditEntryDoc>;
  AuditEventIndex: Model<AuditEventIndexDoc>;
  AuditCheckpoint: Model<AuditCheckpointDoc>;
  AuditNode: Model<AuditNodeDoc>;
  AuditMeta: Model<AuditMetaDoc>;
  RollupMark: Model<RollupMarkDoc>;
  RollupDay: Model<RollupDayDoc>;
  ChangeTodo: Model<ChangeTodoDoc>;
  ChangeInflight: Model<ChangeTodoDoc>;
}

export function createModels(conn: Connection): Models {
  return {
    Change: conn.model<ChangeDoc>('Change', changeSchema),
    ChangeEvent: conn.model<ChangeEventDoc>('ChangeEvent', changeEventSchema),
    IdempotencyKey: conn.model<IdempotencyKeyDoc>('IdempotencyKey', idempotencySchema),
    PolicyVersion: conn.model<PolicyVersionDoc>('PolicyVersion', policyVersionSchema),
    PolicyHistory: conn.model<PolicyHistoryDoc>('PolicyHistory', policyHistorySchema),
    Setting: conn.model<SettingDoc>('Setting', settingSchema),
    DelegationLog: conn.model<DelegationLogDoc>('DelegationLog', delegationLogSchema),
    BoardMeeting: conn.model<BoardMeetingDoc>('BoardMeeting', boardMeetingSchema),
    MinutesLog: conn.model<MinutesLogDoc>('MinutesLog', minutesLogSchema),
    GithubLink: conn.model<GithubLinkDoc>('GithubLink', githubLinkSchema),
    GithubGate: conn.model<GithubGateDoc>('GithubGate', githubGateSchema),
    GithubUser: conn.model<GithubUserDoc>('GithubUser', githubUserSchema),
    HomeUser: conn.model<HomeUserDoc>('HomeUser', homeUserSchema),
    Delivery: conn.model<DeliveryDoc>('Delivery', deliverySchema),
    ApiToken: conn.model<ApiTokenDoc>('ApiToken', apiTokenSchema),
    SlackEffect: conn.model<SlackEffectDoc>('SlackEffect', slackEffectSchema),
    AuditEntry: conn.model<AuditEntryDoc>('AuditEntry', auditEntrySchema),
    AuditEventIndex: conn.model<AuditEventIndexDoc>('AuditEventIndex', auditEventIndexSchema),
    AuditCheckpoint: conn.model<AuditCheckpointDoc>('AuditCheckpoint', auditCheckpointSchema),
    AuditNode: conn.model<AuditNodeDoc>('AuditNode', auditNodeSchema),
    AuditMeta: conn.model<AuditMetaDoc>('AuditMeta', auditMetaSchema),
    RollupMark: conn.model<RollupMarkDoc>('RollupMark', rollupMarkSchema),
    RollupDay: conn.model<RollupDayDoc>('RollupDay', rollupDaySchema),
    ChangeTodo: conn.model<ChangeTodoDoc>('ChangeTodo', changeTodoSchema),
    // The same entries for the submissions in flight (change-todo.ts IN_FLIGHT_LIST).
    ChangeInflight: conn.model<ChangeTodoDoc>('ChangeInflight', changeTodoSchema.clone(), 'change_inflight'),
  };
}

interface IndexedModel {
  createCollection(): Promise<unknown>;
  createIndexes(): Promise<unknown>;
}

/** Creates collections and indexes and waits for them; rejects if the server refuses an index. */
export async function ensureIndexes(models: Iterable<IndexedModel>): Promise<void> {
  for (const model of models) {
    await model.createCollection().catch((err: { code?: number }) => {
      if (err.code !== 48) throw err; // NamespaceExists
    });
    await model.createIndexes();
  }
}
