import {
  changeRefs,
  type GithubEventDraft,
  type PullRequestRef,
  type ReviewState,
} from '../domain/github.js';
import { standingOf } from '../domain/people.js';
import { executeCommand } from './execute-command.js';
import type { Deps, GithubApi, GithubLinks } from './ports.js';

/** A webhook delivery as the adapter parsed it: only what the evidence needs. */
export type GithubDelivery =
  | {
      kind: 'pull_request';
      delivery: string;
      action: string;
      sender: string;
      installationId: number | null;
      pr: PullRequestRef & {
        body: string;
        merged: boolean;
        mergeCommit: string | null;
        mergedBy: string | null;
      };
    }
  | {
      kind: 'review';
      delivery: string;
      action: string;
      sender: string;
      /** The App installation the delivery came through (for API calls), when given. */
      installationId: number | null;
      pr: PullRequestRef & { body: string };
      review: { by: string; state: ReviewState; commit: string };
    }
  | {
      kind: 'checks';
      delivery: string;
      sender: string;
      repo: string;
      pullRequests: number[];
      sha: string;
      name: string;
      conclusion: string;
    };

export interface GithubOutcome {
  /** Changes the delivery added evidence to. */
  changes: number[];
}

const prKey = (repo: string, number: number) => `${repo}#${number}`;

/**
 * Turns a delivery into evidence on the changes it concerns. A PR links to every change its title,
 * body or branch names (`CR-<n>`) and that exists; reviews, new commits, the merge and check results
 * then go to every change the PR is linked to. Each is an event in the change's trail (actor
 * `github:<login>`), keyed by the delivery, so a redelivery adds nothing.
 */
export async function recordGithubDelivery(
  deps: Deps,
  links: GithubLinks,
  d: GithubDelivery,
  gh: GithubApi | null = null,
): Promise<GithubOutcome> {
  const touched = new Set<number>();
  const actor = `github:${d.sender}`;
  const run = async (n: number, event: GithubEventDraft, slot = d.delivery) => {
    const res = await executeCommand(deps, n, { kind: 'github', actor, delivery: slot, event });
    if (res.ok) touched.add(n);
    return res;
  };
  // A PR linked late (its title edited to name the change, say) brings the reviews and check runs it
  // already had, read from GitHub's API when the App can call it.
  const backfill = async (n: number, pr: PullRequestRef) => {
    const inst = d.kind === 'checks' ? null : d.installationId;
    if (!gh || inst === null) return;
    try {
      for (const r of await gh.reviews(inst, pr.repo, pr.number)) {
        if (!['approved', 'changes_requested', 'dismissed'].includes(r.state)) continue;
        const slackUser = await slackPersonOf(deps, gh, inst, r.by);
        await run(
          n,
          {
            type: 'pr_review',
            data: {
              url: pr.url,
              by: r.by,
              state: r.state as ReviewState,
              commit: r.commit,
              byAuthor: r.by === pr.author,
              ...(slackUser ? { slackUser } : {}),
            },
          },
          `${d.delivery}:review:${r.id}`,
        );
      }
      for (const c of await gh.checkRuns(inst, pr.repo, pr.headSha))
        await run(
          n,
          {
            type: 'pr_checks',
            data: { url: pr.url, sha: pr.headSha, name: c.name, conclusion: c.conclusion },
          },
          `${d.delivery}:check:${c.id}`,
        );
    } catch (err) {
      deps.logger.warn('could not read the pull request’s earlier reviews and checks', {
        component: 'github',
        err,
      });
    }
  };

  if (d.kind === 'checks') {
    for (const number of d.pullRequests)
      for (const n of await links.changesOf(prKey(d.repo, number))) {
        const pr = (await deps.changes.record(n))?.state?.pullRequests?.find(
          (p) => p.repo === d.repo && p.number === number,
        );
        if (pr)
          await run(n, {
            type: 'pr_checks',
            data: { url: pr.url, sha: d.sha, name: d.name, conclusion: d.conclusion },
          });
      }
    return { changes: [...touched] };
  }

  // Link first: every change the PR names that exists and is not linked yet.
  const key = prKey(d.pr.repo, d.pr.number);
  const known = new Set(await links.changesOf(key));
  const { body: _body, ...ref } = d.pr;
  const base: PullRequestRef = {
    repo: ref.repo,
    number: ref.number,
    url: ref.url,
    title: ref.title,
    author: ref.author,
    branch: ref.branch,
    headSha: ref.headSha,
  };
  const named = changeRefs(d.pr.title, d.pr.body, d.pr.branch);
  // An edit that stops naming a linked change unlinks it (a merged PR stays: its evidence is history).
  if (d.kind === 'pull_request' && d.action === 'edited')
    for (const n of [...known].filter((k) => !named.includes(k))) {
      const state = (await deps.changes.record(n))?.state;
      const pr = state?.pullRequests?.find((p) => p.url === d.pr.url);
      // Linked through the change's own links field, or merged: it stays.
      if (pr?.merged || state?.request.links.pr === d.pr.url) continue;
      const res = await run(n, { type: 'pr_unlinked', data: { url: d.pr.url } });
      if (res.ok || res.error.code === 'NOT_FOUND') {
        await links.remove(key, n);
        known.delete(n);
      }
    }
  // Every change the PR names or whose links field holds it, linked once (a repeat is refused: CONFLICT).
  for (const n of new Set([...named, ...known])) {
    if (known.has(n)) {
      const linked = (await deps.changes.record(n))?.state?.pullRequests?.some((p) => p.url === d.pr.url);
      if (linked) continue;
    }
    const res = await run(n, { type: 'pr_linked', data: base });
    if (res.ok || res.error.code === 'CONFLICT') {
      await links.add(key, n);
      known.add(n);
    }
    if (res.ok) await backfill(n, base);
  }

  for (const n of known) {
    if (d.kind === 'review') {
      const state: ReviewState = d.action === 'dismissed' ? 'dismissed' : d.review.state;
      // The Slack person behind the reviewer's login, when mapped: separation of duties then also
      // covers "the requester approved their own PR" (application/github-users.ts).
      const slackUser = await slackPersonOf(deps, gh, d.installationId, d.review.by);
      await run(n, {
        type: 'pr_review',
        data: {
          url: d.pr.url,
          by: d.review.by,
          state,
          commit: d.review.commit,
          byAuthor: d.review.by === d.pr.author,
          ...(slackUser ? { slackUser } : {}),
        },
      });
      continue;
    }
    if (d.action === 'synchronize' || d.action === 'edited' || d.action === 'reopened') {
      const current = (await deps.changes.record(n))?.state?.pullRequests?.find((p) => p.url === d.pr.url);
      if (current && (current.headSha !== d.pr.headSha || current.title !== d.pr.title))
        await run(n, { type: 'pr_head', data: { url: d.pr.url, headSha: d.pr.headSha, title: d.pr.title } });
    }
    if (d.action === 'closed' && d.pr.merged && d.pr.mergeCommit)
      await run(n, {
        type: 'pr_merged',
        data: { url: d.pr.url, mergeCommit: d.pr.mergeCommit, mergedBy: d.pr.mergedBy ?? d.sender },
      });
  }
  return { changes: [...touched] };
}

/**
 * The Slack person behind a GitHub login: the one it is linked to, or else the workspace member with
 * the login's public e-mail (GitHub shows only verified addresses there), which is then linked.
 */
async function slackPersonOf(
  deps: Deps,
  gh: GithubApi | null,
  installationId: number | null,
  login: string,
): Promise<string | null> {
  const known = await deps.githubUsers.slackOf(login);
  if (known || !gh || installationId === null) return known;
  try {
    const email = await gh.publicEmail(installationId, login);
    if (!email) return null;
    const [person, workspace] = await Promise.all([
      deps.directory.personByEmail(email),
      deps.directory.workspace(),
    ]);
    if (!person || person === 'unavailable' || standingOf(person, workspace) !== 'member') return null;
    const res = await deps.githubUsers.link(login, person.id, deps.clock.now());
    return res === 'taken' ? await deps.githubUsers.slackOf(login) : person.id;
  } catch (err) {
    deps.logger.warn('could not look up a GitHub user by e-mail', { component: 'github', login, err });
    return null;
  }
}
