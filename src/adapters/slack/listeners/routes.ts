import type {
  AllMiddlewareArgs,
  App,
  BlockAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';

export type ActionArgs<B extends BlockAction = BlockAction> = SlackActionMiddlewareArgs<B> &
  AllMiddlewareArgs;
export type ViewArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;
type Handler<A> = (args: A) => Promise<unknown>;

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
      await (handler ? handler(args) : args.ack());
    });
  }
}
