import type { GithubLinks } from '../../application/ports.js';
import { isDuplicateKey, retryTransient } from './connection.js';
import type { GithubLinkDoc, Models } from './models.js';

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

  async changesOf(pr: string): Promise<number[]> {
    const d = await retryTransient(() => this.m.GithubLink.findById(pr).lean<GithubLinkDoc>());
    return d?.changes ?? [];
  }
}
