import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { canonicalJson, sha256Hex } from '../domain/audit.js';
import type { Policy } from '../domain/policy.js';
import { DEFAULT_POLICY_YAML } from './default-policy.js';
import { policySchema } from './policy.schema.js';

export interface LoadedPolicy {
  policy: Policy;
  /** sha256 of the canonical policy (first 16 hex digits); stored on every change and event. */
  hash: string;
  source: string; // file path or "built-in default"
  yaml: string;
}

export interface PolicyProblem {
  line: number | null;
  column: number | null;
  path: string;
  message: string;
}

export class PolicyError extends Error {
  readonly code = 'POLICY_INVALID';
  constructor(
    readonly source: string,
    readonly problems: PolicyProblem[],
  ) {
    super(`Policy ${source} is invalid:\n${problems.map((p) => `  ${formatProblem(source, p)}`).join('\n')}`);
  }
}

export function formatProblem(source: string, p: PolicyProblem): string {
  const where = p.line === null ? source : `${source}:${p.line}:${p.column}`;
  return `${where}  ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

export function policyHash(policy: Policy): string {
  return sha256Hex(canonicalJson(policy)).slice(0, 16);
}

/** Walks the YAML tree along a zod issue path as far as it exists, to point at the closest line. */
function nodeAt(root: Node | null, path: readonly PropertyKey[]): Node | null {
  let node: Node | null = root;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === seg);
      if (!pair) return node;
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return node;
      node = item;
    } else {
      return node;
    }
  }
  return node;
}

export function parsePolicy(yamlText: string, source: string): LoadedPolicy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      source,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return {
          line: pos?.line ?? null,
          column: pos?.col ?? null,
          path: '',
          message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
        };
      }),
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 50 });
  const parsed = policySchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new PolicyError(
      source,
      issuesToProblems(parsed.error.issues, doc.contents as Node | null, lineCounter),
    );
  }
  return { policy: parsed.data, hash: policyHash(parsed.data), source, yaml: yamlText };
}

function issuesToProblems(
  issues: readonly z.core.$ZodIssue[],
  root: Node | null,
  lc: LineCounter,
): PolicyProblem[] {
  return issues.map((issue) => {
    const node = nodeAt(root, issue.path);
    const pos = node?.range ? lc.linePos(node.range[0]) : null;
    return {
      line: pos?.line ?? null,
      column: pos?.col ?? null,
      path: issue.path.map(String).join('.'),
      message: issue.message,
    };
  });
}

/** Loads CHANGEGATE_POLICY, or the built-in default when no path is given. */
export function loadPolicy(path: string | undefined): LoadedPolicy {
  if (!path) return parsePolicy(DEFAULT_POLICY_YAML, 'built-in default policy');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new PolicyError(path, [
      { line: null, column: null, path: '', message: `cannot read the policy file: ${reason}` },
    ]);
  }
  return parsePolicy(text, path);
}

/** Roles with nobody in them that some stage, freeze or access rule relies on: worth a warning at start-up. */
export function emptyRoleWarnings(policy: Policy): string[] {
  const used = new Set<string>();
  for (const s of Object.values(policy.stages)) for (const r of s.approvers.roles) used.add(r);
  for (const f of policy.freezes) for (const r of f.exceptionRoles) used.add(r);
  for (const rs of Object.values(policy.access)) for (const r of rs) used.add(r);
  return [...used]
    .filter((r) => {
      const role = policy.roles[r];
      return role && role.users.length === 0 && role.groups.length === 0;
    })
    .map((r) => `role "${r}" has no users or groups: nobody can act in it until you add some to the policy`);
}
