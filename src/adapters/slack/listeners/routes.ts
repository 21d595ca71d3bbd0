import type {
  AllMiddlewareArgs,
  App,
  BlockAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import { LATE } from '../copy.js';

export type ActionArgs<B extends BlockAction = BlockAction> = SlackActionMiddlewareArgs<B> &
  AllMiddlewareArgs;
export type ViewArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;
type Handler<A> = (args: A) => Promise<unknown>;

/**
 * A modal's answer must reach Slack within 3 s of the click (Bolt answers 404 after 3,001 ms, and
 * Slack shows its own error). Modal submissions answer after their use case, to show its errors
 * inline; one still running by this time (a database that hangs or fails slowly) is answered for.
 */
export const VIEW_ANSWER_WITHIN_MS = 2_700;

type ViewAck = ViewArgs['ack'];

/**
 * The submission's `ack`, answered at most once: by the handler, or at the deadline with `LATE`
 * inline on the view's first input (the modal stays open, its values kept). The handler goes on
 * after a late answer; whatever it answers then is dropped.
 */
function answeredInTime(view: ViewSubmitAction['view'], ack: ViewAck, withinMs: number) {
  let answered = false;
  const once: ViewAck = async (response?: Parameters<ViewAck>[0]) => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    await ack(response);
  };
  // A view without an input has nowhere to say it (closing it would look like success): not answered.
  const input = (view.blocks ?? []).find((b) => b.type === 'input' && typeof b.block_id === 'string');
  const timer = setTimeout(() => {
    if (input?.block_id)
      void once({ response_action: 'errors', errors: { [input.block_id]: LATE } }).catch(() => undefined);
  }, withinMs);
  return { ack: once, done: () => clearTimeout(timer) };
}

/**
 * Buttons and modal submissions by id, registered with Bolt as one listener each. Bolt runs the
 * middleware of every registered listener for every request before the matching one acks, so
 * sixteen listeners cost every click sixteen middleware chains; two cost it two.
 */
export class SlackRoutes {
  private readonly actions = new Map<string, Handler<ActionArgs>>();
  private readonly views = new Map<string, Handler<ViewArgs>>();

  /** A block action by action_id (and block_id, when several inputs share an action_id). */
  action<B extends BlockAction = BlockAction>(
    id: string | { actionId: string; blockId: string },
    handler: Handler<ActionArgs<B>>,
  ): void {
    const key = typeof id === 'string' ? id : `${id.blockId}/${id.actionId}`;
    this.actions.set(key, handler as unknown as Handler<ActionArgs>);
  }

  /** A modal submission by callback_id. */
  view(callbackId: string, handler: Handler<ViewArgs>): void {
    this.views.set(callbackId, handler);
  }

  register(app: App): void {
    app.action<BlockAction>({ type: 'block_actions' }, async (args) => {
      const { action } = args;
      const handler =
        this.actions.get(`${action.block_id}/${action.action_id}`) ?? this.actions.get(action.action_id);
      // Link buttons and anything else: acknowledged, so Slack shows no error.
      await (handler ? handler(args) : args.ack());
    });
    app.view<ViewSubmitAction>({ type: 'view_submission' }, async (args) => {
      const handler = this.views.get(args.view.callback_id);
      if (!handler) return args.ack();
      const answer = answeredInTime(args.view, args.ack, VIEW_ANSWER_WITHIN_MS);
      try {
        await handler({ ...args, ack: answer.ack });
      } finally {
        answer.done();
      }
    });
  }
}
