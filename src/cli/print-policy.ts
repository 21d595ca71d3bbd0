import { DEFAULT_POLICY_YAML } from '../config/default-policy.js';

/** `npm run policy:print > policy.yml`: the built-in policy, to copy and edit. */
process.stdout.write(DEFAULT_POLICY_YAML);
