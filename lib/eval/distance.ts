/**
 * Query × gallery distance matrices computed in tfjs, a block of query rows at
 * a time so that only one block of the result lives on the backend at once.
 *
 * A Market-1501-sized problem (3,368 × 15,913, 2,048-d features) gives a
 * 214 MB Float32Array on the JavaScript side; on the backend it needs the
 * transposed gallery features (130 MB; the untransposed copy made from a
 * JavaScript array is freed first) plus one block (~64 MB by default).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** A dense row-major matrix on the JavaScript side. */
export interface DenseMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** A query × gallery distance matrix: `data[q * cols + g]`, smaller = more similar. */
export type DistanceMatrix = DenseMatrix;

/** Features given as a 2-D tensor (rows = items) or as a {@link DenseMatrix}. */
export type FeatureInput = tf.Tensor2D | DenseMatrix;

/** The distances {@link pairwiseDistance} computes. */
export type DistanceMetric = "sqeuclidean" | "euclidean" | "cosine";

/** Options of {@link pairwiseDistance}. */
export interface DistanceOptions {
  /**
   * Most result cells computed per block (default 2^24, 64 MB of float32).
   * The query block size is this divided by the gallery size.
   */
  maxBlockCells?: number;
}

function toTensor(input: FeatureInput, what: string): tf.Tensor2D {
  if (input instanceof tf.Tensor) {
    if (input.rank !== 2) throw new Error(`${what}: expected a 2-D tensor, got rank ${input.rank}`);
    return input;
  }
  const { data, rows, cols } = input;
  if (data.length !== rows * cols) {
    throw new Error(
      `${what}: data has ${data.length} values, expected rows × cols = ${rows * cols}`,
    );
  }
  return tf.tensor2d(data, [rows, cols], "float32");
}

/**
 * Distances between every query row and every gallery row.
 *
 * - `sqeuclidean`: ‖q‖² + ‖g‖² − 2 q·g, clamped at 0 (the expansion torchreid's
 *   `euclidean_squared_distance` uses; rounding can make it slightly negative).
 * - `euclidean`: the square root of that.
 * - `cosine`: 1 − q·g / (‖q‖ ‖g‖); a zero vector has distance 1 to everything.
 *
 * Tensors passed in are not disposed; every tensor made here is.
 */
export async function pairwiseDistance(
  query: FeatureInput,
  gallery: FeatureInput,
  metric: DistanceMetric = "sqeuclidean",
  options: DistanceOptions = {},
): Promise<DistanceMatrix> {
  const q = toTensor(query, "pairwiseDistance query");
  const g = toTensor(gallery, "pairwiseDistance gallery");
  const made: tf.Tensor[] = [];
  if (q !== query) made.push(q);
  if (g !== gallery) made.push(g);
  try {
    const [numQ, dim] = q.shape;
    const [numG, gDim] = g.shape;
    if (dim !== gDim) {
      throw new Error(
        `pairwiseDistance: query features have ${dim} dimensions, gallery features ${gDim}`,
      );
    }
    const out = new Float32Array(numQ * numG);
    if (numQ === 0 || numG === 0) return { data: out, rows: numQ, cols: numG };
    const maxCells = options.maxBlockCells ?? 1 << 24;
    const block = Math.max(1, Math.min(numQ, Math.floor(maxCells / numG)));

    // Gallery-side terms are computed once and reused by every block. The gallery is kept
    // transposed (dim × numG): on wasm, matMul with transposeB re-transposes the whole
    // gallery per call, ~20× slower at Market scale.
    const gT = tf.tidy(() => tf.transpose(metric === "cosine" ? unitRows(g) : g) as tf.Tensor2D);
    made.push(gT);
    const gNorms = metric === "cosine"
      ? null
      : tf.tidy(() => g.square().sum(1).reshape([1, numG]) as tf.Tensor2D);
    if (gNorms) made.push(gNorms);
    if (g !== gallery) {
      // Our own copy of the gallery is no longer needed: free it before the blocks run.
      g.dispose();
      made.splice(made.indexOf(g), 1);
    }
    for (let start = 0; start < numQ; start += block) {
      const size = Math.min(block, numQ - start);
      const part = tf.tidy(() => {
        const qb = q.slice([start, 0], [size, dim]);
        if (metric === "cosine") return tf.sub(1, tf.matMul(unitRows(qb), gT));
        const qq = qb.square().sum(1).reshape([size, 1]);
        const cross = tf.matMul(qb, gT);
        const sq = tf.relu(tf.sub(tf.add(qq, gNorms!), tf.mul(2, cross)));
        return metric === "euclidean" ? tf.sqrt(sq) : sq;
      });
      try {
        out.set(await part.data() as Float32Array, start * numG);
      } finally {
        part.dispose();
      }
    }
    return { data: out, rows: numQ, cols: numG };
  } finally {
    for (const t of made) t.dispose();
  }
}

/** Rows scaled to unit L2 norm; all-zero rows stay zero. */
function unitRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const norm = x.square().sum(1, true).sqrt();
    return tf.div(x, tf.maximum(norm, 1e-12)) as tf.Tensor2D;
  });
}
