/**
 * Pairwise distances between embedding sets, shared by the metric losses.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Squared Euclidean distances [N, M] between the rows of `a` [N, d] and `b` [M, d],
 * as ‖a‖² + ‖b‖² − 2ab, clamped at 0 against rounding.
 */
export function pairwiseSquaredDistance(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (a.shape[1] !== b.shape[1]) {
    throw new Error(`pairwise distance: feature sizes differ, [${a.shape}] vs [${b.shape}]`);
  }
  return tf.tidy(() => {
    const aa = a.square().sum(1, true);
    const bb = b.square().sum(1, true).transpose();
    return aa.add(bb).sub(tf.matMul(a, b, false, true).mul(2)).relu() as tf.Tensor2D;
  });
}

/**
 * Euclidean distances [N, M], √max(d², 1e-12) as torchreid computes them: the clamp
 * keeps the gradient of √ finite where two embeddings coincide (e.g. the diagonal).
 */
export function pairwiseDistance(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => pairwiseSquaredDistance(a, b).maximum(1e-12).sqrt() as tf.Tensor2D);
}

/** Rows divided by their L2 norm (with a floor of 1e-12 on the norm). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => x.div(x.square().sum(1, true).sqrt().maximum(1e-12)) as tf.Tensor2D);
}
