/**
 * The papers `deno task reproduce` knows. Each entry points at the module exporting the
 * paper's experiment spec (`spec`, see lib/experiments/spec.ts); modules are imported
 * only when their paper runs, in the parent and in each grid worker.
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

/** The registered papers (the five papers are added as their specs land). */
export const PAPERS: readonly PaperEntry[] = [
  {
    name: "baseline",
    title: "Baseline: ID cross-entropy and batch-hard triplet on Market-1501",
    module: new URL("./baseline/spec.ts", import.meta.url).href,
  },
  {
    name: "cmgan",
    title: "cmGAN: cross-modality person re-identification with generative adversarial training",
    module: new URL("./cmgan/spec.ts", import.meta.url).href,
    notebook: "notebooks/cmgan.ipynb",
  },
];

/** Notebooks that belong to no paper but are executed by `reproduce` (the introduction). */
export const EXTRA_NOTEBOOKS: readonly string[] = ["notebooks/00_introduction.ipynb"];

/** The entries named in `names` (all when empty); unknown names fail listing the known ones. */
export function selectPapers(
  names: readonly string[],
  papers: readonly PaperEntry[] = PAPERS,
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
