import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, type Node, parseDocument, stringify } from 'yaml';
import type { z } from 'zod';
import { canonicalJson, sha256Hex } from '../domain/audit.js';
import {
  type ApproverSpec,
  type ExceptionSpec,
  type Policy,
  type TypeStage,
  type TypeStep,
  typeStages,
} from '../domain/policy.js';
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

/**
 * Warnings worth printing at start-up and in `npm run doctor`: every stage nobody can approve (all its
 * roles empty, or for `eachOf` any one of them), naming the stage, the types that use it and the
 * role; exceptions nobody can grant; and access roles with nobody in them.
 */
export function emptyRoleWarnings(policy: Policy): string[] {
  const empty = (r: string) => {
    const role = policy.roles[r];
    return role !== undefined && role.users.length === 0 && role.groups.length === 0;
  };
  const out: string[] = [];
  const stuck = (spec: ApproverSpec): string[] => {
    if (spec.anyone || spec.users.length > 0 || spec.groups.length > 0) return [];
    if (spec.eachOf.length > 0) return spec.eachOf.filter(empty);
    return spec.roles.length > 0 && spec.roles.every(empty) ? spec.roles : [];
  };
  const rolesText = (roles: string[]) =>
    roles.map((r) => `"${r}"`).join(roles.length > 1 ? ' and ' : '') + (roles.length > 1 ? ' have' : ' has');
  for (const [key, stage] of Object.entries(policy.stages)) {
    const roles = stuck(stage.approvers);
    if (roles.length === 0) continue;
    const types = Object.entries(policy.types)
      .filter(([, t]) => typeStages(t).some((ts) => ts.stage === key))
      .map(([k]) => k);
    out.push(
      `stage "${key}" (${stage.name}${types.length ? `; used by ${types.join(', ')}` : ''}) cannot be approved: role ${rolesText(roles)} no users or groups; changes will wait there until you add people to the policy`,
    );
  }
  for (const x of [...policy.freezes, ...policy.maintenanceWindows]) {
    const roles = stuck(x.exception.approvers);
    if (roles.length > 0)
      out.push(`nobody can grant an exception to "${x.name}": role ${rolesText(roles)} no users or groups`);
  }
  const access = new Set(Object.values(policy.access).flat());
  for (const r of [...access].filter(empty))
    out.push(`role "${r}" has no users or groups: nobody holds the access the policy gives it`);
  return out;
}

function grantsNobody(x: ExceptionSpec): boolean {
  const a = x.approvers;
  return !a.anyone && a.roles.length + a.users.length + a.groups.length + a.eachOf.length === 0;
}

/**
 * The effective policy as a policy file: every default filled in, in the file's own spelling, so that
 * it loads back to the same policy (and hash). `npm run policy:print` prints it.
 */
export function policyToYaml(loaded: LoadedPolicy): string {
  const p = loaded.policy;
  const step = (s: TypeStep) => {
    const one = (ts: TypeStage) =>
      Object.keys(ts.when).length === 0 ? ts.stage : { stage: ts.stage, when: ts.when };
    return s.length === 1 ? one(s[0]!) : { parallel: s.map(one) };
  };
  const input = {
    ...p,
    fields: Object.fromEntries(Object.entries(p.fields).map(([k, { key: _key, ...f }]) => [k, f])),
    types: Object.fromEntries(
      Object.entries(p.types).map(([k, t]) => [k, { ...t, stages: t.stages.map(step) }]),
    ),
    freezes: p.freezes.map(({ window, exception, ...f }) => ({
      ...f,
      [window.kind]: { start: window.start, end: window.end },
      ...(grantsNobody(exception) ? { exceptionRoles: [] } : { exception }),
    })),
    maintenanceWindows: p.maintenanceWindows.map(({ exception, ...w }) => ({
      ...w,
      ...(grantsNobody(exception) ? {} : { exception }),
    })),
    ...(p.boards
      ? {
          boards: Object.fromEntries(
            Object.entries(p.boards).map(([k, { days, at, timezone, minutes, ...b }]) => [
              k,
              { ...b, meets: { days, at, timezone, minutes } },
            ]),
          ),
        }
      : {}),
  };
  const header = `# Effective Changegate policy, from ${loaded.source} (hash ${loaded.hash}).\n# Every default is written out; reference: README.md, "Policy file".\n`;
  return header + stringify(input, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** The role CHANGEGATE_ADMINS fills: added to the policy's admin roles. */
export const ENV_ADMIN_ROLE = 'changegate_admins';

/**
 * The policy with CHANGEGATE_ADMINS's people as administrators (a role of their own, added to
 * access.admins): the non-interactive way to have a first admin. Its hash is the effective policy's.
 */
export function withAdmins(loaded: LoadedPolicy, admins: readonly string[]): LoadedPolicy {
  if (admins.length === 0) return loaded;
  const p = loaded.policy;
  const roles = Object.assign(Object.create(null) as Policy['roles'], p.roles, {
    [ENV_ADMIN_ROLE]: { users: [...new Set(admins)], groups: [] },
  });
  const policy: Policy = {
    ...p,
    roles,
    access: { ...p.access, admins: [...new Set([...p.access.admins, ENV_ADMIN_ROLE])] },
  };
  return { ...loaded, policy, hash: policyHash(policy), source: `${loaded.source} + CHANGEGATE_ADMINS` };
}

/** CHANGEGATE_POLICY (or the built-in policy) as the app runs it: with CHANGEGATE_ADMINS applied. */
export function loadEffectivePolicy(env: NodeJS.ProcessEnv = process.env): LoadedPolicy {
  return withAdmins(loadPolicy(env.CHANGEGATE_POLICY?.trim() || undefined), envAdmins(env));
}

/** CHANGEGATE_ADMINS's user ids (the app's configuration validates them; tools take the valid ones). */
export function envAdmins(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.CHANGEGATE_ADMINS ?? '').split(/[\s,]+/).filter((u) => /^[UW][A-Z0-9]{2,}$/.test(u));
}
