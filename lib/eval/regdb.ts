/**
 * RegDB evaluation of visible ↔ thermal features (PAENet's RegDB-like rows): one trial is a
 * random half of the identities for training and the other half for testing; its test images
 * are scored in both directions, visible → thermal (visible queries, every thermal image of
 * the test identities as the gallery) and thermal → visible, with nothing excluded and
 * first-match CMC (AGW's `eval_regdb`, `lib/eval/protocols.ts:regdb`). Each trial is scored
 * with the model trained on that trial's half; {@link averageRegdb} averages the trials (the
 * release has 10).
 *
 * @module
 */
import { type DenseMatrix, pairwiseDistance } from "./distance.ts";
import { averageResults, type EvalResult, evaluate, rankK } from "./evaluate.ts";
import { type EvalItem, regdb } from "./protocols.ts";

/** The two directions of the protocol, as metric-name prefixes. */
export const REGDB_DIRECTIONS = [
  { key: "v2t", direction: "visible-to-thermal" },
  { key: "t2v", direction: "thermal-to-visible" },
] as const;

/** A trial's visible and thermal test items and their distances (visible rows × thermal columns). */
export interface RegdbSplit {
  visible: EvalItem[];
  thermal: EvalItem[];
  /** Positions in the feature matrix of each visible / thermal item. */
  visibleRows: number[];
  thermalRows: number[];
  /** Euclidean distances, [visible × thermal]; thermal → visible reads its transpose. */
  dist: { data: Float32Array; rows: number; cols: number };
}

function subset(f: DenseMatrix, rows: number[]): DenseMatrix {
  const data = new Float32Array(rows.length * f.cols);
  rows.forEach((r, i) => data.set(f.data.subarray(r * f.cols, (r + 1) * f.cols), i * f.cols));
  return { data, rows: rows.length, cols: f.cols };
}

/** Splits a trial's test set by modality (`rgb` = visible, `ir` = thermal) and computes distances. */
export async function regdbDistances(
  features: DenseMatrix,
  items: readonly EvalItem[],
): Promise<RegdbSplit> {
  const visibleRows = items.flatMap((it, i) => (it.modality === "rgb" ? [i] : []));
  const thermalRows = items.flatMap((it, i) => (it.modality === "ir" ? [i] : []));
  if (visibleRows.length === 0 || thermalRows.length === 0) {
    throw new Error(
      `regdb: a trial's test set needs visible and thermal images (got ${visibleRows.length} visible, ${thermalRows.length} thermal)`,
    );
  }
  const dist = await pairwiseDistance(
    subset(features, visibleRows),
    subset(features, thermalRows),
    "euclidean",
  );
  return {
    visible: visibleRows.map((i) => items[i]),
    thermal: thermalRows.map((i) => items[i]),
    visibleRows,
    thermalRows,
    dist,
  };
}

function transpose(d: RegdbSplit["dist"]): RegdbSplit["dist"] {
  const out = new Float32Array(d.data.length);
  for (let i = 0; i < d.rows; i++) {
    for (let j = 0; j < d.cols; j++) out[j * d.rows + i] = d.data[i * d.cols + j];
  }
  return { data: out, rows: d.cols, cols: d.rows };
}

/**
 * One trial's numbers (percent), keyed `v2t_r1` … `t2v_mINP` (ranks 1, 5, 10, 20, mAP,
 * mINP), and the underlying results per direction.
 */
export function regdbNumbers(
  split: RegdbSplit,
): { metrics: Record<string, number>; results: Record<string, EvalResult> } {
  const metrics: Record<string, number> = {};
  const results: Record<string, EvalResult> = {};
  for (const { key, direction } of REGDB_DIRECTIONS) {
    const v2t = key === "v2t";
    const maxRank = Math.min(20, v2t ? split.thermal.length : split.visible.length);
    const r = evaluate(
      v2t ? split.dist : transpose(split.dist),
      v2t ? split.visible : split.thermal,
      v2t ? split.thermal : split.visible,
      regdb({ direction, maxRank }),
    );
    results[key] = r;
    putNumbers(metrics, key, r);
  }
  return { metrics, results };
}

/** One direction's rank-1/5/10/20, mAP and mINP in percent, under `<key>_…`. */
function putNumbers(metrics: Record<string, number>, key: string, r: EvalResult): void {
  for (const k of [1, 5, 10, 20]) {
    if (k <= r.cmc.length) metrics[`${key}_r${k}`] = 100 * rankK(r, k);
  }
  metrics[`${key}_mAP`] = 100 * r.mAP;
  metrics[`${key}_mINP`] = 100 * r.mINP;
}

/**
 * The protocol's report over trials: each direction's results averaged over the trials
 * (CMC, mAP, mINP; `evaluate.ts:averageResults`), as {@link regdbNumbers} keys them.
 */
export function averageRegdb(
  trials: readonly Record<string, EvalResult>[],
): { metrics: Record<string, number>; results: Record<string, EvalResult> } {
  if (trials.length === 0) throw new Error("averageRegdb: no trials");
  const metrics: Record<string, number> = {};
  const results: Record<string, EvalResult> = {};
  for (const { key } of REGDB_DIRECTIONS) {
    const r = averageResults(trials.map((t) => t[key]));
    results[key] = r;
    putNumbers(metrics, key, r);
  }
  return { metrics, results };
}
