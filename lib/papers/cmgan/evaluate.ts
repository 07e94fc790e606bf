/**
 * How a trained cmGAN is scored: the generator's embeddings, validation mAP during training,
 * the SYSU-MM01 protocol's numbers on the test identities (lib/eval/sysu.ts), the other feature
 * variant and the training identities for the record, and the loss diagnostics of Figs. 4–5.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { gatherPixels, type ReidSplit } from "../../data/split.ts";
import type { DenseMatrix } from "../../eval/distance.ts";
import { type EvalResult, evaluate } from "../../eval/evaluate.ts";
import { extractFeatures } from "../../eval/features.ts";
import { sysuMM01 } from "../../eval/protocols.ts";
import { sysuDistances, sysuMetrics, type SysuSplit } from "../../eval/sysu.ts";
import type { LossHistory } from "../../train/history.ts";
import type { CmganConfig } from "./config.ts";
import { type CmganData, INPUT_NORMALIZATION } from "./data.ts";
import type { CmganTrainer } from "./train.ts";

/** The generator's embeddings of every image of a split (L2-normalised when asked). */
export function testFeatures(trainer: CmganTrainer, split: ReidSplit, normalize: boolean) {
  return extractFeatures((x) => trainer.embed(x), split, {
    normalization: INPUT_NORMALIZATION,
    normalize,
  });
}

/**
 * `features` with each row divided by its Euclidean norm (+1e-12), by the same tf ops as
 * `extractFeatures(…, { normalize: true })`: the same numbers without a second pass of the
 * generator.
 */
export async function normalizeRows(features: DenseMatrix): Promise<DenseMatrix> {
  const y = tf.tidy(() => {
    const x = tf.tensor2d(features.data, [features.rows, features.cols]);
    return x.div(x.norm("euclidean", 1, true).add(1e-12));
  });
  try {
    return { data: (await y.data()) as Float32Array, rows: features.rows, cols: features.cols };
  } finally {
    y.dispose();
  }
}

/**
 * The rows of `split` showing its first `maxIds` identities (by pid), as a split of their
 * own: the seen-identity diagnostic stays the same size whatever the number of training ids.
 */
export function firstIdentities(split: ReidSplit, maxIds: number): ReidSplit {
  const pids = [...new Set(split.items.map((it) => it.pid))].sort((a, b) => a - b);
  if (pids.length <= maxIds) return split;
  const keep = new Set(pids.slice(0, maxIds));
  const rows = split.items.flatMap((it, row) => (keep.has(it.pid) ? [row] : []));
  const indices = rows.map((r) => split.indices[r]);
  return {
    ...split,
    name: `${split.name}[first ${maxIds} ids]`,
    indices,
    rowOf: new Map(indices.map((index, row) => [index, row])),
    pixels: gatherPixels(split, rows),
    items: rows.map((r) => split.items[r]),
    labels: Int32Array.from(rows, (r) => split.labels[r]),
    numClasses: maxIds,
  };
}

/** Identities of the seen-identity diagnostic (the first world's 64 training identities). */
export const SEEN_DIAGNOSTIC_IDS = 64;

/** Validation all-search single-shot mAP (one gallery draw), or null when it has no valid query. */
export async function validationMap(
  trainer: CmganTrainer,
  val: ReidSplit,
  config: CmganConfig,
): Promise<number | null> {
  const features = await testFeatures(trainer, val, config.eval.normalize);
  const split = await sysuDistances(features, val.items);
  try {
    const r = evaluate(
      split.dist,
      split.query,
      split.gallery,
      sysuMM01({ mode: "all", trials: 1 }),
    );
    return 100 * r.mAP;
  } catch {
    return null;
  }
}

function tailMean(values: number[], fraction: number, fromEnd: boolean): number {
  const n = Math.max(1, Math.round(values.length * fraction));
  const part = fromEnd ? values.slice(-n) : values.slice(0, n);
  return part.reduce((a, b) => a + b, 0) / part.length;
}

/**
 * Training diagnostics of Figs. 4–5 as numbers (claims C8, C9 of lib/papers/cmgan/README.md,
 * 'Claims'): the discriminator's
 * loss and accuracy over the last 30% of steps, and how far l_gen and the total loss
 * fell from the first 10% of steps to the last 10%.
 */
export function trainingDiagnostics(history: LossHistory): Record<string, number> {
  const series = history.toJSON().series;
  const values = (name: string) => (series[name]?.values ?? []).map((v) => v ?? NaN);
  const ldis = values("l_dis");
  const acc = values("d_acc");
  const lgen = values("l_gen");
  const ltotal = values("l_total");
  if (ldis.length === 0) return {};
  return {
    l_dis_tail: tailMean(ldis, 0.3, true),
    d_acc_tail: tailMean(acc, 0.3, true),
    l_gen_drop: tailMean(lgen, 0.1, false) - tailMean(lgen, 0.1, true),
    l_total_drop: tailMean(ltotal, 0.1, false) - tailMean(ltotal, 0.1, true),
  };
}

/** What {@link scoreTrained} returns. */
export interface CmganScores {
  metrics: Record<string, number>;
  results: Record<string, EvalResult>;
  split: SysuSplit;
  features: DenseMatrix;
}

/**
 * The test numbers of a trained generator (the SYSU protocol's 16 and the records beside
 * them: the other feature variant, the training identities, the loss diagnostics).
 */
export async function scoreTrained(
  trainer: CmganTrainer,
  data: CmganData,
  config: CmganConfig,
  history: LossHistory,
): Promise<CmganScores> {
  const testItems = data.test.items;
  // One pass of the generator: the raw features, and their L2-normalised copy.
  const raw = await testFeatures(trainer, data.test, false);
  const l2 = await normalizeRows(raw);
  const features = config.eval.normalize ? l2 : raw;
  const split = await sysuDistances(features, testItems);
  const { metrics, results } = sysuMetrics(split, config.eval);
  // The other feature variant (lib/papers/cmgan/README.md, 'Evaluation'), for the record.
  const other = await sysuDistances(config.eval.normalize ? raw : l2, testItems);
  const otherMetrics = sysuMetrics(other, config.eval).metrics;
  const tag = config.eval.normalize ? "raw" : "l2";
  metrics[`${tag}_all_ss_r1`] = otherMetrics.all_ss_r1;
  metrics[`${tag}_all_ss_mAP`] = otherMetrics.all_ss_mAP;
  // Diagnostic: the same IR → RGB search among the *training* identities (seen in training),
  // which separates "modalities not aligned" from "alignment does not generalise".
  // At most the first 64 training identities, so that the diagnostic's gallery (and its
  // cost) does not grow with the number of training identities.
  const seenSplit = firstIdentities(data.train, SEEN_DIAGNOSTIC_IDS);
  const seen = await sysuDistances(
    await testFeatures(trainer, seenSplit, config.eval.normalize),
    seenSplit.items,
  );
  const seenMetrics = sysuMetrics(seen, { ...config.eval, trials: 1 }).metrics;
  metrics.train_all_ss_r1 = seenMetrics.all_ss_r1;
  metrics.train_all_ss_mAP = seenMetrics.all_ss_mAP;
  Object.assign(metrics, trainingDiagnostics(history));
  return { metrics, results, split, features };
}
