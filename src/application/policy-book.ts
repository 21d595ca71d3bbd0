import { type LoadedPolicy, PolicyError, parsePolicy, withAdmins } from '../config/policy.js';
import { policyDiff, renderPolicy } from '../config/policy-templates.js';
import type { Policy } from '../domain/policy.js';
import {
  chainPolicyVersion,
  hasAdmin,
  type PolicyOrigin,
  type PolicyVersionRecord,
  policyForChange,
  withAdmin,
} from '../domain/policy-admin.js';
import type { Clock } from '../domain/time.js';
import type { AuditSigner, Logger, PolicyStore } from './ports.js';

export type PublishRefusal =
  | 'POLICY_READ_ONLY'
  | 'POLICY_CHANGED'
  | 'POLICY_INVALID'
  | 'POLICY_NO_ADMIN'
  | 'POLICY_UNCHANGED';

export type PublishOutcome =
  | { ok: true; record: PolicyVersionRecord }
  | { ok: false; code: PublishRefusal; message: string };

export interface PolicyBookOptions {
  store: PolicyStore;
  clock: Clock;
  logger: Logger;
  /** The audit key: every version is sealed with it (null: a tool that cannot write). */
  signer: AuditSigner | null;
  /** CHANGEGATE_POLICY, when set: the file wins and setup in Slack is read-only. */
  file: LoadedPolicy | null;
  /** Where a database with no published version starts (the built-in policy). */
  initial: LoadedPolicy;
  /** CHANGEGATE_ADMINS: administrators on top of whatever version is in force. */
  envAdmins: readonly string[];
}

const SYSTEM = 'changegate';

/**
 * The policy's versions. The version in force is the file (CHANGEGATE_POLICY) or else the latest
 * published in the database; admins publish new ones from App Home. Each version is kept by its hash
 * and recorded in a hash-chained history sealed with the audit key (who, when, the hash, a diff
 * against the version before), so a change is always decided under the version it was raised under
 * (see domain/policy-admin.ts policyForChange) and nobody edits the history unnoticed.
 */
export class PolicyBook {
  private base: LoadedPolicy;
  private effective: LoadedPolicy;
  private headNumber = 0;
  private readonly versions = new Map<string, Policy>();
  private readonly missing = new Set<string>();
  /** The policy in force as a `LoadedPolicy` that always reads the current version. */
  readonly live: LoadedPolicy;

  constructor(private readonly o: PolicyBookOptions) {
    this.base = o.file ?? o.initial;
    this.effective = withAdmins(this.base, o.envAdmins);
    const book = this;
    this.live = {
      get policy() {
        return book.effective.policy;
      },
      get hash() {
        return book.effective.hash;
      },
      get source() {
        return book.effective.source;
      },
      get yaml() {
        return book.effective.yaml;
      },
    };
  }

  /** Setup in Slack cannot change the policy: CHANGEGATE_POLICY names the file in force. */
  get readOnly(): boolean {
    return this.o.file !== null;
  }

  get fileSource(): string | null {
    return this.o.file?.source ?? null;
  }

  get store(): PolicyStore {
    return this.o.store;
  }

  get envAdmins(): readonly string[] {
    return this.o.envAdmins;
  }

  /** The version in force with CHANGEGATE_ADMINS applied (what every decision uses). */
  current(): LoadedPolicy {
    return this.effective;
  }

  /** The version as published (without CHANGEGATE_ADMINS): what setup edits and downloads. */
  published(): LoadedPolicy {
    return this.base;
  }

  get number(): number {
    return this.headNumber;
  }

  /**
   * At start-up: the file is recorded as a version when it differs from the latest; without a file
   * the latest published version is taken up (the first start publishes the built-in policy).
   */
  async init(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const head = await this.o.store.head();
      if (this.o.file) {
        if (head?.hash === this.o.file.hash || !this.o.signer) {
          this.take(this.o.file, head?.number ?? 0);
        } else {
          const done = await this.append(
            head,
            this.o.file,
            SYSTEM,
            'file',
            `CHANGEGATE_POLICY (${this.o.file.source})`,
          );
          if (!done) continue;
        }
      } else if (head) {
        this.take(await this.load(head), head.number);
      } else if (this.o.signer) {
        const done = await this.append(null, this.o.initial, SYSTEM, 'initial', this.o.initial.source);
        if (!done) continue;
      }
      break;
    }
    await this.o.store.keepText(
      this.effective.hash,
      this.effective.source,
      this.effective.yaml,
      this.o.clock.now(),
    );
    // A first admin claimed by a process that stopped before publishing them: publish them now.
    const first = await this.o.store.firstAdmin();
    if (first && !this.readOnly && !hasAdmin(this.effective.policy) && this.o.signer)
      await this.publish({
        policy: withAdmin(this.base.policy, first),
        by: first,
        origin: 'first_admin',
        note: 'first admin (setup code)',
      });
  }

  /** Takes up a version another replica published (called periodically and before setup views). */
  async refresh(): Promise<void> {
    if (this.readOnly) return;
    const head = await this.o.store.head();
    if (head && head.number > this.headNumber) this.take(await this.load(head), head.number);
  }

  /** The policy a change raised under `hash` is decided under (see policyForChange). */
  async forChange(hash: string): Promise<Policy> {
    const current = this.effective;
    if (hash === current.hash) return current.policy;
    let raised = this.versions.get(hash);
    if (!raised && !this.missing.has(hash)) {
      const text = await this.o.store.text(hash);
      try {
        const parsed = text ? parsePolicy(text.yaml, text.source) : null;
        // Kept before versions were rendered: the file's text, under the hash with CHANGEGATE_ADMINS.
        const withEnv = parsed && parsed.hash !== hash ? withAdmins(parsed, this.o.envAdmins) : parsed;
        if (withEnv?.hash === hash) raised = withEnv.policy;
      } catch (err) {
        if (!(err instanceof PolicyError)) throw err;
      }
      if (raised) {
        if (this.versions.size >= 64) this.versions.delete(this.versions.keys().next().value!);
        this.versions.set(hash, raised);
      } else {
        this.missing.add(hash);
        this.o.logger.error(
          `policy version ${hash} is not stored (or does not match its hash): changes raised under it are decided under the policy in force`,
          { component: 'policy' },
        );
      }
    }
    return raised ? policyForChange(raised, current.policy) : current.policy;
  }

  /**
   * Publishes a new version: refused while the file is in force, when the version in force is no
   * longer the one the admin edited (`baseHash`), when it would leave nobody an admin, when it does
   * not load back as a valid policy, and when nothing changed.
   */
  async publish(input: {
    policy: Policy;
    by: string;
    origin: PolicyOrigin;
    note: string;
    baseHash?: string;
  }): Promise<PublishOutcome> {
    if (this.readOnly)
      return {
        ok: false,
        code: 'POLICY_READ_ONLY',
        message: `The policy comes from the file ${this.o.file!.source} (CHANGEGATE_POLICY): edit the file and restart.`,
      };
    await this.refresh();
    if (input.baseHash !== undefined && input.baseHash !== this.base.hash)
      return {
        ok: false,
        code: 'POLICY_CHANGED',
        message:
          'Someone published another version of the policy meanwhile; open setup again and redo the change.',
      };
    const rendered = renderPolicy(input.policy, `policy version ${this.headNumber + 1}`);
    let checked: LoadedPolicy;
    try {
      checked = parsePolicy(rendered.yaml, rendered.source);
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      return {
        ok: false,
        code: 'POLICY_INVALID',
        message: err.problems.map((p) => `${p.path}: ${p.message}`).join('; '),
      };
    }
    if (checked.hash !== rendered.hash) throw new Error('a policy does not load back to its own hash');
    if (!hasAdmin(checked.policy) && this.o.envAdmins.length === 0)
      return {
        ok: false,
        code: 'POLICY_NO_ADMIN',
        message:
          'This version would leave nobody an admin of Changegate; keep at least one person in an admin role.',
      };
    if (checked.hash === this.base.hash)
      return {
        ok: false,
        code: 'POLICY_UNCHANGED',
        message: 'Nothing changed: the policy in force is already this one.',
      };
    const head = await this.o.store.head();
    if ((head?.number ?? 0) !== this.headNumber)
      return {
        ok: false,
        code: 'POLICY_CHANGED',
        message:
          'Someone published another version of the policy meanwhile; open setup again and redo the change.',
      };
    const record = await this.append(head, checked, input.by, input.origin, input.note);
    if (!record)
      return {
        ok: false,
        code: 'POLICY_CHANGED',
        message: 'Someone published another version of the policy at the same moment; open setup again.',
      };
    return { ok: true, record };
  }

  private async append(
    head: PolicyVersionRecord | null,
    next: LoadedPolicy,
    by: string,
    origin: PolicyOrigin,
    note: string,
  ): Promise<PolicyVersionRecord | null> {
    const signer = this.o.signer;
    if (!signer) throw new Error('no audit key: this process cannot publish a policy version');
    const before = head ? await this.o.store.text(head.hash) : null;
    const stored = renderPolicy(next.policy, next.source);
    const at = this.o.clock.now();
    await this.o.store.keepText(stored.hash, next.source, stored.yaml, at);
    const record = chainPolicyVersion(
      head,
      {
        hash: stored.hash,
        by,
        at,
        origin,
        note,
        ...policyDiff(before && head ? { yaml: before.yaml, hash: head.hash } : null, stored),
      },
      (bytes) => ({ keyId: signer.keyId, sig: signer.sign(bytes) }),
    );
    if (!(await this.o.store.append(record))) return null;
    this.take(stored, record.number);
    this.o.logger.info(`policy version ${record.number} (${record.hash}) published by ${by}`, {
      component: 'policy',
      origin,
      added: record.added,
      removed: record.removed,
    });
    return record;
  }

  private async load(head: PolicyVersionRecord): Promise<LoadedPolicy> {
    const text = await this.o.store.text(head.hash);
    if (!text) throw new Error(`policy version ${head.number} (${head.hash}) has no stored text`);
    const loaded = parsePolicy(text.yaml, `policy version ${head.number}`);
    if (loaded.hash !== head.hash)
      throw new Error(`policy version ${head.number}'s stored text does not match its hash ${head.hash}`);
    return loaded;
  }

  private take(loaded: LoadedPolicy, number: number): void {
    this.base = loaded;
    this.effective = withAdmins(loaded, this.o.envAdmins);
    this.headNumber = number;
    if (this.effective.hash !== loaded.hash) {
      const e = renderPolicy(this.effective.policy, this.effective.source);
      this.effective = e;
      void this.o.store
        .keepText(e.hash, e.source, e.yaml, this.o.clock.now())
        .catch((err) => this.o.logger.warn('could not keep the effective policy text', { err }));
    }
  }
}
