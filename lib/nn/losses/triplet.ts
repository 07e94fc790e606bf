/**
 * Triplet losses: batch-hard (Hermans et al. 2017), the cross-modality triplet of
 * cmGAN (Dai et al. 2018, Eqs. 2–4) and the hetero-centre triplet of HcTri/PAENet.
 *
 * Labels live on the JavaScript side (the sampler knows them), so the
 * positive/negative masks are built in JS and no tensor is read back.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../../runtime/random.ts";
import { l2Normalize, pairwiseDistance, pairwiseSquaredDistance } from "./distance.ts";

/** Labels of a batch, one per row. */
export type LabelArray = readonly number[] | Int32Array;

/** The margin of a triplet loss: a hinge margin, or "soft" for softplus(d_ap − d_an). */
export type TripletMargin = number | "soft";

function hinge(gap: tf.Tensor, margin: TripletMargin): tf.Tensor {
  return margin === "soft" ? tf.softplus(gap) : gap.add(margin).relu();
}

function sameLabelMask(rows: LabelArray, cols: LabelArray): boolean[][] {
  return Array.from(rows, (r) => Array.from(cols, (c) => r === c));
}

function maskTensor(mask: boolean[][]): tf.Tensor2D {
  return tf.tensor2d(mask.map((row) => row.map((v) => (v ? 1 : 0))), undefined, "bool");
}

/** A large distance standing in for +∞ in a masked minimum. */
const FAR = 1e9;

/**
 * Hardest positive (max over `pos`) and hardest negative (min over `neg`) of
 * each row of `dist`; `dist` is non-negative, so masked-out positives count as 0.
 */
function hardest(dist: tf.Tensor2D, pos: boolean[][], neg: boolean[][]) {
  const posT = maskTensor(pos);
  const negT = maskTensor(neg);
  const dap = tf.where(posT, dist, tf.zerosLike(dist)).max(1) as tf.Tensor1D;
  const dan = tf.where(negT, dist, tf.fill(dist.shape, FAR)).min(1) as tf.Tensor1D;
  return { dap, dan };
}

/** Options of {@link batchHardTriplet}. */
export interface BatchHardTripletOptions {
  /** Hinge margin (BoT/torchreid use 0.3) or "soft" (Hermans et al.'s soft margin). */
  margin: TripletMargin;
  /** Use squared Euclidean distances (default false: Euclidean, as Hermans et al.). */
  squared?: boolean;
  /** L2-normalise the embeddings first (default false). */
  normalize?: boolean;
}

/**
 * Batch-hard triplet loss: for each anchor i, the farthest same-label sample
 * (itself counts, at distance 0, so a label seen once gives d_ap = 0 as in
 * torchreid) and the nearest other-label sample;
 * loss = mean_i [m + d_ap(i) − d_an(i)]₊ (or softplus(d_ap − d_an) with the soft margin).
 * Anchors with no other-label sample in the batch are left out of the mean.
 *
 * @see notebooks/00_introduction.ipynb §4 (batch-hard triplet)
 */
export function batchHardTriplet(
  features: tf.Tensor2D,
  labels: LabelArray,
  options: BatchHardTripletOptions,
): tf.Scalar {
  const n = features.shape[0];
  if (labels.length !== n) {
    throw new Error(`batchHardTriplet: ${n} embeddings but ${labels.length} labels`);
  }
  const pos = sameLabelMask(labels, labels);
  const neg = pos.map((row) => row.map((same) => !same));
  const anchors = neg.map((row) => row.some(Boolean));
  const count = anchors.filter(Boolean).length;
  if (count === 0) throw new Error("batchHardTriplet: the batch has a single label; no negatives");
  return tf.tidy(() => {
    const x = options.normalize ? l2Normalize(features) : features;
    const dist = options.squared ? pairwiseSquaredDistance(x, x) : pairwiseDistance(x, x);
    const { dap, dan } = hardest(dist, pos, neg);
    const keep = tf.tensor1d(anchors.map((a) => (a ? 1 : 0)));
    return hinge(dap.sub(dan), options.margin).mul(keep).sum().div(count) as tf.Scalar;
  });
}

/** How {@link crossModalTriplet} picks triplets for an anchor. */
export type CrossModalMining =
  /** Every valid (positive, negative) pair of the anchor (cmGAN Eq. 2 sums over all). */
  | "all"
  /** The farthest positive and the nearest negative of the other modality. */
  | "hardest"
  /** One positive and one negative drawn at random (needs `rng`). */
  | "randomOne";

/** Options of {@link crossModalTriplet}. */
export interface CrossModalTripletOptions {
  /** Hinge margin ξ (cmGAN: 1.4) or "soft". */
  margin: TripletMargin;
  /** Default "all". */
  mining?: CrossModalMining;
  /** Squared Euclidean distances, D² as in cmGAN Eq. 2 (default true). */
  squared?: boolean;
  /** L2-normalise embeddings first, so D² ∈ [0, 4] (cmGAN's reading, lib/papers/cmgan/README.md, 'Losses'; default false). */
  normalize?: boolean;
  /**
   * "mean" (default): mean over the triplets of each direction, then the two
   * directions added; "sum": the paper's literal Σ over all triplets.
   */
  reduction?: "mean" | "sum";
  /** The generator for `mining: "randomOne"`. */
  rng?: Rng;
}

/**
 * cmGAN's cross-modality triplet loss (Eqs. 2–4): triplets (a, p, n) with the
 * anchor in one modality and both the positive (same identity) and the negative
 * (another identity) in the other; ℓ = ℓ_{V→I} + ℓ_{I→V}, each over
 * [D²_ap − D²_an + ξ]₊. `a` are the RGB embeddings [Na, d] with `labelsA`, `b` the
 * infrared ones [Nb, d] with `labelsB`. An anchor whose identity is absent from
 * the other modality, or which has no negative there, forms no triplet.
 */
export function crossModalTriplet(
  a: tf.Tensor2D,
  labelsA: LabelArray,
  b: tf.Tensor2D,
  labelsB: LabelArray,
  options: CrossModalTripletOptions,
): tf.Scalar {
  if (labelsA.length !== a.shape[0] || labelsB.length !== b.shape[0]) {
    throw new Error(
      `crossModalTriplet: embeddings [${a.shape}] / [${b.shape}] but ${labelsA.length} / ` +
        `${labelsB.length} labels`,
    );
  }
  const mining = options.mining ?? "all";
  if (mining === "randomOne" && !options.rng) {
    throw new Error('crossModalTriplet: mining "randomOne" needs an rng');
  }
  return tf.tidy(() => {
    const xa = options.normalize ? l2Normalize(a) : a;
    const xb = options.normalize ? l2Normalize(b) : b;
    const dist = (options.squared ?? true)
      ? pairwiseSquaredDistance(xa, xb)
      : pairwiseDistance(xa, xb);
    const ab = oneDirection(dist, labelsA, labelsB, mining, options);
    const ba = oneDirection(dist.transpose(), labelsB, labelsA, mining, options);
    return ab.add(ba) as tf.Scalar;
  });
}

function oneDirection(
  dist: tf.Tensor2D,
  anchorLabels: LabelArray,
  otherLabels: LabelArray,
  mining: CrossModalMining,
  options: CrossModalTripletOptions,
): tf.Scalar {
  const pos = sameLabelMask(anchorLabels, otherLabels);
  const neg = pos.map((row) => row.map((same) => !same));
  const valid = pos.map((row, i) => row.some(Boolean) && neg[i].some(Boolean));
  const mean = (options.reduction ?? "mean") === "mean";
  if (mining === "all") {
    // [Na, P, N] grid of every (positive, negative) pair per anchor.
    const triplets: number[][][] = pos.map((prow, i) =>
      prow.map((isPos) => neg[i].map((isNeg) => (isPos && isNeg ? 1 : 0)))
    );
    const count = triplets.flat(2).reduce((s, v) => s + v, 0);
    if (count === 0) return tf.scalar(0);
    const gap = dist.expandDims(2).sub(dist.expandDims(1));
    const losses = hinge(gap, options.margin).mul(tf.tensor3d(triplets));
    return (mean ? losses.sum().div(count) : losses.sum()) as tf.Scalar;
  }
  const count = valid.filter(Boolean).length;
  if (count === 0) return tf.scalar(0);
  let dap: tf.Tensor1D, dan: tf.Tensor1D;
  if (mining === "hardest") {
    ({ dap, dan } = hardest(dist, pos, neg));
  } else {
    const rng = options.rng as Rng;
    const pick = (mask: boolean[][]) =>
      mask.map((row) => {
        const idx = row.flatMap((v, j) => (v ? [j] : []));
        const chosen = idx.length > 0 ? rng.choice(idx) : -1;
        return row.map((_, j) => (j === chosen ? 1 : 0));
      });
    dap = dist.mul(tf.tensor2d(pick(pos))).sum(1);
    dan = dist.mul(tf.tensor2d(pick(neg))).sum(1);
  }
  const keep = tf.tensor1d(valid.map((v) => (v ? 1 : 0)));
  const losses = hinge(dap.sub(dan), options.margin).mul(keep);
  return (mean ? losses.sum().div(count) : losses.sum()) as tf.Scalar;
}

/**
 * The hetero-centre triplet loss (HcTri; PAENet's L_Hc-Tri, official
 * `CenterTripletLoss`): the centre of each identity in each modality (mean of
 * its embeddings), then batch-hard triplet over the 2P centres with Euclidean
 * distances — d_ap is the distance between an identity's two modality centres,
 * d_an the nearest centre of another identity in either modality;
 * loss = (1/2P) Σ_u [ρ + d_ap(u) − d_an(u)]₊ (ρ = 0.3 in PAENet).
 * Every identity must appear in both modalities.
 */
export function heteroCenterTriplet(
  visible: tf.Tensor2D,
  labelsVisible: LabelArray,
  infrared: tf.Tensor2D,
  labelsInfrared: LabelArray,
  options: { margin: number } = { margin: 0.3 },
): tf.Scalar {
  const ids = [...new Set(Array.from(labelsVisible))];
  const idsIr = new Set(Array.from(labelsInfrared));
  if (ids.length !== idsIr.size || ids.some((id) => !idsIr.has(id))) {
    throw new Error("heteroCenterTriplet: every identity must appear in both modalities");
  }
  const averaging = (labels: LabelArray) =>
    ids.map((id) => {
      const k = Array.from(labels).filter((l) => l === id).length;
      return Array.from(labels, (l) => (l === id ? 1 / k : 0));
    });
  return tf.tidy(() => {
    const cv = tf.matMul(tf.tensor2d(averaging(labelsVisible)), visible);
    const ct = tf.matMul(tf.tensor2d(averaging(labelsInfrared)), infrared);
    return batchHardTriplet(tf.concat([cv, ct]) as tf.Tensor2D, [...ids, ...ids], {
      margin: options.margin,
    });
  });
}
