import type { AuditWitness, Directory, Logger, WitnessRef } from '../../application/ports.js';
import type { AuditReport } from '../../application/verify-audit.js';
import type { LoadedPolicy } from '../../config/policy.js';
import { checkpointText, type SignedCheckpoint } from '../../domain/ledger.js';
import { isSlackUserId } from '../../domain/people.js';
import { usersInRoles } from '../../domain/policy.js';
import type { SlackIdentity } from '../../infra/slack/identity.js';
import type { SlackSender } from '../../infra/slack/sender.js';
import { ownMessagesWithMetadata } from './own-messages.js';
import { auditAlertText } from './views/change-log.message.js';

/** The metadata type the checkpoints carry (read back with conversations.history). */
export const CHECKPOINT_EVENT = 'changegate_audit_checkpoint';

/** Pages of history read at most (200 messages each): 100,000 messages. */
const MAX_PAGES = 500;

/**
 * The audit channel as the ledger's witness: each signed checkpoint is posted there as a message
 * carrying it in its metadata. The database's administrator cannot edit or remove the app's
 * messages; verification reads them back (only the app's own) and compares.
 */
export class SlackAuditWitness implements AuditWitness {
  constructor(
    private readonly sender: SlackSender,
    private readonly policy: LoadedPolicy,
    private readonly directory: Directory,
    private readonly identity: SlackIdentity,
    private readonly logger: Logger,
  ) {}

  private get channel(): string | null {
    return this.policy.policy.channels.audit;
  }

  get configured(): boolean {
    return this.channel !== null;
  }

  async post(c: SignedCheckpoint): Promise<WitnessRef> {
    const b = c.body;
    const text = `🔏 Audit checkpoint #${b.number}${b.kind === 'key_rotation' ? ` (key rotation ${b.previousKeyId} → ${b.keyId})` : ''}: ${b.treeSize} ledger entries, root \`${b.rootHash}\`, signed by key \`${b.keyId}\` at ${b.time}.`;
    const res = await this.sender.call<{ channel?: string; ts?: string }>('chat.postMessage', {
      channel: this.channel!,
      text,
      unfurl_links: false,
      metadata: { event_type: CHECKPOINT_EVENT, event_payload: { checkpoint: checkpointText(c) } },
    });
    return { channel: res.channel ?? this.channel!, ts: res.ts ?? '' };
  }

  async read(): Promise<SignedCheckpoint[] | null> {
    const channel = this.channel;
    if (!channel) return null;
    try {
      const out: SignedCheckpoint[] = [];
      const posted = ownMessagesWithMetadata(
        this.sender,
        this.identity,
        channel,
        CHECKPOINT_EVENT,
        MAX_PAGES,
      );
      for await (const m of posted) {
        const parsed = parseCheckpoint(m.payload.checkpoint);
        if (parsed) out.push(parsed);
      }
      return out;
    } catch (err) {
      this.logger.warn('could not read the audit channel', { component: 'ledger', channel, err });
      return null;
    }
  }

  async alert(report: AuditReport): Promise<void> {
    const text = auditAlertText(report);
    const policy = this.policy.policy;
    const roles = policy.access.securityAlerts;
    const groups = new Set<string>();
    for (const r of roles) for (const g of policy.roles[r]?.groups ?? []) groups.add(g);
    const membership = await this.directory.membership();
    const users = usersInRoles(policy, membership, roles);
    const mentions = [
      ...[...groups].map((g) => `<!subteam^${g}>`),
      ...users.filter(isSlackUserId).map((u) => `<@${u}>`),
    ];
    const channels = new Set([this.channel, policy.channels.security].filter((c): c is string => !!c));
    const full = mentions.length > 0 ? `${text}\n${mentions.join(' ')}` : text;
    for (const channel of channels)
      await this.sender
        .call('chat.postMessage', { channel, text: full, unfurl_links: false })
        .catch((err) => this.logger.warn('could not post the audit alert', { channel, err }));
    for (const user of users.filter(isSlackUserId))
      await this.sender
        .call('chat.postMessage', { channel: user, text, unfurl_links: false })
        .catch((err) => this.logger.warn('could not DM the audit alert', { user, err }));
  }
}

function parseCheckpoint(text: unknown): SignedCheckpoint | null {
  if (typeof text !== 'string' || text.length > 20_000) return null;
  try {
    const c = JSON.parse(text) as SignedCheckpoint;
    return c &&
      typeof c === 'object' &&
      c.body &&
      typeof c.body.number === 'number' &&
      typeof c.sig === 'string'
      ? c
      : null;
  } catch {
    return null;
  }
}
