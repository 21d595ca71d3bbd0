import type { BoardNotifier, Deps } from '../../application/ports.js';
import type { IdempotencyStore } from '../../infra/db/idempotency.js';
import type { Logger } from '../../infra/logger.js';
import type { SlackDirectory } from '../../infra/slack/directory.js';
import type { SlackSender } from '../../infra/slack/sender.js';
import type { WorkQueue } from '../../infra/work-queue.js';
import type { ClickThrottle } from './click-throttle.js';
import type { HomePublisher } from './home-publisher.js';

/** What Slack listeners may use: the use cases' dependencies plus Slack-side helpers. */
export interface SlackContext {
  deps: Deps;
  sender: SlackSender;
  /** Slack's directory, whose caches Slack's events keep current. */
  directory: SlackDirectory;
  home: HomePublisher;
  /** Board agendas and minutes. */
  boards: BoardNotifier;
  idempotency: IdempotencyStore;
  logger: Logger;
  /** Post-ack work (button clicks, subcommands) runs through this bounded queue. */
  work: WorkQueue;
  /** How much post-ack work one person may have queued, and how many refusals a minute. */
  throttle: ClickThrottle;
}
