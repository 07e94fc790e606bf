/**
 * lib/eval against independent NumPy re-implementations of torchreid's
 * `eval_market1501` (Python and Cython arithmetic) and AGW's `eval_sysu` /
 * `eval_regdb` (tests/reference/reid_eval_ref.py), on the same random
 * matrices, with and without tied distances.
 */
import assert from "node:assert/strict";
import { Rng } from "../runtime/random.ts";
import { repoPath } from "../runtime/paths.ts";
import type { DistanceMatrix } from "./distance.ts";
import { type EvalResult, evaluate, type TrialResult } from "./evaluate.ts";
import { attributeQuery, type EvalItem, market1501, regdb, sysuMM01 } from "./protocols.ts";

const SCRIPT = repoPath("tests/reference/reid_eval_ref.py");
const TOL = 1e-6;

interface RefCase {
  fn: "market_py" | "market_cy" | "sysu" | "regdb";
  dist: DistanceMatrix;
  q: EvalItem[];
  g: EvalItem[];
  maxRank: number;
  sort?: "stable" | "quicksort";
  gallery?: number[];
  /** Overrides of the pids / camids sent to Python (encodings of other protocols). */
  qPids?: number[];
  gPids?: number[];
  qCams?: number[];
  gCams?: number[];
}

interface RefResult {
  cmc: number[];
  mAP: number;
  mINP: number;
  numValid: number;
}

async function runReference(cases: RefCase[]): Promise<RefResult[]> {
  const dir = await Deno.makeTempDir({ prefix: "reid_eval_ref_" });
  try {
    const payload = await Promise.all(cases.map(async (c, i) => {
      const file = `${dir}/dist_${i}.f32`;
      await Deno.writeFile(file, new Uint8Array(c.dist.data.buffer.slice(0)));
      return {
        fn: c.fn,
        dist: file,
        rows: c.dist.rows,
        cols: c.dist.cols,
        q_pids: c.qPids ?? c.q.map((x) => x.pid),
        g_pids: c.gPids ?? c.g.map((x) => x.pid),
        q_camids: c.qCams ?? c.q.map((x) => x.camid),
        g_camids: c.gCams ?? c.g.map((x) => x.camid),
        gallery: c.gallery ?? null,
        max_rank: c.maxRank,
        sort: c.sort ?? "stable",
      };
    }));
    await Deno.writeTextFile(`${dir}/cases.json`, JSON.stringify(payload));
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [SCRIPT, `${dir}/cases.json`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`reference script failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertClose(ours: EvalResult, ref: RefResult, label: string, tol = TOL) {
  assert.equal(ours.numValidQueries, ref.numValid, `${label}: valid queries`);
  assert.equal(ours.cmc.length, ref.cmc.length, `${label}: cmc length`);
  for (let k = 0; k < ref.cmc.length; k++) {
    assert.ok(
      Math.abs(ours.cmc[k] - ref.cmc[k]) <= tol,
      `${label}: rank-${k + 1} ${ours.cmc[k]} vs reference ${ref.cmc[k]}`,
    );
  }
  assert.ok(Math.abs(ours.mAP - ref.mAP) <= tol, `${label}: mAP ${ours.mAP} vs ${ref.mAP}`);
  assert.ok(Math.abs(ours.mINP - ref.mINP) <= tol, `${label}: mINP ${ours.mINP} vs ${ref.mINP}`);
}

/** Random distances; with `levels`, rounded to that many values so that ties abound. */
function randomDist(rng: Rng, rows: number, cols: number, levels?: number): DistanceMatrix {
  const data = rng.uniformArray(rows * cols, 0, 2);
  if (levels) { for (let i = 0; i < data.length; i++) data[i] = Math.floor(data[i] * levels / 2); }
  return { data, rows, cols };
}

function reidItems(rng: Rng, n: number, numPids: number, cams: number[]): EvalItem[] {
  return Array.from({ length: n }, () => ({ pid: rng.int(numPids), camid: rng.choice(cams) }));
}

/** Makes true matches rank a bit higher than chance so that CMC is not flat. */
function pullMatches(dist: DistanceMatrix, q: EvalItem[], g: EvalItem[], shift: number) {
  for (let i = 0; i < dist.rows; i++) {
    for (let j = 0; j < dist.cols; j++) {
      if (q[i].pid === g[j].pid) {
        dist.data[i * dist.cols + j] = Math.max(0, dist.data[i * dist.cols + j] - shift);
      }
    }
  }
}

Deno.test("market1501 equals torchreid eval_market1501 (Python and Cython arithmetic)", async () => {
  const rng = new Rng(11);
  const cases: RefCase[] = [];
  const ours: EvalResult[] = [];
  for (const levels of [undefined, 7, 3]) {
    // Query pids 40..44 are absent from the gallery: those queries must be skipped.
    const q = reidItems(rng, 80, 45, [1, 2, 3, 4, 5, 6]);
    const g = reidItems(rng, 500, 40, [1, 2, 3, 4, 5, 6]);
    const dist = randomDist(rng, q.length, g.length, levels);
    if (!levels) pullMatches(dist, q, g, 0.4);
    const result = evaluate(dist, q, g, market1501({ maxRank: 50 }));
    // Without ties the published (unstable) argsort gives the same order as ours.
    const sorts = levels ? ["stable"] as const : ["stable", "quicksort"] as const;
    for (const sort of sorts) {
      for (const fn of ["market_py", "market_cy"] as const) {
        cases.push({ fn, dist, q, g, maxRank: 50, sort });
        ours.push(result);
      }
    }
  }
  const refs = await runReference(cases);
  refs.forEach((ref, i) => {
    assertClose(ours[i], ref, `${cases[i].fn}/${cases[i].sort}/case ${i}`);
  });
  // The random cases must exercise skipped queries and non-trivial CMC.
  assert.ok(ours.some((r) => r.numValidQueries < r.numQueries), "some query must be skipped");
  assert.ok(ours.every((r) => r.cmc[0] > 0 && r.cmc[0] < 1), "rank-1 strictly between 0 and 1");
});

Deno.test("sysu all/indoor single/multi-shot trials equal AGW eval_sysu on each trial", async () => {
  const rng = new Rng(5);
  const cases: RefCase[] = [];
  const ours: TrialResult[] = [];
  const means: EvalResult[] = [];
  // 60 test identities; IR queries from cams 3/6, RGB candidates from cams 1/2/4/5.
  const q = reidItems(rng, 90, 60, [3, 6]).map((x) => ({ ...x, modality: "ir" as const }));
  const g = reidItems(rng, 700, 60, [1, 2, 4, 5]).map((x) => ({ ...x, modality: "rgb" as const }));
  for (
    const [mode, shots, levels] of [["all", 1, 5], ["indoor", 1, undefined], [
      "all",
      10,
      9,
    ]] as const
  ) {
    const dist = randomDist(rng, q.length, g.length, levels);
    pullMatches(dist, q, g, levels ? 1 : 0.5);
    const result = evaluate(dist, q, g, sysuMM01({ mode, shots, trials: 3, seed: 4, maxRank: 20 }));
    means.push(result);
    for (const trial of result.trials!) {
      cases.push({ fn: "sysu", dist, q, g, maxRank: 20, gallery: trial.galleryIndices });
      ours.push(trial as TrialResult);
    }
  }
  const refs = await runReference(cases);
  refs.forEach((ref, i) => assertClose(ours[i], ref, `sysu trial ${i}`));
  for (const [m, mean] of means.entries()) {
    const trials = refs.slice(3 * m, 3 * m + 3);
    const refMAP = trials.reduce((s, r) => s + r.mAP, 0) / 3;
    assert.ok(Math.abs(mean.mAP - refMAP) < TOL, `mean mAP over trials, setting ${m}`);
    const refR1 = trials.reduce((s, r) => s + r.cmc[0], 0) / 3;
    assert.ok(Math.abs(mean.cmc[0] - refR1) < TOL, `mean rank-1 over trials, setting ${m}`);
  }
  // The settings must exercise the camera-3 removal (queries left without a match).
  assert.ok(means.some((r) => r.trials!.some((t) => t.numValidQueries < t.numQueries)));
  // Multi-shot: de-duplicating identities can only lift CMC, and must lift it somewhere.
  const multi = sysuMM01({ mode: "all", shots: 10, trials: 3, seed: 4, maxRank: 20 });
  const dist = randomDist(rng, q.length, g.length);
  const dedup = evaluate(dist, q, g, multi);
  const firstMatch = evaluate(dist, q, g, { ...multi, cmc: "first-match" });
  assert.ok(dedup.cmc.every((v, k) => v >= firstMatch.cmc[k]));
  assert.ok(dedup.cmc.some((v, k) => v > firstMatch.cmc[k] + 0.01));
  assert.equal(dedup.mAP, firstMatch.mAP);
});

Deno.test("regdb both directions equal AGW eval_regdb", async () => {
  const rng = new Rng(8);
  const cases: RefCase[] = [];
  const ours: EvalResult[] = [];
  for (
    const [direction, levels] of [["visible-to-thermal", 4], [
      "thermal-to-visible",
      undefined,
    ]] as const
  ) {
    const v2t = direction === "visible-to-thermal";
    const q = reidItems(rng, 60, 25, [v2t ? 1 : 2]).map((x) => ({
      ...x,
      modality: v2t ? "rgb" as const : "ir" as const,
    }));
    const g = reidItems(rng, 200, 25, [v2t ? 2 : 1]).map((x) => ({
      ...x,
      modality: v2t ? "ir" as const : "rgb" as const,
    }));
    const dist = randomDist(rng, q.length, g.length, levels);
    ours.push(evaluate(dist, q, g, regdb({ direction, maxRank: 20 })));
    cases.push({ fn: "regdb", dist, q, g, maxRank: 20 });
  }
  const refs = await runReference(cases);
  refs.forEach((ref, i) => assertClose(ours[i], ref, `regdb ${i}`));
});

Deno.test("attribute queries equal the reference with categories as identities", async () => {
  const rng = new Rng(21);
  const attrs = () => Int8Array.from({ length: 4 }, () => rng.int(2));
  const g: EvalItem[] = Array.from({ length: 300 }, () => ({
    pid: rng.int(50),
    camid: 1 + rng.int(3),
    attributes: attrs(),
  }));
  const q: EvalItem[] = Array.from({ length: 40 }, () => ({
    pid: rng.int(50),
    camid: 1 + rng.int(3),
    attributes: attrs(),
  }));
  const cat = (x: EvalItem) => Array.from(x.attributes!).reduce((s, v) => 2 * s + v, 0);
  const dist = randomDist(rng, q.length, g.length, 6);
  const plain = evaluate(dist, q, g, attributeQuery({ maxRank: 20 }));
  const sal = evaluate(dist, q, g, attributeQuery({ maxRank: 20, excludeSourceCamera: true }));
  const refs = await runReference([
    // No exclusion: category as the pid, nothing removed (eval_regdb's rule).
    { fn: "regdb", dist, q, g, maxRank: 20, qPids: q.map(cat), gPids: g.map(cat) },
    // SAL: drop same category AND same (pid, camera): market's rule with camera := pid/camera.
    {
      fn: "market_py",
      dist,
      q,
      g,
      maxRank: 20,
      qPids: q.map(cat),
      gPids: g.map(cat),
      qCams: q.map((x) => x.pid * 10 + x.camid),
      gCams: g.map((x) => x.pid * 10 + x.camid),
    },
  ]);
  assertClose(plain, refs[0], "attribute query");
  assertClose(sal, refs[1], "attribute query, SAL exclusion");
});
