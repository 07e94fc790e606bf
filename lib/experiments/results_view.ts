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
import {
  claimsTable,
  formatMeanStd,
  formatNumber,
  type Table,
  tableBundle,
  toCsv,
} from "../viz/tables.ts";
import { type FigureBundle } from "../viz/chart.ts";
import { forestPlot } from "../viz/plots.ts";
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
  /** The headline table: each row's headline metrics, ours (mean ± std) beside the paper's. */
  table: MimeBundle & Displayable;
  /** Every metric of every row, as a collapsed section (open on demand). */
  fullTable: MimeBundle & Displayable;
  /** The full grid as CSV (one line per row, mean and std per metric, the paper's number). */
  csv: string;
  /** Claims with ✓ / ✗ / ~ and the paired differences. */
  claimsTable: MimeBundle & Displayable;
  /** The paired differences of every claim part as a forest plot, coloured by verdict. */
  forest: FigureBundle | null;
  /** The metrics of {@link GridView.table}. */
  headline: string[];
}

/** Options of {@link gridView}. */
export interface GridViewOptions {
  results?: string;
  scale?: Scale;
  quick?: boolean;
  seeds?: number;
  /** The grid run on the world drawn with this seed (`reproduce --world-seed`); absent: the default world. */
  worldSeed?: number;
  /**
   * The headline metrics (default: the first four of the spec's metrics that the paper
   * reports for some row, else the first four).
   */
  headline?: string[];
  /** Readable names of metrics (default: the key with spaces for underscores). */
  metricLabels?: Record<string, string>;
}

/** A metric's readable name. */
function metricLabel(metric: string, labels: Record<string, string> | undefined): string {
  return labels?.[metric] ?? metric.replace(/_/g, " ");
}

/**
 * Loads the stored results of `spec`'s current grid at `scale` (rows that run there, seeds
 * 0 … `seeds` − 1 — default the spec's — and each row's current config hash) and renders its
 * tables. Other stored files are not counted: they are listed in `stale` and counted in the
 * caption; cells whose last run failed are marked failed in the table.
 */
export async function gridView(
  spec: PaperSpec,
  options: GridViewOptions = {},
): Promise<GridView> {
  const scale = options.scale ?? "cpu";
  const quick = options.quick ?? false;
  const loaded = await loadGridResults(
    options.results ?? RESULTS_ROOT,
    spec.paper,
    scale,
    quick,
    await gridDefinition(spec, scale, {
      quick,
      seeds: seedList(spec, options.seeds),
      worldSeed: options.worldSeed,
    }),
    options.worldSeed,
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
  const title = `${spec.title} (${scale} scale${
    options.worldSeed === undefined ? "" : `, world seed ${options.worldSeed}`
  })`;
  const hasPaper = rows.some((r) => Object.keys(r.paper).length > 0);
  const reported = metrics.filter((m) => rows.some((r) => r.paper[m] !== undefined));
  const headline = options.headline ?? (reported.length > 0 ? reported : metrics).slice(0, 4);
  const name = (m: string) => metricLabel(m, options.metricLabels);
  const ours = (r: RowSummary, m: string) => {
    const s = r.ours[m];
    return s && s.n > 0 ? formatMeanStd(s) : "—";
  };
  const compact: Table = {
    title,
    headers: ["row", ...headline.flatMap((m) => hasPaper ? [name(m), "paper"] : [name(m)])],
    rows: rows.map((r) => [
      label(r),
      ...headline.flatMap((m) =>
        hasPaper ? [ours(r, m), formatNumber(r.paper[m], 1)] : [ours(r, m)]
      ),
    ]),
    caption: `${caption}. Ours: mean ± std (one number where every seed gives the same, e.g. ` +
      `rows that do not train)` +
      (hasPaper ? `; paper: its reported value, — where it reports none` : "") +
      `. Every metric is in the full table.`,
  };
  const full: Table = {
    title: `${title}: every metric`,
    headers: ["row", ...metrics.flatMap((m) => hasPaper ? [name(m), "paper"] : [name(m)])],
    rows: rows.map((r) => [
      label(r),
      ...metrics.flatMap((m) =>
        hasPaper ? [ours(r, m), formatNumber(r.paper[m], 1)] : [ours(r, m)]
      ),
    ]),
    caption,
  };
  const csv = toCsv({
    headers: ["row", "label", ...metrics.flatMap((m) => [`${m}_mean`, `${m}_std`, `${m}_paper`])],
    rows: rows.map((r) => [
      r.row,
      r.label,
      ...metrics.flatMap((m) => {
        const s = r.ours[m];
        const ok = s && s.n > 0;
        return [
          ok ? String(s.mean) : "",
          ok && s.n > 1 ? String(s.std) : "",
          r.paper[m] !== undefined ? String(r.paper[m]) : "",
        ];
      }),
    ]),
  });
  const claimsBundle = tableBundle(claimsTable(
    claims.map((c) => ({
      id: c.id,
      text: c.text,
      holds: c.verdict === "✓" ? true : c.verdict === "✗" ? false : null,
      verdict: c.verdict,
      evidence: c.parts.map((p) =>
        `${p.verdict} ${p.label}: ${formatStats(p.stats, 2)} (n=${p.stats.n})`
      )
        .join("; "),
    })),
    { title: "Claims" },
  ));
  const forestItems = claims.flatMap((c) =>
    c.parts.filter((p) => p.stats.n > 0).map((p) => ({
      label: `${c.id} ${p.label}`,
      mean: p.stats.mean,
      std: Number.isFinite(p.stats.std) ? p.stats.std : 0,
      verdict: p.verdict,
      ...(p.paper !== undefined ? { paper: p.paper } : {}),
    }))
  );
  const forest = forestItems.length > 0
    ? forestPlot(forestItems, { title: `${spec.title}: the paired differences behind each claim` })
    : null;
  return {
    cells,
    results,
    failed,
    stale,
    rows,
    claims,
    table: tableBundle(compact),
    fullTable: tableBundle(full, { collapsed: true }),
    csv,
    claimsTable: claimsBundle,
    forest,
    headline,
  };
}
