import { readFileSync } from 'node:fs';
import { type LoadedPolicy, parsePolicy } from '../../src/config/policy.js';

export const TEST_POLICY_YAML = readFileSync(
  new URL('../fixtures/policies/test-policy.yml', import.meta.url),
  'utf8',
);

export function testPolicy(yaml = TEST_POLICY_YAML): LoadedPolicy {
  return parsePolicy(yaml, 'test-policy.yml');
}
