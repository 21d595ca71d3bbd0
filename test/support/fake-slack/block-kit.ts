/**
 * A Block Kit validator for the fake Slack Web API, following the limits in
 * ../shared/docs/slack-platform.md §7–8. It returns Slack-style messages
 * (`must be less than 25 characters [json-pointer:/view/title/text]`) so the app is held to what
 * Slack would reject.
 */

type Json = Record<string, unknown>;

export class BlockKitErrors {
  readonly messages: string[] = [];
  add(message: string, pointer: string) {
    this.messages.push(`${message} [json-pointer:${pointer}]`);
  }
  get ok() {
    return this.messages.length === 0;
  }
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const len = (s: string) => Array.from(s).length;

function maxLen(e: BlockKitErrors, v: unknown, max: number, ptr: string) {
  if (typeof v === 'string' && len(v) > max) e.add(`must be less than ${max + 1} characters`, ptr);
}

function textObject(
  e: BlockKitErrors,
  v: unknown,
  ptr: string,
  opts: { max?: number; plainOnly?: boolean; required?: boolean } = {},
) {
  if (v === undefined || v === null) {
    if (opts.required) e.add('missing required field: text', ptr);
    return;
  }
  if (!isObj(v)) {
    e.add('must provide an object', ptr);
    return;
  }
  if (v.type !== 'plain_text' && v.type !== 'mrkdwn') {
    e.add(`unsupported type: ${String(v.type)}`, `${ptr}/type`);
    return;
  }
  if (opts.plainOnly && v.type !== 'plain_text') e.add('must be a plain_text object', `${ptr}/type`);
  if (typeof v.text !== 'string') {
    e.add('missing required field: text', `${ptr}/text`);
    return;
  }
  if (len(v.text) === 0) e.add('must be more than 0 characters', `${ptr}/text`);
  maxLen(e, v.text, opts.max ?? 3000, `${ptr}/text`);
}

function option(e: BlockKitErrors, o: unknown, ptr: string) {
  if (!isObj(o)) {
    e.add('must provide an object', ptr);
    return;
  }
  textObject(e, o.text, `${ptr}/text`, { max: 75, required: true });
  if (typeof o.value !== 'string') e.add('missing required field: value', `${ptr}/value`);
  maxLen(e, o.value, 150, `${ptr}/value`);
  if (o.description !== undefined)
    textObject(e, o.description, `${ptr}/description`, { max: 75, plainOnly: true });
}

function options(e: BlockKitErrors, list: unknown, ptr: string, max: number) {
  if (!Array.isArray(list)) {
    e.add('must provide an array', ptr);
    return;
  }
  if (list.length > max) e.add(`no more than ${max} items allowed`, ptr);
  if (list.length === 0) e.add('must provide at least 1 item', ptr);
  list.forEach((o, i) => {
    option(e, o, `${ptr}/${i}`);
  });
}

function confirm(e: BlockKitErrors, c: unknown, ptr: string) {
  if (c === undefined) return;
  if (!isObj(c)) {
    e.add('must provide an object', ptr);
    return;
  }
  textObject(e, c.title, `${ptr}/title`, { max: 100, plainOnly: true, required: true });
  textObject(e, c.text, `${ptr}/text`, { max: 300, required: true });
  textObject(e, c.confirm, `${ptr}/confirm`, { max: 30, plainOnly: true, required: true });
  textObject(e, c.deny, `${ptr}/deny`, { max: 30, plainOnly: true, required: true });
}

const INPUT_ELEMENTS = new Set([
  'plain_text_input',
  'url_text_input',
  'email_text_input',
  'number_input',
  'static_select',
  'multi_static_select',
  'users_select',
  'multi_users_select',
  'conversations_select',
  'multi_conversations_select',
  'channels_select',
  'multi_channels_select',
  'datepicker',
  'timepicker',
  'datetimepicker',
  'checkboxes',
  'radio_buttons',
  'rich_text_input',
]);
const INTERACTIVE = new Set([...INPUT_ELEMENTS, 'button', 'overflow']);

function element(e: BlockKitErrors, el: unknown, ptr: string, actionIds: Set<string>) {
  if (!isObj(el)) {
    e.add('must provide an object', ptr);
    return;
  }
  const type = String(el.type);
  if (!INTERACTIVE.has(type) && type !== 'image') {
    e.add(`unsupported type: ${type}`, `${ptr}/type`);
    return;
  }
  maxLen(e, el.action_id, 255, `${ptr}/action_id`);
  if (typeof el.action_id === 'string') {
    if (actionIds.has(el.action_id)) e.add('action_id must be unique within a block', `${ptr}/action_id`);
    actionIds.add(el.action_id);
  }
  if (el.placeholder !== undefined)
    textObject(e, el.placeholder, `${ptr}/placeholder`, { max: 150, plainOnly: true });
  confirm(e, el.confirm, `${ptr}/confirm`);
  switch (type) {
    case 'button':
      textObject(e, el.text, `${ptr}/text`, { max: 75, plainOnly: true, required: true });
      maxLen(e, el.value, 2000, `${ptr}/value`);
      maxLen(e, el.url, 3000, `${ptr}/url`);
      if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger')
        e.add('must be one of primary, danger', `${ptr}/style`);
      break;
    case 'static_select':
    case 'multi_static_select':
      if (el.option_groups === undefined) options(e, el.options, `${ptr}/options`, 100);
      if (el.initial_option !== undefined) {
        if (el.initial_option === null) e.add('must provide an object', `${ptr}/initial_option`);
        else option(e, el.initial_option, `${ptr}/initial_option`);
      }
      break;
    case 'checkboxes':
    case 'radio_buttons':
      options(e, el.options, `${ptr}/options`, 10);
      if (type === 'radio_buttons' && el.initial_option !== undefined)
        option(e, el.initial_option, `${ptr}/initial_option`);
      if (Array.isArray(el.initial_options))
        el.initial_options.forEach((o, i) => {
          option(e, o, `${ptr}/initial_options/${i}`);
        });
      break;
    case 'overflow':
      options(e, el.options, `${ptr}/options`, 5);
      break;
    case 'plain_text_input': {
      const max = el.max_length;
      if (max !== undefined && (typeof max !== 'number' || max < 1 || max > 3000))
        e.add('must be between 1 and 3000', `${ptr}/max_length`);
      const min = el.min_length;
      if (min !== undefined && (typeof min !== 'number' || min < 0 || min > 3000))
        e.add('must be between 0 and 3000', `${ptr}/min_length`);
      maxLen(e, el.initial_value, typeof max === 'number' ? max : 3000, `${ptr}/initial_value`);
      break;
    }
    case 'datetimepicker':
      if (
        el.initial_date_time !== undefined &&
        (!Number.isInteger(el.initial_date_time) || String(el.initial_date_time).length !== 10)
      ) {
        e.add('must be a 10-digit Unix timestamp', `${ptr}/initial_date_time`);
      }
      break;
    case 'multi_users_select':
      if (
        el.max_selected_items !== undefined &&
        (typeof el.max_selected_items !== 'number' || el.max_selected_items < 1)
      ) {
        e.add('must be at least 1', `${ptr}/max_selected_items`);
      }
      break;
    default:
      break;
  }
}

export type Surface = 'message' | 'modal' | 'home';

export function validateBlocks(e: BlockKitErrors, blocks: unknown, ptr: string, surface: Surface) {
  if (!Array.isArray(blocks)) {
    e.add('must provide an array', ptr);
    return;
  }
  const max = surface === 'message' ? 50 : 100;
  if (blocks.length > max) e.add(`no more than ${max} items allowed`, ptr);
  const blockIds = new Set<string>();
  blocks.forEach((b, i) => {
    const p = `${ptr}/${i}`;
    if (!isObj(b)) {
      e.add('must provide an object', p);
      return;
    }
    if (typeof b.block_id === 'string') {
      maxLen(e, b.block_id, 255, `${p}/block_id`);
      if (blockIds.has(b.block_id)) e.add('block_id must be unique', `${p}/block_id`);
      blockIds.add(b.block_id);
    }
    const actionIds = new Set<string>();
    switch (b.type) {
      case 'section':
        if (b.text === undefined && b.fields === undefined)
          e.add('must define either `text` or `fields`', `${p}/type`);
        if (b.text !== undefined) textObject(e, b.text, `${p}/text`, { max: 3000 });
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields)) e.add('must provide an array', `${p}/fields`);
          else {
            if (b.fields.length > 10) e.add('no more than 10 items allowed', `${p}/fields`);
            b.fields.forEach((f, j) => {
              textObject(e, f, `${p}/fields/${j}`, { max: 2000, required: true });
            });
          }
        }
        if (b.accessory !== undefined) element(e, b.accessory, `${p}/accessory`, actionIds);
        break;
      case 'header':
        textObject(e, b.text, `${p}/text`, { max: 150, plainOnly: true, required: true });
        break;
      case 'divider':
        break;
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length === 0)
          e.add('must provide at least 1 item', `${p}/elements`);
        else {
          if (b.elements.length > 10) e.add('no more than 10 items allowed', `${p}/elements`);
          b.elements.forEach((el, j) => {
            if (isObj(el) && el.type === 'image') return;
            textObject(e, el, `${p}/elements/${j}`, { max: 3000, required: true });
          });
        }
        break;
      case 'actions':
        if (!Array.isArray(b.elements) || b.elements.length === 0)
          e.add('must provide at least 1 item', `${p}/elements`);
        else {
          if (b.elements.length > 25) e.add('no more than 25 items allowed', `${p}/elements`);
          b.elements.forEach((el, j) => {
            element(e, el, `${p}/elements/${j}`, actionIds);
          });
        }
        break;
      case 'input':
        if (surface === 'message') {
          e.add('unsupported type: input', `${p}/type`);
          break;
        }
        textObject(e, b.label, `${p}/label`, { max: 2000, plainOnly: true, required: true });
        if (b.hint !== undefined) textObject(e, b.hint, `${p}/hint`, { max: 2000, plainOnly: true });
        if (!isObj(b.element)) e.add('missing required field: element', `${p}/element`);
        else {
          if (!INPUT_ELEMENTS.has(String(b.element.type)))
            e.add(`unsupported type: ${String(b.element.type)}`, `${p}/element/type`);
          element(e, b.element, `${p}/element`, actionIds);
        }
        break;
      default:
        e.add(`unsupported type: ${String(b.type)}`, `${p}/type`);
    }
  });
}

const VIEW_MAX_BYTES = 250_000;

export function validateView(view: unknown, ptr = '/view'): BlockKitErrors {
  const e = new BlockKitErrors();
  if (!isObj(view)) {
    e.add('must provide an object', ptr);
    return e;
  }
  if (Buffer.byteLength(JSON.stringify(view)) > VIEW_MAX_BYTES) e.add('view_too_large', ptr);
  if (view.type !== 'modal' && view.type !== 'home') {
    e.add(`unsupported type: ${String(view.type)}`, `${ptr}/type`);
    return e;
  }
  maxLen(e, view.private_metadata, 3000, `${ptr}/private_metadata`);
  maxLen(e, view.callback_id, 255, `${ptr}/callback_id`);
  maxLen(e, view.external_id, 255, `${ptr}/external_id`);
  if (view.type === 'modal') {
    if (view.title === undefined) e.add('missing required field: title', `${ptr}/title`);
    else textObject(e, view.title, `${ptr}/title`, { max: 24, plainOnly: true, required: true });
    if (view.submit !== undefined) textObject(e, view.submit, `${ptr}/submit`, { max: 24, plainOnly: true });
    if (view.close !== undefined) textObject(e, view.close, `${ptr}/close`, { max: 24, plainOnly: true });
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObj(b) && b.type === 'input');
    if (hasInput && view.submit === undefined) {
      const idx = (view.blocks as Json[]).findIndex((b) => b.type === 'input');
      e.add('must define `submit` to use an `input` block in modals', `${ptr}/blocks/${idx}/input`);
    }
    validateBlocks(e, view.blocks, `${ptr}/blocks`, 'modal');
  } else {
    if (view.submit !== undefined || view.close !== undefined)
      e.add('home view cannot have submit and close', ptr);
    validateBlocks(e, view.blocks, `${ptr}/blocks`, 'home');
  }
  return e;
}
