import type { DeploymentStatus } from '../domain/lifecycle.js';
import { type CommandOutcome, executeCommand } from './execute-command.js';
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
}

/**
 * Records a deployment. From Slack it must be allowed (approved, not frozen); from a pipeline it is
 * always recorded, and flagged as unauthorised when the change was not approved or a freeze held.
 */
export function recordDeployment(deps: Deps, r: DeploymentReport): Promise<CommandOutcome> {
  return executeCommand(deps, r.changeNumber, { kind: 'record_deployment', ...r });
}
