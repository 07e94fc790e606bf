/**
 * 2-D embeddings of feature vectors for plots: PCA (tfjs) and exact t-SNE.
 *
 * Both are deterministic: PCA starts its subspace iteration from a fixed
 * stream and fixes each component's sign (the score of largest magnitude is
 * positive, scikit-learn's `svd_flip` convention); t-SNE draws its start from
 * a caller-given {@link Rng} and otherwise runs in plain float64 JavaScript.
 *
 * t-SNE is implemented here rather than taken from npm: the maintained
 * package (`@saehrimnir/druidjs`) would be a new dependency with its own
 * randomiser, and the exact O(N²) method is short and fast enough for the
 * ≤ 2,000 points a notebook plot shows.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../runtime/random.ts";
import type { DenseMatrix } from "./distance.ts";

/** A 2-D (or k-D) embedding: `data[i * dims + c]`. */
export interface Embedding {
  data: Float32Array;
  rows: number;
  dims: number;
}

/** What {@link pca} returns. */
export interface PcaResult extends Embedding {
  /** Variance along each component, and its fraction of the total variance. */
  explainedVariance: number[];
  explainedVarianceRatio: number[];
}

/** Options of {@link pca}. */
export interface PcaOptions {
  /** Components kept (default 2). */
  dims?: number;
  /** Subspace-iteration cap (default 100); stops earlier once the eigenvalues settle. */
  maxIterations?: number;
}

/**
 * Principal-component scores of the rows of `x`. The top eigenvectors of the
 * covariance are found by subspace iteration with products Xᵀ(X·Q) in tfjs
 * (the covariance itself is never formed: 2·N·D·(k+6) flops per step) and a
 * small orthonormalisation and Rayleigh–Ritz step in JavaScript. Components
 * whose variances nearly tie converge slowly; `maxIterations` bounds the cost
 * (for a plot, a rotation within such a near-tie is immaterial). Every tensor
 * made here is disposed.
 */
export async function pca(x: DenseMatrix, options: PcaOptions = {}): Promise<PcaResult> {
  const { rows: n, cols: d } = x;
  const k = options.dims ?? 2;
  if (x.data.length !== n * d) {
    throw new Error(`pca: data has ${x.data.length} values, expected ${n} × ${d}`);
  }
  if (!Number.isInteger(k) || k < 1 || k > Math.min(n, d)) {
    throw new Error(`pca: dims must be in 1..${Math.min(n, d)} (rows ${n}, columns ${d})`);
  }
  const centred = tf.tidy(() => {
    const t = tf.tensor2d(x.data, [n, d]);
    return tf.sub(t, tf.mean(t, 0, true)) as tf.Tensor2D;
  });
  // Kept transposed as well: matMul with transposeA is ~10× slower on wasm for these shapes.
  const centredT = tf.transpose(centred) as tf.Tensor2D;
  try {
    const totalT = tf.tidy(() => tf.sum(tf.square(centred)));
    const total = (await totalT.data())[0];
    totalT.dispose();
    // Oversampling speeds convergence of the leading k eigenvectors.
    const p = Math.min(d, k + 6);
    const init = new Rng(0x5ca1ab1e).normalArray(d * p);
    let basis = orthonormalColumns(Float64Array.from(init), d, p);
    let previous: number[] = [];
    const maxIterations = options.maxIterations ?? 100;
    for (let it = 0; it < maxIterations; it++) {
      const product = await scatterTimes(centred, centredT, basis, d, p);
      if (it % 5 === 4) {
        const values = ritz(product, basis, d, p).values.slice(0, k);
        const settled = previous.length > 0 &&
          values.every((v, i) => Math.abs(v - previous[i]) <= 1e-7 * Math.max(1e-30, Math.abs(v)));
        previous = values;
        if (settled) break;
      }
      basis = orthonormalColumns(product, d, p);
    }
    const { values, vectors } = ritz(
      await scatterTimes(centred, centredT, basis, d, p),
      basis,
      d,
      p,
    );
    // Components: basis · (Ritz vectors), d × k.
    const comps = new Float32Array(d * k);
    for (let r = 0; r < d; r++) {
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < p; j++) s += basis[r * p + j] * vectors[j * p + c];
        comps[r * k + c] = s;
      }
    }
    const scoresT = tf.tidy(() => tf.matMul(centred, tf.tensor2d(comps, [d, k])));
    const scores = Float64Array.from(await scoresT.data());
    scoresT.dispose();
    for (let c = 0; c < k; c++) {
      let best = 0;
      for (let i = 0; i < n; i++) {
        if (Math.abs(scores[i * k + c]) > Math.abs(best)) best = scores[i * k + c];
      }
      if (best < 0) { for (let i = 0; i < n; i++) scores[i * k + c] = -scores[i * k + c]; }
    }
    const variance = values.slice(0, k).map((v) => Math.max(0, v) / Math.max(1, n - 1));
    const totalVariance = total / Math.max(1, n - 1);
    return {
      data: Float32Array.from(scores),
      rows: n,
      dims: k,
      explainedVariance: variance,
      explainedVarianceRatio: variance.map((v) => (totalVariance > 0 ? v / totalVariance : 0)),
    };
  } finally {
    tf.dispose([centred, centredT]);
  }
}

/** Xcᵀ (Xc · Q) for the centred data Xc (n × d) and Q (d × p, row-major JS), as float64. */
async function scatterTimes(
  centred: tf.Tensor2D,
  centredT: tf.Tensor2D,
  basis: Float64Array,
  d: number,
  p: number,
): Promise<Float64Array> {
  const y = tf.tidy(() => {
    const q = tf.tensor2d(Float32Array.from(basis), [d, p]);
    return tf.matMul(centredT, tf.matMul(centred, q));
  });
  try {
    return Float64Array.from(await y.data());
  } finally {
    y.dispose();
  }
}

/** Modified Gram–Schmidt on the columns of a row-major m × p matrix. */
function orthonormalColumns(a: Float64Array, m: number, p: number): Float64Array {
  const q = Float64Array.from(a);
  let refill: Rng | null = null;
  for (let c = 0; c < p; c++) {
    for (let prev = 0; prev < c; prev++) {
      let dot = 0;
      for (let r = 0; r < m; r++) dot += q[r * p + c] * q[r * p + prev];
      for (let r = 0; r < m; r++) q[r * p + c] -= dot * q[r * p + prev];
    }
    let norm = 0;
    for (let r = 0; r < m; r++) norm += q[r * p + c] ** 2;
    norm = Math.sqrt(norm);
    if (norm < 1e-150) {
      // The column collapsed (rank-deficient data): restart it from a fixed random direction.
      refill ??= new Rng(0x0b5e55ed);
      for (let r = 0; r < m; r++) q[r * p + c] = refill.normal();
      c--;
      continue;
    }
    for (let r = 0; r < m; r++) q[r * p + c] /= norm;
  }
  return q;
}

/** Rayleigh–Ritz: eigenpairs of Qᵀ S Q (p × p), given S·Q, sorted by decreasing eigenvalue. */
function ritz(sq: Float64Array, q: Float64Array, m: number, p: number) {
  const t = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let r = 0; r < m; r++) s += q[r * p + i] * sq[r * p + j];
      t[i * p + j] = s;
    }
  }
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < i; j++) t[i * p + j] = t[j * p + i] = (t[i * p + j] + t[j * p + i]) / 2;
  }
  return jacobiEigen(t, p);
}

/** Options of {@link jacobiEigen}. */
export interface JacobiOptions {
  /** Stop after this many sweeps (default 100). */
  maxSweeps?: number;
  /** Stop when the squared off-diagonal mass falls below this (default 1e-30). */
  tolerance?: number;
  /** Order eigenpairs by decreasing eigenvalue (default true); false keeps the diagonal's order. */
  sorted?: boolean;
}

/** Cyclic Jacobi eigen-decomposition of a small symmetric matrix; vectors in columns. */
export function jacobiEigen(
  matrix: Float64Array,
  p: number,
  options: JacobiOptions = {},
): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(p * p);
  for (let i = 0; i < p; i++) v[i * p + i] = 1;
  const maxSweeps = options.maxSweeps ?? 100;
  const tolerance = options.tolerance ?? 1e-30;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) off += a[i * p + j] ** 2;
    if (off < tolerance) break;
    for (let i = 0; i < p; i++) {
      for (let j = i + 1; j < p; j++) {
        const aij = a[i * p + j];
        if (Math.abs(aij) < 1e-300) continue;
        const theta = (a[j * p + j] - a[i * p + i]) / (2 * aij);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < p; k++) {
          const aki = a[k * p + i], akj = a[k * p + j];
          a[k * p + i] = c * aki - s * akj;
          a[k * p + j] = s * aki + c * akj;
        }
        for (let k = 0; k < p; k++) {
          const aik = a[i * p + k], ajk = a[j * p + k];
          a[i * p + k] = c * aik - s * ajk;
          a[j * p + k] = s * aik + c * ajk;
        }
        for (let k = 0; k < p; k++) {
          const vki = v[k * p + i], vkj = v[k * p + j];
          v[k * p + i] = c * vki - s * vkj;
          v[k * p + j] = s * vki + c * vkj;
        }
      }
    }
  }
  if (options.sorted === false) {
    return { values: Array.from({ length: p }, (_, i) => a[i * p + i]), vectors: v };
  }
  const order = Array.from({ length: p }, (_, i) => i).sort((x, y) => a[y * p + y] - a[x * p + x]);
  const vectors = new Float64Array(p * p);
  order.forEach((src, dst) => {
    for (let k = 0; k < p; k++) vectors[k * p + dst] = v[k * p + src];
  });
  return { values: order.map((i) => a[i * p + i]), vectors };
}

/** Options of {@link tsne}. */
export interface TsneOptions {
  /** Effective number of neighbours (default 30; lowered to (N − 1) / 3 for small N). */
  perplexity?: number;
  /** Gradient steps (default 750). */
  iterations?: number;
  /** Early exaggeration factor and its length (defaults 12 and 250 steps). */
  exaggeration?: number;
  exaggerationIterations?: number;
  /** Step size (default max(N / exaggeration, 50), as openTSNE / scikit-learn "auto"). */
  learningRate?: number;
  /** Inputs wider than this are first reduced by {@link pca} (default 50). */
  pcaDims?: number;
  /** Start: "pca" (scaled PCA scores, default) or "random" (N(0, 1e-4²) from the rng). */
  init?: "pca" | "random";
}

const TSNE_MAX_POINTS = 2000;

/**
 * Exact t-SNE (van der Maaten & Hinton 2008) in two dimensions, with the
 * usual optimiser: perplexity-calibrated Gaussian affinities, symmetrised;
 * early exaggeration; momentum 0.5 then 0.8; per-coordinate adaptive gains.
 * Deterministic for a given `rng` state; at most 2,000 points.
 *
 * @see notebooks/00_introduction.ipynb §5 (the feature space)
 */
export async function tsne(
  x: DenseMatrix,
  rng: Rng,
  options: TsneOptions = {},
): Promise<Embedding> {
  const n = x.rows;
  if (x.data.length !== n * x.cols) {
    throw new Error(`tsne: data has ${x.data.length} values, expected ${n} × ${x.cols}`);
  }
  if (n < 4) throw new Error(`tsne: needs at least 4 points, got ${n}`);
  if (n > TSNE_MAX_POINTS) {
    throw new Error(
      `tsne: exact t-SNE is limited to ${TSNE_MAX_POINTS} points, got ${n}; subsample first`,
    );
  }
  const pcaDims = options.pcaDims ?? 50;
  // A few subspace steps suffice to keep the neighbourhoods t-SNE looks at.
  const reduced = x.cols > pcaDims
    ? await pca(x, { dims: Math.min(pcaDims, n), maxIterations: 8 })
    : null;
  const feats = reduced
    ? { data: reduced.data, cols: reduced.dims }
    : { data: x.data, cols: x.cols };
  const perplexity = Math.min(options.perplexity ?? 30, (n - 1) / 3);
  const P = affinities(feats.data, n, feats.cols, perplexity);

  const exaggeration = options.exaggeration ?? 12;
  const exIters = options.exaggerationIterations ?? 250;
  const iterations = options.iterations ?? 750;
  const lr = options.learningRate ?? Math.max(n / exaggeration, 50);
  const y = new Float64Array(n * 2);
  if ((options.init ?? "pca") === "pca") {
    const start = reduced && reduced.dims >= 2 ? reduced : await pca(
      { data: feats.data, rows: n, cols: feats.cols },
      { dims: 2 },
    );
    const k = start.dims;
    let sd = 0;
    for (let i = 0; i < n; i++) sd += start.data[i * k] ** 2;
    sd = Math.sqrt(sd / n) || 1;
    // Scaled to std 1e-4 as the random start; a tiny jitter from rng breaks exact duplicates.
    for (let i = 0; i < n; i++) {
      y[2 * i] = (start.data[i * k] / sd) * 1e-4 + rng.normal(0, 1e-8);
      y[2 * i + 1] = (start.data[i * k + 1] / sd) * 1e-4 + rng.normal(0, 1e-8);
    }
  } else {
    for (let i = 0; i < 2 * n; i++) y[i] = rng.normal(0, 1e-4);
  }
  const update = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const grad = new Float64Array(2 * n);
  // Attractive and repulsive sums, accumulated over each pair once (i < j); the gradient is
  // 4·(ex·Σⱼ pᵢⱼ qᵢⱼ (yᵢ − yⱼ) − Σⱼ qᵢⱼ² (yᵢ − yⱼ) / Z) with qᵢⱼ = 1 / (1 + ‖yᵢ − yⱼ‖²).
  const attract = new Float64Array(2 * n);
  const repulse = new Float64Array(2 * n);
  for (let it = 0; it < iterations; it++) {
    const ex = it < exIters ? exaggeration : 1;
    attract.fill(0);
    repulse.fill(0);
    let z = 0;
    for (let i = 0; i < n; i++) {
      const yi0 = y[2 * i], yi1 = y[2 * i + 1];
      let a0 = 0, a1 = 0, r0 = 0, r1 = 0;
      const rowP = i * n;
      for (let j = i + 1; j < n; j++) {
        const d0 = yi0 - y[2 * j], d1 = yi1 - y[2 * j + 1];
        const q = 1 / (1 + d0 * d0 + d1 * d1);
        z += q;
        const a = ex * P[rowP + j] * q;
        const r = q * q;
        a0 += a * d0;
        a1 += a * d1;
        r0 += r * d0;
        r1 += r * d1;
        attract[2 * j] -= a * d0;
        attract[2 * j + 1] -= a * d1;
        repulse[2 * j] -= r * d0;
        repulse[2 * j + 1] -= r * d1;
      }
      attract[2 * i] += a0;
      attract[2 * i + 1] += a1;
      repulse[2 * i] += r0;
      repulse[2 * i + 1] += r1;
    }
    z *= 2;
    for (let c = 0; c < 2 * n; c++) grad[c] = 4 * (attract[c] - repulse[c] / z);
    const momentum = it < exIters ? 0.5 : 0.8;
    for (let c = 0; c < 2 * n; c++) {
      gains[c] = Math.sign(grad[c]) !== Math.sign(update[c]) ? gains[c] + 0.2 : gains[c] * 0.8;
      if (gains[c] < 0.01) gains[c] = 0.01;
      update[c] = momentum * update[c] - lr * gains[c] * grad[c];
      y[c] += update[c];
    }
    // Keep the embedding centred.
    let m0 = 0, m1 = 0;
    for (let i = 0; i < n; i++) {
      m0 += y[2 * i];
      m1 += y[2 * i + 1];
    }
    m0 /= n;
    m1 /= n;
    for (let i = 0; i < n; i++) {
      y[2 * i] -= m0;
      y[2 * i + 1] -= m1;
    }
  }
  return { data: Float32Array.from(y), rows: n, dims: 2 };
}

/**
 * Symmetrised t-SNE input affinities P (n × n, sums to 1): per point, a
 * Gaussian over squared distances whose bandwidth is found by bisection so
 * that the conditional distribution's perplexity 2^H equals `perplexity`.
 */
export function affinities(
  data: ArrayLike<number>,
  n: number,
  dim: number,
  perplexity: number,
): Float64Array {
  const d2 = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += (data[i * dim + k] - data[j * dim + k]) ** 2;
      d2[i * n + j] = d2[j * n + i] = s;
    }
  }
  const target = Math.log(perplexity);
  const cond = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let beta = 1, lo = -Infinity, hi = Infinity;
    // Distances relative to the nearest neighbour keep exp() in range.
    let dmin = Infinity;
    for (let j = 0; j < n; j++) if (j !== i && d2[i * n + j] < dmin) dmin = d2[i * n + j];
    for (let step = 0; step < 200; step++) {
      let sum = 0, weighted = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const w = Math.exp(-beta * (d2[i * n + j] - dmin));
        cond[i * n + j] = w;
        sum += w;
        weighted += w * (d2[i * n + j] - dmin);
      }
      const entropy = Math.log(sum) + (beta * weighted) / sum;
      for (let j = 0; j < n; j++) if (j !== i) cond[i * n + j] /= sum;
      const diff = entropy - target;
      if (Math.abs(diff) < 1e-5) break;
      if (diff > 0) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2;
      }
    }
  }
  const P = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      P[i * n + j] = Math.max((cond[i * n + j] + cond[j * n + i]) / (2 * n), 1e-12);
    }
    P[i * n + i] = 0;
  }
  return P;
}
