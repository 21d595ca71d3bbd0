import { z } from 'zod';
import type { ChangeRequest, StagingTested } from '../../domain/change.js';
import { commitOf } from '../../domain/commit.js';
import {
  BUILTIN_FIELDS,
  type BuiltinField,
  builtinRequirement,
  cleanFieldValues,
  type FieldRequirement,
  type FieldValue,
  typeFields,
} from '../../domain/fields.js';
import { type Policy, RISK_LEVELS, type RiskLevel } from '../../domain/policy.js';
import type { FieldIssue, RequestField } from '../../domain/request-rules.js';
import { sanitizeLine, sanitizeMultiline } from '../../domain/text.js';
import { REQUEST_BLOCKS as B, INPUT } from './ids.js';
import { changeRequestModal, fieldBlock, type RequestFormModel } from './views/modals.js';

/** One input's value as Slack sends it in `view.state.values` (empty inputs may be null or absent). */
const stateValue = z.looseObject({
  type: z.string().optional(),
  value: z.string().nullish(),
  selected_option: z.looseObject({ value: z.string() }).nullish(),
  selected_options: z.array(z.looseObject({ value: z.string() })).nullish(),
  selected_user: z.string().nullish(),
  selected_users: z.array(z.string()).nullish(),
  selected_conversation: z.string().nullish(),
  selected_date_time: z.number().nullish(),
  selected_date: z.string().nullish(),
});
export const stateValuesSchema = z.record(z.string(), z.record(z.string(), stateValue));
export type StateValues = z.infer<typeof stateValuesSchema>;

type Value = z.infer<typeof stateValue>;

export function readValue(values: StateValues, block: string): Value | undefined {
  return values[block]?.[INPUT];
}

const text = (v: StateValues, b: string) => sanitizeMultiline(readValue(v, b)?.value ?? '');
const line = (v: StateValues, b: string) => sanitizeLine(readValue(v, b)?.value ?? '');
const selected = (v: StateValues, b: string) => readValue(v, b)?.selected_option?.value ?? null;

const USER_ID = /^[UW][A-Z0-9]{2,20}$/;
const MIN_DATE = Date.UTC(2000, 0, 1) / 1000;
const MAX_DATE = Date.UTC(2100, 0, 1) / 1000;

const FIELD_BLOCK: Record<Exclude<RequestField, `fields.${string}`>, string> = {
  fields: B.title,
  type: B.type,
  title: B.title,
  description: B.description,
  justification: B.justification,
  systems: B.systems,
  risk: B.risk,
  impact: B.impact,
  securityFlags: B.securityFlags,
  testPlan: B.testPlan,
  stagingTested: B.stagingTested,
  testResults: B.testResults,
  rollbackPlan: B.rollbackPlan,
  plannedStart: B.plannedStart,
  plannedEnd: B.plannedEnd,
  links: B.pr,
  'links.pr': B.pr,
  'links.ticket': B.ticket,
  commit: B.commit,
  suggestedReviewers: B.suggestedReviewers,
  emergencyApprover: B.emergencyApprover,
  requester: B.title,
};

export function splitSystems(raw: string): string[] {
  return [
    ...new Set(
      raw
        .split(/[,\n;]/)
        .map(sanitizeLine)
        .filter(Boolean),
    ),
  ];
}

/** The modal block that shows a field's problem. */
export function blockOfField(field: RequestField): string {
  return field.startsWith('fields.')
    ? fieldBlock(field.slice(7))
    : FIELD_BLOCK[field as keyof typeof FIELD_BLOCK];
}

/** The declared fields' values as typed in the modal, by key (empty inputs left out). */
function declaredValues(values: StateValues, policy: Policy): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const def of Object.values(policy.fields)) {
    const v = readValue(values, fieldBlock(def.key));
    if (!v) continue;
    let value: FieldValue | null = null;
    switch (def.kind) {
      case 'select':
      case 'yes_no_na':
        value = v.selected_option?.value ?? null;
        break;
      case 'multi_select':
        value = (v.selected_options ?? []).map((o) => o.value);
        break;
      case 'user':
        value = v.selected_user ?? null;
        break;
      case 'users':
        value = v.selected_users ?? [];
        break;
      case 'date':
        value = v.selected_date ?? null;
        break;
      case 'datetime': {
        const t = v.selected_date_time;
        value =
          typeof t === 'number' && Number.isInteger(t) && t >= MIN_DATE && t <= MAX_DATE
            ? new Date(t * 1000).toISOString()
            : null;
        break;
      }
      default:
        value = v.value ?? null;
    }
    if (value !== null) out[def.key] = value;
  }
  return cleanFieldValues(policy, out);
}

/**
 * Reads the submitted modal into a domain request. Shape problems that a person can fix (an
 * impossible date, a value not offered) come back as field issues; rules about completeness are the
 * domain's (validateRequest) and are checked by the use case.
 */
export function parseRequestForm(
  values: StateValues,
  policy: Policy,
): { request: ChangeRequest; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const type = selected(values, B.type) ?? '';
  if (!policy.types[type]) issues.push({ field: 'type', message: 'Choose a change type.' });

  const risk = selected(values, B.risk);
  if (risk !== null && !RISK_LEVELS.includes(risk as RiskLevel))
    issues.push({ field: 'risk', message: 'Choose one of the offered risk levels.' });
  const staging = selected(values, B.stagingTested);
  if (staging !== null && !['yes', 'no', 'na'].includes(staging))
    issues.push({ field: 'stagingTested', message: 'Choose yes, no or not applicable.' });

  const flags = (readValue(values, B.securityFlags)?.selected_options ?? []).map((o) => o.value);
  const badFlag = flags.find((f) => !Object.hasOwn(policy.securityFlags, f));
  if (badFlag) issues.push({ field: 'securityFlags', message: 'Choose only the offered security impacts.' });

  const dateOf = (block: string, field: RequestField): Date | null => {
    const raw = readValue(values, block)?.selected_date_time;
    if (raw === null || raw === undefined) return null;
    if (!Number.isInteger(raw) || raw < MIN_DATE || raw > MAX_DATE) {
      issues.push({ field, message: 'That date is not possible; pick it again.' });
      return null;
    }
    return new Date(raw * 1000);
  };

  const users = (readValue(values, B.suggestedReviewers)?.selected_users ?? []).filter((u) =>
    USER_ID.test(u),
  );
  const approver = readValue(values, B.emergencyApprover)?.selected_user ?? null;
  const link = (block: string) => {
    const raw = line(values, block);
    return raw ? raw : null;
  };

  const request: ChangeRequest = {
    type,
    title: line(values, B.title),
    description: text(values, B.description),
    justification: text(values, B.justification),
    systems: splitSystems(readValue(values, B.systems)?.value ?? ''),
    risk: RISK_LEVELS.includes(risk as RiskLevel) ? (risk as RiskLevel) : null,
    impact: text(values, B.impact),
    securityFlags: flags.filter((f) => Object.hasOwn(policy.securityFlags, f)),
    testPlan: text(values, B.testPlan),
    stagingTested: ['yes', 'no', 'na'].includes(staging ?? '') ? (staging as StagingTested) : null,
    testResults: text(values, B.testResults),
    rollbackPlan: text(values, B.rollbackPlan),
    plannedStart: dateOf(B.plannedStart, 'plannedStart'),
    plannedEnd: dateOf(B.plannedEnd, 'plannedEnd'),
    links: { pr: link(B.pr), ticket: link(B.ticket) },
    commit: commitOf(line(values, B.commit)),
    suggestedReviewers: [...new Set(users)],
    emergencyApprover: approver && USER_ID.test(approver) ? approver : null,
    fields: declaredValues(values, policy),
  };
  return { request, issues };
}

/** Inline modal errors keyed by block_id; only blocks present in the submitted view can carry one. */
export function toBlockErrors(
  issues: FieldIssue[],
  presentBlocks: ReadonlySet<string>,
): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    let block = blockOfField(issue.field);
    if (!presentBlocks.has(block)) block = B.title;
    errors[block] = errors[block] ? `${errors[block]} ${issue.message}` : issue.message;
  }
  for (const k of Object.keys(errors)) errors[k] = errors[k]!.slice(0, 1900);
  return errors;
}

/** The values currently in the modal, to carry them over when the requester switches type. */
export function currentFormValues(values: StateValues): RequestFormModel['initial'] {
  const initial: RequestFormModel['initial'] = {};
  const declared = Object.keys(values).filter((b) => b.startsWith('field:'));
  const blocks: [string, string][] = [
    ...(Object.entries(B) as [string, string][]),
    ...declared.map((b): [string, string] => [b, b]),
  ];
  for (const [field, block] of blocks) {
    const v = readValue(values, block);
    if (!v) continue;
    if (typeof v.value === 'string') initial[field] = v.value;
    else if (v.selected_option) initial[field] = v.selected_option.value;
    else if (v.selected_options) initial[field] = v.selected_options.map((o) => o.value);
    else if (v.selected_user) initial[field] = v.selected_user;
    else if (v.selected_users) initial[field] = v.selected_users;
    else if (typeof v.selected_date_time === 'number') initial[field] = v.selected_date_time;
    else if (typeof v.selected_date === 'string') initial[field] = v.selected_date;
  }
  return initial;
}

/** The request modal for `type`, carrying values already typed. */
export function buildRequestModal(
  policy: Policy,
  type: string | null,
  channelId: string | null,
  initial: RequestFormModel['initial'],
) {
  const keys = Object.keys(policy.types);
  const selected = type && policy.types[type] ? type : keys.includes('normal') ? 'normal' : keys[0]!;
  return {
    types: Object.entries(policy.types).map(([key, t]) => ({
      key,
      name: t.name,
      description: t.description,
      form: t.form,
    })),
    selectedType: selected,
    securityFlags: Object.entries(policy.securityFlags).map(([key, label]) => ({ key, label })),
    builtins: Object.fromEntries(
      BUILTIN_FIELDS.map((f) => [f, builtinRequirement(policy, selected, f)]),
    ) as Record<BuiltinField, FieldRequirement>,
    fields: typeFields(policy, selected).map((f) => ({
      key: f.key,
      label: f.label,
      kind: f.kind,
      help: f.help,
      options: f.options,
      required: f.required,
    })),
    metadata: { channelId },
    initial,
  } satisfies RequestFormModel;
}

/** Blank request forms already written out, per policy (a new policy brings new forms). */
const blankForms = new WeakMap<Policy, Map<string, string>>();
const BLANK_FORMS_KEPT = 256;

/**
 * The blank change request form for a type and channel as the JSON text `views.open` sends: the
 * same for every `/change` in a channel under one policy, so it is built and written out once
 * rather than on every command (the most-used channels' forms are kept).
 */
export function blankRequestFormText(policy: Policy, type: string | null, channelId: string | null): string {
  let forms = blankForms.get(policy);
  if (!forms) {
    forms = new Map();
    blankForms.set(policy, forms);
  }
  const key = `${type ?? ''}\u0000${channelId ?? ''}`;
  let text = forms.get(key);
  if (text === undefined) {
    text = JSON.stringify(changeRequestModal(buildRequestModal(policy, type, channelId, {})));
    if (forms.size >= BLANK_FORMS_KEPT) forms.delete(forms.keys().next().value!);
  } else forms.delete(key); // re-inserted below: the map's order is least recently used first
  forms.set(key, text);
  return text;
}
