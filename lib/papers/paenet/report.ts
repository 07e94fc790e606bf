/**
 * The PAENet notebook's report plumbing: the grid view with the headline metrics (GT and
 * predicted test attributes), the test-attribute modes table, Table 4 and Fig. 7 from the
 * stored cells, the calibration log, the world's statistics, Fig. 5's stored loss curves and
 * ranked galleries of a live run. Cells call one function each.
 *
 * @see notebooks/paenet.ipynb §5–§8, Appendix
 * @module
 */
import { formatStats, stats } from "../../experiments/claims.ts";
import { type GridView, gridView } from "../../experiments/results_view.ts";
import type { PaperSpec } from "../../experiments/spec.ts";
import type { MimeBundle } from "../../runtime/display.ts";
import { repoPath } from "../../runtime/paths.ts";
import type { FigureBundle } from "../../viz/chart.ts";
import { lossCurves } from "../../viz/plots.ts";
import { rankedGallery } from "../../viz/gallery.ts";
import { sysuMM01 } from "../../eval/protocols.ts";
import { tableBundle } from "../../viz/tables.ts";
import { lineChartBundle } from "./figures.ts";
import { lambdaRow, LAMBDAS, type PaenetConfig, ROWS } from "./config.ts";
import { resolveConfig } from "../../experiments/config.ts";
import type { AttributedSplit } from "./data.ts";
import type { PaenetRun } from "./run.ts";
import { spec } from "./spec.ts";
import { splitImage } from "../../data/split.ts";

/** The headline: rank-1 and mAP with the paper's GT test attributes and with predicted ones. */
export const HEADLINE = ["all_r1", "all_mAP", "pred_all_r1", "pred_all_mAP"];

/** Readable metric names. */
export const METRIC_LABELS: Record<string, string> = Object.fromEntries(
  ["", "pred_", "shuf_", "zero_", "snap_", "val_"].flatMap((p) =>
    ["all", "indoor"].flatMap((mode) =>
      ["r1", "r5", "r10", "r20", "mAP", "mINP"].map((m) => [
        `${p}${mode}_${m}`,
        `${mode === "all" ? "all-search" : "indoor"} ${
          m.startsWith("r") ? `rank-${m.slice(1)}` : m
        }` +
        ({
          "": " (GT attrs)",
          pred_: " (predicted attrs)",
          shuf_: " (shuffled attrs)",
          zero_: " (zero attrs)",
          snap_: " (warm-up snapshot)",
          val_: " (validation)",
        } as Record<string, string>)[p],
      ])
    )
  ),
);

const MODE_LABEL: Record<string, string> = {
  "": " (GT attrs)",
  pred_: " (predicted attrs)",
  shuf_: " (shuffled attrs)",
  zero_: " (zero attrs)",
};
for (const p of Object.keys(MODE_LABEL)) {
  for (const dir of ["v2t", "t2v"]) {
    for (const m of ["r1", "r5", "r10", "r20", "mAP", "mINP"]) {
      METRIC_LABELS[`${p}${dir}_${m}`] = `RegDB ${dir === "v2t" ? "V→T" : "T→V"} ${
        m.startsWith("r") ? `rank-${m.slice(1)}` : m
      }${MODE_LABEL[p]}`;
    }
  }
}

/** The stored CPU grid. */
export function paenetView(options: { results?: string; quick?: boolean } = {}): Promise<GridView> {
  return gridView(spec as unknown as PaperSpec, {
    scale: "cpu",
    headline: HEADLINE,
    metricLabels: METRIC_LABELS,
    ...options,
  });
}

function cell(view: GridView, row: string, metric: string): string {
  const s = view.rows.find((r) => r.row === row)?.ours[metric];
  return s && s.n > 0 ? formatStats(s, 1) : "—";
}

/** Every PAE row in the four test-attribute modes, with the attribute-only oracle (C8). */
export function modesTable(view: GridView, metric: "all_r1" | "all_mAP" = "all_r1"): MimeBundle {
  const rows = [
    "a",
    "b",
    "c",
    "d",
    "emb1",
    "emb12",
    "agw-ours",
    "hct-ours",
    "code-b",
    "code-d",
    "oracle",
  ];
  return tableBundle({
    title: `Test-attribute modes: ${METRIC_LABELS[metric].replace(" (GT attrs)", "")}, mean ± std`,
    headers: ["row", "GT (as the paper)", "predicted", "shuffled", "zeros"],
    rows: rows.filter((r) => view.rows.some((x) => x.row === r)).map((r) => [
      ROWS.find((x) => x.id === r)!.label,
      ...["", "pred_", "shuf_", "zero_"].map((p) => cell(view, r, `${p}${metric}`)),
    ]),
    caption: "One trained model per cell, evaluated four times; rows without PAE do not read " +
      "attributes (all four equal). The oracle ranks by the Hamming distance of GT attributes alone.",
  });
}

/**
 * Table 2 (RegDB-like) from the grid: V→T and T→V rank-1 / mAP / mINP with GT, predicted and
 * shuffled test attributes, the paper's numbers beside (GT).
 */
export function regdbTable(view: GridView): MimeBundle {
  const rows = ["regdb-a", "regdb-d", "regdb-oracle"];
  const paperOf = (row: string, m: string) => {
    const v = (ROWS.find((r) => r.id === row)?.paper as Record<string, number> | undefined)?.[m];
    return v === undefined ? "" : ` (paper ${v.toFixed(1)})`;
  };
  const cols = ["v2t_r1", "v2t_mAP", "v2t_mINP", "t2v_r1", "t2v_mAP", "t2v_mINP"];
  return tableBundle({
    title: "Table 2, RegDB-like (5 trials = 5 seeds), mean ± std",
    headers: [
      "row",
      ...cols.map((c) => METRIC_LABELS[c].replace("RegDB ", "")),
      "V→T rank-1 (predicted)",
      "T→V rank-1 (predicted)",
      "V→T rank-1 (shuffled)",
    ],
    rows: rows.filter((r) => view.rows.some((x) => x.row === r)).map((r) => [
      ROWS.find((x) => x.id === r)!.label,
      ...cols.map((c) => cell(view, r, c) + paperOf(r, c)),
      cell(view, r, "pred_v2t_r1"),
      cell(view, r, "pred_t2v_r1"),
      cell(view, r, "shuf_v2t_r1"),
    ]),
    caption:
      "Seed s is RegDB trial s + 1: a model trained on a random half of the 60 identities, " +
      "tested on the other 30 (300 visible, 300 thermal images). The attribute labels are the " +
      "synthetic world's (the real RegDB has none; README 'RegDB-like world').",
  });
}

/** Table 4 from the grid: the warm-up snapshot of (d), the two freezes, joint training. */
export function table4(view: GridView): MimeBundle {
  const lines: [string, string, string][] = [
    ["the end of warm-up (d's snapshot)", "d", "snap_"],
    ["optimise PAE, AAL fixed", "fixAAL", ""],
    ["optimise AAL, PAE fixed", "fixPAE", ""],
    ["joint training (d)", "d", ""],
  ];
  const paper: Record<string, number[]> = {
    "the end of warm-up (d's snapshot)": [57.35, 55.47, 41.19],
    "optimise PAE, AAL fixed": [71.89, 69.42, 57.58],
    "optimise AAL, PAE fixed": [73.0, 68.8, 55.23],
    "joint training (d)": [74.22, 73.9, 64.29],
  };
  return tableBundle({
    title: "Table 4: training methods (all-search, GT attributes; predicted in brackets)",
    headers: ["setting", "rank-1", "paper", "mAP", "paper", "mINP", "paper"],
    rows: lines.map(([name, row, p]) => [
      name,
      ...["all_r1", "all_mAP", "all_mINP"].flatMap((m, i) => [
        `${cell(view, row, p + m)} (${cell(view, row, p + "pred_" + m)})`,
        paper[name][i].toFixed(1),
      ]),
    ]),
  });
}

/** Fig. 7's analogue: rank-1 and mAP against λ (GT and predicted attributes). */
export function fig7(view: GridView): FigureBundle | null {
  const lambdas = [...LAMBDAS, 1].sort((a, b) => a - b);
  const rowOf = (l: number) => (l === 1 ? "d" : lambdaRow(l as typeof LAMBDAS[number]));
  const mean = (row: string, m: string) => {
    const v = view.rows.find((r) => r.row === row)?.ours[m]?.mean;
    return v === undefined || Number.isNaN(v) ? null : v;
  };
  const series = ["all_r1", "all_mAP", "pred_all_r1", "pred_all_mAP"].map((m) => ({
    name: METRIC_LABELS[m],
    x: lambdas,
    y: lambdas.map((l) => mean(rowOf(l), m) ?? null),
  }));
  if (series.every((s) => s.y.every((v) => v === null))) return null;
  return lineChartBundle({
    title: "Fig. 7: performance against λ (L_atr weight)",
    xTitle: "λ",
    yTitle: "%",
    series,
  });
}

/** Fig. 5's analogue: stored per-step L_id and L_atr (the probe's for (b)) of seed 0. */
export function fig5(view: GridView): FigureBundle | null {
  const series: Record<string, { steps: number[]; values: (number | null)[] }> = {};
  for (const [row, atr] of [["b", "l_probe"], ["c", "l_atr"], ["d", "l_atr"]] as const) {
    const h = view.results.get(row)?.get(0)?.history;
    if (!h) continue;
    const s = h.series as Record<string, { steps: number[]; values: (number | null)[] }>;
    if (s.l_id) series[`(${row}) L_id`] = s.l_id;
    if (s[atr]) series[`(${row}) L_atr${row === "b" ? " (detached probe)" : ""}`] = s[atr];
  }
  if (Object.keys(series).length === 0) return null;
  return lossCurves(series, {
    title: "Fig. 5: L_id and L_atr during training (seed 0)",
    smooth: 0.9,
  });
}

/** One calibration attempt of results/paenet/calibration.json. */
interface Attempt {
  name: string;
  at: string;
  delta: unknown;
  seeds: number;
  steps: number;
  val_all_r1: number;
  val_all_mAP: number;
  val_indoor_r1: number;
  valStats?: { idsPerVector: number };
}

/** Every calibration attempt, in order (row (a) only, validation identities only). */
export async function calibrationTable(
  path = "results/paenet/calibration.json",
): Promise<MimeBundle> {
  const log = JSON.parse(await Deno.readTextFile(repoPath(path))) as { attempts: Attempt[] };
  return tableBundle({
    title: "Calibration of the world on row (a), scored on the validation identities",
    headers: [
      "#",
      "attempt",
      "delta over the base",
      "seeds",
      "steps",
      "val rank-1",
      "val mAP",
      "val indoor rank-1",
    ],
    rows: log.attempts.map((a, i) => [
      String(i + 1),
      a.name,
      JSON.stringify(a.delta),
      String(a.seeds),
      String(a.steps),
      a.val_all_r1.toFixed(1),
      a.val_all_mAP.toFixed(1),
      a.val_indoor_r1.toFixed(1),
    ]),
  });
}

/** The world's statistics as a stored cell noted them (identities, images, attribute vectors). */
export function dataTable(view: GridView): MimeBundle | null {
  const extras = view.results.get("a")?.get(0)?.extras?.data as
    | Record<string, unknown>
    | undefined;
  if (!extras) return null;
  const row = (name: string, s: Record<string, number>) => [
    name,
    String(s.ids),
    String(s.images),
    String(s.vectors),
    s.idsPerVector.toFixed(2),
    (100 * s.uniqueIdShare).toFixed(0) + "%",
  ];
  return tableBundle({
    title: "The synthetic SYSU-like world",
    headers: [
      "split",
      "identities",
      "images",
      "attribute vectors",
      "ids per vector",
      "ids with a unique vector",
    ],
    rows: [
      row("train", extras.train as Record<string, number>),
      row("test", extras.test as Record<string, number>),
    ],
    caption:
      "SYSU-MM01's test set: 93 labelled ids, 38 vectors (≈ 2.5 per vector), 19 unique (20%).",
  });
}

/** Paired differences per seed of each claim part (the appendix). */
export function claimDetails(view: GridView): MimeBundle {
  return tableBundle({
    title: "Claims: every part, its per-seed values and verdict",
    headers: ["claim", "part", "values per seed", "mean ± std", "paper", "verdict"],
    rows: view.claims.flatMap((c) =>
      c.parts.map((p) => [
        c.id,
        p.label,
        p.values.map((v) => v.value.toFixed(1)).join(", "),
        formatStats(stats(p.values.map((v) => v.value)), 2),
        p.paper === undefined ? "—" : p.paper.toFixed(2),
        p.verdict,
      ])
    ),
  });
}

/** Ranked RGB galleries (first gallery draw) of some IR queries of a live run, in one test-attribute mode. */
export async function sysuGallery(
  run: PaenetRun,
  test: AttributedSplit,
  options: { mode?: string; queries: number[]; k?: number; title: string },
) {
  const split = run.splits[options.mode ?? "gt"];
  const { dist, query, gallery, queryRows, galleryRows } = split;
  return await rankedGallery({
    dist,
    query,
    gallery,
    rows: options.queries,
    k: options.k ?? 8,
    protocol: sysuMM01({ mode: "all" }),
    queryImage: (q) => splitImage(test, queryRows[q]),
    galleryImage: (j) => splitImage(test, galleryRows[j]),
    tileWidth: 32,
    tileHeight: 64,
    title: options.title,
    queryHeading: "IR query",
    galleryHeading: "RGB candidates (all cameras), nearest first; green = same person",
    queryLabel: (q) => `id ${query[q].pid} · IR cam ${query[q].camid}`,
  });
}

/** The rows of the grid as switch sets over the CPU base config. */
export async function rowsTable(): Promise<MimeBundle> {
  const { config } = await resolveConfig(spec as unknown as PaperSpec, "cpu", "a");
  const base = config as unknown as PaenetConfig;
  return tableBundle({
    title: "Rows of the grid: switches over the CPU base config (the `paper` preset)",
    headers: ["row", "what it is", "switches"],
    rows: ROWS.map((r) => [r.id, r.label, JSON.stringify(r.delta)]),
    caption: `base: ${base.train.steps} steps of P=${base.train.P} × (K=${base.train.K} RGB + ` +
      `${base.train.K} IR), SGD lr ${base.train.lr}, λ=${base.loss.lambdaAtr}, small two-stream net ` +
      `(widths ${
        base.model.widths.join("/")
      }, first ${base.model.sharedFrom} stages per modality), ` +
      `${base.data.height}×${base.data.width}, from scratch`,
  });
}

/** `n` IR queries of different identities whose identity is in the RGB gallery (for galleries). */
export function galleryQueries(run: PaenetRun, n: number): number[] {
  const split = run.splits.gt;
  const inGallery = new Set(split.gallery.map((g) => g.pid));
  const seen = new Set<number>();
  const out: number[] = [];
  split.query.forEach((q, i) => {
    if (out.length < n && inGallery.has(q.pid) && !seen.has(q.pid) && q.camid === 6) {
      seen.add(q.pid);
      out.push(i);
    }
  });
  return out;
}
