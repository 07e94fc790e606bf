/**
 * The results page, `results/index.html`: for every registered paper the headline table (ours
 * beside the paper's), the claims ✓ / ✗ / ~ with their paired differences as a forest plot, the
 * loss curves of a stored run, the ranked galleries of its executed notebook, and a link to that
 * notebook as self-contained HTML. One file, plotly.js and KaTeX embedded: it opens offline.
 *
 * @module
 */
import { basename, join } from "node:path";
import { escapeXml, type FigureBundle, PLOTLY_MIME } from "../viz/chart.ts";
import { JUPYTER_DISPLAY } from "../runtime/display.ts";
import { type GridView, gridView, type GridViewOptions } from "../experiments/results_view.ts";
import { importSpec } from "../experiments/cell_runner.ts";
import type { PaperEntry } from "../experiments/papers.ts";
import { lossCurves } from "../viz/plots.ts";
import { joinText, readNotebook } from "../experiments/notebooks.ts";
import { VERDICT_LEGEND } from "../viz/tables.ts";
import { embedAssets } from "./notebook_html.ts";

/** A figure as the page shows it: the Plotly figure over its PNG (the PNG stays without scripts). */
export async function figureHtml(figure: FigureBundle): Promise<string> {
  const shown = await figure[JUPYTER_DISPLAY]();
  const json = JSON.stringify(shown[PLOTLY_MIME]);
  const png = shown["image/png"];
  return `<div class="reid-plotly" data-figure="${escapeXml(json)}">` +
    (typeof png === "string"
      ? `<img class="reid-fallback" alt="${escapeXml(String(shown["text/plain"] ?? "figure"))}" ` +
        `src="data:image/png;base64,${png}">`
      : "") +
    `</div>`;
}

/** The ranked-gallery PNGs of an executed notebook (outputs whose text says so), in order. */
export async function notebookGalleries(executed: string, limit = 2): Promise<string[]> {
  let nb;
  try {
    nb = await readNotebook(executed);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const found: string[] = [];
  for (const cell of nb.cells) {
    for (const output of cell.outputs ?? []) {
      const text = joinText(output.data?.["text/plain"] as string | string[] | undefined);
      const png = output.data?.["image/png"];
      if (text.startsWith("[ranked gallery") && png) found.push(joinText(png as string[]));
    }
  }
  return found.slice(0, limit);
}

/** A stored run's loss curves: the full model's (or the last trained row's, in spec order) first seed. */
function storedLosses(view: GridView): FigureBundle | null {
  // The spec's row order: the main row is usually "full", else the last (the complete method).
  const rows = view.rows.map((r) => r.row).filter((r) => view.results.has(r));
  const order = rows.includes("full") ? ["full", ...rows.reverse()] : rows.reverse();
  for (const row of order) {
    const bySeed = view.results.get(row);
    const seed = bySeed ? Math.min(...bySeed.keys()) : NaN;
    const history = bySeed?.get(seed)?.history;
    const names = Object.keys(history?.series ?? {}).filter((n) =>
      !n.startsWith("val_") && (history!.series[n].values.length ?? 0) > 1
    ).slice(0, 6);
    if (history && names.length > 0) {
      return lossCurves(history, {
        names,
        smooth: 0.9,
        title: `Training losses, row "${row}", seed ${seed} (EMA over faint raw values)`,
      });
    }
  }
  return null;
}

/** What one paper contributes to the page. */
export interface PaperSection {
  name: string;
  title: string;
  cells: number;
  html: string;
}

/** The headline metrics and labels a paper's report module declares, when it has one. */
async function reportOptions(entry: PaperEntry): Promise<GridViewOptions> {
  try {
    const mod = await import(new URL("./report.ts", entry.module).href);
    return {
      ...(Array.isArray(mod.HEADLINE) ? { headline: mod.HEADLINE } : {}),
      ...(mod.METRIC_LABELS ? { metricLabels: mod.METRIC_LABELS } : {}),
    };
  } catch {
    return {};
  }
}

/** One paper's section: tables, forest plot, losses, galleries, notebook link. */
export async function paperSection(
  entry: PaperEntry,
  options: { results: string; notebookHtml?: string; executed?: string },
): Promise<PaperSection> {
  const spec = await importSpec(entry.module);
  const view = await gridView(spec, {
    scale: "cpu",
    results: options.results,
    ...(await reportOptions(entry)),
  });
  const parts: string[] = [`<h2 id="${entry.name}">${escapeXml(entry.title)}</h2>`];
  if (options.notebookHtml) {
    parts.push(
      `<p class="links">Notebook: <a href="${escapeXml(options.notebookHtml)}">${
        escapeXml(basename(options.notebookHtml))
      }</a> (executed, self-contained)</p>`,
    );
  }
  if (view.cells === 0) {
    parts.push(
      `<p>No stored results: <code>deno task reproduce --paper ${entry.name}</code> trains them.</p>`,
    );
    return { name: entry.name, title: entry.title, cells: 0, html: parts.join("\n") };
  }
  parts.push(String(view.table["text/html"]));
  parts.push(String(view.claimsTable["text/html"]));
  if (view.forest) parts.push(await figureHtml(view.forest));
  const losses = storedLosses(view);
  if (losses) parts.push(await figureHtml(losses));
  for (const png of await notebookGalleries(options.executed ?? "")) {
    parts.push(`<img class="gallery" alt="ranked gallery" src="data:image/png;base64,${png}">`);
  }
  parts.push(String(view.fullTable["text/html"]));
  return { name: entry.name, title: entry.title, cells: view.cells, html: parts.join("\n") };
}

const STYLE = `<style>
body{font-family:Helvetica,Arial,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;color:#222}
table{margin:1em 0;font-size:13px}th,td{border-bottom:1px solid #ddd}
img.gallery{max-width:100%;display:block;margin:1em 0}.links{color:#555}
nav a{margin-right:1em}details{margin:1em 0}
</style>`;

/** The whole page around the paper sections. */
export async function reportPage(
  sections: PaperSection[],
  extraNotebooks: { title: string; href: string }[] = [],
): Promise<string> {
  const nav = sections.map((s) => `<a href="#${s.name}">${escapeXml(s.name)}</a>`).join("");
  const extras = extraNotebooks.map((n) =>
    `<li><a href="${escapeXml(n.href)}">${escapeXml(n.title)}</a></li>`
  ).join("");
  const html = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>reid-notebooks: results</title>${STYLE}
<!--REID_ASSETS-->
</head><body>
<h1>reid-notebooks: results at CPU scale</h1>
<p>Each paper's headline numbers, ours as mean ± std over seeds beside the paper's, and its claims
judged on the paired per-seed differences: for a difference with seed values $d_s$, the mean
$\\bar d$ must clear one standard deviation $s_d$ (${escapeXml(VERDICT_LEGEND)}). Synthetic data
and small networks: compare orderings and gaps, not absolute numbers.</p>
<nav>${nav}</nav>
${extras ? `<ul>${extras}</ul>` : ""}
${sections.map((s) => `<section>${s.html}</section>`).join("\n")}
</body></html>`;
  return await embedAssets(html, "results page");
}

/** Paths of the report inputs and outputs. */
export interface ReportPaths {
  /** The results folder (grid results and `notebooks/` with the executed copies). */
  results: string;
  /** The executed notebooks (default: `<results>/notebooks`). */
  executed?: string;
  /** Where index.html goes (default: `results`). */
  out?: string;
}

/**
 * Writes `<out>/index.html` and `<out>/notebooks/<name>.html` for every executed notebook of
 * `<results>/notebooks/` that the papers (or `extraNotebooks`) name. Returns the written files.
 */
export async function writeReport(
  papers: readonly PaperEntry[],
  extraNotebooks: readonly string[],
  paths: ReportPaths,
  exportHtml: (executed: string, outDir: string) => Promise<string>,
): Promise<{ index: string; notebooks: string[] }> {
  const out = paths.out ?? paths.results;
  const executedDir = paths.executed ?? join(paths.results, "notebooks");
  const htmlDir = join(out, "notebooks");
  const written: string[] = [];
  const htmlOf = async (notebook: string | undefined): Promise<string | undefined> => {
    if (!notebook) return undefined;
    const executed = join(executedDir, basename(notebook));
    try {
      await Deno.stat(executed);
    } catch {
      return undefined;
    }
    const file = await exportHtml(executed, htmlDir);
    written.push(file);
    return `notebooks/${basename(file)}`;
  };
  const extras: { title: string; href: string }[] = [];
  for (const nb of extraNotebooks) {
    const href = await htmlOf(nb);
    if (href) extras.push({ title: `${basename(nb)} (executed)`, href });
  }
  const sections: PaperSection[] = [];
  for (const entry of papers) {
    const notebookHtml = await htmlOf(entry.notebook);
    sections.push(
      await paperSection(entry, {
        results: paths.results,
        notebookHtml,
        executed: entry.notebook ? join(executedDir, basename(entry.notebook)) : undefined,
      }),
    );
  }
  await Deno.mkdir(out, { recursive: true });
  const index = join(out, "index.html");
  await Deno.writeTextFile(index, await reportPage(sections, extras));
  return { index, notebooks: written };
}
