/**
 * SYSU-MM01 evaluation of RGB ↔ infrared features (cmGAN and PAENet): IR queries against RGB
 * candidates, Euclidean distances, and the protocol's numbers for all- and indoor-search,
 * single- and multi-shot, each averaged over seeded gallery trials (lib/eval/protocols.ts).
 *
 * @module
 */
import { type DenseMatrix, pairwiseDistance } from "./distance.ts";
import { type EvalResult, evaluate, rankK } from "./evaluate.ts";
import { type EvalItem, sysuMM01 } from "./protocols.ts";

function subset(f: DenseMatrix, rows: number[]): DenseMatrix {
  const data = new Float32Array(rows.length * f.cols);
  rows.forEach((r, i) => data.set(f.data.subarray(r * f.cols, (r + 1) * f.cols), i * f.cols));
  return { data, rows: rows.length, cols: f.cols };
}

/** Query (IR) and gallery candidates (RGB) of a test set, with their distances. */
export interface SysuSplit {
  query: EvalItem[];
  gallery: EvalItem[];
  /** Positions in the pixel set of each query / gallery item. */
  queryRows: number[];
  galleryRows: number[];
  dist: { data: Float32Array; rows: number; cols: number };
}

/** Splits a test set into IR queries and RGB candidates and computes Euclidean distances. */
export async function sysuDistances(
  features: DenseMatrix,
  items: EvalItem[],
): Promise<SysuSplit> {
  const queryRows = items.flatMap((it, i) => (it.modality === "ir" ? [i] : []));
  const galleryRows = items.flatMap((it, i) => (it.modality === "rgb" ? [i] : []));
  const dist = await pairwiseDistance(
    subset(features, queryRows),
    subset(features, galleryRows),
    "euclidean",
  );
  return {
    query: queryRows.map((i) => items[i]),
    gallery: galleryRows.map((i) => items[i]),
    queryRows,
    galleryRows,
    dist,
  };
}

/** The four SYSU-MM01 settings (all / indoor search × single / multi-shot). */
export const SYSU_SETTINGS = [
  { key: "all_ss", mode: "all", multi: false },
  { key: "all_ms", mode: "all", multi: true },
  { key: "indoor_ss", mode: "indoor", multi: false },
  { key: "indoor_ms", mode: "indoor", multi: true },
] as const;

/** How the SYSU-MM01 protocol draws galleries: images per identity and camera in multi-shot, trials. */
export interface SysuEvalOptions {
  multiShot: number;
  trials: number;
}

/**
 * The protocol's 16 numbers (percent) of one model's test distances: r1 / r10 / r20 / mAP for
 * each of {@link SYSU_SETTINGS}, keyed `all_ss_r1` … `indoor_ms_mAP`, averaged over seeded trials.
 */
export function sysuMetrics(
  split: SysuSplit,
  evalConfig: SysuEvalOptions,
): { metrics: Record<string, number>; results: Record<string, EvalResult> } {
  const metrics: Record<string, number> = {};
  const results: Record<string, EvalResult> = {};
  for (const s of SYSU_SETTINGS) {
    const protocol = sysuMM01({
      mode: s.mode,
      shots: s.multi ? evalConfig.multiShot : 1,
      trials: evalConfig.trials,
      seed: 0,
    });
    const r = evaluate(split.dist, split.query, split.gallery, protocol);
    results[s.key] = r;
    for (const k of [1, 10, 20]) metrics[`${s.key}_r${k}`] = 100 * rankK(r, k);
    metrics[`${s.key}_mAP`] = 100 * r.mAP;
  }
  return { metrics, results };
}
