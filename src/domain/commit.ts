/**
 * What a change is for: a commit (a git object id, 7 to 64 hex digits; abbreviations allowed) or an
 * artifact digest (`sha256:<hex>`, as container registries print them). Tags and branch names are
 * not accepted as the thing a change approves, because they can be moved to other code.
 */

const GIT_ID = /^[0-9a-f]{7,64}$/;
const DIGEST = /^(sha256|sha384|sha512):[0-9a-f]{32,128}$/;

/** The canonical form (lower case, trimmed) of a commit or digest, or null when it is neither. */
export function normaliseCommit(text: string): string | null {
  const t = text.trim().toLowerCase();
  return GIT_ID.test(t) || DIGEST.test(t) ? t : null;
}

export const COMMIT_FORMAT_HINT =
  'a commit hash (7 to 64 hex digits) or an artifact digest such as sha256:4f6c…';

/** A typed commit as a request carries it: canonical when it is one, as typed otherwise (validation says why). */
export function commitOf(text: string): string | null {
  const t = text.trim();
  return t ? (normaliseCommit(t) ?? t) : null;
}

/**
 * Whether `reported` is the commit a change was approved for. Git ids match when one abbreviates
 * the other (both at least 7 digits); digests must be equal. Anything else (a tag, a branch, a
 * differently spelled id) is another thing.
 */
export function sameCommit(approved: string, reported: string | null): boolean {
  if (!reported) return false;
  const r = normaliseCommit(reported);
  if (!r) return false;
  if (approved === r) return true;
  if (!GIT_ID.test(approved) || !GIT_ID.test(r)) return false;
  return approved.startsWith(r) || r.startsWith(approved);
}

/** Seven digits of a git id (how people quote them), or the digest's algorithm and first 12 digits. */
export function shortCommit(commit: string): string {
  const i = commit.indexOf(':');
  return i >= 0 ? commit.slice(0, i + 13) : commit.slice(0, 7);
}
