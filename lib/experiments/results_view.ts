/**
 * A paper's stored grid results as a notebook shows them (docs/design.md, 'Notebooks'; notebooks read
 * cached grid results when present): per-row mean ± std beside the paper's numbers, and
 * each claim's verdict with its paired differences.
 *
 * @see notebooks/00_introduction.ipynb §6 (results over seeds)
 * @module
 */
import { repoPath } from "../runtime/paths.ts";
import type { Displayable, MimeBundle } from "../runtime/display.ts";
import { claimsTable, comparisonTable, formatMeanStd, tableBundle } from "../viz/tables.ts";
import {
  type ClaimResult,
  evaluateClaims,
  formatStats,
  type RowSummary,
  summarizeRows,
} from "./claims.ts";
import type { PaperSpec, Scale } from "./spec.ts";
import { gridDefinition, seedList } from "./config.ts";
import { type CellResult, type FailedCell, loadGridResults, type StaleFile } from "./store.ts";

/** The committed results folder, `<repo>/results`. */
export const RESULTS_ROOT: string = repoPath("results");

/** What {@link gridView} found. */
export interface GridView {
  /** Number of stored cells (0: nothing cached; train instead). */
  cells: number;
  /** row → seed → result (current grid definition only). */
  results: Map<string, Map<number, CellResult>>;
  /** Cells of the grid whose last run failed. */
  failed: FailedCell[];
  /** Stored files not counted (other config hash, seed or row; unreadable). */
  stale: StaleFile[];
  rows: RowSummary[];
  claims: ClaimResult[];
  /** Rows × metrics, paper beside ours (mean ± std over seeds). */
  table: MimeBundle & Displayable;
  /** Claims with ✓ / ✗ / — and the paired differences. */
  claimsTable: MimeBundle & Displayable;
}

/**
 * Loads the stored results of `spec`'s current grid at `scale` (rows that run there, seeds
 * 0 … `seeds` − 1 — default the spec's — and each row's current config hash) and renders its
 * tables. Other stored files are not counted: they are listed in `stale` and counted in the
 * caption; cells whose last run failed are marked failed in the table.
 */
export async function gridView(
  spec: PaperSpec,
  options: { results?: string; scale?: Scale; quick?: boolean; seeds?: number } = {},
): Promise<GridView> {
  const scale = options.scale ?? "cpu";
  const quick = options.quick ?? false;
  const loaded = await loadGridResults(
    options.results ?? RESULTS_ROOT,
    spec.paper,
    scale,
    quick,
    await gridDefinition(spec, scale, { quick, seeds: seedList(spec, options.seeds) }),
  );
  const { results, failed, stale } = loaded;
  const cells = [...results.values()].reduce((n, bySeed) => n + bySeed.size, 0);
  const rows = summarizeRows(spec, results, undefined, failed);
  const claims = evaluateClaims(spec, results);
  const metrics = [...(spec.metrics ?? new Set(rows.flatMap((r) => Object.keys(r.ours))))];
  const seeds = [...new Set(rows.flatMap((r) => r.seeds))].sort((a, b) => a - b);
  const caption = [
    `mean ± std over seeds ${seeds.join(", ") || "—"}; ${cells} stored cells`,
    ...(failed.length
      ? [`${failed.length} failed: ${failed.map((f) => `${f.row}/seed${f.seed}`).join(", ")}`]
      : []),
    ...(stale.length
      ? [
        `${stale.length} stale file(s) not counted: ${
          stale.slice(0, 3).map((f) => `${f.path.split("/").slice(-2).join("/")} (${f.reason})`)
            .join("; ")
        }${stale.length > 3 ? "; …" : ""}`,
      ]
      : []),
  ].join("; ");
  const label = (r: RowSummary) =>
    r.failedSeeds.length ? `${r.label} (failed: seed ${r.failedSeeds.join(", ")})` : r.label;
  const title = `${spec.title} (${scale} scale)`;
  const hasPaper = rows.some((r) => Object.keys(r.paper).length > 0);
  const ours = (r: RowSummary) =>
    Object.fromEntries(
      Object.entries(r.ours).map(([m, s]) => [m, s.n > 0 ? { ...s } : null]),
    );
  // Without paper numbers (an experiment of our own) the paper columns would be all "—".
  const table = tableBundle(
    hasPaper
      ? comparisonTable(rows.map((r) => ({ label: label(r), paper: r.paper, ours: ours(r) })), {
        title,
        metrics,
        caption,
      })
      : {
        title,
        headers: ["row", ...metrics],
        rows: rows.map((r) => [label(r), ...metrics.map((m) => formatMeanStd(ours(r)[m]))]),
        caption,
      },
  );
  const claimsBundle = tableBundle(claimsTable(
    claims.map((c) => ({
      id: c.id,
      text: c.text,
      holds: c.verdict === "✓" ? true : c.verdict === "✗" ? false : null,
      evidence: c.parts.map((p) => `${p.label}: ${formatStats(p.stats, 2)} (n=${p.stats.n})`)
        .join("; ") + (c.verdict === "~" ? " — inconclusive" : ""),
    })),
    { title: "Claims" },
  ));
  return { cells, results, failed, stale, rows, claims, table, claimsTable: claimsBundle };
}
