import type { NamedDeployer } from '../domain/lifecycle.js';
import { type CommandInput, type CommandOutcome, runCommand } from './execute-command.js';
import { resolvePerson } from './people.js';
import type { Deps } from './ports.js';

/** A deployment report: the command's fields, and who deployed as a pipeline names them. */
export type DeploymentReport = Omit<CommandInput<'record_deployment'>, 'deployedBy'> & {
  /** Pipelines: who deployed, as a Slack user id or an e-mail address. */
  deployedBy?: string | null;
};

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
  return runCommand(deps, 'record_deployment', { ...r, deployedBy });
}
