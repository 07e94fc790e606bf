/**
 * Attribute → image retrieval scored end to end (AAIPR, SAL): the distinct attribute vectors of
 * an evaluation split are the queries, every image of the split is the gallery, and a gallery
 * image matches a query when its whole attribute vector equals the query's (its semantic ID or
 * attribute category). Distances between query and gallery features, then first-match CMC and
 * AP under {@link attributeQuery}.
 *
 * Also a modality two-sample test: how well a fresh logistic regression tells two sets of
 * embeddings apart on held-out points (50 % = indistinguishable), AAIPR's mechanism check.
 *
 * @see notebooks/aaipr.ipynb §5
 * @module
 */
import { type DenseMatrix, type DistanceMetric, pairwiseDistance } from "./distance.ts";
import { type EvalResult, evaluate } from "./evaluate.ts";
import { attributeQuery, type EvalItem } from "./protocols.ts";
import type { Rng } from "../runtime/random.ts";

/** The queries of an attribute-query evaluation: one per distinct attribute vector. */
export interface AttributeQueries {
  /** The distinct vectors, row-major [numQueries × dim]. */
  vectors: Float32Array;
  dim: number;
  /** Each query's category key (the vector as a string), in row order. */
  keys: string[];
  /** Gallery rows of each query's category (its relevant set). */
  positives: number[][];
}

/**
 * One query per distinct vector of `keys` (in order of first appearance), its vector taken
 * from `attributes` (row-major, `dim` per row; rows aligned with `keys`).
 */
export function distinctAttributeQueries(
  attributes: ArrayLike<number>,
  dim: number,
  keys: readonly string[],
): AttributeQueries {
  if (attributes.length !== keys.length * dim) {
    throw new Error(
      `distinctAttributeQueries: ${attributes.length} values for ${keys.length} rows of ${dim}`,
    );
  }
  const first = new Map<string, number>();
  const positives = new Map<string, number[]>();
  keys.forEach((k, row) => {
    if (!first.has(k)) first.set(k, row);
    (positives.get(k) ?? positives.set(k, []).get(k)!).push(row);
  });
  const order = [...first.keys()];
  const vectors = new Float32Array(order.length * dim);
  order.forEach((k, q) => {
    const row = first.get(k)!;
    for (let j = 0; j < dim; j++) vectors[q * dim + j] = attributes[row * dim + j];
  });
  return { vectors, dim, keys: order, positives: order.map((k) => positives.get(k)!) };
}

/** What {@link scoreAttributeQueries} returns. */
export interface AttributeQueryScore {
  result: EvalResult;
  /** r1, r5, r10 and mAP in percent. */
  metrics: { r1: number; r5: number; r10: number; mAP: number };
  dist: DenseMatrix;
  /** Mean relevant images per query ÷ gallery size: the expected rank-1 of a random ranking. */
  chanceR1: number;
}

/**
 * Scores query features (one row per query, aligned with `queryKeys`) against gallery features
 * (aligned with `galleryKeys`): a match is a gallery row with the query's key. Cosine distance
 * by default (AAIPR's affinity).
 */
export async function scoreAttributeQueries(
  queryFeatures: DenseMatrix,
  queryKeys: readonly string[],
  galleryFeatures: DenseMatrix,
  galleryKeys: readonly string[],
  options: { metric?: DistanceMetric; perQuery?: boolean } = {},
): Promise<AttributeQueryScore> {
  if (queryFeatures.rows !== queryKeys.length || galleryFeatures.rows !== galleryKeys.length) {
    throw new Error(
      `scoreAttributeQueries: ${queryFeatures.rows} query rows for ${queryKeys.length} keys, ` +
        `${galleryFeatures.rows} gallery rows for ${galleryKeys.length} keys`,
    );
  }
  const dist = await pairwiseDistance(queryFeatures, galleryFeatures, options.metric ?? "cosine");
  const q: EvalItem[] = queryKeys.map((category) => ({ pid: -1, camid: 0, category }));
  const g: EvalItem[] = galleryKeys.map((category, i) => ({ pid: i, camid: 1, category }));
  const result = evaluate(dist, q, g, attributeQuery(), { perQuery: options.perQuery });
  const counts = new Map<string, number>();
  for (const k of galleryKeys) counts.set(k, (counts.get(k) ?? 0) + 1);
  const meanPositives = queryKeys.reduce((s, k) => s + (counts.get(k) ?? 0), 0) / queryKeys.length;
  const r = (k: number) => 100 * result.cmc[Math.min(k, result.cmc.length) - 1];
  return {
    result,
    metrics: { r1: r(1), r5: r(5), r10: r(10), mAP: 100 * result.mAP },
    dist,
    chanceR1: 100 * meanPositives / galleryKeys.length,
  };
}

/**
 * Held-out accuracy (percent) of an L2-regularised logistic regression separating the rows of
 * `a` from the rows of `b` (same width): each set is split in half by `rng`, the classifier is
 * fitted by full-batch gradient descent on standardised features of the first halves, and scored
 * on the second halves, balanced (the mean of the two sets' accuracies). 50 means the two sets
 * cannot be told apart by a linear classifier; 100 means they are linearly separable.
 */
export function twoSampleAccuracy(
  a: DenseMatrix,
  b: DenseMatrix,
  rng: Rng,
  options: { steps?: number; lr?: number; l2?: number } = {},
): number {
  if (a.cols !== b.cols) {
    throw new Error(`twoSampleAccuracy: widths differ (${a.cols} and ${b.cols})`);
  }
  if (a.rows < 2 || b.rows < 2) throw new Error("twoSampleAccuracy: each set needs ≥ 2 rows");
  const d = a.cols;
  const halves = (m: DenseMatrix) => {
    const order = rng.shuffle(Array.from({ length: m.rows }, (_, i) => i));
    const cut = Math.floor(m.rows / 2);
    return { fit: order.slice(0, cut), test: order.slice(cut) };
  };
  const ha = halves(a);
  const hb = halves(b);
  // Standardise on the fitting rows of both sets.
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  const fitRows: [DenseMatrix, number][] = [
    ...ha.fit.map((r): [DenseMatrix, number] => [a, r]),
    ...hb.fit.map((r): [DenseMatrix, number] => [b, r]),
  ];
  for (const [m, r] of fitRows) for (let j = 0; j < d; j++) mean[j] += m.data[r * d + j];
  for (let j = 0; j < d; j++) mean[j] /= fitRows.length;
  for (const [m, r] of fitRows) {
    for (let j = 0; j < d; j++) sd[j] += (m.data[r * d + j] - mean[j]) ** 2;
  }
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j] / fitRows.length) || 1;
  const x = (m: DenseMatrix, r: number, j: number) => (m.data[r * d + j] - mean[j]) / sd[j];
  const w = new Float64Array(d);
  let bias = 0;
  const steps = options.steps ?? 300;
  const lr = options.lr ?? 0.5;
  const l2 = options.l2 ?? 1e-3;
  // Each set weighs one half of the loss, whatever its size.
  const weightOf = (m: DenseMatrix) => 0.5 / (m === a ? ha.fit.length : hb.fit.length);
  const grad = new Float64Array(d);
  for (let s = 0; s < steps; s++) {
    grad.fill(0);
    let gb = 0;
    for (const [m, r] of fitRows) {
      let z = bias;
      for (let j = 0; j < d; j++) z += w[j] * x(m, r, j);
      const p = 1 / (1 + Math.exp(-z));
      const err = (p - (m === a ? 1 : 0)) * weightOf(m);
      for (let j = 0; j < d; j++) grad[j] += err * x(m, r, j);
      gb += err;
    }
    for (let j = 0; j < d; j++) w[j] -= lr * (grad[j] + l2 * w[j]);
    bias -= lr * gb;
  }
  const accuracy = (m: DenseMatrix, rows: number[], label: number) => {
    let right = 0;
    for (const r of rows) {
      let z = bias;
      for (let j = 0; j < d; j++) z += w[j] * x(m, r, j);
      if ((z > 0 ? 1 : 0) === label) right++;
    }
    return right / rows.length;
  };
  return 50 * (accuracy(a, ha.test, 1) + accuracy(b, hb.test, 0));
}
