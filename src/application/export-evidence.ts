import { evidenceRow } from '../domain/change-log.js';
import {
  BUNDLE_FORMAT,
  type BundleChange,
  type BundleHeader,
  type BundleSignature,
  bundleSignatureBytes,
  type LedgerProof,
} from '../domain/evidence.js';
import { entryLeaf, type SignedCheckpoint } from '../domain/ledger.js';
import { inclusionProofFrom } from '../domain/merkle.js';
import type { Period } from '../domain/period.js';
import { changeIntegrity, checkpointNow, keyRing } from './audit-ledger.js';
import { mapAhead } from './map-ahead.js';
import type { ChangeRecord, Deps, ReadDeps } from './ports.js';
import { type ScopeKind, type Viewer, visibility } from './visibility.js';

export interface Evidence {
  scope: ScopeKind;
  header: BundleHeader;
  /** Streamed in change-number order; each row is folded from the change's verified events. */
  changes: AsyncGenerator<BundleChange>;
  /** Signs the digest of the exported bytes (null: this process holds no audit key). */
  sign(sha256: string): BundleSignature | null;
}

type EvidenceDeps = ReadDeps & Pick<Deps, 'witness'>;

/** How many changes an export reads at once (each a few look-ups by key, then its signatures checked). */
const EXPORT_AHEAD = 8;

/**
 * The evidence of the period for the viewer. Each row is built from the change's events after they
 * verify (chain, and each event's signed ledger entry or seal), never from its stored record; a
 * change whose events do not verify says so in its `integrity`. With `proofs`, a checkpoint is
 * signed first and every event carries its inclusion proof against it.
 */
export async function exportEvidence(
  deps: EvidenceDeps,
  viewer: Viewer,
  period: Period,
  opts: { proofs: boolean },
): Promise<Evidence> {
  const scope = await visibility(deps, viewer);
  const now = deps.clock.now();
  if (opts.proofs && deps.audit)
    await checkpointNow(deps).catch((err) =>
      deps.logger.warn('could not sign a checkpoint for the export', { component: 'ledger', err }),
    );
  const rotations: SignedCheckpoint[] = [];
  let checkpoint: SignedCheckpoint | null = null;
  for await (const r of deps.ledger.checkpoints()) {
    if (r.checkpoint.body.kind === 'key_rotation') rotations.push(r.checkpoint);
    checkpoint = r.checkpoint;
  }
  const ring = await keyRing(deps, [], rotations);
  const header: BundleHeader = {
    format: BUNDLE_FORMAT,
    generatedAt: now.toISOString(),
    period: period.label,
    checkpoint: opts.proofs ? checkpoint : null,
    publicKeys: ring.ids().map((id) => ring.publicKey(id)!),
    rotations,
  };
  const perfect = nodeReader(deps);

  async function row(record: ChangeRecord): Promise<BundleChange | null> {
    const loaded = await deps.changes.load(record.number, record);
    if (!loaded) return null;
    const { integrity, trusted } = await changeIntegrity(deps, loaded, { entries: opts.proofs, ring });
    const ledger: LedgerProof[] = [];
    if (opts.proofs)
      for (const e of trusted) {
        const size = checkpoint?.body.treeSize ?? 0;
        ledger.push({
          seq: e.seq,
          index: e.position,
          keyId: e.keyId,
          sig: e.sig,
          proof:
            e.position < size ? await inclusionProofFrom(e.position, size, perfect).catch(() => null) : null,
        });
      }
    return {
      ...evidenceRow(loaded.state, loaded.head.hash, now, integrity),
      audit: { events: opts.proofs ? loaded.events : [], ledger },
    };
  }

  async function* changes(): AsyncGenerator<BundleChange> {
    // Each change costs a few look-ups by key: several are read at once, written in order.
    for await (const change of mapAhead(deps.changes.inPeriod(period, scope), EXPORT_AHEAD, row))
      if (change) yield change;
  }

  return {
    scope: scope.kind,
    header,
    changes: changes(),
    sign: (sha256) =>
      deps.audit
        ? {
            keyId: deps.audit.signer.keyId,
            sha256,
            sig: deps.audit.signer.sign(bundleSignatureBytes(sha256)),
          }
        : null,
  };
}

/** Perfect subtrees of the ledger's tree, from storage, with the upper levels cached for the export. */
function nodeReader(deps: ReadDeps) {
  const cache = new Map<string, string>();
  return async (height: number, index: number): Promise<string> => {
    const key = `${height}:${index}`;
    const hit = cache.get(key);
    if (hit) return hit;
    let hash: string | null;
    if (height === 0) {
      const e = await deps.ledger.entryAt(index);
      hash = e ? entryLeaf({ ...e, index: e.position }) : null;
    } else hash = await deps.ledger.node(height, index);
    if (!hash) throw new Error(`the ledger's tree has no node ${key}`);
    if (height >= 4 && cache.size < 100_000) cache.set(key, hash);
    return hash;
  };
}
