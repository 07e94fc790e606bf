/**
 * Identity (softmax) classification losses.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Integer class labels as given by the data pipeline. */
export type Labels = readonly number[] | Int32Array | tf.Tensor1D;

/** Labels as an int32 tensor (the caller's tensor is returned as is). */
export function labelTensor(labels: Labels): tf.Tensor1D {
  if (labels instanceof tf.Tensor) return labels;
  return tf.tensor1d(Array.from(labels), "int32");
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /**
   * Label smoothing ε: the target is (1−ε)·onehot(y) + ε/C, as in torchreid's
   * `CrossEntropyLoss(label_smooth=True)` used by BoT (ε = 0.1). Default 0.
   */
  labelSmoothing?: number;
}

/**
 * Softmax cross-entropy of `logits` [N, C] against integer `labels`, averaged
 * over the batch: (1/N) Σ_i Σ_k −t_ik log softmax(ℓ_i)_k.
 *
 * @see notebooks/00_introduction.ipynb §4 (identity cross-entropy with label smoothing)
 */
export function crossEntropy(
  logits: tf.Tensor2D,
  labels: Labels,
  options: CrossEntropyOptions = {},
): tf.Scalar {
  const eps = options.labelSmoothing ?? 0;
  if (eps < 0 || eps >= 1) {
    throw new Error(`crossEntropy: labelSmoothing must be in [0, 1), got ${eps}`);
  }
  const [n, c] = logits.shape;
  return tf.tidy(() => {
    const y = labelTensor(labels);
    if (y.shape[0] !== n) {
      throw new Error(`crossEntropy: ${n} rows of logits but ${y.shape[0]} labels`);
    }
    const target = tf.oneHot(y, c).toFloat().mul(1 - eps).add(eps / c);
    return softTargetCrossEntropy(logits, target as tf.Tensor2D);
  });
}

/**
 * Cross-entropy against a probability target [N, C] (each row sums to 1),
 * averaged over the batch. With a uniform target it is the "confusion" loss.
 */
export function softTargetCrossEntropy(logits: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.logSoftmax(logits).mul(target).sum(1).neg().mean() as tf.Scalar);
}
