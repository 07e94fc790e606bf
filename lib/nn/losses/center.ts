/**
 * Centre loss (Wen et al. 2016), as torchreid implements it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../runtime/random.ts";
import type { LabelArray } from "./triplet.ts";

/**
 * Learned class centres c_k [numClasses, dim] and the loss
 * (1/N) Σ_i ‖f_i − c_{y_i}‖² (torchreid's `CenterLoss`, without Wen et al.'s ½).
 * The centres are a trainable variable (`centers`) updated by the caller's
 * optimizer — BoT gives them their own SGD with lr 0.5; keep them out of the
 * backbone's optimizer so the per-player variable lists stay separate.
 */
export class CenterLoss {
  /** The centres, initialised N(0, 1) from the seed as torchreid does. */
  readonly centers: tf.Variable<tf.Rank.R2>;
  /** Number of classes (rows of `centers`). */
  readonly numClasses: number;

  /** Creates `numClasses` centres of size `dim`, drawn from `seed`. */
  constructor(options: { numClasses: number; dim: number; seed: number | Rng; name?: string }) {
    const { numClasses, dim } = options;
    const rng = options.seed instanceof Rng ? options.seed : new Rng(options.seed);
    this.numClasses = numClasses;
    this.centers = tf.variable(
      tf.tensor2d(rng.normalArray(numClasses * dim), [numClasses, dim]),
      true,
      options.name,
    );
  }

  /** The loss for a batch of embeddings [N, dim] with integer labels in [0, numClasses). */
  loss(features: tf.Tensor2D, labels: LabelArray): tf.Scalar {
    if (labels.length !== features.shape[0]) {
      throw new Error(`CenterLoss: ${features.shape[0]} embeddings but ${labels.length} labels`);
    }
    for (const l of labels) {
      if (!Number.isInteger(l) || l < 0 || l >= this.numClasses) {
        throw new Error(`CenterLoss: label ${l} is outside [0, ${this.numClasses})`);
      }
    }
    return tf.tidy(() => {
      const c = tf.gather(this.centers, tf.tensor1d(Array.from(labels), "int32"));
      return features.sub(c).square().sum(1).mean() as tf.Scalar;
    });
  }

  /** Frees the centres. */
  dispose(): void {
    this.centers.dispose();
  }
}
