/**
 * The SAL notebook's report plumbing: the grid view with the tables' headline metrics, the rows
 * as switch sets, the calibration log, the diagnostics per row, the cost of each row and the
 * verdict lines. Cells call one function each and stay a few lines.
 *
 * @see notebooks/sal.ipynb §6 (tables), §7 (claims), Appendix
 * @module
 */
import { formatStats } from "../../experiments/claims.ts";
import { resolveConfig } from "../../experiments/config.ts";
import { type GridView, gridView } from "../../experiments/results_view.ts";
import type { MimeBundle } from "../../runtime/display.ts";
import { repoPath } from "../../runtime/paths.ts";
import { tableBundle } from "../../viz/tables.ts";
import type { CalibrationAttempt } from "./calibrate.ts";
import { type SalConfig, TABLE_METRICS } from "./config.ts";
import { spec } from "./spec.ts";

/** Readable names of the metrics a cell stores. */
export const METRIC_LABELS: Record<string, string> = {
  mAP: "mAP",
  R1: "rank-1",
  R5: "rank-5",
  R10: "rank-10",
  unseen_mAP: "mAP (unseen queries)",
  seen_mAP: "mAP (seen queries)",
  synth_query_mAP: "mAP, synthetic queries E_V(G_V(F_A a))",
  consistency_cos: "cos(E_V G_V f_a, E_A f_a)",
  attr_accuracy: "attribute accuracy of C_att (%)",
  ms_per_iter: "ms / stage-3 iteration",
  params_M: "parameters (M)",
};

/** The stored CPU grid of SAL with Tables 2–4's metrics. */
export function salView(options: { results?: string; seeds?: number } = {}): Promise<GridView> {
  return gridView(spec, {
    scale: "cpu",
    headline: [...TABLE_METRICS],
    metricLabels: METRIC_LABELS,
    ...options,
  });
}

/** The rows of the grid as switch sets over the CPU base config. */
export async function rowsTable(): Promise<MimeBundle> {
  const base = (await resolveConfig(spec, "cpu", "sal")).config as SalConfig;
  const t = base.train;
  return tableBundle({
    title: "Rows of the grid: switches over the CPU base config (SAL)",
    headers: ["row", "what it is", "table", "switches"],
    rows: spec.rows.map((r) => [r.id, r.label, r.table ?? "", JSON.stringify(r.delta)]),
    caption: `base: batch ${t.batch} pairs + ${t.unseenBatch} unseen vectors; stage 1 ` +
      `${t.stage1Epochs} epochs, stage 2 ${t.stage2Epochs}, stage 3 ${t.stage3Epochs}; lr_al ` +
      `${t.lrAlign}, lr_gf ${t.lrGen}, lr_df ${t.lrDisc}; GAN loss "${base.loss.ganLoss}", ` +
      `sampler "${base.loss.sampler}"; F_I ${t.imageNetStage3} in stage 3`,
  });
}

/** The calibration attempts (results/sal/calibration.json); [] when there is none. */
export async function readCalibration(
  path = repoPath("results/sal/calibration.json"),
): Promise<CalibrationAttempt[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const json = JSON.parse(text) as { attempts?: CalibrationAttempt[] };
  if (!Array.isArray(json.attempts)) {
    throw new Error(`${path}: expected { "attempts": [...] }`);
  }
  return json.attempts;
}

/** The calibration log as a table. */
export async function calibrationTable(): Promise<MimeBundle> {
  const attempts = await readCalibration();
  return tableBundle({
    title: "Calibration of the synthetic world on the Embed row (validation split only)",
    headers: ["attempt", "world knobs", "schedule (epochs 1/2/3)", "val mAP per seed", "mean"],
    rows: attempts.map((a) => [
      a.name,
      JSON.stringify(a.world),
      a.train ? `${a.train.stage1Epochs}/${a.train.stage2Epochs}/${a.train.stage3Epochs}` : "4/8/6",
      a.val_mAP.map((v) => v.toFixed(1)).join(", "),
      a.mean_val_mAP.toFixed(1),
    ]),
    caption: "Target band 25–45 % validation mAP; chance is about 3 % (≈ 7 matches among " +
      "≈ 200 validation images). The frozen knobs are config.ts's CPU_WORLD.",
  });
}

/** Mean ± std of some metrics for some rows. */
export function metricsTable(
  view: GridView,
  rows: string[],
  metrics: string[],
  title: string,
): MimeBundle {
  return tableBundle({
    title,
    headers: ["row", ...metrics.map((m) => METRIC_LABELS[m] ?? m)],
    rows: rows.map((id) => {
      const r = view.rows.find((x) => x.row === id);
      return [
        r?.label ?? id,
        ...metrics.map((m) => {
          const s = r?.ours[m];
          return s && s.n > 0 ? formatStats(s, m === "params_M" ? 3 : 1) : "—";
        }),
      ];
    }),
    caption: "mean ± std over the stored seeds",
  });
}

/** One line per claim: its verdict, text and parts with their paired differences. */
export function verdictLines(view: GridView): string[] {
  return view.claims.map((c) =>
    `${c.verdict} ${c.id}: ${c.text} — ` +
    c.parts.map((p) => `${p.verdict} ${p.label} = ${formatStats(p.stats, 2)}`).join("; ")
  );
}
