import type {
  Checkboxes,
  Datepicker,
  DateTimepicker,
  InputBlock,
  KnownBlock,
  ModalView,
  MultiStaticSelect,
  MultiUsersSelect,
  PlainTextInput,
  PlainTextOption,
  RadioButtons,
  StaticSelect,
  URLInput,
  UsersSelect,
} from '@slack/types';
import { formatChangeId } from '../../../domain/change.js';
import type { BuiltinField, FieldKind, FieldRequirement } from '../../../domain/fields.js';
import { RISK_LEVELS } from '../../../domain/policy.js';
import { LIMITS } from '../../../domain/request-rules.js';
import {
  REQUEST_BLOCKS as B,
  DECISION_BLOCKS,
  DELEGATE_BLOCKS,
  INPUT,
  RETRO_BLOCKS as R,
  VIEWS,
} from '../ids.js';
import { mrkdwn, plain, truncate, userText } from './text.js';

/** The request modal is built from this; values are carried over when the type changes. */
export interface RequestFormModel {
  types: { key: string; name: string; description: string; form: 'full' | 'emergency' }[];
  selectedType: string;
  /** The policy's security flags, in order. */
  securityFlags: { key: string; label: string }[];
  /** How the selected type asks each built-in field. */
  builtins: Record<BuiltinField, FieldRequirement>;
  /** The fields the policy declares, as the selected type asks them (hidden ones left out). */
  fields: FormField[];
  metadata: RequestModalMetadata;
  /** Values already typed: by built-in block, and `field:<key>` for declared fields. */
  initial: Partial<Record<string, string | string[] | number | null>>;
}

export interface FormField {
  key: string;
  label: string;
  kind: FieldKind;
  help: string;
  options: { value: string; label: string }[];
  required: boolean;
}

/** The block of a declared field in the request modal. */
export const fieldBlock = (key: string) => `field:${key}`;

/** The input for one declared field, by its kind. */
function declaredFieldInput(f: FormField, initial: unknown): InputBlock {
  const block = fieldBlock(f.key);
  const opts = f.options.slice(0, 100).map((o) => option(o.label, o.value));
  const wrap = (element: InputBlock['element']): InputBlock => {
    const b: InputBlock = {
      type: 'input',
      block_id: block,
      label: plain(f.label),
      optional: !f.required,
      element,
    };
    if (f.help) b.hint = plain(f.help, 2000);
    return b;
  };
  switch (f.kind) {
    case 'text':
    case 'long_text':
      return textInput(block, f.label, {
        multiline: f.kind === 'long_text',
        optional: !f.required,
        max: f.kind === 'text' ? 500 : 3000,
        initial,
        ...(f.help ? { hint: f.help } : {}),
      });
    case 'select': {
      const element: StaticSelect = { type: 'static_select', action_id: INPUT, options: opts };
      const init = opts.find((o) => o.value === initial);
      if (init) element.initial_option = init;
      return wrap(element);
    }
    case 'multi_select': {
      const element: MultiStaticSelect = { type: 'multi_static_select', action_id: INPUT, options: opts };
      const init = Array.isArray(initial) ? opts.filter((o) => initial.includes(o.value)) : [];
      if (init.length) element.initial_options = init;
      return wrap(element);
    }
    case 'user': {
      const element: UsersSelect = {
        type: 'users_select',
        action_id: INPUT,
        placeholder: plain('Choose a person'),
      };
      if (typeof initial === 'string' && initial) element.initial_user = initial;
      return wrap(element);
    }
    case 'users': {
      const element: MultiUsersSelect = {
        type: 'multi_users_select',
        action_id: INPUT,
        placeholder: plain('Choose people'),
      };
      if (Array.isArray(initial) && initial.length) element.initial_users = initial.map(String);
      return wrap(element);
    }
    case 'url': {
      const element: URLInput = { type: 'url_text_input', action_id: INPUT, placeholder: plain('https://…') };
      if (typeof initial === 'string' && initial) element.initial_value = initial;
      return wrap(element);
    }
    case 'date': {
      const element: Datepicker = { type: 'datepicker', action_id: INPUT };
      if (typeof initial === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(initial)) element.initial_date = initial;
      return wrap(element);
    }
    case 'datetime': {
      const element: DateTimepicker = { type: 'datetimepicker', action_id: INPUT };
      if (typeof initial === 'number') element.initial_date_time = initial;
      return wrap(element);
    }
    case 'yes_no_na': {
      const yn = [option('Yes', 'yes'), option('No', 'no'), option('Not applicable', 'na')];
      const element: RadioButtons = { type: 'radio_buttons', action_id: INPUT, options: yn };
      const init = yn.find((o) => o.value === initial);
      if (init) element.initial_option = init;
      return wrap(element);
    }
  }
}

export interface RequestModalMetadata {
  channelId: string | null;
}

const option = (text: string, value: string, description?: string): PlainTextOption => {
  const o: PlainTextOption = { text: plain(text, 75), value };
  if (description) o.description = plain(description, 75);
  return o;
};

function textInput(
  block: string,
  label: string,
  opts: {
    multiline?: boolean;
    optional?: boolean;
    max?: number;
    placeholder?: string;
    hint?: string;
    initial?: unknown;
  },
): InputBlock {
  const element: PlainTextInput = {
    type: 'plain_text_input',
    action_id: INPUT,
    multiline: opts.multiline ?? false,
    max_length: opts.max ?? LIMITS.text,
  };
  if (opts.placeholder) element.placeholder = plain(opts.placeholder, 150);
  if (typeof opts.initial === 'string' && opts.initial)
    element.initial_value = truncate(opts.initial, opts.max ?? LIMITS.text);
  const block_: InputBlock = {
    type: 'input',
    block_id: block,
    label: plain(label, 2000),
    optional: opts.optional ?? false,
    element,
  };
  if (opts.hint) block_.hint = plain(opts.hint, 2000);
  return block_;
}

function urlInput(block: string, label: string, initial: unknown, optional = true): InputBlock {
  const element: URLInput = { type: 'url_text_input', action_id: INPUT, placeholder: plain('https://…') };
  if (typeof initial === 'string' && initial) element.initial_value = initial;
  return { type: 'input', block_id: block, label: plain(label), optional, element };
}

/** The commit or artifact the change approves: deployments of anything else are refused or flagged. */
function commitInput(initial: unknown, optional = true): InputBlock {
  return textInput(B.commit, 'Commit or artifact digest', {
    optional,
    max: 80,
    initial,
    placeholder: '4f6c2e1… or sha256:…',
    hint: 'The approval is then for this one thing: a deployment of any other commit is refused or flagged.',
  });
}

function dateTimeInput(block: string, label: string, initial: unknown, hint?: string): InputBlock {
  const element: DateTimepicker = { type: 'datetimepicker', action_id: INPUT };
  if (typeof initial === 'number') element.initial_date_time = initial;
  const b: InputBlock = { type: 'input', block_id: block, label: plain(label), optional: true, element };
  if (hint) b.hint = plain(hint);
  return b;
}

function typeSelect(model: RequestFormModel): InputBlock {
  const options = model.types
    .slice(0, 100)
    .map((t) => option(t.name, t.key, t.description ? truncate(t.description, 75) : undefined));
  const initial = options.find((o) => o.value === model.selectedType);
  const element: StaticSelect = { type: 'static_select', action_id: INPUT, options };
  if (initial) element.initial_option = initial;
  return { type: 'input', block_id: B.type, label: plain('Change type'), dispatch_action: true, element };
}

/** `/change`: the change request modal, in its full or emergency (hotfix) variant. */
export function changeRequestModal(model: RequestFormModel): ModalView {
  const type = model.types.find((t) => t.key === model.selectedType) ?? model.types[0]!;
  const v = model.initial;
  // The inputs both forms share, each with the words its form asks in.
  const title = (label: string, placeholder: string) =>
    textInput(B.title, label, { max: LIMITS.title, initial: v.title, placeholder });
  const prose = (block: string, label: string, initial: unknown, placeholder?: string, optional = false) =>
    textInput(block, label, { multiline: true, optional, initial, placeholder });
  const systems = (placeholder: string) =>
    textInput(B.systems, 'Systems affected', {
      max: 1000,
      initial: v.systems,
      placeholder,
      hint: 'Comma-separated.',
    });
  // Built-in inputs as the type asks them: left out when hidden, optional unless required.
  const ask = model.builtins;
  const shown = (f: BuiltinField) => ask[f] !== 'hidden';
  const opt = (f: BuiltinField) => ask[f] !== 'required';
  const when = (f: BuiltinField, block: () => InputBlock): InputBlock[] => (shown(f) ? [block()] : []);
  const stagingInput = () =>
    radio(
      B.stagingTested,
      'Tested in staging?',
      [option('Yes', 'yes'), option('No', 'no'), option('Not applicable', 'na')],
      v.stagingTested,
      opt('stagingTested'),
    );
  const pr = when('pr', () => urlInput(B.pr, 'Pull request link', v.pr, opt('pr')));
  const ticket = when('ticket', () =>
    urlInput(
      B.ticket,
      type.form === 'emergency' ? 'Incident or ticket link' : 'Ticket link',
      v.ticket,
      opt('ticket'),
    ),
  );
  // A hotfix starts from its incident; a planned change from its pull request.
  const links = [
    ...(type.form === 'emergency' ? [...ticket, ...pr] : [...pr, ...ticket]),
    ...when('commit', () => commitInput(v.commit, opt('commit'))),
  ];
  const declared = model.fields.map((f) => declaredFieldInput(f, v[fieldBlock(f.key)]));
  const blocks: KnownBlock[] =
    type.form === 'emergency'
      ? [
          {
            type: 'section',
            text: mrkdwn(
              '🚨 *Emergency change (hotfix).* Say what, why and who approved now; the full write-up is a retrospective after deployment.',
            ),
          },
          typeSelect(model),
          title('What is being changed?', 'Hotfix: restore checkout payments'),
          prose(
            B.justification,
            'Why can it not wait?',
            v.justification,
            'Incident, impact, vulnerability…',
            opt('justification'),
          ),
          systems('payments-api, checkout-web'),
          userSelect(
            B.emergencyApprover,
            'Approved by (CTO or security officer)',
            v.emergencyApprover,
            'They get a request to confirm in Slack.',
          ),
          ...when('description', () =>
            prose(
              B.description,
              opt('description') ? 'Details (optional)' : 'Details',
              v.description,
              undefined,
              opt('description'),
            ),
          ),
          ...when('impact', () => prose(B.impact, 'Impact', v.impact, undefined, opt('impact'))),
          ...when('testPlan', () =>
            prose(B.testPlan, 'How it was tested', v.testPlan, undefined, opt('testPlan')),
          ),
          ...when('testResults', () =>
            prose(B.testResults, 'Test results', v.testResults, undefined, opt('testResults')),
          ),
          ...when('stagingTested', stagingInput),
          ...when('rollbackPlan', () =>
            prose(
              B.rollbackPlan,
              'Rollback plan',
              v.rollbackPlan,
              'Steps to reverse the hotfix',
              opt('rollbackPlan'),
            ),
          ),
          ...links,
          ...declared,
        ]
      : [
          typeSelect(model),
          title('Title', 'Upgrade api-gateway to v2.3'),
          ...when('description', () =>
            prose(B.description, 'Description', v.description, 'What is being changed', opt('description')),
          ),
          ...when('justification', () =>
            prose(
              B.justification,
              'Justification',
              v.justification,
              'Why this change is needed',
              opt('justification'),
            ),
          ),
          systems('api-gateway, billing-db'),
          staticSelect(
            B.risk,
            'Risk level',
            RISK_LEVELS.map((r) => option(r[0]!.toUpperCase() + r.slice(1), r)),
            v.risk,
          ),
          ...when('impact', () =>
            prose(
              B.impact,
              'Impact analysis',
              v.impact,
              'Affected components, availability, performance, data',
              opt('impact'),
            ),
          ),
          ...(model.securityFlags.length
            ? [
                checkboxes(
                  B.securityFlags,
                  'Security impact (adds a security review)',
                  model.securityFlags,
                  v.securityFlags,
                ),
              ]
            : []),
          ...when('testPlan', () =>
            prose(B.testPlan, 'Test plan', v.testPlan, 'Scenarios and validation criteria', opt('testPlan')),
          ),
          ...when('stagingTested', stagingInput),
          ...when('testResults', () =>
            prose(B.testResults, 'Test results', v.testResults, undefined, opt('testResults')),
          ),
          ...when('rollbackPlan', () =>
            prose(
              B.rollbackPlan,
              'Rollback plan',
              v.rollbackPlan,
              'Steps to reverse the change',
              opt('rollbackPlan'),
            ),
          ),
          dateTimeInput(
            B.plannedStart,
            'Planned window start',
            v.plannedStart,
            'Shown to each person in their own time zone.',
          ),
          dateTimeInput(B.plannedEnd, 'Planned window end', v.plannedEnd),
          ...links,
          multiUserSelect(B.suggestedReviewers, 'Suggested reviewers', v.suggestedReviewers),
          ...declared,
        ];
  return {
    type: 'modal',
    callback_id: VIEWS.request,
    title: plain(type.form === 'emergency' ? 'Emergency change' : 'New change request', 24),
    submit: plain('Submit', 24),
    close: plain('Cancel', 24),
    private_metadata: JSON.stringify(model.metadata),
    blocks,
  };
}

function staticSelect(
  block: string,
  label: string,
  options: PlainTextOption[],
  initial: unknown,
): InputBlock {
  const element: StaticSelect = {
    type: 'static_select',
    action_id: INPUT,
    options,
    placeholder: plain('Choose…'),
  };
  const init = options.find((o) => o.value === initial);
  if (init) element.initial_option = init;
  return { type: 'input', block_id: block, label: plain(label), element };
}

function radio(
  block: string,
  label: string,
  options: PlainTextOption[],
  initial: unknown,
  optional = false,
): InputBlock {
  const element: RadioButtons = { type: 'radio_buttons', action_id: INPUT, options };
  const init = options.find((o) => o.value === initial);
  if (init) element.initial_option = init;
  return { type: 'input', block_id: block, label: plain(label), optional, element };
}

function checkboxes(
  block: string,
  label: string,
  flags: { key: string; label: string }[],
  initial: unknown,
): InputBlock {
  const options = flags.slice(0, 10).map((f) => option(f.label, f.key));
  const element: Checkboxes = { type: 'checkboxes', action_id: INPUT, options };
  const init = Array.isArray(initial) ? options.filter((o) => initial.includes(o.value)) : [];
  if (init.length) element.initial_options = init;
  return { type: 'input', block_id: block, label: plain(label), optional: true, element };
}

function userSelect(block: string, label: string, initial: unknown, hint?: string): InputBlock {
  const element: UsersSelect = {
    type: 'users_select',
    action_id: INPUT,
    placeholder: plain('Choose a person'),
  };
  if (typeof initial === 'string' && initial) element.initial_user = initial;
  const b: InputBlock = { type: 'input', block_id: block, label: plain(label), element };
  if (hint) b.hint = plain(hint);
  return b;
}

function multiUserSelect(block: string, label: string, initial: unknown): InputBlock {
  const element: MultiUsersSelect = {
    type: 'multi_users_select',
    action_id: INPUT,
    max_selected_items: LIMITS.reviewers,
    placeholder: plain('Choose people'),
  };
  if (Array.isArray(initial) && initial.length) element.initial_users = initial.map(String);
  return { type: 'input', block_id: block, label: plain(label), optional: true, element };
}

export interface DecisionMetadata {
  n: number;
  stage?: number;
}

/** Reject asks for a reason. */
export function rejectModal(changeNumber: number, stageIndex: number): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.reject,
    title: plain(`Reject ${formatChangeId(changeNumber)}`, 24),
    submit: plain('Reject', 24),
    close: plain('Back', 24),
    private_metadata: JSON.stringify({ n: changeNumber, stage: stageIndex } satisfies DecisionMetadata),
    blocks: [
      textInput(DECISION_BLOCKS.reason, 'Why are you rejecting this change?', { multiline: true, max: 2000 }),
    ],
  };
}

/** An approver grants (or adds their approval to) an exception to a freeze or maintenance window. */
export function exceptionModal(changeNumber: number, freezes: string[]): ModalView {
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: mrkdwn(
        `${formatChangeId(changeNumber)} is held up by a freeze or a maintenance window. An exception lets it deploy there; it is recorded in the audit trail with your reason and risk note, and takes as many approvals as the policy asks.`,
      ),
    },
    staticSelect(
      DECISION_BLOCKS.freeze,
      'Freeze or maintenance window',
      freezes.slice(0, 100).map((f) => option(truncate(f, 75), truncate(f, 150))),
      freezes[0],
    ),
    textInput(DECISION_BLOCKS.reason, 'Reason for the exception', { multiline: true, max: 2000 }),
    textInput(DECISION_BLOCKS.risk, 'Risk note', {
      multiline: true,
      max: 2000,
      placeholder: 'What could go wrong, and how it is contained',
    }),
  ];
  return {
    type: 'modal',
    callback_id: VIEWS.exception,
    title: plain('Exception', 24),
    submit: plain('Grant exception', 24),
    close: plain('Back', 24),
    private_metadata: JSON.stringify({ n: changeNumber } satisfies DecisionMetadata),
    blocks,
  };
}

/** Post-deployment verification: verified OK or rolled back, with issues encountered. */
export function verifyModal(changeNumber: number, outcome: 'ok' | 'rolled_back'): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.verify,
    title: plain(`Verify ${formatChangeId(changeNumber)}`, 24),
    submit: plain('Record', 24),
    close: plain('Back', 24),
    private_metadata: JSON.stringify({ n: changeNumber } satisfies DecisionMetadata),
    blocks: [
      radio(
        DECISION_BLOCKS.outcome,
        'Outcome in production',
        [option('Verified: working as expected', 'ok'), option('Rolled back', 'rolled_back')],
        outcome,
      ),
      textInput(DECISION_BLOCKS.issues, 'Issues encountered', {
        multiline: true,
        optional: true,
        max: 2000,
        hint: 'Required for a rollback. Leave empty if there were none.',
      }),
    ],
  };
}

/** A reviewer sends the retrospective back with questions, or the requester answers them. */
export function reviewTextModal(
  changeNumber: number,
  kind: 'questions' | 'answer',
  context: string,
): ModalView {
  const questions = kind === 'questions';
  return {
    type: 'modal',
    callback_id: questions ? VIEWS.reviewQuestions : VIEWS.reviewAnswer,
    title: plain(questions ? 'Review questions' : 'Answer the review', 24),
    submit: plain(questions ? 'Send back' : 'Send answer', 24),
    close: plain('Back', 24),
    private_metadata: JSON.stringify({ n: changeNumber } satisfies DecisionMetadata),
    blocks: [
      ...(context ? [{ type: 'section', text: mrkdwn(userText(context, 2900)) } as KnownBlock] : []),
      textInput(DECISION_BLOCKS.reason, questions ? 'What should the requester answer?' : 'Your answer', {
        multiline: true,
        max: 2000,
      }),
    ],
  };
}

/** A post-implementation review: each of the checkpoint's questions, answered in full. */
export function pirModal(changeNumber: number, index: number, name: string, questions: string[]): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.pir,
    title: plain(truncate(name, 24), 24),
    submit: plain('Submit review', 24),
    close: plain('Back', 24),
    private_metadata: JSON.stringify({ n: changeNumber, stage: index } satisfies DecisionMetadata),
    blocks: questions.slice(0, 8).map((q, k) => textInput(`pir_q_${k}`, q, { multiline: true, max: 2000 })),
  };
}

export interface RetroPrefill {
  whatChanged: string;
  why: string;
  approval: string;
}

/** The retrospective an emergency change owes: what, why, approval, root cause, prevention, follow-ups. */
export function retroModal(changeNumber: number, prefill: RetroPrefill, dueText: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.retro,
    title: plain(`Retro ${formatChangeId(changeNumber)}`, 24),
    submit: plain('Submit', 24),
    close: plain('Later', 24),
    private_metadata: JSON.stringify({ n: changeNumber } satisfies DecisionMetadata),
    blocks: [
      {
        type: 'section',
        text: mrkdwn(`Retrospective for ${formatChangeId(changeNumber)}. ${userText(dueText, 200)}`),
      },
      textInput(R.whatChanged, 'What was changed?', {
        multiline: true,
        max: 2000,
        initial: prefill.whatChanged,
      }),
      textInput(R.why, 'Why was it needed urgently?', { multiline: true, max: 2000, initial: prefill.why }),
      textInput(R.approval, 'What approval was received?', {
        multiline: true,
        max: 2000,
        initial: prefill.approval,
      }),
      textInput(R.rootCause, 'Root cause', { multiline: true, max: 2000 }),
      textInput(R.preventable, 'Could it have been prevented? How?', { multiline: true, max: 2000 }),
      textInput(R.followUps, 'Follow-up actions', { multiline: true, optional: true, max: 2000 }),
    ],
  };
}

/** Shown in place of a modal when the action cannot go ahead (e.g. nothing to verify). */
export function messageModal(title: string, text: string): ModalView {
  return {
    type: 'modal',
    title: plain(title, 24),
    close: plain('Close', 24),
    blocks: [{ type: 'section', text: mrkdwn(text) }],
  };
}

/** Delegation while away: who, and the days (the person's own calendar, both inclusive). */
export function delegateModal(today: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.delegate,
    title: plain('Delegate while away', 24),
    submit: plain('Delegate', 24),
    close: plain('Cancel', 24),
    blocks: [
      {
        type: 'section',
        text: mrkdwn(
          'Your delegate may decide the stages you can approve, while the delegation runs. Every decision records both names; it ends by itself.',
        ),
      },
      {
        type: 'input',
        block_id: DELEGATE_BLOCKS.to,
        label: plain('Delegate'),
        element: { type: 'users_select', action_id: INPUT },
      },
      {
        type: 'input',
        block_id: DELEGATE_BLOCKS.from,
        label: plain('From'),
        optional: true,
        hint: plain('Leave empty to start now.'),
        element: { type: 'datepicker', action_id: INPUT, initial_date: today },
      },
      {
        type: 'input',
        block_id: DELEGATE_BLOCKS.until,
        label: plain('Until (inclusive)'),
        element: { type: 'datepicker', action_id: INPUT },
      },
    ],
  };
}
