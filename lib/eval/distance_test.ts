import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../runtime/backend.ts";
import { Rng } from "../runtime/random.ts";
import { type DistanceMetric, pairwiseDistance } from "./distance.ts";

await initBackend({ announce: false });

function brute(
  q: Float32Array,
  g: Float32Array,
  nq: number,
  ng: number,
  dim: number,
  metric: DistanceMetric,
) {
  const out = new Float64Array(nq * ng);
  for (let i = 0; i < nq; i++) {
    for (let j = 0; j < ng; j++) {
      let dot = 0, qq = 0, gg = 0, sq = 0;
      for (let k = 0; k < dim; k++) {
        const a = q[i * dim + k], b = g[j * dim + k];
        dot += a * b;
        qq += a * a;
        gg += b * b;
        sq += (a - b) ** 2;
      }
      out[i * ng + j] = metric === "cosine"
        ? 1 - (qq && gg ? dot / Math.sqrt(qq * gg) : 0)
        : metric === "euclidean"
        ? Math.sqrt(sq)
        : sq;
    }
  }
  return out;
}

Deno.test("pairwiseDistance matches a brute-force loop, across blocks, without leaking", async () => {
  const rng = new Rng(2);
  const [nq, ng, dim] = [13, 29, 7];
  const q = rng.normalArray(nq * dim);
  const g = rng.normalArray(ng * dim);
  g.fill(0, 0, dim); // a zero gallery vector: cosine distance 1
  for (const metric of ["sqeuclidean", "euclidean", "cosine"] as const) {
    const expected = brute(q, g, nq, ng, dim, metric);
    for (const maxBlockCells of [undefined, 3 * ng, 1]) {
      const before = tf.memory().numTensors;
      const d = await pairwiseDistance(
        { data: q, rows: nq, cols: dim },
        { data: g, rows: ng, cols: dim },
        metric,
        { maxBlockCells },
      );
      assert.equal(tf.memory().numTensors, before, `${metric}: tensors leaked`);
      assert.equal(d.rows, nq);
      assert.equal(d.cols, ng);
      for (let i = 0; i < expected.length; i++) {
        assert.ok(
          Math.abs(d.data[i] - expected[i]) < 1e-4 * (1 + Math.abs(expected[i])),
          `${metric} [${i}]: ${d.data[i]} vs ${expected[i]}`,
        );
      }
    }
  }
});

Deno.test("pairwiseDistance accepts tensors, leaves them alive, rejects bad shapes", async () => {
  const q = tf.tensor2d([[1, 0], [0, 2]]);
  const g = tf.tensor2d([[1, 0], [3, 4], [0, -1]]);
  const before = tf.memory().numTensors;
  const d = await pairwiseDistance(q, g, "sqeuclidean");
  assert.deepEqual(Array.from(d.data), [0, 20, 2, 5, 13, 9]);
  const c = await pairwiseDistance(q, g, "cosine");
  assert.ok(Math.abs(c.data[1] - (1 - 3 / 5)) < 1e-6);
  assert.ok(Math.abs(c.data[5] - 2) < 1e-6);
  assert.equal(tf.memory().numTensors, before);
  assert.ok(!q.isDisposed && !g.isDisposed);
  await assert.rejects(
    () => pairwiseDistance(q, tf.tidy(() => tf.zeros([2, 3]) as tf.Tensor2D)),
    /query features have 2 dimensions, gallery features 3/,
  );
  await assert.rejects(
    () => pairwiseDistance({ data: new Float32Array(3), rows: 2, cols: 2 }, g),
    /query: data has 3 values/,
  );
  tf.dispose([q, g]);
});
