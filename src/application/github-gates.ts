import { formatChangeId } from '../domain/change.js';
import { changeRefs } from '../domain/github.js';
import type { ChangeState } from '../domain/lifecycle.js';
import { waitingFor } from '../domain/lifecycle.js';
import { pipelineActor } from '../domain/people.js';
import { checkDeployGate } from './check-deploy-gate.js';
import type { Deps, GateStore, GithubApi, GithubLinks } from './ports.js';
import { recordDeployment } from './record-deployment.js';

/** A deployment protection rule GitHub asks about (`deployment_protection_rule`, `requested`). */
export interface ProtectionRequest {
  installationId: number;
  repo: string;
  environment: string;
  callbackUrl: string;
  sha: string;
  ref: string;
  /** The deployment's payload and workflow inputs, as text: a `CR-<n>` there names the change. */
  inputs: string;
  deploymentId: number;
}

/** A `deployment_status` event: the deployment's outcome, to record on its change. */
export interface DeploymentStatus {
  delivery: string;
  deploymentId: number;
  environment: string;
  state: string;
  sha: string;
  ref: string;
  inputs: string;
  url: string | null;
  repo: string;
}

export interface GithubGateDeps {
  deps: Deps;
  gh: GithubApi;
  gates: GateStore;
  links: GithubLinks;
}

/** Codes that can never clear for this commit: answered `rejected` at once. */
const FINAL = new Set([
  'commit_mismatch',
  'audit_trail_broken',
  'rejected',
  'cancelled',
  'already_deployed',
  'rolled_back',
]);

/** The change a deployment is for: named in the ref or inputs, or through the PR the commit was merged from. */
async function findChange(g: GithubGateDeps, r: ProtectionRequest): Promise<number[]> {
  const named = changeRefs(r.ref, r.inputs);
  const candidates = new Set<number>(named);
  if (named.length === 0)
    for (const pr of await g.gh.pullsForCommit(r.installationId, r.repo, r.sha))
      for (const n of await g.links.changesOf(`${r.repo}#${pr.number}`)) candidates.add(n);
  const out: number[] = [];
  for (const n of candidates) if (await g.deps.changes.record(n)) out.push(n);
  return out.sort((a, b) => a - b);
}

/**
 * Answers GitHub: the same gate as the API for that environment and commit. Allowed: `approved`.
 * Still pending approval: a status report, and the rule waits (settleGates answers it when Slack
 * decides); nothing polls. Anything else: `rejected`, with the reason.
 */
export async function answerProtectionRule(
  g: GithubGateDeps,
  r: ProtectionRequest,
): Promise<'approved' | 'rejected' | 'pending'> {
  const reject = async (comment: string) => {
    if (await g.gates.claimAnswer(r.callbackUrl, 'rejected'))
      await g.gh.reviewDeployment(r.installationId, r.callbackUrl, {
        environment_name: r.environment,
        state: 'rejected',
        comment,
      });
    return 'rejected' as const;
  };
  const found = await findChange(g, r);
  const sha = r.sha.slice(0, 12);
  if (found.length === 0)
    return reject(
      `No Changegate change covers ${sha}: link its pull request to a change (name CR-<n> in the PR title) or name the change in the ref or workflow inputs.`,
    );
  if (found.length > 1)
    return reject(
      `${sha} is covered by several changes (${found.map(formatChangeId).join(', ')}): name the one this deployment is for (CR-<n>) in the workflow inputs.`,
    );
  const n = found[0]!;
  const gate = await checkDeployGate(g.deps, n, r.environment, r.sha);
  if (!gate) return reject(`There is no change ${formatChangeId(n)}.`);
  await g.gates.add({
    id: r.callbackUrl,
    installationId: r.installationId,
    repo: r.repo,
    environment: r.environment,
    sha: r.sha,
    change: n,
    deploymentId: r.deploymentId,
    reports: 0,
    lastReport: '',
    state: 'pending',
  });
  return decideGate(g, gate.change.state, r.callbackUrl);
}

/** Answers one waiting rule from the change's state now (approved, rejected, or a status report). */
async function decideGate(
  g: GithubGateDeps,
  state: ChangeState,
  id: string,
): Promise<'approved' | 'rejected' | 'pending'> {
  const pending = (await g.gates.pendingFor(state.number)).find((p) => p.id === id);
  if (!pending) return 'pending';
  const id_ = formatChangeId(state.number);
  const gate = await checkDeployGate(g.deps, state.number, pending.environment, pending.sha);
  if (!gate) return 'pending';
  const body = { environment_name: pending.environment };
  if (gate.decision.allowed) {
    if (await g.gates.claimAnswer(id, 'approved')) {
      const approvers = [
        ...new Set(gate.change.state.decisions.filter((d) => d.outcome === 'approved').map((d) => d.by)),
      ];
      await g.gh.reviewDeployment(pending.installationId, id, {
        ...body,
        state: 'approved',
        comment: `${id_} is approved in Changegate${approvers.length ? ` (by ${approvers.length} approver${approvers.length === 1 ? '' : 's'} in Slack)` : ''}: ${gate.decision.message}`,
      });
    }
    return 'approved';
  }
  const waiting = gate.change.state.status === 'pending_approval';
  const final = gate.decision.reasons.some((x) => FINAL.has(x.code));
  if (!waiting || final) {
    if (await g.gates.claimAnswer(id, 'rejected'))
      await g.gh.reviewDeployment(pending.installationId, id, {
        ...body,
        state: 'rejected',
        comment: gate.decision.message,
      });
    return 'rejected';
  }
  const report = `Waiting for ${id_}: ${waitingFor(gate.change.state, g.deps.clock.now())}.`;
  if (report !== pending.lastReport && pending.reports < 10) {
    await g.gh.reviewDeployment(pending.installationId, id, { ...body, comment: report });
    await g.gates.reported(id, report);
  }
  return 'pending';
}

/** After an event on a change: every rule still waiting on it is answered, or told how it stands. */
export async function settleGates(g: GithubGateDeps, state: ChangeState): Promise<void> {
  for (const p of await g.gates.pendingFor(state.number)) {
    try {
      await decideGate(g, state, p.id);
    } catch (err) {
      g.deps.logger.warn('could not answer a GitHub deployment protection rule', {
        component: 'github',
        changeId: state.number,
        err,
      });
    }
  }
}

const DEPLOYMENT_STATES: Record<string, 'started' | 'succeeded' | 'failed'> = {
  in_progress: 'started',
  success: 'succeeded',
  failure: 'failed',
  error: 'failed',
};

/**
 * The deployment GitHub ran is recorded on its change from its `deployment_status` events, like a
 * pipeline's report (recorded always, flagged when the gate would not have allowed it; one record
 * per deployment and outcome). The change is the one its protection rule was answered for, or the
 * one its ref or inputs name.
 */
export async function recordDeploymentStatus(
  g: Pick<GithubGateDeps, 'deps' | 'gates'>,
  s: DeploymentStatus,
): Promise<number | null> {
  const status = DEPLOYMENT_STATES[s.state];
  if (!status) return null;
  const named = changeRefs(s.ref, s.inputs);
  const n = (await g.gates.changeOfDeployment(s.deploymentId)) ?? (named.length === 1 ? named[0]! : null);
  if (n === null) return null;
  const res = await recordDeployment(g.deps, {
    changeNumber: n,
    actor: pipelineActor('github'),
    environment: s.environment,
    status,
    commit: s.sha,
    pipelineUrl: s.url,
    source: 'api',
    idempotencyKey: `github-deployment:${s.deploymentId}:${status}`,
  });
  if (!res.ok && res.error.code !== 'IDEMPOTENCY_CONFLICT')
    g.deps.logger.warn('could not record a GitHub deployment', {
      component: 'github',
      changeId: n,
      code: res.error.code,
    });
  return n;
}
