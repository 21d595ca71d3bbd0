import type { HomeData } from '../../application/build-home.js';
import { RefreshedValue } from '../../infra/cache.js';
import { retryTransient } from '../../infra/db/connection.js';
import type { Models } from '../../infra/db/models.js';
import type { Logger } from '../../infra/logger.js';
import type { SlackSender } from '../../infra/slack/sender.js';
import { homeView } from './views/home.view.js';

/** How old the list of people who opened their Home may be when a refresh asks who they are. */
const HOME_USERS_MS = 30_000;

/** Publishes App Home tabs: on `app_home_opened`, and for the people a change event concerns. */
export class HomePublisher {
  /**
   * The people who have opened their Home (an entry is never removed), read at most HOME_USERS_MS
   * before: every change event asks, and a query each would cost a database call per decision (on
   * FerretDB a scan of the list). Someone who opens their Home through another replica gets
   * refreshed from the next read on.
   */
  private readonly homeUsers = new RefreshedValue(async () => {
    const docs = await retryTransient(() =>
      this.models.HomeUser.find({}, { _id: 1 }).lean<{ _id: string }[]>(),
    );
    return new Set(docs.map((d) => d._id));
  }, HOME_USERS_MS);
  /** Who opened their Home through this process (shown at once, whatever the list's age). */
  private readonly openedHere = new Set<string>();

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
    this.openedHere.add(userId);
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
    const users = await this.homeUsers.get();
    await Promise.all(
      candidates
        .filter((u) => this.openedHere.has(u) || users.has(u))
        .map((userId) =>
          this.publish(userId).catch((err) =>
            this.logger.warn('could not refresh App Home', { userId, err }),
          ),
        ),
    );
  }
}
