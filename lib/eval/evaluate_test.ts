/** Hand-computed cases for every protocol, with ties and queries without a match. */
import assert from "node:assert/strict";
import type { DistanceMatrix } from "./distance.ts";
import { averageResults, drawSysuGalleries, evaluate, rankK } from "./evaluate.ts";
import {
  attributeQuery,
  type EvalItem,
  market1501,
  regdb,
  singleShot,
  sysuMM01,
} from "./protocols.ts";

const near = (a: number, b: number, label: string) =>
  assert.ok(Math.abs(a - b) < 1e-12, `${label}: got ${a}, expected ${b}`);

function matrix(rows: number[][]): DistanceMatrix {
  return { data: Float32Array.from(rows.flat()), rows: rows.length, cols: rows[0].length };
}

const item = (pid: number, camid: number, extra: Partial<EvalItem> = {}): EvalItem => ({
  pid,
  camid,
  ...extra,
});

Deno.test("market1501: same pid+camera and junk ignored, ties by gallery index, no-match skipped", () => {
  const gallery = [item(2, 2), item(1, 1), item(1, 2), item(3, 1), item(1, 3), item(-1, 2)];
  const query = [item(1, 1), item(4, 1), item(3, 2)];
  const dist = matrix([
    // g1 is the query's own camera (ignored), g5 is junk (ignored); g2 and g3 tie, g2 first.
    [0.1, 0.2, 0.3, 0.3, 0.5, 0.05],
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], // pid 4 is not in the gallery: skipped
    // The match g3 ties with g0 and g1, which have smaller indices: position 4.
    [0.4, 0.4, 0.9, 0.4, 0.1, 0.0],
  ]);
  const r = evaluate(dist, query, gallery, market1501({ maxRank: 5 }), { perQuery: true });
  // q0: kept ranking g0, g2*, g3, g4* → matches at 2 and 4: AP = (1/2 + 2/4)/2, INP = 2/4.
  // q2: kept ranking g4, g0, g1, g3*, g2 → match at 4: AP = INP = 1/4.
  assert.equal(r.numQueries, 3);
  assert.equal(r.numValidQueries, 2);
  near(r.mAP, (0.5 + 0.25) / 2, "mAP");
  near(r.mINP, (0.5 + 0.25) / 2, "mINP");
  assert.deepEqual(r.cmc, [0, 0.5, 0.5, 1, 1]);
  assert.deepEqual(Array.from(r.perQuery!.rank), [2, 0, 4]);
  assert.deepEqual(Array.from(r.perQuery!.valid), [1, 0, 1]);
  assert.ok(Number.isNaN(r.perQuery!.ap[1]));
  near(rankK(r, 4), 1, "rank-4");

  // A match tied with an earlier-indexed non-match comes after it; swapping indices flips it.
  const tie = evaluate(matrix([[0.2, 0.2]]), [item(7, 1)], [item(7, 2), item(8, 2)], market1501());
  near(tie.mAP, 1, "match first among equals");
  const tie2 = evaluate(matrix([[0.2, 0.2]]), [item(7, 1)], [item(8, 2), item(7, 2)], market1501());
  near(tie2.mAP, 0.5, "match second among equals");

  // Distractors (pid 0) stay; junk can be kept when asked.
  const keepJunk = evaluate(dist, query, gallery, market1501({ junkPids: [], maxRank: 5 }));
  // With the junk image g5 kept it ranks first for q0 and q2: matches at 3, 5 and at 5.
  near(keepJunk.mAP, ((1 / 3 + 2 / 5) / 2 + 1 / 5) / 2, "junk kept");
});

Deno.test("market1501: no valid query fails with the camera rule explained", () => {
  const dist = matrix([[0.1, 0.2]]);
  assert.throws(
    () => evaluate(dist, [item(1, 1)], [item(1, 1), item(2, 2)], market1501()),
    /query's own camera/,
  );
  assert.throws(
    () => evaluate(dist, [item(1, 1), item(2, 1)], [item(1, 2), item(2, 2)], market1501()),
    /2 rows but 1 columns|distance matrix has 1 rows but 2 query items/,
  );
  assert.throws(
    () => evaluate(matrix([[NaN, 1]]), [item(1, 1)], [item(1, 2), item(2, 2)], market1501()),
    /is NaN; distances must be finite/,
  );
  assert.throws(
    () => evaluate(matrix([[Infinity, 1]]), [item(1, 1)], [item(1, 2), item(2, 2)], market1501()),
    /is Infinity/,
  );
});

Deno.test("sysu: camera 3 ignores camera 2, CMC de-duplicates identities, AP does not", () => {
  const gallery = [
    item(1, 2, { modality: "rgb" }),
    item(3, 1, { modality: "rgb" }),
    item(3, 4, { modality: "rgb" }),
    item(1, 1, { modality: "rgb" }),
    item(2, 5, { modality: "rgb" }),
    item(2, 4, { modality: "rgb" }),
    item(5, 2, { modality: "rgb" }),
  ];
  const query = [
    item(1, 3, { modality: "ir" }),
    item(2, 6, { modality: "ir" }),
    item(4, 3, { modality: "ir" }), // identity absent: skipped
    item(5, 3, { modality: "ir" }), // only in camera 2, which camera 3 ignores: skipped
    item(1, 1, { modality: "rgb" }), // not an IR query camera: not scored
  ];
  const dist = matrix([
    [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.9],
    [0.5, 0.3, 0.1, 0.3, 0.2, 0.2, 0.9],
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.0],
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
  ]);
  // Ten shots per (identity, camera) and one image each: every trial's gallery is everything.
  const protocol = sysuMM01({ mode: "all", shots: 10, trials: 2, seed: 1, maxRank: 4 });
  const r = evaluate(dist, query, gallery, protocol, { perQuery: true });
  // q0 (cam 3): g0 ignored; ranking g1(3) g2(3) g3(1)* g4(2) g5(2): match at 3, AP = INP = 1/3,
  //   distinct identities 3, 1 → rank 2.
  // q1 (cam 6): ranking g2(3) g4(2)* g5(2)* g1(3) g3(1) g0(1) g6(5): AP = (1/2 + 2/3)/2,
  //   INP = 2/3, rank 2.
  assert.equal(r.trials!.length, 2);
  for (const t of r.trials!) {
    assert.deepEqual(t.galleryIndices, [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(t.numQueries, 4);
    assert.equal(t.numValidQueries, 2);
    near(t.mAP, (1 / 3 + 7 / 12) / 2, "mAP");
    near(t.mINP, (1 / 3 + 2 / 3) / 2, "mINP");
    assert.deepEqual(t.cmc, [0, 1, 1, 1]);
    assert.deepEqual(Array.from(t.perQuery!.rank), [2, 2, 0, 0]);
    assert.deepEqual(t.queryIndices, [0, 1, 2, 3]);
  }
  near(r.mAP, (1 / 3 + 7 / 12) / 2, "mean mAP");

  // Indoor search draws from cameras 1 and 2 only: q1's matches (cams 4, 5) are gone.
  const indoor = evaluate(dist, query, gallery, sysuMM01({ mode: "indoor", shots: 10, trials: 1 }));
  assert.deepEqual(indoor.trials![0].galleryIndices, [0, 1, 3, 6]);
  assert.equal(indoor.numValidQueries, 1); // only q0 (match g3 in cam 1)

  // Modality is checked when given.
  const wrong = query.map((q) => ({ ...q, modality: "rgb" as const }));
  assert.throws(() => evaluate(dist, wrong, gallery, protocol), /modality "rgb", expected "ir"/);
});

Deno.test("sysu multi-shot: one identity at ranks 1-3 counts once for CMC, thrice for AP", () => {
  const gallery = [item(1, 1), item(1, 1), item(1, 4), item(2, 5), item(1, 5), item(3, 2)];
  const dist = matrix([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]]);
  const r = evaluate(dist, [item(1, 6)], gallery, sysuMM01({ mode: "all", shots: 10, trials: 1 }));
  assert.equal(r.cmc[0], 1);
  near(r.mAP, (1 + 1 + 1 + 4 / 5) / 4, "AP over all four matches");
  near(r.mINP, 4 / 5, "INP");
  // Here another identity ranks first, so the query's identity is second among identities.
  const r2 = evaluate(
    matrix([[0.5, 0.6, 0.7, 0.1, 0.2, 0.3]]),
    [item(1, 6)],
    gallery,
    sysuMM01({ mode: "all", shots: 10, trials: 1, maxRank: 3 }),
  );
  // Ranking: g3(2) g4(1)* g5(3) g0(1) g1(1) g2(1): distinct [2, 1, …] → rank 2; AP positions 2,4,5,6.
  assert.deepEqual(r2.cmc, [0, 1, 1]);
  near(r2.mAP, (1 / 2 + 2 / 4 + 3 / 5 + 4 / 6) / 4, "AP");
});

Deno.test("sysu gallery draws: shots per identity and camera, seeded, different per trial", () => {
  const gallery: EvalItem[] = [];
  for (let pid = 1; pid <= 6; pid++) {
    for (const cam of [1, 2, 3, 4, 5, 6]) {
      if (pid === 6 && cam === 4) continue; // an identity absent from a camera
      for (let k = 0; k < 12; k++) gallery.push(item(pid, cam));
    }
  }
  const single = sysuMM01({ mode: "all", trials: 10, seed: 3 });
  const draws = drawSysuGalleries(gallery, single);
  assert.equal(draws.length, 10);
  for (const d of draws) {
    assert.equal(d.length, 6 * 4 - 1);
    const groups = new Set(d.map((i) => `${gallery[i].pid}/${gallery[i].camid}`));
    assert.equal(groups.size, d.length, "one image per identity and camera");
    assert.ok(d.every((i) => [1, 2, 4, 5].includes(gallery[i].camid)));
    assert.deepEqual(d, d.slice().sort((a, b) => a - b));
  }
  assert.notDeepEqual(draws[0], draws[1], "trials draw different galleries");
  assert.deepEqual(drawSysuGalleries(gallery, single), draws, "same seed, same draws");
  assert.notDeepEqual(drawSysuGalleries(gallery, { ...single, seed: 4 })[0], draws[0]);
  const multi = drawSysuGalleries(gallery, sysuMM01({ mode: "indoor", shots: 10, trials: 1 }))[0];
  assert.equal(multi.length, 6 * 2 * 10);
  assert.ok(multi.every((i) => gallery[i].camid <= 2));
});

Deno.test("regdb: nothing ignored, first-match CMC, direction checks modality", () => {
  const gallery = [
    item(1, 2, { modality: "ir" }),
    item(2, 2, { modality: "ir" }),
    item(1, 2, { modality: "ir" }),
  ];
  const query = [
    item(1, 1, { modality: "rgb" }),
    item(2, 1, { modality: "rgb" }),
    item(9, 1, { modality: "rgb" }),
  ];
  const dist = matrix([[0.3, 0.1, 0.3], [0.2, 0.2, 0.0], [0.1, 0.1, 0.1]]);
  const r = evaluate(dist, query, gallery, regdb({ direction: "visible-to-thermal", maxRank: 3 }));
  // q0: g1, g0*, g2* → AP (1/2 + 2/3)/2, INP 2/3; q1: g2, g0, g1* → AP = INP = 1/3; q2 skipped.
  near(r.mAP, ((1 / 2 + 2 / 3) / 2 + 1 / 3) / 2, "mAP");
  near(r.mINP, (2 / 3 + 1 / 3) / 2, "mINP");
  assert.deepEqual(r.cmc, [0, 0.5, 1]);
  assert.throws(
    () => evaluate(dist, query, gallery, regdb({ direction: "thermal-to-visible" })),
    /query item 0 has modality "rgb", expected "ir"/,
  );
  // Per-trial models: the mean over trials is the plain mean of the trials' metrics.
  const other = evaluate(
    matrix([[0.1, 0.2, 0.3], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]]),
    query,
    gallery,
    regdb({ direction: "visible-to-thermal", maxRank: 3 }),
  );
  const mean = averageResults([r, other]);
  near(mean.mAP, (r.mAP + other.mAP) / 2, "mean mAP");
  assert.equal(mean.trials!.length, 2);
});

Deno.test("attribute query: a match is the same attribute vector; SAL's source exclusion", () => {
  const a = (...bits: number[]) => Int8Array.from(bits);
  const gallery = [
    item(10, 1, { attributes: a(1, 0, 1) }),
    item(11, 1, { attributes: a(0, 0, 1) }),
    item(12, 2, { attributes: a(1, 0, 1) }),
    item(10, 2, { attributes: a(1, 0, 1) }),
  ];
  const query = [
    item(10, 1, { attributes: a(1, 0, 1) }),
    item(-1, 0, { attributes: a(1, 1, 1) }), // a category no gallery image has: skipped
    item(-1, 0, { category: "0,0,1" }), // explicit category equal to g1's vector
  ];
  // q0 ties everywhere: matches g0, g2, g3 at positions 1, 3, 4 (g1 is position 2).
  const dist = matrix([[0.5, 0.5, 0.5, 0.5], [0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]]);
  const r = evaluate(dist, query, gallery, attributeQuery({ maxRank: 4 }));
  // q0: AP = (1 + 2/3 + 3/4)/3, INP = 3/4. q2: ranking g3, g2, g1* → AP = INP = 1/3.
  near(r.mAP, ((1 + 2 / 3 + 3 / 4) / 3 + 1 / 3) / 2, "mAP");
  near(r.mINP, (3 / 4 + 1 / 3) / 2, "mINP");
  assert.equal(r.numValidQueries, 2);
  assert.deepEqual(r.cmc, [0.5, 0.5, 1, 1]);
  // SAL: q0's source is identity 10 in camera 1 → g0 ignored; matches g2, g3 at 2, 3 of g1 g2 g3.
  const sal = evaluate(
    dist,
    query,
    gallery,
    attributeQuery({ maxRank: 4, excludeSourceCamera: true }),
  );
  near(sal.mAP, ((1 / 2 + 2 / 3) / 2 + 1 / 3) / 2, "SAL mAP");
  assert.throws(
    () => evaluate(matrix([[0, 1, 2, 3]]), [item(1, 1)], gallery, attributeQuery()),
    /neither "category" nor "attributes"/,
  );
});

Deno.test("viper/prid single-shot: CMC per split and the mean over splits", () => {
  const prid = singleShot({ name: "prid", maxRank: 3 });
  // Split A: probes 1, 2 against gallery 1, 2 and distractors 100, 101.
  const gallery = [item(1, 2), item(2, 2), item(100, 2), item(101, 2)];
  const query = [item(1, 1), item(2, 1)];
  const a = evaluate(matrix([[0.1, 0.5, 0.2, 0.3], [0.1, 0.4, 0.2, 0.3]]), query, gallery, prid);
  const b = evaluate(matrix([[0.9, 0.5, 0.2, 0.3], [0.1, 0.0, 0.2, 0.3]]), query, gallery, prid);
  assert.deepEqual(a.cmc, [0.5, 0.5, 0.5]); // q0 rank 1, q1 rank 4
  assert.deepEqual(b.cmc, [0.5, 0.5, 0.5]); // q0 rank 4, q1 rank 1
  const mean = averageResults([a, b], "prid");
  assert.deepEqual(mean.cmc, [0.5, 0.5, 0.5]);
  near(mean.mAP, (1 + 1 / 4) / 2, "mean mAP");
  assert.equal(mean.protocol, "prid");
});
