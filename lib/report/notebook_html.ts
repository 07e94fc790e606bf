/**
 * An executed notebook as one self-contained HTML file: nbconvert with the project's `reid`
 * template (lib/experiments/nbconvert), Plotly figures ranked first so that each becomes an
 * interactive plot over its PNG, and plotly.js and KaTeX embedded ({@link offlineAssets}), so the
 * file opens anywhere without a network.
 *
 * @module
 */
import { basename, join, resolve } from "node:path";
import { NBCONVERT_TEMPLATES, pythonExecutable } from "../experiments/notebooks.ts";
import { PLOTLY_MIME } from "../viz/chart.ts";
import { offlineAssets } from "./assets.ts";

/** The order in which nbconvert picks an output's MIME type (Plotly first: see the template). */
export const HTML_PRIORITY: readonly string[] = [
  PLOTLY_MIME,
  "text/html",
  "image/svg+xml",
  "image/png",
  "image/jpeg",
  "text/markdown",
  "text/latex",
  "text/plain",
];

const PLACEHOLDER = "<!--REID_ASSETS-->";

/** Puts the offline assets into HTML written by the `reid` template. */
export async function embedAssets(html: string, source = "page"): Promise<string> {
  if (!html.includes(PLACEHOLDER)) {
    throw new Error(`${source}: no ${PLACEHOLDER} marker (not written with the reid template?)`);
  }
  const assets = await offlineAssets();
  return html.replace(PLACEHOLDER, () => assets);
}

/**
 * Converts `executedPath` (an executed .ipynb) to `<outDir>/<name>.html`, self-contained.
 * Returns the HTML file's path.
 *
 * @see notebooks/00_introduction.ipynb (the executed copies under results/notebooks/)
 */
export async function exportNotebookHtml(executedPath: string, outDir: string): Promise<string> {
  await Deno.mkdir(outDir, { recursive: true });
  const name = basename(executedPath).replace(/\.ipynb$/, "");
  // A list trait cannot be set reliably from nbconvert's command line: a config file can.
  const config = await Deno.makeTempFile({ prefix: "reid-nbconvert-", suffix: ".json" });
  await Deno.writeTextFile(
    config,
    JSON.stringify({ NbConvertBase: { display_data_priority: HTML_PRIORITY } }),
  );
  const out = await new Deno.Command(pythonExecutable(), {
    args: [
      "-m",
      "nbconvert",
      "--to",
      "html",
      `--TemplateExporter.extra_template_basedirs=${NBCONVERT_TEMPLATES}`,
      "--template",
      "reid",
      `--config=${config}`,
      "--stdout",
      resolve(executedPath),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output().finally(() => Deno.remove(config).catch(() => {}));
  if (!out.success) {
    throw new Error(
      `${executedPath}: nbconvert --to html failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  const html = await embedAssets(new TextDecoder().decode(out.stdout), executedPath);
  const path = join(resolve(outDir), `${name}.html`);
  await Deno.writeTextFile(path, html);
  return path;
}
