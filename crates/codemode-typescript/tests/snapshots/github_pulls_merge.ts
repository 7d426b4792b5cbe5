interface Api {
  /** Merge a pull request. Merges a pull request into the base branch.
   * @param args.repo The name of the repository without the `.git` extension.
   * PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge */
  pullsMerge(args: { owner: string; repo: string; pull_number: number; body?: {
      /** Title for the automatic commit message. */
      commit_title?: string;
      /** Extra detail to append to automatic commit message. */
      commit_message?: string;
      /** SHA that pull request head must match to allow merge. */
      sha?: string;
      /** The merge method to use. */
      merge_method?: "merge" | "squash" | "rebase";
    } | null }): Promise<PullRequestMergeResult>;
}
/** Pull Request Merge Result */
interface PullRequestMergeResult {
  sha: string;
  merged: boolean;
  message: string;
}
