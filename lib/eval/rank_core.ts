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
 * precedes (a binary search among the sorted matches). Items ranked after the
 * last match are rejected by one comparison. Memory is O(gallery) per query in
 * reused buffers; nothing of size queries × gallery is allocated.
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
  if (p.galleryCols && p.galleryCols.length !== nG) {
    throw new Error("rankMetrics: galleryCols and gKey differ in length");
  }
  const byKey = invert(gKey);
  let byPid: Map<number, Int32Array> | null = null;
  let byCam: Map<number, Int32Array> | null = null;
  const staticRules = p.exclude.filter((r) => !isDynamic(r));
  const dynamicRules = p.exclude.filter(isDynamic);
  if (dynamicRules.some((r) => r.samePid && !r.sameMatch)) byPid = invert(gPid);
  if (dynamicRules.some((r) => r.sameCamera && !r.sameMatch && !r.samePid)) byCam = invert(gCam);

  // Static exclusions depend on the query only through its camera: one mask per camera.
  const staticMasks = new Map<number, Uint8Array | null>();
  const staticMaskFor = (cam: number): Uint8Array | null => {
    if (staticMasks.has(cam)) return staticMasks.get(cam)!;
    let mask: Uint8Array | null = null;
    for (const rule of staticRules) {
      if (rule.queryCameras && !rule.queryCameras.includes(cam)) continue;
      mask ??= new Uint8Array(nG);
      for (let t = 0; t < nG; t++) if (staticHolds(rule, t, gPid, gCam)) mask[t] = 1;
    }
    staticMasks.set(cam, mask);
    return mask;
  };

  let maxMatches = 0;
  for (const list of byKey.values()) maxMatches = Math.max(maxMatches, list.length);
  const excl = new Uint8Array(nG);
  let exclDirty = false;
  const rowBuf = p.galleryCols ? new Float32Array(nG) : null;
  const matchT = new Int32Array(maxMatches);
  const matchD = new Float64Array(maxMatches);
  const cnt = new Int32Array(maxMatches + 1);
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
    let row: Float32Array;
    if (rowBuf) {
      const gc = p.galleryCols!;
      const base = r * cols;
      for (let t = 0; t < nG; t++) rowBuf[t] = dist[base + gc[t]];
      row = rowBuf;
    } else {
      row = dist.subarray(r * cols, r * cols + cols);
    }
    const qk = qKey[qi];
    const qp = qPid[qi];
    const qc = qCam[qi];

    // Exclusion mask for this query.
    const base = staticMaskFor(qc);
    if (base) {
      excl.set(base);
      exclDirty = true;
    } else if (exclDirty) {
      excl.fill(0);
      exclDirty = false;
    }
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
        excl[t] = 1;
        exclDirty = true;
      }
    }

    // Kept true matches, sorted by (distance, position).
    const all = qk >= 0 ? byKey.get(qk) ?? EMPTY : EMPTY;
    let R = 0;
    for (let i = 0; i < all.length; i++) {
      const t = all[i];
      if (!excl[t]) matchT[R++] = t;
    }
    if (R === 0) continue;
    sortByDistance(matchT, R, row);
    for (let i = 0; i < R; i++) matchD[i] = row[matchT[i]];
    const dLast = matchD[R - 1];
    const tLast = matchT[R - 1];

    // cnt[i] = kept non-matches ranked between match i-1 and match i.
    cnt.fill(0, 0, R);
    for (let t = 0; t < nG; t++) {
      const d = row[t];
      if (d > dLast) continue;
      if (excl[t] || gKey[t] === qk) continue;
      if (d === dLast && t > tLast) continue;
      let lo = 0;
      let hi = R - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const md = matchD[mid];
        if (md > d || (md === d && matchT[mid] > t)) hi = mid;
        else lo = mid + 1;
      }
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
        const d = row[t];
        if (d > d0 || (d === d0 && t > t0) || excl[t]) continue;
        const k = gKey[t];
        if (k === qk || seen[k] === qi) continue;
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
