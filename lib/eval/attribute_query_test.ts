import assert from "node:assert/strict";
import { initBackend } from "../runtime/backend.ts";
import { Rng } from "../runtime/random.ts";
import {
  distinctAttributeQueries,
  scoreAttributeQueries,
  twoSampleAccuracy,
} from "./attribute_query.ts";

await initBackend({ announce: false });

Deno.test("attribute queries: one per distinct vector, matches by whole vector", async () => {
  // Gallery rows: vectors 10, 01, 10, 11.
  const attrs = Float32Array.from([1, 0, 0, 1, 1, 0, 1, 1]);
  const keys = ["10", "01", "10", "11"];
  const q = distinctAttributeQueries(attrs, 2, keys);
  assert.deepEqual(q.keys, ["10", "01", "11"]);
  assert.deepEqual(Array.from(q.vectors), [1, 0, 0, 1, 1, 1]);
  assert.deepEqual(q.positives, [[0, 2], [1], [3]]);
  // Features: queries equal to their vectors, gallery = its vectors except row 2 rotated away.
  const gallery = Float32Array.from([1, 0, 0, 1, -1, 0.2, 1, 1]);
  const s = await scoreAttributeQueries(
    { data: q.vectors, rows: 3, cols: 2 },
    q.keys,
    { data: gallery, rows: 4, cols: 2 },
    keys,
  );
  // Every query's best match is its own vector: rank-1 100 %.
  assert.equal(s.metrics.r1, 100);
  // Query "10": relevant rows 0 (rank 1) and 2 (ranked last of 4): AP = (1 + 2/4) / 2.
  assert.ok(Math.abs(s.metrics.mAP - 100 * (0.75 + 1 + 1) / 3) < 1e-6, `${s.metrics.mAP}`);
  assert.ok(Math.abs(s.chanceR1 - 100 * (4 / 3) / 4) < 1e-9);
});

Deno.test("two-sample accuracy: ≈ 50 for one distribution, ≈ 100 for separated ones", () => {
  const rng = new Rng(3);
  const draw = (n: number, shift: number) => {
    const data = rng.normalArray(n * 4);
    for (let i = 0; i < n; i++) data[i * 4] += shift;
    return { data, rows: n, cols: 4 };
  };
  const same = twoSampleAccuracy(draw(300, 0), draw(300, 0), rng.fork("a"));
  const apart = twoSampleAccuracy(draw(300, 0), draw(300, 6), rng.fork("b"));
  assert.ok(same > 40 && same < 60, `same distribution: ${same}`);
  assert.ok(apart > 98, `separated: ${apart}`);
});
