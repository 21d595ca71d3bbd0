import type { GateStore, GithubLinks, GithubUsers, PendingGate } from '../../application/ports.js';
import { insertOnce, isDuplicateKey, retryTransient } from './connection.js';
import type { GithubGateDoc, GithubLinkDoc, GithubUserDoc, Models } from './models.js';

/** Pull request → linked changes ($addToSet: adding twice, or from two replicas, keeps one). */
export class MongoGithubLinks implements GithubLinks {
  constructor(private readonly m: Models) {}

  async add(pr: string, change: number): Promise<void> {
    const op = () =>
      this.m.GithubLink.updateOne({ _id: pr }, { $addToSet: { changes: change } }, { upsert: true });
    await retryTransient(op).catch(async (err) => {
      if (!isDuplicateKey(err)) throw err;
      await retryTransient(op); // two first links at once: the document exists now
    });
  }

  async remove(pr: string, change: number): Promise<void> {
    await retryTransient(() => this.m.GithubLink.updateOne({ _id: pr }, { $pull: { changes: change } }));
  }

  async changesOf(pr: string): Promise<number[]> {
    const d = await retryTransient(() => this.m.GithubLink.findById(pr).lean<GithubLinkDoc>());
    return d?.changes ?? [];
  }
}

const toGate = (d: GithubGateDoc): PendingGate => ({
  id: d._id,
  installationId: d.installationId,
  repo: d.repo,
  environment: d.environment,
  sha: d.sha,
  change: d.change,
  deploymentId: d.deploymentId,
  reports: d.reports,
  lastReport: d.lastReport,
  state: d.state as PendingGate['state'],
});

/** Deployment protection rules waiting for an answer; each answered once (a unique claim). */
export class MongoGateStore implements GateStore {
  constructor(private readonly m: Models) {}

  async add(g: PendingGate): Promise<void> {
    const { id, ...rest } = g;
    await insertOnce(this.m.GithubGate, { _id: id, ...rest });
  }

  async pendingFor(change: number): Promise<PendingGate[]> {
    const docs = await retryTransient(() =>
      this.m.GithubGate.find({ change, state: 'pending' }).lean<GithubGateDoc[]>(),
    );
    return docs.map(toGate);
  }

  async claimAnswer(id: string, state: 'approved' | 'rejected'): Promise<boolean> {
    if (!(await insertOnce(this.m.Setting, { _id: `claim:gate:${id}`, value: state, at: new Date() })))
      return false;
    await retryTransient(() => this.m.GithubGate.updateOne({ _id: id }, { $set: { state } }));
    return true;
  }

  async changeOfDeployment(deploymentId: number): Promise<number | null> {
    const d = await retryTransient(() => this.m.GithubGate.findOne({ deploymentId }).lean<GithubGateDoc>());
    return d?.change ?? null;
  }

  async reported(id: string, text: string): Promise<void> {
    await retryTransient(() =>
      this.m.GithubGate.updateOne({ _id: id }, { $inc: { reports: 1 }, $set: { lastReport: text } }),
    );
  }
}

/** GitHub logins → Slack people: a login is claimed once (a unique insert); nobody takes another's. */
export class MongoGithubUsers implements GithubUsers {
  constructor(private readonly m: Models) {}

  async slackOf(login: string): Promise<string | null> {
    const d = await retryTransient(() =>
      this.m.GithubUser.findById(login.toLowerCase()).lean<GithubUserDoc>(),
    );
    return d?.slackUser ?? null;
  }

  async loginsOf(slackUser: string): Promise<string[]> {
    const docs = await retryTransient(() => this.m.GithubUser.find({ slackUser }).lean<GithubUserDoc[]>());
    return docs.map((d) => d._id);
  }

  async link(login: string, slackUser: string, at: Date): Promise<'linked' | 'same' | 'taken'> {
    if (await insertOnce(this.m.GithubUser, { _id: login.toLowerCase(), slackUser, at })) return 'linked';
    return (await this.slackOf(login)) === slackUser ? 'same' : 'taken';
  }
}
