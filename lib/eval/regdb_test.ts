/** RegDB evaluation (`regdb.ts`) on a hand-computed case: both directions, ties absent, trial means. */
import assert from "node:assert/strict";
import type { EvalItem } from "./protocols.ts";
import { averageRegdb, regdbDistances, regdbNumbers } from "./regdb.ts";

const near = (a: number, b: number, label: string) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${label}: got ${a}, expected ${b}`);

// 1-D features: visible v1 (id 1) at 0, v2 (id 2) at 10; thermal t1a 1, t1b 9 (id 1),
// t2a 11.5, t2b 3 (id 2). Items are mixed in one test set, as a trial's test list holds them.
const items: EvalItem[] = [
  { pid: 1, camid: 1, modality: "rgb" },
  { pid: 1, camid: 2, modality: "ir" },
  { pid: 2, camid: 2, modality: "ir" },
  { pid: 2, camid: 1, modality: "rgb" },
  { pid: 1, camid: 2, modality: "ir" },
  { pid: 2, camid: 2, modality: "ir" },
];
const x = [0, 1, 11.5, 10, 9, 3];
const features = { data: Float32Array.from(x), rows: x.length, cols: 1 };

Deno.test("regdb: visible → thermal and thermal → visible on a hand-computed trial", async () => {
  const split = await regdbDistances(features, items);
  assert.deepEqual(split.visibleRows, [0, 3]);
  assert.deepEqual(split.thermalRows, [1, 2, 4, 5]);
  const { metrics } = regdbNumbers(split);
  // V→T. v1 (0): t1a 1 ✓, t2b 3, t1b 9 ✓, t2a 11.5 → AP (1 + 2/3)/2, INP 2/3.
  //      v2 (10): t1b 1, t2a 1.5 ✓, t2b 7 ✓, t1a 9 → rank-1 miss, AP (1/2 + 2/3)/2, INP 2/3.
  near(metrics.v2t_r1, 50, "v2t r1");
  near(metrics.v2t_mAP, 100 * ((1 + 2 / 3) / 2 + (1 / 2 + 2 / 3) / 2) / 2, "v2t mAP");
  near(metrics.v2t_mINP, 100 * 2 / 3, "v2t mINP");
  assert.equal(metrics.v2t_r5, undefined, "the gallery has 4 images: no rank 5");
  // T→V. t1a (1): v1 ✓ → AP 1; t1b (9): v2, v1 ✓ → AP 1/2, INP 1/2;
  //      t2a (11.5): v2 ✓ → AP 1; t2b (3): v1, v2 ✓ → AP 1/2, INP 1/2.
  near(metrics.t2v_r1, 50, "t2v r1");
  near(metrics.t2v_mAP, 75, "t2v mAP");
  near(metrics.t2v_mINP, 75, "t2v mINP");
});

Deno.test("regdb: trials are averaged per direction", async () => {
  const a = regdbNumbers(await regdbDistances(features, items)).results;
  // A second trial where every image sits on its identity's point: perfect in both directions.
  const perfect = { data: Float32Array.from(items.map((it) => it.pid * 100)), rows: 6, cols: 1 };
  const b = regdbNumbers(await regdbDistances(perfect, items)).results;
  const { metrics } = averageRegdb([a, b]);
  near(metrics.v2t_r1, 75, "v2t r1");
  near(metrics.t2v_mAP, (75 + 100) / 2, "t2v mAP");
  assert.throws(() => averageRegdb([]), /no trials/);
});

Deno.test("regdb: a test set without one modality is an error", async () => {
  await assert.rejects(
    () => regdbDistances(features, items.map((it) => ({ ...it, modality: "rgb" }))),
    /visible and thermal/,
  );
});
