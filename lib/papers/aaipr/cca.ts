/**
 * Regularised linear CCA (Hotelling 1936), the cheap stand-in for Table 2's DeepCCA rows
 * (lib/papers/aaipr/README.md, 'Rows'): projections of image features X and attribute vectors
 * Y that maximise the correlation of paired rows, with a ridge on both covariances. Small dense
 * linear algebra in plain JavaScript (the Jacobi eigen-decomposition of lib/eval/embed2d.ts, at
 * most ~100×100).
 *
 * @module
 */
import type { DenseMatrix } from "../../eval/distance.ts";
import { jacobiEigen } from "../../eval/embed2d.ts";

/** The sweeps and tolerance the stored CCA cells were computed with, eigenpairs unsorted. */
const CCA_JACOBI = { maxSweeps: 60, tolerance: 1e-22, sorted: false };

function covariance(x: DenseMatrix, mean: Float64Array, y: DenseMatrix, meanY: Float64Array) {
  const out = new Float64Array(x.cols * y.cols);
  for (let r = 0; r < x.rows; r++) {
    for (let i = 0; i < x.cols; i++) {
      const xi = x.data[r * x.cols + i] - mean[i];
      for (let j = 0; j < y.cols; j++) {
        out[i * y.cols + j] += xi * (y.data[r * y.cols + j] - meanY[j]);
      }
    }
  }
  for (let k = 0; k < out.length; k++) out[k] /= Math.max(1, x.rows - 1);
  return out;
}

function columnMean(x: DenseMatrix): Float64Array {
  const m = new Float64Array(x.cols);
  for (let r = 0; r < x.rows; r++) for (let j = 0; j < x.cols; j++) m[j] += x.data[r * x.cols + j];
  for (let j = 0; j < x.cols; j++) m[j] /= x.rows;
  return m;
}

/** C^{-1/2} of a symmetric positive definite matrix (with `ridge` added to its diagonal). */
function inverseSqrt(c: Float64Array, n: number, ridge: number): Float64Array {
  const a = Float64Array.from(c);
  for (let i = 0; i < n; i++) a[i * n + i] += ridge;
  const { values, vectors } = jacobiEigen(a, n, CCA_JACOBI);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const s = 1 / Math.sqrt(Math.max(values[k], 1e-12));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) out[i * n + j] += vectors[i * n + k] * s * vectors[j * n + k];
    }
  }
  return out;
}

function matMul(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      for (let j = 0; j < m; j++) out[i * m + j] += aip * b[p * m + j];
    }
  }
  return out;
}

/** A fitted CCA: project either side into the shared `components`-d space. */
export interface LinearCca {
  projectX(x: DenseMatrix): DenseMatrix;
  projectY(y: DenseMatrix): DenseMatrix;
  /** The canonical correlations, largest first. */
  correlations: number[];
}

/** Fits regularised CCA on paired rows of `x` and `y`, keeping `components` directions. */
export function linearCca(
  x: DenseMatrix,
  y: DenseMatrix,
  components: number,
  ridge: number,
): LinearCca {
  if (x.rows !== y.rows) throw new Error(`linearCca: ${x.rows} rows of X, ${y.rows} of Y`);
  const dx = x.cols, dy = y.cols;
  const mx = columnMean(x), my = columnMean(y);
  const wx = inverseSqrt(covariance(x, mx, x, mx), dx, ridge);
  const wy = inverseSqrt(covariance(y, my, y, my), dy, ridge);
  // T = Cxx^{-1/2} Cxy Cyy^{-1/2}; its right singular vectors are the eigenvectors of TᵀT.
  const t = matMul(matMul(wx, covariance(x, mx, y, my), dx, dx, dy), wy, dx, dy, dy);
  const tt = new Float64Array(dy * dy);
  for (let i = 0; i < dy; i++) {
    for (let j = 0; j < dy; j++) {
      let s = 0;
      for (let k = 0; k < dx; k++) s += t[k * dy + i] * t[k * dy + j];
      tt[i * dy + j] = s;
    }
  }
  const { values, vectors } = jacobiEigen(tt, dy, CCA_JACOBI);
  const order = Array.from(values.keys()).sort((a, b) => values[b] - values[a]);
  const k = Math.min(components, dx, dy);
  const kept = order.slice(0, k);
  const v = new Float64Array(dy * k);
  kept.forEach((c, j) => {
    for (let i = 0; i < dy; i++) v[i * k + j] = vectors[i * dy + c];
  });
  // U = T V / σ.
  const tv = matMul(t, v, dx, dy, k);
  const sigma = kept.map((c) => Math.sqrt(Math.max(values[c], 1e-12)));
  for (let i = 0; i < dx; i++) for (let j = 0; j < k; j++) tv[i * k + j] /= sigma[j];
  const ax = matMul(wx, tv, dx, dx, k);
  const ay = matMul(wy, v, dy, dy, k);
  const project = (m: DenseMatrix, mean: Float64Array, a: Float64Array, d: number) => {
    const out = new Float32Array(m.rows * k);
    for (let r = 0; r < m.rows; r++) {
      for (let p = 0; p < d; p++) {
        const c = m.data[r * d + p] - mean[p];
        for (let j = 0; j < k; j++) out[r * k + j] += c * a[p * k + j];
      }
    }
    return { data: out, rows: m.rows, cols: k };
  };
  return {
    projectX: (m) => project(m, mx, ax, dx),
    projectY: (m) => project(m, my, ay, dy),
    correlations: sigma,
  };
}
