import type { ChangeRequest } from './change.js';
import type { Policy } from './policy.js';
import { sanitizeLine, sanitizeMultiline } from './text.js';

/**
 * The request form as the policy declares it: fields of its own (an assigned developer, a priority,
 * a category…) and, per change type, whether each declared or built-in field is required, optional
 * or hidden. Values are plain JSON (text, option values, Slack user ids, dates) kept in the request.
 */

export const FIELD_KINDS = [
  'text',
  'long_text',
  'select',
  'multi_select',
  'user',
  'users',
  'url',
  'date',
  'datetime',
  'yes_no_na',
] as const;
export type FieldKind = (typeof FIELD_KINDS)[number];

export type FieldRequirement = 'required' | 'optional' | 'hidden';

export interface FieldOption {
  value: string;
  label: string;
}

export interface FieldDef {
  key: string;
  label: string;
  kind: FieldKind;
  help: string;
  options: FieldOption[];
  /** For types that do not say otherwise. */
  requirement: FieldRequirement;
}

/** A declared field's value: text, an option value, a user id, a date (YYYY-MM-DD or ISO); lists for multi kinds. */
export type FieldValue = string | string[];

/**
 * Built-in inputs a type may require, make optional or hide (the rest of the form is fixed: type,
 * title, systems, risk, security impact, window, reviewers).
 */
export const BUILTIN_FIELDS = [
  'description',
  'justification',
  'impact',
  'testPlan',
  'testResults',
  'rollbackPlan',
  'stagingTested',
  'pr',
  'ticket',
  'commit',
] as const;
export type BuiltinField = (typeof BUILTIN_FIELDS)[number];

export const BUILTIN_LABELS: Record<BuiltinField, string> = {
  description: 'Description',
  justification: 'Justification',
  impact: 'Impact analysis',
  testPlan: 'Test plan',
  testResults: 'Test results',
  rollbackPlan: 'Rollback plan',
  stagingTested: 'Tested in staging',
  pr: 'Pull request link',
  ticket: 'Ticket link',
  commit: 'Commit or artifact',
};

/** What each form asks of the built-in fields when the type says nothing. */
const FORM_DEFAULTS: Record<'full' | 'emergency', Record<BuiltinField, FieldRequirement>> = {
  full: {
    description: 'required',
    justification: 'required',
    impact: 'required',
    testPlan: 'required',
    testResults: 'optional',
    rollbackPlan: 'required',
    stagingTested: 'required',
    pr: 'optional',
    ticket: 'optional',
    commit: 'optional',
  },
  emergency: {
    description: 'optional',
    justification: 'required',
    impact: 'hidden',
    testPlan: 'hidden',
    testResults: 'hidden',
    rollbackPlan: 'hidden',
    stagingTested: 'hidden',
    pr: 'optional',
    ticket: 'optional',
    commit: 'optional',
  },
};

export function isBuiltinField(key: string): key is BuiltinField {
  return (BUILTIN_FIELDS as readonly string[]).includes(key);
}

/** Whether a built-in field is required, optional or hidden for a change type. */
export function builtinRequirement(policy: Policy, typeKey: string, field: BuiltinField): FieldRequirement {
  const type = policy.types[typeKey];
  if (!type) return 'hidden';
  return type.fields[field] ?? FORM_DEFAULTS[type.form][field];
}

/** The policy's declared fields as a type asks them (hidden ones left out), in declaration order. */
export function typeFields(policy: Policy, typeKey: string): (FieldDef & { required: boolean })[] {
  const type = policy.types[typeKey];
  if (!type) return [];
  return Object.values(policy.fields).flatMap((def) => {
    const req = type.fields[def.key] ?? def.requirement;
    return req === 'hidden' ? [] : [{ ...def, required: req === 'required' }];
  });
}

export const FIELD_LIMITS = { text: 500, long_text: 3000, listItems: 50, item: 200 } as const;

const USER = /^[UW][A-Z0-9]{2,}$/;
const URL_RE = /^https?:\/\/[^\s<>|]+$/i;

function validDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
}

function isEmpty(v: FieldValue | undefined): boolean {
  return v === undefined || (Array.isArray(v) ? v.length === 0 : v.trim() === '');
}

/** Problems with one declared field's value (its requirement included), in the user's words. */
export function fieldProblem(def: FieldDef, required: boolean, v: FieldValue | undefined): string | null {
  if (isEmpty(v)) return required ? `${def.label} is required for this type of change.` : null;
  const multi = def.kind === 'multi_select' || def.kind === 'users';
  if (multi !== Array.isArray(v))
    return multi ? `${def.label} takes a list.` : `${def.label} takes one value.`;
  const list = Array.isArray(v) ? v : [v!];
  if (list.length > FIELD_LIMITS.listItems)
    return `${def.label} takes at most ${FIELD_LIMITS.listItems} values.`;
  const options = new Set(def.options.map((o) => o.value));
  for (const item of list) {
    switch (def.kind) {
      case 'text':
      case 'long_text': {
        const max = FIELD_LIMITS[def.kind];
        if (item.length > max) return `Keep ${def.label} under ${max + 1} characters.`;
        break;
      }
      case 'select':
      case 'multi_select':
        if (!options.has(item))
          return `${def.label} must be one of: ${def.options.map((o) => o.label).join(', ')}.`;
        break;
      case 'user':
      case 'users':
        if (!USER.test(item)) return `${def.label} must name people of the workspace.`;
        break;
      case 'url':
        if (item.length > 500 || !URL_RE.test(item)) return `${def.label} must be a full http(s) link.`;
        break;
      case 'date':
        if (!validDate(item)) return `${def.label} must be a date (YYYY-MM-DD).`;
        break;
      case 'datetime':
        if (Number.isNaN(Date.parse(item)) || !/^\d{4}-\d{2}-\d{2}T/.test(item))
          return `${def.label} must be a date and time.`;
        break;
      case 'yes_no_na':
        if (!['yes', 'no', 'na'].includes(item)) return `${def.label} must be yes, no or not applicable.`;
        break;
    }
  }
  return null;
}

/** Every problem with a request's declared fields under its type, keyed by field. */
export function fieldIssues(
  policy: Policy,
  req: Pick<ChangeRequest, 'type' | 'fields'>,
): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  const asked = new Map(typeFields(policy, req.type).map((f) => [f.key, f]));
  for (const key of Object.keys(req.fields)) {
    if (!asked.has(key))
      out.push({
        key,
        message: Object.hasOwn(policy.fields, key)
          ? `${policy.fields[key]!.label} is not asked for this type of change.`
          : `Unknown field "${key.slice(0, 40)}"; the policy declares ${Object.keys(policy.fields).join(', ') || 'none'}.`,
      });
  }
  for (const def of asked.values()) {
    const problem = fieldProblem(def, def.required, req.fields[def.key]);
    if (problem) out.push({ key: def.key, message: problem });
  }
  return out;
}

/** How a value is written out: people (a mention, or the id) and text (escaped for mrkdwn, or as is). */
export interface FieldRender {
  person(userId: string): string;
  text(s: string): string;
}

export const PLAIN_RENDER: FieldRender = { person: (u) => u, text: (s) => s };

/** A declared field's value in words: option labels, people, N/A for not applicable. */
export function fieldText(def: FieldDef, v: FieldValue | undefined, r: FieldRender): string {
  if (v === undefined || isEmpty(v)) return '';
  const list = Array.isArray(v) ? v : [v];
  const label = (x: string) => def.options.find((o) => o.value === x)?.label ?? x;
  switch (def.kind) {
    case 'select':
    case 'multi_select':
      return r.text(list.map(label).join(', '));
    case 'user':
    case 'users':
      return list.map(r.person).join(', ');
    case 'yes_no_na':
      return list[0] === 'na' ? 'N/A' : list[0] === 'yes' ? 'Yes' : 'No';
    default:
      return r.text(list.join(', '));
  }
}

/** Declared field values with control characters removed and whitespace trimmed (long text keeps its lines). */
export function cleanFieldValues(
  policy: Policy,
  values: Record<string, FieldValue>,
): Record<string, FieldValue> {
  // No prototype: a key such as "__proto__" stays a key (and is refused as unknown), never a prototype.
  const out = Object.create(null) as Record<string, FieldValue>;
  for (const [key, v] of Object.entries(values)) {
    const multiline = policy.fields[key]?.kind === 'long_text';
    const clean = (x: string) => (multiline ? sanitizeMultiline(x) : sanitizeLine(x));
    const value = Array.isArray(v) ? [...new Set(v.map(clean).filter(Boolean))] : clean(v);
    if (Array.isArray(value) ? value.length > 0 : value !== '') out[key] = value;
  }
  return out;
}

/** A request's declared field values in the policy's order, labelled (values of fields since removed keep their key). */
export function fieldEntries(
  policy: Policy,
  fields: Record<string, FieldValue>,
  r: FieldRender,
): { key: string; label: string; text: string }[] {
  const out: { key: string; label: string; text: string }[] = [];
  for (const def of Object.values(policy.fields)) {
    const text = fieldText(def, fields[def.key], r);
    if (text) out.push({ key: def.key, label: r.text(def.label), text });
  }
  for (const [key, v] of Object.entries(fields)) {
    if (Object.hasOwn(policy.fields, key)) continue;
    out.push({ key, label: r.text(key), text: r.text(Array.isArray(v) ? v.join(', ') : v) });
  }
  return out;
}
