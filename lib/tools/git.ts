/** The source checkout's commit and branch, for the sha-<7> and branch tags. */
import { run, type Runner } from '../core/exec.ts';

export interface SourceRevision {
  commit: string;
  short: string;
  /** undefined on a detached HEAD with no branch given. */
  branch?: string;
}

export async function sourceRevision(runner: Runner, dir: string, branchOverride?: string): Promise<SourceRevision> {
  const commit = (await run(runner, ['git', '-C', dir, 'rev-parse', 'HEAD'], { timeoutMs: 30_000 })).stdout.trim();
  let branch = branchOverride;
  if (!branch) {
    const name = (
      await run(runner, ['git', '-C', dir, 'rev-parse', '--abbrev-ref', 'HEAD'], { timeoutMs: 30_000 })
    ).stdout.trim();
    branch = name === 'HEAD' ? undefined : name;
  }
  return { commit, short: commit.slice(0, 7), ...(branch ? { branch } : {}) };
}

/** A branch name as a docker tag: tags allow [A-Za-z0-9_.-], so "feature/x" becomes "feature-x". */
export function branchTag(branch: string): string {
  return branch
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128);
}
