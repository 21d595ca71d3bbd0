import type { ModalView } from '@slack/types';
import type { SlackSender } from '../../infra/slack/sender.js';
import { plain } from './views/text.js';

/** A modal that opens at once (the trigger id lives 3 s); the real content follows with views.update. */
export function loadingModal(title: string): ModalView {
  return {
    type: 'modal',
    title: plain(title, 24),
    close: plain('Close', 24),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '⏳ Loading…' } }],
  };
}

export async function openView(
  sender: SlackSender,
  triggerId: string,
  /** The view, or its JSON text (a form kept ready to send). */
  view: ModalView | string,
): Promise<string | null> {
  const res = await sender.call<{ view?: { id?: string } }>('views.open', { trigger_id: triggerId, view });
  return res.view?.id ?? null;
}

export async function updateView(sender: SlackSender, viewId: string, view: ModalView): Promise<void> {
  await sender.call('views.update', { view_id: viewId, view });
}
