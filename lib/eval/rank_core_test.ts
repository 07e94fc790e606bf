/** The sort-free ranking engine against a brute-force stable sort, on tie-heavy inputs. */
import assert from "node:assert/strict";
import { Rng } from "../runtime/random.ts";
import { rankMetrics, type RankProblem } from "./rank_core.ts";

/** Metrics by sorting every row (stable: ties by position), as the definitions say. */
function bruteForce(p: RankProblem) {
  const nG = p.gKey.length;
  const aps: number[] = [], inps: number[] = [], ranks: number[] = [];
  for (let qi = 0; qi < p.queryRows.length; qi++) {
    const row = Array.from(
      { length: nG },
      (_, t) => p.dist[p.queryRows[qi] * p.cols + (p.galleryCols ? p.galleryCols[t] : t)],
    );
    const order = Array.from({ length: nG }, (_, t) => t).sort((a, b) => row[a] - row[b] || a - b);
    const kept = order.filter((t) =>
      !(p.gPid[t] === p.qPid[qi] && p.gCam[t] === p.qCam[qi]) &&
      !(p.qCam[qi] === 3 && p.gCam[t] === 2)
    );
    const hits = kept.map((t) => p.gKey[t] === p.qKey[qi]);
    const positions = hits.flatMap((h, i) => (h ? [i + 1] : []));
    if (positions.length === 0) continue;
    aps.push(positions.reduce((s, pos, i) => s + (i + 1) / pos, 0) / positions.length);
    inps.push(positions.length / positions[positions.length - 1]);
    if (p.cmc === "first-match") ranks.push(positions[0]);
    else {
      const distinct: number[] = [];
      for (const t of kept) if (!distinct.includes(p.gKey[t])) distinct.push(p.gKey[t]);
      ranks.push(distinct.indexOf(p.qKey[qi]) + 1);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mAP: mean(aps), mINP: mean(inps), ranks, numValid: aps.length };
}

Deno.test("rankMetrics equals a full stable sort with many tied matches and both CMC modes", () => {
  const rng = new Rng(17);
  for (let trial = 0; trial < 12; trial++) {
    const nQ = 30, nG = 400, keys = 2 + rng.int(6);
    const levels = [2, 5, 40, 0][trial % 4];
    const useCols = trial % 3 === 0;
    // With a column subset the matrix is wider than the gallery; skipped columns are noise.
    const cols = useCols ? nG + 2 : nG;
    const data = rng.uniformArray(nQ * cols, 0, 1);
    if (levels) {
      for (let i = 0; i < data.length; i++) data[i] = Math.floor(data[i] * levels) / levels;
    }
    const gPid = Int32Array.from({ length: nG }, () => rng.int(keys));
    const qPid = Int32Array.from({ length: nQ }, () => rng.int(keys + 1)); // some absent
    const p: RankProblem = {
      dist: data,
      cols,
      queryRows: Int32Array.from({ length: nQ }, (_, i) => i),
      galleryCols: useCols
        ? Int32Array.from({ length: nG }, (_, t) => t + Math.floor(t / 200))
        : null,
      qKey: Int32Array.from(qPid, (k) => (k < keys ? k : -1)),
      gKey: gPid,
      numKeys: keys,
      qPid,
      gPid,
      qCam: Int32Array.from({ length: nQ }, () => 1 + rng.int(6)),
      gCam: Int32Array.from({ length: nG }, () => 1 + rng.int(6)),
      exclude: [{ samePid: true, sameCamera: true }, { queryCameras: [3], galleryCameras: [2] }],
      cmc: trial % 2 ? "distinct-identity" : "first-match",
      maxRank: 20,
      perQuery: true,
    };
    const ours = rankMetrics(p);
    const ref = bruteForce(p);
    assert.equal(ours.numValid, ref.numValid, `trial ${trial}`);
    assert.ok(Math.abs(ours.mAP - ref.mAP) < 1e-12, `trial ${trial} mAP ${ours.mAP} vs ${ref.mAP}`);
    assert.ok(Math.abs(ours.mINP - ref.mINP) < 1e-12, `trial ${trial} mINP`);
    const ranks = Array.from(ours.perQuery!.rank).filter((r) => r > 0);
    assert.deepEqual(ranks, ref.ranks, `trial ${trial} ranks`);
  }
});
