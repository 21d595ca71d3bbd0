import type { DeploymentStatus, NamedDeployer } from '../domain/lifecycle.js';
import { type CommandOutcome, executeCommand } from './execute-command.js';
import { resolvePerson } from './people.js';
import type { Deps } from './ports.js';

export interface DeploymentReport {
  changeNumber: number;
  actor: string;
  environment: string;
  status: DeploymentStatus;
  commit: string | null;
  pipelineUrl: string | null;
  source: 'slack' | 'api';
  idempotencyKey: string | null;
  /** Pipelines: who deployed, as a Slack user id or an e-mail address. */
  deployedBy?: string | null;
}

/**
 * Records a deployment. From Slack it must be allowed (the gate's rule, and who may deploy); from a
 * pipeline it is always recorded, and flagged as unauthorised with the reasons it was not allowed,
 * including a named deployer who is not one.
 */
export async function recordDeployment(deps: Deps, r: DeploymentReport): Promise<CommandOutcome> {
  let deployedBy: NamedDeployer | null = null;
  if (r.source === 'api' && r.deployedBy) {
    deployedBy = { given: r.deployedBy, ...(await resolvePerson(deps, r.deployedBy)) };
  }
  return executeCommand(deps, r.changeNumber, {
    kind: 'record_deployment',
    actor: r.actor,
    environment: r.environment,
    status: r.status,
    commit: r.commit,
    pipelineUrl: r.pipelineUrl,
    source: r.source,
    idempotencyKey: r.idempotencyKey,
    deployedBy,
  });
}
