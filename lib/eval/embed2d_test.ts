import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../runtime/backend.ts";
import { Rng } from "../runtime/random.ts";
import { affinities, jacobiEigen, pca, tsne } from "./embed2d.ts";

await initBackend({ announce: false });

/** Brute-force PCA scores: eigenvectors of the covariance by Jacobi, sign-fixed like pca(). */
function referencePca(data: Float32Array, n: number, d: number, k: number) {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j] / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        cov[a * d + b] += (data[i * d + a] - mean[a]) * (data[i * d + b] - mean[b]);
      }
    }
  }
  const { values, vectors } = jacobiEigen(cov, d);
  const scores = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (data[i * d + j] - mean[j]) * vectors[j * d + c];
      scores[i * k + c] = s;
    }
  }
  for (let c = 0; c < k; c++) {
    let best = 0;
    for (let i = 0; i < n; i++) {
      if (Math.abs(scores[i * k + c]) > Math.abs(best)) best = scores[i * k + c];
    }
    if (best < 0) { for (let i = 0; i < n; i++) scores[i * k + c] *= -1; }
  }
  return { scores, values };
}

/** Anisotropic Gaussian data: column j scaled by (d - j). */
function anisotropic(rng: Rng, n: number, d: number): Float32Array {
  const x = rng.normalArray(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = x[i * d + j] * (d - j) + 3;
  return x;
}

Deno.test("pca equals a brute-force eigen-decomposition (tall and wide data)", async () => {
  const rng = new Rng(4);
  for (const [n, d] of [[60, 6], [7, 12]]) {
    const data = anisotropic(rng, n, d);
    const before = tf.memory().numTensors;
    const out = await pca({ data, rows: n, cols: d }, { dims: 2 });
    assert.equal(tf.memory().numTensors, before, "pca leaked tensors");
    const ref = referencePca(data, n, d, 2);
    const scale = Math.max(...ref.scores.map(Math.abs));
    for (let i = 0; i < n * 2; i++) {
      assert.ok(
        Math.abs(out.data[i] - ref.scores[i]) < 1e-3 * scale,
        `n=${n} d=${d} score ${i}: ${out.data[i]} vs ${ref.scores[i]}`,
      );
    }
    const total = ref.values.reduce((s, v) => s + Math.max(0, v), 0);
    assert.ok(Math.abs(out.explainedVarianceRatio[0] - ref.values[0] / total) < 1e-3);
    assert.ok(out.explainedVarianceRatio[0] >= out.explainedVarianceRatio[1]);
    // Deterministic: a second run gives identical numbers.
    assert.deepEqual((await pca({ data, rows: n, cols: d })).data, out.data);
  }
  await assert.rejects(
    () => pca({ data: new Float32Array(6), rows: 3, cols: 2 }, { dims: 3 }),
    /dims must be in 1..2/,
  );
});

Deno.test("affinities: symmetric, zero diagonal, sum to 1", () => {
  const rng = new Rng(1);
  const n = 40, d = 5;
  const data = rng.normalArray(n * d);
  const P = affinities(data, n, d, 10);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    assert.equal(P[i * n + i], 0);
    for (let j = 0; j < n; j++) {
      sum += P[i * n + j];
      assert.ok(Math.abs(P[i * n + j] - P[j * n + i]) < 1e-15);
    }
  }
  assert.ok(Math.abs(sum - 1) < 1e-6, `sum ${sum}`);
});

Deno.test("tsne: seeded, deterministic, keeps well-separated clusters apart", async () => {
  const rng = new Rng(9);
  const n = 90, d = 8;
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) data[i * d + j] = rng.normal() + (j === labels[i] ? 8 : 0);
  }
  const x = { data, rows: n, cols: d };
  const opts = { iterations: 500, perplexity: 15 };
  const a = await tsne(x, new Rng(3), opts);
  const b = await tsne(x, new Rng(3), opts);
  assert.deepEqual(a.data, b.data, "same seed, same embedding");
  const c = await tsne(x, new Rng(4), { ...opts, init: "random" });
  assert.notDeepEqual(c.data, a.data);
  for (const e of [a, c]) {
    assert.ok(e.data.every(Number.isFinite));
    let agree = 0;
    for (let i = 0; i < n; i++) {
      let best = -1, bestD = Infinity;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const dd = (e.data[2 * i] - e.data[2 * j]) ** 2 +
          (e.data[2 * i + 1] - e.data[2 * j + 1]) ** 2;
        if (dd < bestD) [best, bestD] = [j, dd];
      }
      if (labels[best] === labels[i]) agree++;
    }
    assert.ok(agree / n >= 0.95, `nearest-neighbour label agreement ${agree / n}`);
  }
  await assert.rejects(
    () => tsne({ data: new Float32Array(6), rows: 3, cols: 2 }, new Rng(1)),
    /at least 4/,
  );
});
