/**
 * The repository root, computed in one place: configs name data, cache and result folders
 * relative to it, and notebooks (which run in notebooks/) resolve them through here.
 *
 * @module
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root as an absolute path, without a trailing slash. */
export const REPO_ROOT: string = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/**
 * A path under the repository root: `repoPath("results", "cmgan")`. An absolute part wins over
 * the root (as with `resolve`), so a config path that is already absolute comes back unchanged.
 */
export function repoPath(...parts: string[]): string {
  return resolve(REPO_ROOT, ...parts);
}

/**
 * The data folder of the synthetic world drawn with seed `worldSeed`: `world<N>/` inside the
 * default one (`reproduce --world-seed`; docs/design.md, 'World seeds'), so nothing of the
 * default world is overwritten or reused.
 */
export function worldFolder(root: string, worldSeed: number): string {
  return `${root.replace(/\/+$/, "")}/world${worldSeed}`;
}
