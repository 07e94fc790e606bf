/**
 * The AAIPR notebook's report plumbing: the grid view with Table 2's metrics, Tables 2 and 3 in
 * the paper's layout (paper beside ours, mean ± std over seeds), the rows as switch sets, the
 * calibration log, and the inputs of the figures (Fig. 3's λ sweeps, the gains over w/o adv
 * beside the paper's, the modality two-sample accuracy). Cells call one function each.
 *
 * @see notebooks/aaipr.ipynb §6–§8, Appendix
 * @module
 */
import { formatStats, type Stats, stats } from "../../experiments/claims.ts";
import { resolveConfig } from "../../experiments/config.ts";
import { type GridView, gridView } from "../../experiments/results_view.ts";
import type { MimeBundle } from "../../runtime/display.ts";
import { repoPath } from "../../runtime/paths.ts";
import type { FigureBundle } from "../../viz/chart.ts";
import { ablationBars } from "../../viz/plots.ts";
import { tableBundle } from "../../viz/tables.ts";
import {
  type AaiprWorld,
  LAMBDA_D_SWEEP,
  LAMBDA_G_SWEEP,
  lambdaDRow,
  lambdaGRow,
  rowId,
  ROWS,
  WORLDS,
} from "./config.ts";
import type { CalibrationAttempt } from "./calibrate.ts";
import { spec } from "./spec.ts";

/** Table 2's columns. */
export const HEADLINE = ["r1", "r5", "r10", "mAP"];

/** Readable metric names. */
export const METRIC_LABELS: Record<string, string> = {
  r1: "rank-1",
  r5: "rank-5",
  r10: "rank-10",
  mAP: "mAP",
  twoSample: "two-sample acc.",
  val_r1: "val rank-1",
  val_mAP: "val mAP",
  chance_r1: "chance rank-1",
};

const WORLD_NAME: Record<AaiprWorld, string> = {
  duke: "Duke-like",
  market: "Market-like",
  peta: "PETA-like",
};

/** The stored CPU grid of AAIPR, with Table 2's metrics as the headline. */
export function aaiprView(options: { results?: string } = {}): Promise<GridView> {
  return gridView(spec, {
    scale: "cpu",
    headline: HEADLINE,
    metricLabels: METRIC_LABELS,
    ...options,
  });
}

/** Per-seed values of `row`'s `metric` in a view (seed order). */
export function seedValues(view: GridView, row: string, metric: string): number[] {
  const bySeed = view.results.get(row);
  if (!bySeed) return [];
  return [...bySeed.keys()].sort((a, b) => a - b)
    .map((s) => bySeed.get(s)!.metrics[metric])
    .filter((v): v is number => typeof v === "number");
}

function statsOf(view: GridView, row: string, metric: string): Stats {
  return stats(seedValues(view, row, metric));
}

const paperOf = (row: string, metric: string) => ROWS.find((r) => r.id === row)?.paper?.[metric];

function cell(view: GridView, row: string, metric: string): string {
  const p = paperOf(row, metric);
  const ours = formatStats(statsOf(view, row, metric));
  return `${p === undefined ? "—" : p.toFixed(1)} / ${ours}`;
}

/** Table 2 in the paper's layout: per world rank-1, rank-10 and mAP, "paper / ours". */
export function table2(view: GridView): MimeBundle {
  const variants: [string, string][] = [
    ["deepmar", "DeepMAR-lite"],
    ["cca", "linear CCA (DeepCCA proxy)"],
    ["woadv", "ours w/o adv"],
    ["mmd", "ours w/o adv + MMD"],
    ["coral", "ours w/o adv + DeepCoral"],
    ["a2img", "ours (A2Img)"],
  ];
  const metrics = ["r1", "r10", "mAP"];
  return tableBundle({
    title: "Table 2: the paper / ours (mean ± std over seeds), percent",
    headers: [
      "method",
      ...WORLDS.flatMap((w) => metrics.map((m) => `${WORLD_NAME[w]} ${METRIC_LABELS[m]}`)),
    ],
    rows: variants.map(([v, label]) => [
      label,
      ...WORLDS.flatMap((w) => metrics.map((m) => cell(view, rowId(w, v), m))),
    ]),
    caption: "Paper: Market / Duke / PETA Attribute with ResNet-50; ours: the synthetic worlds " +
      "in their layouts at CPU scale (fast mode). Absolute numbers are not comparable (different " +
      "data, gallery sizes and chance levels); the orderings are what the claims test.",
  });
}

/** Table 3 in the paper's layout: rank-1 of the directions of the adversary, "paper / ours". */
export function table3(view: GridView): MimeBundle {
  const variants: [string, string][] = [
    ["a2img", "A2Img (original)"],
    ["img2a", "Img2A"],
    ["both", "Both (shared D)"],
    ["images", "Images (generated-image queries)"],
    ["woadv", "w/o adv"],
  ];
  return tableBundle({
    title: "Table 3: rank-1, the paper / ours (mean ± std over seeds), percent",
    headers: ["method", ...WORLDS.map((w) => WORLD_NAME[w])],
    rows: variants.map((
      [v, label],
    ) => [label, ...WORLDS.map((w) => cell(view, rowId(w, v), "r1"))]),
    caption: "Images: a conditional GAN turns the query's attributes into an image, whose Φ_I " +
      "concept is the query (README.md, 'The Images row'; at CPU scale half the card's widths " +
      "and 5 + 5 epochs instead of 15 + 15).",
  });
}

/** Chance rank-1 and the validation numbers of the baseline, per world (context for the tables). */
export function contextTable(view: GridView): MimeBundle {
  return tableBundle({
    title: "Context: chance and validation numbers of w/o adv",
    headers: ["world", "chance rank-1", "test rank-1", "val rank-1", "val mAP"],
    rows: WORLDS.map((w) => {
      const r = rowId(w, "woadv");
      return [
        WORLD_NAME[w],
        formatStats(statsOf(view, r, "chance_r1"), 2),
        formatStats(statsOf(view, r, "r1")),
        formatStats(statsOf(view, r, "val_r1")),
        formatStats(statsOf(view, r, "val_mAP")),
      ];
    }),
    caption: "Chance rank-1: mean relevant images per query ÷ gallery size. Validation: held-out " +
      "training persons (Duke/Market-like) or categories (PETA-like).",
  });
}

/** The rows of the grid as switch sets over the CPU base config. */
export async function rowsTable(): Promise<MimeBundle> {
  const { config: base } = await resolveConfig(spec, "cpu", "duke-a2img");
  return tableBundle({
    title: `Rows of the grid (${spec.rows.length}): switches over the CPU base config`,
    headers: ["row", "what it is", "switches"],
    rows: spec.rows.map((r) => [r.id, r.label, JSON.stringify(r.delta)]),
    caption: `base: A2Img, λ_G ${base.loss.lambdaG}, λ_D ${base.loss.lambdaD}; stage 1 ` +
      `${base.stage1.epochs} epochs (lr ${base.stage1.lr}), stage 2 ${base.train.epochs} epochs ` +
      `of batch ${base.train.batch} (${base.train.mode} mode), lr Φ_A ${base.train.lrAttribute}, ` +
      `Φ_I+Ψ ${base.train.lrImage}, D ${base.train.lrD}; difficulty ${base.data.difficulty}`,
  }, { collapsed: true });
}

/** The calibration log (results/aaipr/calibration.json). */
export async function calibrationTable(): Promise<MimeBundle> {
  const path = repoPath("results", "aaipr", "calibration.json");
  let attempts: CalibrationAttempt[] = [];
  try {
    attempts = JSON.parse(await Deno.readTextFile(path));
  } catch {
    return { "text/plain": "no calibration log at results/aaipr/calibration.json" };
  }
  return tableBundle({
    title: "Calibration on w/o adv, Duke-like validation (seed 0)",
    headers: [
      "#",
      "difficulty",
      "stage-1 lr",
      "val rank-1",
      "val mAP",
      "in 35–55 %",
      "test rank-1 (not used)",
    ],
    rows: attempts.map((a, i) => [
      String(i + 1),
      String(a.difficulty),
      String(a.stage1Lr),
      a.val.r1.toFixed(1),
      a.val.mAP.toFixed(1),
      a.inTarget ? "yes" : "no",
      a.test.r1.toFixed(1),
    ]),
    caption: "results/aaipr/calibration.json; frozen at the first difficulty in the band " +
      "(config.ts: CALIBRATED_DIFFICULTY). Attempts used 16 stage-2 epochs; the grid uses 8.",
  });
}

/** Fig. 3's analogue: rank-1 over the λ_G sweep (λ_D = 1) and the λ_D sweep (λ_G = 1e-3). */
export function fig3(view: GridView): { lambdaG: FigureBundle; lambdaD: FigureBundle } | null {
  if (!view.results.has(lambdaGRow(1e-3))) return null;
  const lambdaG = ablationBars(
    LAMBDA_G_SWEEP.map((l) => ({ label: `λ_G=${l}`, ours: seedValues(view, lambdaGRow(l), "r1") })),
    { metric: "rank-1 (%)", title: "Fig. 3 (left) analogue: rank-1 vs λ_G, λ_D = 1, Duke-like" },
  );
  const dRows: [number, string][] = [
    ...LAMBDA_D_SWEEP.filter((l) => l < 0.5).map((l): [number, string] => [l, lambdaDRow(l)]),
    [0.5, "duke-a2img"],
    [1, lambdaGRow(1e-3)],
    ...LAMBDA_D_SWEEP.filter((l) => l > 1).map((l): [number, string] => [l, lambdaDRow(l)]),
  ];
  const lambdaD = ablationBars(
    dRows.map(([l, row]) => ({ label: `λ_D=${l}`, ours: seedValues(view, row, "r1") })),
    {
      metric: "rank-1 (%)",
      title: "Fig. 3 (right) analogue: rank-1 vs λ_D, λ_G = 1e-3, Duke-like",
    },
  );
  return { lambdaG, lambdaD };
}

/** Gains over w/o adv (rank-1), ours per seed-paired difference beside the paper's, per world. */
export function gainsFigure(view: GridView): FigureBundle | null {
  if (!view.results.has("duke-a2img")) return null;
  const variants = ["a2img", "img2a", "both", "images", "mmd", "coral", "deepmar"];
  const bars = WORLDS.flatMap((w) =>
    variants.map((v) => {
      const a = seedValues(view, rowId(w, v), "r1");
      const b = seedValues(view, rowId(w, "woadv"), "r1");
      const pa = paperOf(rowId(w, v), "r1"), pb = paperOf(rowId(w, "woadv"), "r1");
      return {
        label: `${w} ${v}`,
        paper: pa !== undefined && pb !== undefined ? pa - pb : null,
        ours: a.length === b.length ? a.map((x, i) => x - b[i]) : null,
      };
    })
  );
  return ablationBars(bars, {
    metric: "rank-1 gain over w/o adv (points)",
    title: "Each variant minus w/o adv, rank-1: the paper's gain beside ours (paired over seeds)",
  });
}

/** C10's numbers: the modality two-sample accuracy of each alignment, per world. */
export function twoSampleFigure(view: GridView): FigureBundle | null {
  if (!view.results.has("duke-a2img")) return null;
  const variants = ["woadv", "a2img", "img2a", "both", "images", "mmd", "coral"];
  return ablationBars(
    WORLDS.flatMap((w) =>
      variants.map((v) => ({
        label: `${w} ${v}`,
        ours: seedValues(view, rowId(w, v), "twoSample"),
      }))
    ),
    {
      metric: "two-sample accuracy (%; 50 = indistinguishable)",
      title: "Can a linear classifier tell C^A from C^I? (held-out accuracy; no paper numbers)",
    },
  );
}

/** Mean wall seconds of the stored cells (per-cell timing for the record). */
export function cellSeconds(view: GridView): { cells: number; mean: number; total: number } {
  const seconds = [...view.results.values()].flatMap((bySeed) =>
    [...bySeed.values()].map((r) =>
      (r as unknown as { timings?: { seconds?: number } }).timings?.seconds ?? NaN
    )
  ).filter(Number.isFinite);
  const total = seconds.reduce((a, b) => a + b, 0);
  return { cells: seconds.length, mean: total / Math.max(1, seconds.length), total };
}

/** The faithful-mode confirmation (results/aaipr/faithful.json, written by `faithful.ts`). */
export async function faithfulTable(): Promise<MimeBundle> {
  const path = repoPath("results", "aaipr", "faithful.json");
  let report: {
    seeds: number;
    rows: Record<string, Record<string, Record<string, number>>>;
    paired: Record<string, { values: number[]; mean: number; se: number }>;
  };
  try {
    report = JSON.parse(await Deno.readTextFile(path));
  } catch {
    return { "text/plain": "no faithful-mode run at results/aaipr/faithful.json (faithful.ts)" };
  }
  const r1 = (row: string) => stats(Object.values(report.rows[row]).map((m) => m.r1));
  return tableBundle({
    title: `Faithful mode (trunk trained in stage 2), Duke-like, ${report.seeds} seeds: rank-1`,
    headers: ["row / paired difference", "rank-1 (mean ± std; differences ± se)"],
    rows: [
      ...Object.keys(report.rows).map((row) => [row, formatStats(r1(row))]),
      ...Object.entries(report.paired).map((
        [k, v],
      ) => [k, `${v.mean.toFixed(2)} ± ${v.se.toFixed(2)}`]),
    ],
    caption: "results/aaipr/faithful.json; seeds 0… as in the grid, one shared stage 1.",
  });
}
