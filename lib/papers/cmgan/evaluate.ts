/**
 * How a trained cmGAN is scored: the generator's embeddings, validation mAP during training,
 * the SYSU-MM01 protocol's numbers on the test identities (lib/eval/sysu.ts), the other feature
 * variant and the training identities for the record, and the loss diagnostics of Figs. 4–5.
 *
 * @module
 */
import type { ReidSplit } from "../../data/split.ts";
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
  const features = await testFeatures(trainer, data.test, config.eval.normalize);
  const split = await sysuDistances(features, testItems);
  const { metrics, results } = sysuMetrics(split, config.eval);
  // The other feature variant (lib/papers/cmgan/README.md, 'Evaluation'), for the record.
  const other = await sysuDistances(
    await testFeatures(trainer, data.test, !config.eval.normalize),
    testItems,
  );
  const otherMetrics = sysuMetrics(other, config.eval).metrics;
  const tag = config.eval.normalize ? "raw" : "l2";
  metrics[`${tag}_all_ss_r1`] = otherMetrics.all_ss_r1;
  metrics[`${tag}_all_ss_mAP`] = otherMetrics.all_ss_mAP;
  // Diagnostic: the same IR → RGB search among the *training* identities (seen in training),
  // which separates "modalities not aligned" from "alignment does not generalise".
  const seen = await sysuDistances(
    await testFeatures(trainer, data.train, config.eval.normalize),
    data.train.items,
  );
  const seenMetrics = sysuMetrics(seen, { ...config.eval, trials: 1 }).metrics;
  metrics.train_all_ss_r1 = seenMetrics.all_ss_r1;
  metrics.train_all_ss_mAP = seenMetrics.all_ss_mAP;
  Object.assign(metrics, trainingDiagnostics(history));
  return { metrics, results, split, features };
}
