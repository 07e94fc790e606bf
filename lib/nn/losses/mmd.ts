/**
 * Distribution-matching losses: Gaussian-kernel MMD with several bandwidths,
 * linear MMD and Deep CORAL (AAIPR's alignment variants), and the per-identity
 * margin MMD of MMD-ReID used by PAENet.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { stopGradient } from "../ops.ts";
import { pairwiseSquaredDistance } from "./distance.ts";
import type { LabelArray } from "./triplet.ts";

/** Bandwidth multipliers of MMD-ReID/DAN: β/4, β/2, β, 2β, 4β. */
export const DEFAULT_BANDWIDTH_MULTIPLIERS: readonly number[] = [0.25, 0.5, 1, 2, 4];

/** Options of {@link gaussianMmd}. */
export interface GaussianMmdOptions {
  /**
   * Kernel bandwidths β_s in k(x, y) = Σ_s exp(−‖x − y‖² / β_s). "adaptive" (default):
   * β_s = multiplier_s · β with β the mean squared distance between the pooled
   * samples (Σ_{a,b} ‖z_a − z_b‖² / (n² − n), a constant for the gradient), as MMD-ReID does.
   */
  bandwidths?: readonly number[] | "adaptive";
  /** Multipliers of the adaptive bandwidth (default {@link DEFAULT_BANDWIDTH_MULTIPLIERS}). */
  multipliers?: readonly number[];
}

/**
 * Squared MMD between samples `x` [n, d] and `y` [m, d] with a sum of Gaussian
 * kernels, biased V-statistic (diagonals included):
 * MMD² = mean k(x, x') + mean k(y, y') − 2 mean k(x, y).
 */
export function gaussianMmd(
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  options: GaussianMmdOptions = {},
): tf.Scalar {
  return tf.tidy(() => {
    const z = tf.concat([x, y]);
    const d2 = pairwiseSquaredDistance(z, z);
    let bandwidths: tf.Tensor1D;
    if (options.bandwidths === undefined || options.bandwidths === "adaptive") {
      const n = z.shape[0];
      const beta = stopGradient(d2.sum().div(Math.max(n * n - n, 1)));
      const multipliers = options.multipliers ?? DEFAULT_BANDWIDTH_MULTIPLIERS;
      bandwidths = tf.tensor1d(Array.from(multipliers)).mul(beta);
    } else {
      bandwidths = tf.tensor1d(Array.from(options.bandwidths));
    }
    const k = d2.expandDims(2).div(bandwidths).neg().exp().sum(2) as tf.Tensor2D;
    const n = x.shape[0];
    const m = y.shape[0];
    const kxx = k.slice([0, 0], [n, n]).mean();
    const kyy = k.slice([n, n], [m, m]).mean();
    const kxy = k.slice([0, n], [n, m]).mean();
    return kxx.add(kyy).sub(kxy.mul(2)) as tf.Scalar;
  });
}

/** Linear-kernel MMD: ‖mean(x) − mean(y)‖² (AAIPR's default MMD variant, lib/papers/aaipr/README.md). */
export function linearMmd(x: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => x.mean(0).sub(y.mean(0)).square().sum() as tf.Scalar);
}

/**
 * Deep CORAL (Sun & Saenko 2016): ‖Σ_x − Σ_y‖²_F / (4d²) with unbiased covariances,
 * plus ‖μ_x − μ_y‖² when `includeMean` (default true, AAIPR's reading of
 * "matches both the mean and covariance").
 */
export function coralLoss(
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  options: { includeMean?: boolean } = {},
): tf.Scalar {
  const d = x.shape[1];
  return tf.tidy(() => {
    const cov = (t: tf.Tensor2D) => {
      const centred = t.sub(t.mean(0));
      return tf.matMul(centred, centred, true, false).div(Math.max(t.shape[0] - 1, 1));
    };
    let loss = cov(x).sub(cov(y)).square().sum().div(4 * d * d);
    if (options.includeMean ?? true) loss = loss.add(linearMmd(x, y));
    return loss as tf.Scalar;
  });
}

/**
 * MMD-ReID's margin MMD-ID loss (PAENet's L_MMD): for each identity p in the batch,
 * MMD²_p between its visible and infrared embeddings (adaptive multi-bandwidth
 * Gaussian kernel, biased, computed per identity); the loss is
 * (1/P) Σ_p MMD²_p · 1[MMD²_p > margin] — the whole term counts once it exceeds
 * the margin (1.40 in the official code), nothing below it.
 */
export function marginMmdId(
  visible: tf.Tensor2D,
  labelsVisible: LabelArray,
  infrared: tf.Tensor2D,
  labelsInfrared: LabelArray,
  options: { margin: number; multipliers?: readonly number[] } = { margin: 1.4 },
): tf.Scalar {
  const ids = [...new Set(Array.from(labelsVisible))];
  const rowsOf = (labels: LabelArray, id: number) =>
    Array.from(labels).flatMap((l, i) => (l === id ? [i] : []));
  return tf.tidy(() => {
    const terms = ids.map((id) => {
      const rv = rowsOf(labelsVisible, id);
      const rt = rowsOf(labelsInfrared, id);
      if (rt.length === 0) {
        throw new Error(`marginMmdId: identity ${id} has no infrared sample in the batch`);
      }
      const xv = tf.gather(visible, rv);
      const xt = tf.gather(infrared, rt);
      const mmd = gaussianMmd(xv, xt, { multipliers: options.multipliers });
      return mmd.mul(mmd.greater(options.margin).toFloat());
    });
    return tf.addN(terms).div(ids.length) as tf.Scalar;
  });
}
