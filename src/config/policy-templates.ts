import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { structuredPatch } from 'diff';
import type { Policy } from '../domain/policy.js';
import { DEFAULT_POLICY_YAML } from './default-policy.js';
import { type LoadedPolicy, parsePolicy, policyHash, policyToYaml } from './policy.js';

/** A starting point for setup: the built-in policy or one of `policies/examples/`. */
export interface PolicyTemplate {
  id: string;
  name: string;
  /** The file's first comment line: what the template follows. */
  summary: string;
  loaded: LoadedPolicy;
}

const EXAMPLES_DIR = fileURLToPath(new URL('../../policies/examples/', import.meta.url));

let cache: PolicyTemplate[] | null = null;

/** The templates setup offers, the built-in policy first (read once; they ship with the app). */
export function policyTemplates(): PolicyTemplate[] {
  if (cache) return cache;
  const out: PolicyTemplate[] = [
    {
      id: 'builtin',
      name: 'Built-in policy',
      summary:
        'Standard, normal, infrastructure and emergency changes; peer review, leads, CTO, security review.',
      loaded: parsePolicy(DEFAULT_POLICY_YAML, 'built-in default policy'),
    },
  ];
  let files: string[] = [];
  try {
    files = readdirSync(EXAMPLES_DIR)
      .filter((f) => f.endsWith('.yml'))
      .sort();
  } catch {
    // An installation without the examples offers the built-in policy only.
  }
  for (const f of files) {
    const text = readFileSync(`${EXAMPLES_DIR}${f}`, 'utf8');
    const loaded = parsePolicy(text, `policies/examples/${f}`);
    const first = text.split('\n')[0]?.replace(/^#\s*/, '') ?? '';
    out.push({
      id: f.replace(/\.yml$/, ''),
      name: loaded.policy.organisation,
      summary: first.length > 140 ? `${first.slice(0, 139)}…` : first,
      loaded,
    });
  }
  cache = out;
  return out;
}

/** A policy as stored and downloaded: the effective policy written out, loading back to its hash. */
export function renderPolicy(policy: Policy, source: string): LoadedPolicy {
  const hash = policyHash(policy);
  return { policy, hash, source, yaml: policyToYaml({ policy, hash, source, yaml: '' }) };
}

/** A unified diff of two policy files, with the number of lines added and removed. */
export function policyDiff(
  before: { yaml: string; hash: string } | null,
  after: { yaml: string; hash: string },
): { diff: string; added: number; removed: number } {
  const strip = (y: string) => y.replace(/^#.*\n/gm, '');
  const patch = structuredPatch(
    before ? `policy ${before.hash}` : 'no policy',
    `policy ${after.hash}`,
    before ? strip(before.yaml) : '',
    strip(after.yaml),
    undefined,
    undefined,
    { context: 2 },
  );
  let added = 0;
  let removed = 0;
  const lines = [`--- ${patch.oldFileName}`, `+++ ${patch.newFileName}`];
  for (const h of patch.hunks) {
    lines.push(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`);
    for (const l of h.lines) {
      if (l.startsWith('+')) added++;
      else if (l.startsWith('-')) removed++;
      lines.push(l);
    }
  }
  return { diff: `${lines.join('\n')}\n`, added, removed };
}
