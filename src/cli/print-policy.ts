import { DEFAULT_POLICY_YAML } from '../config/default-policy.js';
import { loadPolicy, PolicyError, policyToYaml } from '../config/policy.js';

/**
 * `npm run policy:print`: the effective policy as valid YAML. With CHANGEGATE_POLICY set, that file
 * as Changegate reads it (every default written out); without, the built-in policy with its
 * comments, to copy and edit (`npm run policy:print > policy.yml`).
 */
const path = process.env.CHANGEGATE_POLICY;
if (!path) {
  process.stdout.write(DEFAULT_POLICY_YAML);
} else {
  try {
    process.stdout.write(policyToYaml(loadPolicy(path)));
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  }
}
