/**
 * The ranking engine behind {@link evaluate}: CMC, AP and INP per query
 * without sorting the gallery.
 *
 * Ranking is by ascending distance with ties broken by gallery position, i.e.
 * exactly the order a *stable* argsort gives (NumPy `kind="stable"`).
 * torchreid and AGW call `np.argsort` with its default, unstable quicksort, so
 * on tied distances their order (and numbers) depend on NumPy's sort
 * internals; with distinct distances all three agree exactly.
 *
 * Only the positions of a query's true matches matter for AP / INP, and CMC
 * needs the first one. So per query the matches (few) are sorted, and one pass
 * over the gallery counts, for every other kept item, how many matches it
 * precedes (its slot among the sorted matches, found from a bucket table over
 * the matches' distance range). Items ranked after the last match — most of
 * the gallery for a trained model — are rejected by one comparison, and so are
 * excluded items and the matches themselves, set to +Infinity in a copy of the
 * row. Memory is O(gallery) per query in reused buffers; nothing of size
 * queries × gallery is allocated.
 *
 * @module
 */
import type { CmcMode, ExclusionRule } from "./protocols.ts";

/** A ranking problem over (a column subset of) a distance matrix. */
export interface RankProblem {
  /** Row-major distances; row stride {@link cols}. */
  dist: Float32Array;
  cols: number;
  /** Matrix row of each evaluated query. */
  queryRows: Int32Array;
  /** Matrix column of each gallery position, ascending; null = all columns in order. */
  galleryCols: Int32Array | null;
  /** Match keys (pid or attribute category) as dense ids in [0, numKeys); -1 = none in gallery. */
  qKey: Int32Array;
  gKey: Int32Array;
  numKeys: number;
  qPid: Int32Array;
  gPid: Int32Array;
  qCam: Int32Array;
  gCam: Int32Array;
  exclude: readonly ExclusionRule[];
  cmc: CmcMode;
  maxRank: number;
  perQuery: boolean;
}

/** Per-query metrics (index = evaluated query). Invalid queries have NaN AP/INP and rank 0. */
export interface PerQueryMetrics {
  /** 1 when the query had at least one true match after exclusions. */
  valid: Uint8Array;
  /** CMC rank of the query (1-based; `distinct-identity` ranks when the protocol says so). */
  rank: Int32Array;
  ap: Float64Array;
  inp: Float64Array;
  /** Number of true matches left after exclusions. */
  numMatches: Int32Array;
}

/** What {@link rankMetrics} returns. */
export interface RankOutcome {
  /** cmc[k-1] = fraction of valid queries with rank ≤ k, k = 1..maxRank. */
  cmc: number[];
  mAP: number;
  mINP: number;
  numValid: number;
  perQuery?: PerQueryMetrics;
}

function invert(keys: Int32Array): Map<number, Int32Array> {
  const lists = new Map<number, number[]>();
  for (let t = 0; t < keys.length; t++) {
    const list = lists.get(keys[t]);
    if (list) list.push(t);
    else lists.set(keys[t], [t]);
  }
  const out = new Map<number, Int32Array>();
  for (const [k, list] of lists) out.set(k, Int32Array.from(list));
  return out;
}

const EMPTY = new Int32Array(0);

function isDynamic(rule: ExclusionRule): boolean {
  return !!(rule.samePid || rule.sameCamera || rule.sameMatch);
}

/** Whether a rule's query-independent conditions hold for gallery position t. */
function staticHolds(rule: ExclusionRule, t: number, gPid: Int32Array, gCam: Int32Array): boolean {
  if (rule.galleryCameras && !rule.galleryCameras.includes(gCam[t])) return false;
  if (rule.galleryPids && !rule.galleryPids.includes(gPid[t])) return false;
  return true;
}

/** Computes CMC / mAP / mINP; see the module comment for the method. */
export function rankMetrics(p: RankProblem): RankOutcome {
  const nQ = p.queryRows.length;
  const nG = p.gKey.length;
  const { dist, cols, gKey, gPid, gCam, qKey, qPid, qCam, maxRank } = p;
  if (p.galleryCols ? p.galleryCols.length !== nG : cols !== nG) {
    throw new Error("rankMetrics: the gallery columns and gKey differ in length");
  }
  const byKey = invert(gKey);
  let byPid: Map<number, Int32Array> | null = null;
  let byCam: Map<number, Int32Array> | null = null;
  const staticRules = p.exclude.filter((r) => !isDynamic(r));
  const dynamicRules = p.exclude.filter(isDynamic);
  if (dynamicRules.some((r) => r.samePid && !r.sameMatch)) byPid = invert(gPid);
  if (dynamicRules.some((r) => r.sameCamera && !r.sameMatch && !r.samePid)) byCam = invert(gCam);

  // Static exclusions depend on the query only through its camera: one list per camera.
  const staticLists = new Map<number, Int32Array>();
  const staticListFor = (cam: number): Int32Array => {
    let list = staticLists.get(cam);
    if (list) return list;
    const picked: number[] = [];
    const rules = staticRules.filter((r) => !r.queryCameras || r.queryCameras.includes(cam));
    if (rules.length > 0) {
      for (let t = 0; t < nG; t++) {
        if (rules.some((rule) => staticHolds(rule, t, gPid, gCam))) picked.push(t);
      }
    }
    list = Int32Array.from(picked);
    staticLists.set(cam, list);
    return list;
  };

  let maxMatches = 0;
  for (const list of byKey.values()) maxMatches = Math.max(maxMatches, list.length);
  const excl = new Uint8Array(nG);
  const exList = new Int32Array(nG + maxMatches * dynamicRules.length);
  // The query's row with excluded items and true matches set to +Infinity, so that the
  // counting pass needs one load and one comparison to reject them.
  const buf = new Float32Array(nG);
  const matchT = new Int32Array(maxMatches);
  const matchD = new Float64Array(maxMatches);
  const cnt = new Int32Array(maxMatches + 1);
  const nBuckets = 256;
  const lut = new Int32Array(nBuckets);
  const seen = p.cmc === "distinct-identity" ? new Int32Array(p.numKeys).fill(-1) : null;
  const rankHist = new Float64Array(maxRank + 2);
  let sumAP = 0;
  let sumINP = 0;
  let numValid = 0;
  const per: PerQueryMetrics | undefined = p.perQuery
    ? {
      valid: new Uint8Array(nQ),
      rank: new Int32Array(nQ),
      ap: new Float64Array(nQ).fill(NaN),
      inp: new Float64Array(nQ).fill(NaN),
      numMatches: new Int32Array(nQ),
    }
    : undefined;

  for (let qi = 0; qi < nQ; qi++) {
    const r = p.queryRows[qi];
    const base = r * cols;
    if (p.galleryCols) {
      const gc = p.galleryCols;
      for (let t = 0; t < nG; t++) buf[t] = dist[base + gc[t]];
    } else {
      buf.set(dist.subarray(base, base + cols));
    }
    const qk = qKey[qi];
    const qp = qPid[qi];
    const qc = qCam[qi];

    // Excluded gallery positions for this query (may repeat; harmless).
    const fixed = staticListFor(qc);
    exList.set(fixed);
    let exN = fixed.length;
    for (const rule of dynamicRules) {
      if (rule.queryCameras && !rule.queryCameras.includes(qc)) continue;
      const candidates = rule.sameMatch
        ? byKey.get(qk) ?? EMPTY
        : rule.samePid
        ? byPid!.get(qp) ?? EMPTY
        : byCam!.get(qc) ?? EMPTY;
      for (let i = 0; i < candidates.length; i++) {
        const t = candidates[i];
        if (rule.samePid && gPid[t] !== qp) continue;
        if (rule.sameCamera && gCam[t] !== qc) continue;
        if (rule.sameMatch && gKey[t] !== qk) continue;
        if (!staticHolds(rule, t, gPid, gCam)) continue;
        exList[exN++] = t;
      }
    }
    for (let i = 0; i < exN; i++) excl[exList[i]] = 1;

    // Kept true matches, sorted by (distance, position).
    const all = qk >= 0 ? byKey.get(qk) ?? EMPTY : EMPTY;
    let R = 0;
    for (let i = 0; i < all.length; i++) {
      const t = all[i];
      if (!excl[t]) matchT[R++] = t;
    }
    for (let i = 0; i < exN; i++) excl[exList[i]] = 0;
    if (R === 0) continue;
    sortByDistance(matchT, R, buf);
    for (let i = 0; i < R; i++) matchD[i] = buf[matchT[i]];
    for (let i = 0; i < exN; i++) buf[exList[i]] = Infinity;
    for (let i = 0; i < all.length; i++) buf[all[i]] = Infinity;
    const dLast = matchD[R - 1];
    const tLast = matchT[R - 1];

    // cnt[i] = kept non-matches ranked between match i-1 and match i. The search is on
    // distance alone; a tie with match distances (rare) is resolved by position after it.
    // A bucket table over [d₀, d_last] gives each item a starting match index close to its
    // slot, so the search is a step or two instead of a binary search.
    cnt.fill(0, 0, R);
    const d0 = matchD[0];
    const span = dLast - d0;
    const scale = span > 0 ? nBuckets / span : 0;
    for (let b = 0, i = 0; b < nBuckets; b++) {
      const start = d0 + b / scale;
      while (i < R - 1 && matchD[i] < start) i++;
      lut[b] = i > 0 ? i - 1 : 0;
    }
    for (let t = 0; t < nG; t++) {
      const d = buf[t];
      if (d > dLast) continue;
      if (d === dLast && t > tLast) continue;
      let lo = 0;
      if (d > d0) {
        const b = ((d - d0) * scale) | 0;
        lo = lut[b < nBuckets ? b : nBuckets - 1];
        while (matchD[lo] < d) lo++;
        // Rounding at a bucket edge can start one slot late: step back to the lower bound.
        while (lo > 0 && matchD[lo - 1] >= d) lo--;
      }
      while (matchD[lo] === d && matchT[lo] < t) lo++;
      cnt[lo]++;
    }
    let before = 0;
    let ap = 0;
    let firstPos = 0;
    let lastPos = 0;
    for (let i = 0; i < R; i++) {
      before += cnt[i];
      const pos = before + i + 1;
      ap += (i + 1) / pos;
      if (i === 0) firstPos = pos;
      lastPos = pos;
    }
    ap /= R;
    const inp = R / lastPos;

    let rank = firstPos;
    if (seen) {
      // Rank among distinct identities: distinct other keys ranked before the first match.
      const d0 = matchD[0];
      const t0 = matchT[0];
      let distinct = 0;
      for (let t = 0; t < nG; t++) {
        const d = buf[t];
        if (d > d0 || (d === d0 && t > t0)) continue;
        const k = gKey[t];
        if (seen[k] === qi) continue;
        seen[k] = qi;
        distinct++;
      }
      rank = distinct + 1;
    }
    numValid++;
    sumAP += ap;
    sumINP += inp;
    rankHist[Math.min(rank, maxRank + 1)]++;
    if (per) {
      per.valid[qi] = 1;
      per.rank[qi] = rank;
      per.ap[qi] = ap;
      per.inp[qi] = inp;
      per.numMatches[qi] = R;
    }
  }

  const cmc: number[] = new Array(maxRank);
  let acc = 0;
  for (let k = 1; k <= maxRank; k++) {
    acc += rankHist[k];
    cmc[k - 1] = numValid > 0 ? acc / numValid : NaN;
  }
  return {
    cmc,
    mAP: numValid > 0 ? sumAP / numValid : NaN,
    mINP: numValid > 0 ? sumINP / numValid : NaN,
    numValid,
    perQuery: per,
  };
}

/** Sorts the first n positions in `idx` by (row[idx], idx) ascending. */
function sortByDistance(idx: Int32Array, n: number, row: Float32Array): void {
  if (n <= 24) {
    for (let i = 1; i < n; i++) {
      const t = idx[i];
      const d = row[t];
      let j = i - 1;
      while (j >= 0 && (row[idx[j]] > d || (row[idx[j]] === d && idx[j] > t))) {
        idx[j + 1] = idx[j];
        j--;
      }
      idx[j + 1] = t;
    }
    return;
  }
  const sorted = Array.from(idx.subarray(0, n)).sort((a, b) => row[a] - row[b] || a - b);
  idx.set(sorted);
}
