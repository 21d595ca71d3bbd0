/**
 * Pull-request evidence from the GitHub App: which PRs a change is linked to, who approved which
 * commit (an approval by the PR's author is recorded, flagged and never counted), CI conclusions on
 * the head commit, and the merge. Pure: the webhook adapter turns GitHub's payloads into these.
 */

export interface PullRequestRef {
  /** owner/name */
  repo: string;
  number: number;
  url: string;
  title: string;
  /** GitHub login of the PR's author. */
  author: string;
  branch: string;
  headSha: string;
}

export type ReviewState = 'approved' | 'changes_requested' | 'commented' | 'dismissed';

export interface PrReview {
  by: string;
  state: ReviewState;
  /** The commit the review was given on. */
  commit: string;
  at: Date;
  /** The PR's author reviewed their own PR (recorded, never counted). */
  byAuthor: boolean;
  /** The Slack person the reviewer's GitHub login maps to, when known at the review. */
  slackUser?: string;
}

export interface PrCheck {
  sha: string;
  name: string;
  conclusion: string;
  at: Date;
}

export interface PullRequestEvidence extends PullRequestRef {
  linkedAt: Date;
  merged: boolean;
  mergeCommit: string | null;
  mergedBy: string | null;
  reviews: PrReview[];
  checks: PrCheck[];
}

const REF = /(?<![A-Za-z0-9])CR-(\d{1,9})(?!\d)/gi;

/** The change numbers a PR names (`CR-<n>`, whole numbers: CR-10 is not CR-1), in order, once each. */
export function changeRefs(...texts: (string | null | undefined)[]): number[] {
  const out: number[] = [];
  for (const t of texts) for (const m of (t ?? '').matchAll(REF)) out.push(Number(m[1]));
  return [...new Set(out)].filter((n) => n > 0);
}

/** Each reviewer's standing review (their latest; a dismissal withdraws it). */
function latestReviews(pr: PullRequestEvidence): PrReview[] {
  const by = new Map<string, PrReview>();
  for (const r of pr.reviews) if (r.state !== 'commented') by.set(r.by, r);
  return [...by.values()].filter((r) => r.state !== 'dismissed');
}

/**
 * Whether a review is by the PR's author, or by a person who stands behind the change (`owners`: its
 * requester, the creator of the token that raised it) through the GitHub login mapped to them.
 */
const own = (r: PrReview, owners: readonly string[]) =>
  r.byAuthor || (!!r.slackUser && owners.includes(r.slackUser));

/** Approvals that count: on the PR's head commit, by someone other than its author and the change's owners. */
export function countedApprovals(pr: PullRequestEvidence, owners: readonly string[] = []): PrReview[] {
  return latestReviews(pr).filter(
    (r) => r.state === 'approved' && !own(r, owners) && r.commit === pr.headSha,
  );
}

/** Approvals by the PR's author or the change's owners: flagged in the evidence, never counted. */
export function selfApprovals(pr: PullRequestEvidence, owners: readonly string[] = []): PrReview[] {
  return pr.reviews.filter((r) => r.state === 'approved' && own(r, owners));
}

/**
 * CI on the head commit: `failure` if any check's latest run failed, `success` if every one
 * succeeded (or was skipped / neutral), `pending` when none reported yet.
 */
export function ciConclusion(pr: PullRequestEvidence): 'success' | 'failure' | 'pending' {
  const latest = new Map<string, PrCheck>();
  for (const c of pr.checks) if (c.sha === pr.headSha) latest.set(c.name, c);
  if (latest.size === 0) return 'pending';
  const bad = [...latest.values()].some((c) => !['success', 'neutral', 'skipped'].includes(c.conclusion));
  return bad ? 'failure' : 'success';
}

/** The events a webhook adds to a change's trail (data of the change events of the same names). */
export type GithubEventDraft =
  | { type: 'pr_linked'; data: PullRequestRef }
  | { type: 'pr_head'; data: { url: string; headSha: string; title: string } }
  | {
      type: 'pr_review';
      data: {
        url: string;
        by: string;
        state: ReviewState;
        commit: string;
        byAuthor: boolean;
        slackUser?: string;
      };
    }
  | { type: 'pr_checks'; data: { url: string; sha: string; name: string; conclusion: string } }
  | { type: 'pr_merged'; data: { url: string; mergeCommit: string; mergedBy: string } }
  /** The PR no longer names the change (its title, body and branch were edited). */
  | { type: 'pr_unlinked'; data: { url: string } };

/** Folds one GitHub event into a change's PR evidence. */
export function applyGithubEvent(
  prs: readonly PullRequestEvidence[],
  e: GithubEventDraft,
  at: Date,
): PullRequestEvidence[] {
  if (e.type === 'pr_linked') {
    if (prs.some((p) => p.url === e.data.url)) return [...prs];
    return [
      ...prs,
      { ...e.data, linkedAt: at, merged: false, mergeCommit: null, mergedBy: null, reviews: [], checks: [] },
    ];
  }
  if (e.type === 'pr_unlinked') return prs.filter((p) => p.url !== e.data.url);
  return prs.map((p) => {
    if (p.url !== e.data.url) return p;
    switch (e.type) {
      case 'pr_head':
        return { ...p, headSha: e.data.headSha, title: e.data.title };
      case 'pr_review': {
        const { by, state, commit, byAuthor, slackUser } = e.data;
        return {
          ...p,
          reviews: [...p.reviews, { by, state, commit, byAuthor, at, ...(slackUser ? { slackUser } : {}) }],
        };
      }
      case 'pr_checks': {
        const { sha, name, conclusion } = e.data;
        return { ...p, checks: [...p.checks, { sha, name, conclusion, at }] };
      }
      case 'pr_merged':
        return { ...p, merged: true, mergeCommit: e.data.mergeCommit, mergedBy: e.data.mergedBy };
    }
    return p;
  });
}

/** The people who stand behind a change: its requester and the creator of the token that raised it. */
export function changeOwners(s: { requester: string; raisedVia: { tokenCreator: string } | null }): string[] {
  return [s.requester, ...(s.raisedVia ? [s.raisedVia.tokenCreator] : [])];
}

/** `owner/repo#number` of a pull request URL (github.com or GitHub Enterprise Server); null otherwise. */
export function prKeyOfUrl(url: string | null | undefined): string | null {
  const m = /^https?:\/\/[^/\s]+\/([\w.-]+\/[\w.-]+)\/pull\/(\d{1,9})(?:[/?#].*)?$/.exec(url ?? '');
  return m ? `${m[1]}#${Number(m[2])}` : null;
}
