/**
 * What the experiment engine knows of a paper before importing it: a registry entry
 * (`lib/papers/registry.ts` lists them; the spec module is imported only when the paper runs).
 *
 * @module
 */

/** One registered paper. */
export interface PaperEntry {
  /** Name used by `--paper` and the results folder, e.g. "sal". */
  name: string;
  title: string;
  /** File URL of the module exporting `spec`. */
  module: string;
  /** The paper's notebook, relative to the repository root. */
  notebook?: string;
}

/** The entries named in `names` (all when empty); unknown names fail listing the known ones. */
export function selectPapers(
  names: readonly string[],
  papers: readonly PaperEntry[],
): PaperEntry[] {
  if (names.length === 0) return [...papers];
  const unknown = names.filter((n) => !papers.some((p) => p.name === n));
  if (unknown.length > 0) {
    const known = papers.map((p) => p.name);
    throw new Error(
      `unknown paper${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `"${u}"`).join(", ")}; ` +
        (known.length ? `known papers: ${known.join(", ")}` : "no papers are registered yet"),
    );
  }
  return papers.filter((p) => names.includes(p.name));
}
