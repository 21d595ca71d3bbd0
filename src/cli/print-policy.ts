import { DEFAULT_POLICY_YAML } from '../config/default-policy.js';
import { loadEffectivePolicy, PolicyError, policyToYaml } from '../config/policy.js';

/**
 * `npm run policy:print`: the effective policy as valid YAML. With CHANGEGATE_POLICY (or
 * CHANGEGATE_ADMINS) set, the policy as Changegate runs it (every default written out); without,
 * the built-in policy with its comments, to copy and edit (`npm run policy:print > policy.yml`).
 */
if (!process.env.CHANGEGATE_POLICY?.trim() && !process.env.CHANGEGATE_ADMINS?.trim()) {
  process.stdout.write(DEFAULT_POLICY_YAML);
} else {
  try {
    process.stdout.write(policyToYaml(loadEffectivePolicy()));
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  }
}
