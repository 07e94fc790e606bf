/**
 * Multi-label attribute losses: binary cross-entropy on logits, with the
 * positive-ratio weighting of the PETA/RAP baselines (DeepMAR) and label smoothing.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** How the per-element losses of an [N, m] batch are reduced. */
export type AttributeReduction =
  /** Sum over the m attributes, mean over the batch (TJ-AIDL Eq. 2, SAL's code). */
  | "sumOverAttributes"
  /** Mean over all N·m entries (PyTorch's `BCELoss`, PAENet's code). */
  | "mean";

/** Options of {@link attributeBce}. */
export interface AttributeBceOptions {
  /** Default "sumOverAttributes". */
  reduction?: AttributeReduction;
  /**
   * Label smoothing ε as in SAL's code: the target becomes (1−ε)·a + ε/m, with m the
   * number of attributes. Default 0.
   */
  labelSmoothing?: number;
  /**
   * Per-attribute weights of positive and negative entries (length m), e.g. from
   * {@link positiveRatioWeights}. Default: all 1.
   */
  weights?: { positive: readonly number[]; negative: readonly number[] };
}

/**
 * Binary cross-entropy between attribute logits [N, m] and targets [N, m] in
 * [0, 1] (hard or soft labels), computed stably as softplus(ℓ) − ℓ·t.
 * With weights, an entry counts w⁺_j·t·(−log σ(ℓ)) + w⁻_j·(1−t)·(−log(1−σ(ℓ))).
 */
export function attributeBce(
  logits: tf.Tensor2D,
  targets: tf.Tensor2D,
  options: AttributeBceOptions = {},
): tf.Scalar {
  const [n, m] = logits.shape;
  if (targets.shape[0] !== n || targets.shape[1] !== m) {
    throw new Error(
      `attributeBce: logits are [${logits.shape}] but targets are [${targets.shape}]`,
    );
  }
  const eps = options.labelSmoothing ?? 0;
  return tf.tidy(() => {
    let t: tf.Tensor2D = targets.toFloat();
    if (eps > 0) t = t.mul(1 - eps).add(eps / m);
    let perEntry: tf.Tensor2D;
    if (options.weights) {
      const { positive, negative } = options.weights;
      if (positive.length !== m || negative.length !== m) {
        throw new Error(
          `attributeBce: weights need ${m} entries, got ${positive.length} and ${negative.length}`,
        );
      }
      // −log σ(ℓ) = softplus(−ℓ); −log(1−σ(ℓ)) = softplus(ℓ).
      const wp = tf.tensor1d(Array.from(positive));
      const wn = tf.tensor1d(Array.from(negative));
      perEntry = t.mul(wp).mul(tf.softplus(logits.neg()))
        .add(tf.scalar(1).sub(t).mul(wn).mul(tf.softplus(logits)));
    } else {
      perEntry = tf.softplus(logits).sub(logits.mul(t));
    }
    const reduction = options.reduction ?? "sumOverAttributes";
    return (reduction === "mean" ? perEntry.mean() : perEntry.sum().div(n)) as tf.Scalar;
  });
}

/**
 * DeepMAR's weights from the training positive ratio r_j of each attribute
 * (Li et al. 2015; the PETA/RAP "strong baseline" of Jia et al. 2020):
 * positives weigh exp((1 − r_j)/σ²), negatives exp(r_j/σ²), σ = 1 by default.
 * Rare attributes thus weigh their few positives up.
 */
export function positiveRatioWeights(
  positiveRatio: readonly number[],
  sigma = 1,
): { positive: number[]; negative: number[] } {
  for (const r of positiveRatio) {
    if (!(r >= 0 && r <= 1)) throw new Error(`positiveRatioWeights: ratio ${r} is outside [0, 1]`);
  }
  const s2 = sigma * sigma;
  return {
    positive: positiveRatio.map((r) => Math.exp((1 - r) / s2)),
    negative: positiveRatio.map((r) => Math.exp(r / s2)),
  };
}
