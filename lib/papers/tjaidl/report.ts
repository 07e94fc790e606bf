/**
 * The TJ-AIDL notebook's report plumbing: the grid view with the paper's headline metrics,
 * the rows as switch sets, the calibration log, the per-direction Table 2–4 layout, Fig. 2's
 * and Fig. 4's numbers from the stored cells, and the λ2 sweep. Cells call one function each.
 *
 * @see notebooks/tjaidl.ipynb §3, §5–§8, Appendix
 * @module
 */
import { formatStats, stats } from "../../experiments/claims.ts";
import { resolveConfig } from "../../experiments/config.ts";
import { type GridView, gridView } from "../../experiments/results_view.ts";
import type { MimeBundle } from "../../runtime/display.ts";
import { repoPath } from "../../runtime/paths.ts";
import type { FigureBundle } from "../../viz/chart.ts";
import { tableBundle } from "../../viz/tables.ts";
import { type Direction, LAMBDA2_SWEEP, rowId, TABLE_METRICS } from "./config.ts";
import { groupedBars } from "./figures.ts";
import { spec } from "./spec.ts";

/** Readable metric names. */
export const METRIC_LABELS: Record<string, string> = {
  R1: "rank-1",
  R5: "rank-5",
  R10: "rank-10",
  R20: "rank-20",
  mAP: "mAP",
};

/** The stored CPU grid (`results/tjaidl/cpu/`), headline R1 and mAP. */
export function tjaidlView(options: { results?: string; seeds?: number } = {}): Promise<GridView> {
  return gridView(spec, {
    scale: "cpu",
    headline: ["R1", "mAP"],
    metricLabels: METRIC_LABELS,
    ...options,
  });
}

/** The rows as switch sets over the CPU base config. */
export async function rowsTable(): Promise<MimeBundle> {
  const { config: base } = await resolveConfig(spec, "cpu", "AB.full");
  const t = base.train;
  return tableBundle({
    title: "Rows of the grid: switches over the CPU base config (A→B shown; B→A the same)",
    headers: ["row", "what it is", "switches"],
    rows: spec.rows.filter((r) => r.id.startsWith("AB.")).map((r) => {
      const { data: _d, ...rest } = r.delta as Record<string, unknown>;
      return [r.id.slice(3), r.label.slice(4), JSON.stringify(rest)];
    }),
    caption: `base (stabilised): λ1 = ${base.loss.lambda1}, λ2 = ${base.loss.lambda2}, ` +
      `IIA warm-up ${base.loss.iiaWarmup} steps, batch ${t.batch}, Adam ${t.lr} (β1 ${t.beta1}); ` +
      `Stage 0 ${t.stage0Steps}, attribute warm start ${t.attrWarmStartSteps}, Step I ${t.stepISteps}, ` +
      `Step II ${t.stepIISteps}, Joint ${t.jointSteps} steps`,
  });
}

/** The calibration attempts of results/tjaidl/calibration.json. */
export async function calibrationTable(): Promise<MimeBundle> {
  const log = JSON.parse(
    await Deno.readTextFile(repoPath("results", "tjaidl", "calibration.json")),
  );
  return tableBundle({
    title: "Calibration: source-only ID-only, target validation rank-1 (seed 0)",
    headers: ["#", "severity", "shade σ", "persons/vector", "A→B val R1", "B→A val R1", "note"],
    rows: log.attempts.map((a: Record<string, never>, i: number) => [
      String(i + 1),
      String(a.knobs["severity"]),
      String(a.knobs["shadeStd"]),
      String(a.knobs["personsPerVector"]),
      (a.val["AB.idOnly"]["R1"] as number).toFixed(1),
      (a.val["BA.idOnly"]["R1"] as number).toFixed(1),
      a.note,
    ]),
    caption: `aim: 15–40 % in both directions; frozen: ${log.frozen?.why ?? "—"}`,
  });
}

const DIRS: Direction[] = ["AtoB", "BtoA"];
const LAYOUT = [
  "attrOnly",
  "idOnly",
  "independent",
  "independentL2",
  "joint",
  "noAdapt",
  "full",
  "faithful.noAdapt",
  "faithful.full",
];

/** One direction in the paper's layout: each row's R1…mAP, ours (mean ± std) and the paper's. */
export function directionTable(view: GridView, direction: Direction): MimeBundle {
  const rows = LAYOUT.map((name) => {
    const s = view.rows.find((r) => r.row === rowId(direction, name))!;
    return [
      s.label.slice(4),
      ...TABLE_METRICS.map((m) => {
        const ours = s.ours[m] ? formatStats(s.ours[m]) : "—";
        return s.paper[m] !== undefined ? `${ours} (${s.paper[m]})` : ours;
      }),
    ];
  });
  return tableBundle({
    title: `${direction === "AtoB" ? "A→B (paper: Market→Duke)" : "B→A (paper: Duke→Market)"}`,
    headers: ["row", ...TABLE_METRICS.map((m) => METRIC_LABELS[m])],
    rows,
    caption: "ours: mean ± std over seeds (the paper's number in brackets)",
  });
}

function meanStd(view: GridView, row: string, metric: string): { mean: number; std: number } {
  const values = [...(view.results.get(row)?.values() ?? [])]
    .map((r) => r.metrics[metric]).filter((v): v is number => typeof v === "number");
  const s = stats(values);
  return { mean: s.mean, std: s.std };
}

/** Fig. 2's analogue: the attribute-consistency discrepancy on source and target, before/after Step II. */
export function fig2(view: GridView): FigureBundle {
  const cats = DIRS.map((d) => (d === "AtoB" ? "A→B" : "B→A"));
  const series = [
    ["source, after Step I", "D_src_stepI"],
    ["target, after Step I", "D_tgt_stepI"],
    ["source, after Step II", "D_src_stepII"],
    ["target, after Step II", "D_tgt_stepII"],
  ].map(([name, metric]) => {
    const v = DIRS.map((d) => meanStd(view, rowId(d, "full"), metric));
    return { name, mean: v.map((x) => x.mean), std: v.map((x) => x.std) };
  });
  return groupedBars({
    title: "Fig. 2 analogue: attribute-consistency discrepancy D = mean |σ(e_IIA) − σ(p̃_att)|",
    categories: cats,
    series,
    yLabel: "D (lower: the two attribute views agree)",
  });
}

/** Fig. 4's number: intra/inter-identity distance ratio on target test ids, per row. */
export function fig4(view: GridView): FigureBundle {
  const rows = ["attrOnly", "idOnly", "noAdapt", "full"];
  return groupedBars({
    title: "Fig. 4 analogue: mean intra-id / inter-id distance, 10 target identities",
    categories: DIRS.map((d) => (d === "AtoB" ? "A→B" : "B→A")),
    series: rows.map((name) => {
      const v = DIRS.map((d) => meanStd(view, rowId(d, name), "ratio"));
      return { name, mean: v.map((x) => x.mean), std: v.map((x) => x.std) };
    }),
    yLabel: "ratio (lower: tighter identities)",
  });
}

/** The λ2 sweep (w/o adaptation) and the Step-II sensitivity rows, R1 per direction. */
export function sweepTable(view: GridView): MimeBundle {
  const names = [
    ...LAMBDA2_SWEEP.map((l) => [`λ2 = ${l}, w/o adaptation`, `lambda${l}.noAdapt`]),
    ["λ2 = 1, w/o adaptation (base)", "noAdapt"],
    ["λ2 = 1, TJ-AIDL (frozen Step-I soft labels, lr 2e-3)", "full"],
    ["soft labels from the current model", "softCurrent"],
    ["Step-II lr 5e-4", "stepIILr5e-4"],
    ["faithful (λ2 = 10, no warm start), w/o adaptation", "faithful.noAdapt"],
  ];
  const cell = (row: string, m: string) => {
    const s = view.rows.find((r) => r.row === row)?.ours[m];
    return s ? formatStats(s) : "—";
  };
  return tableBundle({
    title: "λ2 sweep and Step-II sensitivity (stabilised unless said): R1 / mAP / Step-I L_att",
    headers: ["row", "A→B R1", "A→B mAP", "A→B L_att", "B→A R1", "B→A mAP", "B→A L_att"],
    rows: names.map(([label, name]) => [
      label,
      ...DIRS.flatMap((d) => [
        cell(rowId(d, name), "R1"),
        cell(rowId(d, name), "mAP"),
        cell(rowId(d, name), "stepI_Latt_tail"),
      ]),
    ]),
    caption: "L_att: mean over Step I's second half; its prior level (predicting the source " +
      "frequencies) is the attPrior metric, ≈ 11 nats for the Market-like source",
  });
}
