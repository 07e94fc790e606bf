/**
 * Reconstruction / feature-matching losses (TJ-AIDL's L_rec and L_ID-transfer,
 * SAL's "L2" cycle and consistency terms).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** How an [N, d] difference is reduced. */
export type ReconstructionReduction =
  /** Mean over all N·d entries (PyTorch's `MSELoss`/`L1Loss`, `tf.losses.meanSquaredError`). */
  | "mean"
  /** Sum over the feature dimension, mean over the batch (the per-sample ‖·‖² of a paper formula). */
  | "sumOverDims";

function reduce(perEntry: tf.Tensor, reduction: ReconstructionReduction): tf.Scalar {
  if (reduction === "mean") return perEntry.mean() as tf.Scalar;
  return perEntry.sum().div(perEntry.shape[0] ?? 1) as tf.Scalar;
}

function checkSameShape(name: string, a: tf.Tensor, b: tf.Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${name}: shapes differ, [${a.shape}] vs [${b.shape}]`);
  }
}

/** Squared error between `prediction` and `target` (default: mean over all entries). */
export function mseLoss(
  prediction: tf.Tensor,
  target: tf.Tensor,
  reduction: ReconstructionReduction = "mean",
): tf.Scalar {
  checkSameShape("mseLoss", prediction, target);
  return tf.tidy(() => reduce(tf.squaredDifference(prediction, target), reduction));
}

/** Absolute error between `prediction` and `target` (default: mean over all entries). */
export function l1Loss(
  prediction: tf.Tensor,
  target: tf.Tensor,
  reduction: ReconstructionReduction = "mean",
): tf.Scalar {
  checkSameShape("l1Loss", prediction, target);
  return tf.tidy(() => reduce(prediction.sub(target).abs(), reduction));
}
