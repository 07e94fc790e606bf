/**
 * The results page and the notebooks' HTML open offline in a real browser: headless Chromium
 * (Debian's `chromium`, which .ci/run installs) with every host unresolvable loads them, and the
 * DOM must show every Plotly figure drawn (its SVG layers), the math typeset by KaTeX with no raw
 * `$…$` left, no request beyond the file itself, and a screenshot that is not blank.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { executeNotebook } from "../experiments/notebooks.ts";
import { PAPERS } from "../papers/registry.ts";
import { REPO_ROOT, repoPath } from "../runtime/paths.ts";
import { chromiumExecutable, inspectPage, type PageInspection } from "./browser.ts";
import { exportNotebookHtml } from "./notebook_html.ts";
import { writeReport } from "./page.ts";

/** A notebook with math in its markdown and two figures, as the paper notebooks have. */
function tinyNotebook(): string {
  const lib = (p: string) => JSON.stringify(`file://${join(REPO_ROOT, p)}`);
  const cells = [
    {
      cell_type: "markdown",
      metadata: {},
      source: "# Tiny\n\nInline $\\ell_{dis} \\approx \\ln 2$ and display\n\n" +
        "$$\\mathcal{L} = \\frac1N\\sum_{i=1}^{N}\\big[m + d_{ap} - d_{an}\\big]_+ .$$",
    },
    {
      cell_type: "code",
      metadata: {},
      execution_count: null,
      outputs: [],
      source: `import { cmcCurves, lossCurves } from ${lib("lib/viz/plots.ts")};\n` +
        `import { display } from ${lib("lib/runtime/display.ts")};\n` +
        `await display(lossCurves({ l: { steps: [0, 1, 2], values: [3, 2, 1] } }, { title: "l" }));\n` +
        `cmcCurves({ a: [0.2, 0.5, 1] }, { chance: [0.1, 0.2, 0.3] });`,
    },
  ];
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "deno", display_name: "Deno", language: "typescript" },
      language_info: { name: "typescript", file_extension: ".ts" },
    },
    cells,
  });
}

async function assertRendered(file: string, seen: PageInspection, minPlots: number) {
  assert.deepEqual(seen.requests, [], `${file}: requests left the page`);
  assert.deepEqual(seen.plotErrors, [], `${file}: Plotly errors`);
  assert.ok(seen.plots >= minPlots, `${file}: ${seen.plots} figures, expected ≥ ${minPlots}`);
  assert.equal(seen.plotsDrawn, seen.plots, `${file}: every figure drew its SVG layers`);
  assert.ok(seen.math > 0, `${file}: math typeset`);
  assert.equal(seen.mathErrors, 0, `${file}: KaTeX errors`);
  assert.deepEqual(seen.rawMath, [], `${file}: raw $…$ left`);
  assert.equal(seen.brokenImages, 0, `${file}: broken images`);
  const { channels } = await sharp(seen.screenshot).stats();
  assert.ok(channels[0].stdev > 10, `${file}: the screenshot is not blank`);
}

Deno.test("results page and notebook HTML render offline in headless Chromium", async () => {
  const probe = await new Deno.Command(chromiumExecutable(), { args: ["--version"] }).output()
    .catch(() => null);
  assert.ok(
    probe?.success,
    `${chromiumExecutable()} not found: install Debian's chromium (apt-get install chromium; ` +
      ".ci/run does) or set REID_CHROMIUM",
  );
  const dir = await Deno.makeTempDir({ prefix: "reid-report-" });
  try {
    const source = join(dir, "tiny.ipynb");
    await Deno.writeTextFile(source, tinyNotebook());
    const executed = await executeNotebook(source, {
      outDir: join(dir, "executed"),
      quick: true,
      cwd: REPO_ROOT,
    });
    const baseline = PAPERS.filter((p) => p.name === "baseline");
    const { index, notebooks } = await writeReport(
      baseline,
      ["notebooks/tiny.ipynb"],
      { results: repoPath("results"), executed: join(dir, "executed"), out: join(dir, "site") },
      exportNotebookHtml,
    );
    assert.equal(notebooks.length, 1);
    assert.equal(executed.codeCells, 1);
    const page = await Deno.readTextFile(index);
    assert.match(page, /href="notebooks\/tiny\.html"/);
    assert.match(page, /ID \+ triplet/, "the baseline's headline table");
    assert.match(page, /✓ hold/, "claims with the verdict count");
    // The baseline section has a forest plot and a loss curve; the notebook two figures.
    await assertRendered(index, await inspectPage(index), 2);
    await assertRendered(notebooks[0], await inspectPage(notebooks[0]), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
