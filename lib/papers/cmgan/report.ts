/**
 * The cmGAN notebook's report plumbing: the grid view with Table 1's headline metrics, the
 * tables of the rows, the calibration log, the pretrained stand-in, the per-row diagnostics
 * and the long runs, the paired differences behind each claim, and the inputs of Figs. 3, 5
 * and 6. Cells call one function each and stay a few lines.
 *
 * @see notebooks/cmgan.ipynb §3 (the rows), §6 (Table 1), §7 (claims), Appendix
 * @module
 */
import { relative } from "node:path";
import { resolveConfig } from "../../experiments/config.ts";
import { type GridView, gridView } from "../../experiments/results_view.ts";
import { formatStats } from "../../experiments/claims.ts";
import { type Displayable, displayable, type MimeBundle } from "../../runtime/display.ts";
import { REPO_ROOT, repoPath } from "../../runtime/paths.ts";
import type { Rng } from "../../runtime/random.ts";
import type { HistoryJSON, LossHistory } from "../../train/history.ts";
import type { FigureBundle } from "../../viz/chart.ts";
import { tableBundle } from "../../viz/tables.ts";
import { type CmganConfig, marginRow, SWEPT_MARGINS } from "./config.ts";
import { marginFigure, totalLossFigure } from "./figures.ts";
import type { CmganRun } from "./run.ts";
import { withPretrainedWeights } from "./pretrain.ts";
import { spec } from "./spec.ts";

/** Table 1's headline numbers: single-shot rank-1 and mAP, all-search and indoor-search. */
export const HEADLINE = ["all_ss_r1", "all_ss_mAP", "indoor_ss_r1", "indoor_ss_mAP"];

/** Readable names of the 16 SYSU-MM01 metrics (and the diagnostics a cell stores). */
export const METRIC_LABELS: Record<string, string> = Object.fromEntries(
  ["all", "indoor"].flatMap((mode) =>
    ["ss", "ms"].flatMap((shot) =>
      ["r1", "r10", "r20", "mAP"].map((m) => [
        `${mode}_${shot}_${m}`,
        `${mode === "all" ? "all-search" : "indoor"} ${shot === "ss" ? "single" : "multi"}-shot ${
          m === "mAP" ? "mAP" : `rank-${m.slice(1)}`
        }`,
      ])
    )
  ),
);

/** The stored CPU grid of cmGAN, with Table 1's headline metrics and readable names. */
export function cmganView(
  options: { results?: string; worldSeed?: number } = {},
): Promise<GridView> {
  return gridView(spec, {
    scale: "cpu",
    headline: HEADLINE,
    metricLabels: METRIC_LABELS,
    ...options,
  });
}

/** The rows of the grid as switch sets over the CPU base config. */
export async function rowsTable(): Promise<MimeBundle> {
  const { config: base } = await resolveConfig(spec, "cpu", "full");
  return tableBundle({
    title: "Rows of the grid: switches over the CPU base config",
    headers: ["row", "what it is", "switches"],
    rows: spec.rows.map((r) => [r.id, r.label, JSON.stringify(r.delta)]),
    caption:
      `base: α=${base.loss.alpha}, β=${base.loss.beta}, γ=${base.loss.gamma}, ξ=${base.loss.margin}, ` +
      `K=${base.train.K}, ${base.train.pairs} pairs/batch, ${base.train.steps} steps, ` +
      `lr G ${base.train.lrG} / D ${base.train.lrD}; generator ` +
      (base.model.pretrain ? "from the pretrained stand-in (Appendix B)" : "from scratch"),
  });
}

/** One recorded calibration attempt (results/cmgan/calibration*.json). */
export interface LoggedAttempt {
  name: string;
  seed: number;
  generator?: string;
  delta: unknown;
  split?: "validation" | "test";
  metrics: Record<string, number>;
  seconds: number;
}

/** The attempts of a calibration log; [] when there is none. Errors name the file. */
export async function readAttempts(path: string): Promise<LoggedAttempt[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(repoPath(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const value = JSON.parse(text);
  if (!Array.isArray(value)) throw new Error(`${path}: expected a JSON array of attempts`);
  return value as LoggedAttempt[];
}

/** The first calibration, scored on the test split (kept for the record). */
export const TEST_CALIBRATION_LOG = "results/cmgan/calibration.json";
/** The world calibration redone on the validation split (issue 13). */
export const VALIDATION_CALIBRATION_LOG = "results/cmgan/calibration_validation.json";

/** A calibration log as a table (collapsed when long). */
export async function calibrationTable(path: string, title: string): Promise<MimeBundle> {
  const attempts = await readAttempts(path);
  if (attempts.length === 0) return { "text/plain": `no calibration log at ${path}` };
  return tableBundle({
    title,
    headers: [
      "attempt",
      "seed",
      "scored on",
      "changes over the base of its round",
      "all-search r1",
      "all-search mAP",
      "indoor r1",
      "min",
    ],
    rows: attempts.map((a) => [
      a.name,
      String(a.seed),
      a.split ?? "test",
      JSON.stringify(a.delta),
      a.metrics.all_ss_r1.toFixed(1),
      a.metrics.all_ss_mAP.toFixed(1),
      a.metrics.indoor_ss_r1.toFixed(1),
      (a.seconds / 60).toFixed(1),
    ]),
    caption:
      `${path}; the grid runs CPU_WORLD (i18-ids160 since issue 18; achromatic-shared-cues ` +
      "before) from the CPU_PRETRAIN stand-in, 700 steps (lib/papers/cmgan/config.ts)",
  }, { collapsed: attempts.length > 8 });
}

/** The pretrained stand-in's recipe and training numbers. */
export async function standInTable(config: CmganConfig): Promise<MimeBundle> {
  const { pretrained } = (await withPretrainedWeights(config)).model;
  if (!pretrained) return { "text/plain": "this config trains the generator from scratch" };
  const report = JSON.parse(
    await Deno.readTextFile(pretrained.replace(/model\.json$/, "pretrain.json")),
  );
  return tableBundle({
    title: "The pretrained stand-in",
    headers: [
      "sources",
      "identities",
      "images",
      "steps",
      "loss first → last 10%",
      "train acc.",
      "s",
    ],
    rows: [[
      report.config.sources.join(", "),
      String(report.classes),
      String(report.images),
      String(report.config.steps),
      `${report.lossStart.toFixed(2)} → ${report.lossEnd.toFixed(2)}`,
      `${(100 * report.accEnd).toFixed(1)}%`,
      report.seconds.toFixed(0),
    ]],
    caption: relative(REPO_ROOT, pretrained),
  });
}

/** The paired differences behind each verdict, seed by seed, as one text output. */
export function claimDetails(view: GridView): MimeBundle & Displayable {
  const lines: string[] = [];
  for (const c of view.claims) {
    lines.push(`${c.verdict} ${c.id}: ${c.text}`);
    for (const p of c.parts) {
      const seeds = p.values.map((v) =>
        `s${v.seed} ${v.value >= 0 ? "+" : ""}${v.value.toFixed(2)}`
      ).join(", ");
      const paperGap = p.paper === undefined
        ? ""
        : `  [paper ${p.paper >= 0 ? "+" : ""}${p.paper.toFixed(2)}]`;
      lines.push(
        `    ${p.verdict} ${p.label}: ${formatStats(p.stats, 2)}  (${
          seeds || "no data"
        })${paperGap}`,
      );
    }
  }
  const bundle: MimeBundle = { "text/plain": lines.join("\n") };
  return displayable(bundle, () => bundle);
}

/**
 * Per-row diagnostics from the stored cells: test and seen-identity rank-1, the triplet
 * collapse ratio (last 30% of steps' mean ℓ_triplet over 2ξ: 1 = all embeddings coincide)
 * and D's accuracy.
 */
export function diagnosticsTable(view: GridView): MimeBundle {
  const rows: string[][] = [];
  for (const row of spec.rows) {
    const cells = [...(view.results.get(row.id)?.values() ?? [])];
    if (cells.length === 0 || row.id === "pixels") continue;
    // The pretrained floor has no training history: only its retrieval numbers.
    const trained = cells.every((c) => c.history.series.l_triplet !== undefined);
    const mean = (f: (c: (typeof cells)[number]) => number) =>
      cells.reduce((a, c) => a + f(c), 0) / cells.length;
    const collapse = !trained ? NaN : mean((c) => {
      const v = c.history.series.l_triplet.values.map((x) => x ?? NaN);
      const tail = v.slice(Math.floor(v.length * 0.7));
      return tail.reduce((a, b) => a + b, 0) / tail.length /
        (2 * (c.config.loss as { margin: number }).margin);
    });
    rows.push([
      row.id,
      mean((c) => c.metrics.all_ss_r1).toFixed(1),
      mean((c) => c.metrics.train_all_ss_r1).toFixed(1),
      trained ? collapse.toFixed(2) : "—",
      trained ? mean((c) => c.metrics.d_acc_tail).toFixed(2) : "—",
    ]);
  }
  if (rows.length === 0) return { "text/plain": "no stored grid results" };
  return tableBundle({
    title: "Per-row diagnostics (mean over stored seeds)",
    headers: [
      "row",
      "test r1 (all SS)",
      "seen-id r1 (all SS)",
      "l_triplet / 2ξ (last 30%)",
      "D accuracy (last 30%)",
    ],
    rows,
    caption: "seen-id: the IR → RGB search among the training identities (chance 1/64 ≈ 1.6%); " +
      "D accuracy 0.5 is chance",
  });
}

/** The diagnostic long runs made after the grid (results/cmgan/diagnostics.json). */
export async function longRunsTable(): Promise<MimeBundle> {
  const runs = await readAttempts("results/cmgan/diagnostics.json") as (LoggedAttempt & {
    row: string;
  })[];
  if (runs.length === 0) return { "text/plain": "no diagnostic long runs recorded" };
  return tableBundle({
    title: "Diagnostic long runs (seed 0; never used to choose a setting)",
    headers: [
      "run",
      "row",
      "generator",
      "test r1 (all SS)",
      "test mAP",
      "seen-id r1",
      "D accuracy",
      "minutes",
    ],
    rows: runs.map((r) => [
      r.name,
      r.row,
      r.generator ?? "",
      r.metrics.all_ss_r1.toFixed(1),
      r.metrics.all_ss_mAP.toFixed(1),
      r.metrics.train_all_ss_r1.toFixed(1),
      r.metrics.d_acc_tail.toFixed(2),
      (r.seconds / 60).toFixed(1),
    ]),
  });
}

/** Fig. 5 from the stored seed-`seed` runs of `full` and `noAdv` (the live run stands in for full). */
export function fig5(
  view: GridView,
  live: LossHistory,
  seed = 0,
): { loss: FigureBundle; mAP: FigureBundle } | null {
  const stored = (row: string) => view.results.get(row)?.get(seed);
  const withD: HistoryJSON = stored("full")?.history ?? live.toJSON();
  const withoutD = stored("noAdv")?.history;
  return withoutD ? totalLossFigure(withD, withoutD) : null;
}

/** Fig. 3 from the stored margin sweep (and the full model's ξ = 1.4); null without a sweep. */
export function fig3(view: GridView): FigureBundle | null {
  const sweep = [...SWEPT_MARGINS, 1.4].map((xi) => {
    const cells = [...(view.results.get(xi === 1.4 ? "full" : marginRow(xi))?.values() ?? [])];
    return {
      xi,
      r1: cells.map((c) => c.metrics.all_ss_r1),
      mAP: cells.map((c) => c.metrics.all_ss_mAP),
    };
  }).filter((p) => p.r1.length > 0);
  return sweep.length > 1 ? marginFigure(sweep) : null;
}

/**
 * The gallery's queries: `all` IR queries at random, and `indoor` ones among those whose
 * person is seen by an indoor RGB camera (1 or 2), so indoor-search has a match to find.
 */
export function galleryQueries(
  run: CmganRun,
  rng: Rng,
  counts: { all: number; indoor: number } = { all: 2, indoor: 1 },
): { all: number[]; indoor: number[] } {
  const n = run.split.query.length;
  const all = rng.sample([...Array(n).keys()], Math.min(counts.all, n));
  const candidates = [...Array(n).keys()].filter((q) => {
    const pid = run.split.query[q].pid;
    return run.split.gallery.some((g) => g.pid === pid && g.camid <= 2);
  });
  const indoor = rng.sample(candidates, Math.min(counts.indoor, candidates.length));
  return { all, indoor };
}

/** The world seed of the committed re-draw check (`reproduce --paper cmgan --world-seed 1`). */
export const CHECK_WORLD_SEED = 1;

/**
 * Each claim's verdict on the default world beside its verdict on the world drawn with
 * another seed, and whether it survives (the same verdict), with the first part's mean.
 */
export function worldSeedTable(view: GridView, other: GridView, worldSeed: number): MimeBundle {
  const byId = new Map(other.claims.map((c) => [c.id, c]));
  const first = (c: GridView["claims"][number] | undefined) =>
    c && c.parts.length > 0 ? formatStats(c.parts[0].stats, 2) : "—";
  return tableBundle({
    title: `Claims on the default world and on world seed ${worldSeed}`,
    headers: [
      "claim",
      "default world",
      `world ${worldSeed}`,
      "survives",
      "first part (default → redrawn)",
    ],
    rows: view.claims.map((c) => {
      const o = byId.get(c.id);
      return [
        `${c.id}: ${c.text}`,
        c.verdict,
        o?.verdict ?? "—",
        o === undefined ? "no data" : o.verdict === c.verdict ? "yes" : "no",
        `${first(c)} → ${first(o)}`,
      ];
    }),
    caption: `${other.cells} stored cells under results/cmgan/cpu-world${worldSeed}; the same ` +
      "rows, seeds and difficulty knobs, every identity, camera draw and the stand-in's worlds redrawn",
  });
}

/**
 * The previous grid (64 training identities, 3 seeds; results/cmgan/cpu before issue 18, run
 * on older code: its cells no longer recompute to the stored numbers) beside the current
 * means, on all-search single-shot rank-1 and mAP.
 */
export const OLD_GRID: Record<string, { r1: number; mAP: number }> = {
  pixels: { r1: 4.8, mAP: 8.8 },
  pretrainedOnly: { r1: 4.8, mAP: 9.5 },
  idOnly: { r1: 10.7, mAP: 16.6 },
  tripletOnly: { r1: 11.6, mAP: 19.0 },
  full: { r1: 12.5, mAP: 19.3 },
  noAdv: { r1: 12.3, mAP: 19.2 },
  "margin-0.7": { r1: 12.3, mAP: 19.2 },
  "margin-1.2": { r1: 12.5, mAP: 19.4 },
  "margin-1.5": { r1: 12.2, mAP: 19.3 },
};

/** {@link OLD_GRID} beside the stored grid's means. */
export function oldGridTable(view: GridView): MimeBundle {
  const mean = (row: string, m: string) => view.rows.find((r) => r.row === row)?.ours[m]?.mean;
  const f = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "—" : v.toFixed(1));
  return tableBundle({
    title:
      "The old grid (older code, 64 training ids, 3 seeds) beside the new one (160 ids, 5 seeds)",
    headers: ["row", "old r1", "new r1", "old mAP", "new mAP"],
    rows: Object.entries(OLD_GRID).map(([row, o]) => [
      row,
      o.r1.toFixed(1),
      f(mean(row, "all_ss_r1")),
      o.mAP.toFixed(1),
      f(mean(row, "all_ss_mAP")),
    ]),
    caption: "all-search single-shot, mean over seeds; the old world had 32 test identities " +
      "(chance rank-1 ≈ 3%), the new one 48 (≈ 2%): absolute numbers are not comparable one to one",
  });
}
