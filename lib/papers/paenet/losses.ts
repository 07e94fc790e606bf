/**
 * PAENet's batch losses in batched form (README, 'Losses'): the hetero-centre triplet and
 * MMD-ReID's margin-MMD-ID over the sampler's layout (P identities × K images, RGB rows then
 * IR rows in the same identity order), and AGW's weighted regularised triplet for agw-lite.
 * The first two compute the same numbers as lib/nn/losses' `heteroCenterTriplet` and
 * `gaussianMmd` per identity (tests check it) with a handful of whole-batch ops instead of a
 * gather per identity: on the small CPU net the per-op cost is most of a step.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { stopGradient } from "../../nn/ops.ts";
import { pairwiseDistance } from "../../nn/losses/distance.ts";

/** Checks that `labels` are P blocks of K equal labels and returns P. */
export function blocksOf(labels: readonly number[], k: number): number {
  if (labels.length % k !== 0) {
    throw new Error(`PAENet losses: ${labels.length} rows are not P × K=${k}`);
  }
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== labels[i - (i % k)]) {
      throw new Error(
        "PAENet losses: labels must come in blocks of K per identity (the sampler's layout)",
      );
    }
  }
  return labels.length / k;
}

/**
 * Hetero-centre triplet: each identity's RGB and IR centres, d_ap = the distance between an
 * identity's two centres, d_an = the nearest centre of another identity (either modality);
 * mean over the 2P centres of [ρ + d_ap − d_an]₊, Euclidean distances.
 */
export function heteroCenterTripletBlocks(
  visible: tf.Tensor2D,
  infrared: tf.Tensor2D,
  labels: readonly number[],
  k: number,
  margin: number,
): tf.Scalar {
  return tf.tidy(() => {
    const p = blocksOf(labels, k);
    const d = visible.shape[1];
    const cv = visible.reshape([p, k, d]).mean(1);
    const ct = infrared.reshape([p, k, d]).mean(1);
    const c = tf.concat([cv, ct]) as tf.Tensor2D;
    const dist = pairwiseDistance(c, c);
    const ids = Array.from({ length: 2 * p }, (_, i) => i % p);
    const same = tf.tensor2d(ids.flatMap((a) => ids.map((b) => (a === b ? 1 : 0))), [2 * p, 2 * p]);
    const ap = dist.mul(same).max(1);
    const an = dist.add(same.mul(1e6)).min(1);
    return tf.relu(ap.sub(an).add(margin)).mean() as tf.Scalar;
  });
}

/**
 * Margin-MMD-ID: per identity, the biased multi-kernel MMD² between its K RGB and K IR
 * features (bandwidths β/4 … 4β, β the mean squared distance of its 2K features, a constant
 * for the gradient), counted in full when above `margin`; the mean over identities. The
 * indicator is `tf.step`, whose gradient is zero (lib/nn/losses/mmd.ts's `marginMmdId` uses
 * `greater`, which has no gradient in tfjs and so cannot be trained through).
 */
export function marginMmdBlocks(
  visible: tf.Tensor2D,
  infrared: tf.Tensor2D,
  labels: readonly number[],
  k: number,
  margin: number,
): tf.Scalar {
  return tf.tidy(() => {
    const p = blocksOf(labels, k);
    const d = visible.shape[1];
    const z = tf.concat([visible.reshape([p, k, d]), infrared.reshape([p, k, d])], 1); // [P, 2K, d]
    const sq = z.square().sum(2, true); // [P, 2K, 1]
    const d2 = tf.relu(sq.add(sq.transpose([0, 2, 1])).sub(tf.matMul(z, z, false, true).mul(2)));
    const n = 2 * k;
    const beta = stopGradient(d2.sum([1, 2], true).div(n * n - n)); // [P, 1, 1]
    let kernel = tf.zeros([p, n, n]);
    for (const m of [0.25, 0.5, 1, 2, 4]) kernel = kernel.add(d2.div(beta.mul(m)).neg().exp());
    const w = Array.from(
      { length: n },
      (_, i) => Array.from({ length: n }, (_, j) => ((i < k) === (j < k) ? 1 : -1) / (k * k)),
    );
    const mmd = kernel.mul(tf.tensor2d(w)).sum([1, 2]); // [P]
    return mmd.mul(tf.step(mmd.sub(margin))).mean() as tf.Scalar;
  });
}

/**
 * AGW's weighted regularised triplet over all pairs of a batch: per anchor, the positives'
 * distances averaged with softmax weights (far positives count more) and the negatives' with
 * softmax(−d) weights (near negatives count more); loss = mean log(1 + exp(d_p − d_n)).
 */
export function weightedRegularizedTriplet(f: tf.Tensor2D, labels: readonly number[]): tf.Scalar {
  return tf.tidy(() => {
    const n = labels.length;
    const pos = tf.tensor2d(labels.flatMap((a) => labels.map((b) => (a === b ? 1 : 0))), [n, n]);
    const neg = tf.onesLike(pos).sub(pos);
    const d = pairwiseDistance(f, f);
    const dp = d.mul(pos);
    const dn = d.mul(neg);
    const softmaxMasked = (x: tf.Tensor, mask: tf.Tensor) => {
      const maxV = stopGradient(x.mul(mask).max(1, true));
      const e = x.sub(maxV).exp().mul(mask);
      return e.div(e.sum(1, true).add(1e-6));
    };
    const furthestPositive = dp.mul(softmaxMasked(dp, pos)).sum(1);
    const closestNegative = dn.mul(softmaxMasked(dn.neg(), neg)).sum(1);
    return tf.softplus(furthestPositive.sub(closestNegative)).mean() as tf.Scalar;
  });
}

/**
 * GeM pooling with p = 3 of an NHWC map: (mean_hw max(x, 0)³ + 1e-12)^(1/3), [N, C] (the code
 * clamps at a small ε; agw-lite's non-local residual can make F negative).
 */
export function gem3(x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const r = tf.relu(x);
    return r.square().mul(r).mean([1, 2]).add(1e-12).pow(1 / 3) as tf.Tensor2D;
  });
}
