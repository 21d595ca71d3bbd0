import type { HomeData } from '../../application/build-home.js';
import { retryTransient } from '../../infra/db/connection.js';
import type { Models } from '../../infra/db/models.js';
import type { Logger } from '../../infra/logger.js';
import type { SlackSender } from '../../infra/slack/sender.js';
import { homeView } from './views/home.view.js';

/** Publishes App Home tabs: on `app_home_opened`, and for the people a change event concerns. */
export class HomePublisher {
  constructor(
    private readonly buildHome: (userId: string) => Promise<HomeData>,
    private readonly sender: SlackSender,
    private readonly models: Models,
    private readonly logger: Logger,
  ) {}

  async opened(userId: string, at: Date): Promise<void> {
    await retryTransient(() =>
      this.models.HomeUser.updateOne({ _id: userId }, { $set: { openedAt: at } }, { upsert: true }),
    );
    await this.publish(userId);
  }

  async publish(userId: string): Promise<void> {
    const data = await this.buildHome(userId);
    const rows = (items: HomeData['pendingApprovals']) =>
      items.map((r) => ({ state: r.state!, permalink: r.slack?.permalink ?? null }));
    const view = homeView({
      pending: rows(data.pendingApprovals),
      pendingTotal: data.pendingTotal,
      mine: rows(data.myOpen),
      mineTotal: data.myOpenTotal,
      overdue: rows(data.overdue),
      reviewsOwed: rows(data.reviewsOwed),
      delegation: data.delegation,
      setup: data.setup,
      now: data.now,
    });
    await this.sender.call('views.publish', { user_id: userId, view });
  }

  /** Refreshes the Home tab of those among `userIds` who have opened it before. */
  async refresh(userIds: readonly string[]): Promise<void> {
    const candidates = [...new Set(userIds)].filter((u) => /^[UW][A-Z0-9]+$/.test(u));
    if (candidates.length === 0) return;
    const known = await this.models.HomeUser.find({ _id: { $in: candidates } }, { _id: 1 }).lean<
      { _id: string }[]
    >();
    await Promise.all(
      known.map((k) =>
        this.publish(k._id).catch((err) =>
          this.logger.warn('could not refresh App Home', { userId: k._id, err }),
        ),
      ),
    );
  }
}
