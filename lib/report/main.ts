/**
 * `deno task report`: writes `results/index.html` (every registered paper's headline table,
 * claims, forest plot, losses and galleries) and `results/notebooks/<name>.html` (each executed
 * notebook, self-contained), from the stored grid results and the executed notebooks that
 * `deno task reproduce` wrote. Opens offline.
 *
 * @module
 */
import { relative } from "node:path";
import { EXTRA_NOTEBOOKS, PAPERS } from "../papers/registry.ts";
import { REPO_ROOT, repoPath } from "../runtime/paths.ts";
import { exportNotebookHtml } from "./notebook_html.ts";
import { writeReport } from "./page.ts";

if (import.meta.main) {
  const results = repoPath("results");
  const { index, notebooks } = await writeReport(
    PAPERS,
    EXTRA_NOTEBOOKS,
    { results },
    exportNotebookHtml,
  );
  for (const file of [index, ...notebooks]) console.log(`wrote ${relative(REPO_ROOT, file)}`);
}
