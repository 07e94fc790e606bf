/**
 * `evaluate(dist, query, gallery, protocol)`: CMC, mAP and mINP under one of
 * the protocols of `protocols.ts`.
 *
 * Definitions (per valid query; a query is valid when at least one true match
 * is left after the protocol's exclusions, and averages run over valid
 * queries only, as in torchreid and AGW):
 * - ranking: ascending distance, ties by gallery index (a stable argsort; see
 *   `rank_core.ts` for how this relates to the references' unstable sort);
 * - CMC(k): the query's rank ≤ k, rank as the protocol's {@link CmcMode} says;
 * - AP = (1/R) Σᵢ i / posᵢ over the R true matches at 1-based positions
 *   pos₁ < … < pos_R of the ranked list after exclusions (torchreid
 *   `eval_market1501`, AGW `eval_sysu` / `eval_regdb`; not deduplicated);
 * - INP = R / pos_R (Ye et al., "Deep Learning for Person Re-identification: A
 *   Survey and Outlook", as AGW computes it); torchreid has no mINP.
 *
 * All metrics are fractions in [0, 1].
 *
 * Where the references disagree, and what we follow:
 * - Tie order: all of them use NumPy's default unstable argsort; we use the
 *   stable order (ties by gallery index), so tied distances give defined
 *   numbers. Without ties the orders coincide.
 * - Identity de-duplication: torchreid and `eval_regdb` count CMC on the raw
 *   ranked list; `eval_sysu` (and the official SYSU-MM01 MATLAB code) on the
 *   list with repeated identities removed. Each protocol states its
 *   {@link CmcMode}; mAP / mINP are never de-duplicated (as in all of them).
 * - Camera rules: torchreid drops same pid *and* same camera; `eval_sysu`
 *   drops gallery camera 2 for camera-3 queries whatever the pid (the MATLAB
 *   code's "same location" rule, cameras 2 and 3 being one indoor room);
 *   `eval_regdb` drops nothing. Market-1501 junk (pid -1) is dropped by
 *   torchreid's loader and by our protocol.
 * - mINP: AGW's definition (above); torchreid has none.
 * - Arithmetic: torchreid's Cython path sums AP and CMC in float32, its Python
 *   path in float64; we use float64 (they differ by < 1e-6 at test scale).
 * - Short galleries: torchreid caps max_rank at the gallery size (and its
 *   Cython path then reads stale CMC entries); `eval_sysu` fails when fewer
 *   distinct identities than max_rank are left. We always return maxRank
 *   entries, each the fraction of valid queries ranked at or above it.
 *
 * @module
 */
import { Rng } from "../runtime/random.ts";
import type { DistanceMatrix } from "./distance.ts";
import type { EvalItem, Protocol, StandardProtocol, SysuProtocol } from "./protocols.ts";
import { type PerQueryMetrics, rankMetrics } from "./rank_core.ts";

export type { PerQueryMetrics } from "./rank_core.ts";

/** Metrics of one evaluation (or the mean over trials, with the trials attached). */
export interface EvalResult {
  /** The protocol's name. */
  protocol: string;
  /** cmc[k-1] = rank-k accuracy, k = 1..maxRank. */
  cmc: number[];
  mAP: number;
  mINP: number;
  /** Queries scored (after the protocol's query selection). */
  numQueries: number;
  /** Queries with at least one true match (the averages' denominator); a mean over trials. */
  numValidQueries: number;
  /** Gallery size (a mean over trials when the protocol draws galleries). */
  numGallery: number;
  /** Per-query metrics, aligned with {@link queryIndices}, when asked for. */
  perQuery?: PerQueryMetrics;
  /** Indices into the `query` array of the queries scored. */
  queryIndices?: number[];
  /** Per-trial results when averaged over trials. */
  trials?: TrialResult[];
}

/** One trial's result; `galleryIndices` index the `gallery` array given to {@link evaluate}. */
export interface TrialResult extends EvalResult {
  galleryIndices: number[];
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Keep per-query metrics (default false). */
  perQuery?: boolean;
  /** Overrides the protocol's maxRank. */
  maxRank?: number;
}

/** A key naming an item's attribute category. */
export function categoryKey(item: EvalItem): string {
  if (item.category !== undefined) return String(item.category);
  if (item.attributes === undefined) throw new Error("no category and no attributes");
  return Array.prototype.join.call(item.attributes, ",");
}

function checkItems(
  items: readonly EvalItem[],
  what: string,
  expected: number,
  protocol: Protocol,
) {
  if (items.length !== expected) {
    throw new Error(
      `evaluate(${protocol.name}): the distance matrix has ${expected} ${
        what === "query" ? "rows" : "columns"
      } ` +
        `but ${items.length} ${what} items were given`,
    );
  }
  for (let i = 0; i < items.length; i++) {
    const { pid, camid } = items[i];
    if (!Number.isInteger(pid) || !Number.isInteger(camid)) {
      throw new Error(
        `evaluate(${protocol.name}): ${what} item ${i} needs integer pid and camid, got pid ${pid}, camid ${camid}`,
      );
    }
  }
}

function checkModality(
  items: readonly EvalItem[],
  indices: readonly number[],
  expected: string | undefined,
  what: string,
  protocol: Protocol,
) {
  if (!expected) return;
  for (const i of indices) {
    const m = items[i].modality;
    if (m !== undefined && m !== expected) {
      throw new Error(
        `evaluate(${protocol.name}): ${what} item ${i} has modality "${m}", expected "${expected}"`,
      );
    }
  }
}

function checkFinite(dist: DistanceMatrix, protocol: Protocol) {
  const { data, rows, cols } = dist;
  if (data.length !== rows * cols) {
    throw new Error(
      `evaluate(${protocol.name}): distance data has ${data.length} values, expected ${rows} × ${cols}`,
    );
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v - v is NaN exactly for NaN and ±Infinity (the ranking engine reserves +Infinity).
    if (v - v !== 0) {
      throw new Error(
        `evaluate(${protocol.name}): distance[${Math.floor(i / cols)}][${i % cols}] is ${v}; ` +
          "distances must be finite",
      );
    }
  }
}

/** Dense match keys: gallery keys numbered in order of first appearance, query keys -1 when absent. */
function matchKeys(
  query: readonly EvalItem[],
  qIdx: readonly number[],
  gallery: readonly EvalItem[],
  gIdx: readonly number[],
  protocol: Protocol,
): { qKey: Int32Array; gKey: Int32Array; numKeys: number } {
  const keyOf = (item: EvalItem, what: string, i: number): string | number => {
    if (protocol.matchBy === "pid") return item.pid;
    try {
      return categoryKey(item);
    } catch {
      throw new Error(
        `evaluate(${protocol.name}): ${what} item ${i} has neither "category" nor "attributes" ` +
          "(attribute queries match by attribute category)",
      );
    }
  };
  const ids = new Map<string | number, number>();
  const gKey = new Int32Array(gIdx.length);
  gIdx.forEach((g, t) => {
    const k = keyOf(gallery[g], "gallery", g);
    let id = ids.get(k);
    if (id === undefined) ids.set(k, id = ids.size);
    gKey[t] = id;
  });
  const qKey = new Int32Array(qIdx.length);
  qIdx.forEach((q, i) => {
    qKey[i] = ids.get(keyOf(query[q], "query", q)) ?? -1;
  });
  return { qKey, gKey, numKeys: ids.size };
}

function scoreSubset(
  dist: DistanceMatrix,
  query: readonly EvalItem[],
  qIdx: number[],
  gallery: readonly EvalItem[],
  gIdx: number[],
  protocol: Protocol,
  options: EvaluateOptions,
): EvalResult {
  const identity = gIdx.length === dist.cols && gIdx.every((g, t) => g === t);
  const { qKey, gKey, numKeys } = matchKeys(query, qIdx, gallery, gIdx, protocol);
  const maxRank = options.maxRank ?? protocol.maxRank;
  if (!Number.isInteger(maxRank) || maxRank < 1) {
    throw new Error(`evaluate(${protocol.name}): maxRank must be a positive integer`);
  }
  const out = rankMetrics({
    dist: dist.data,
    cols: dist.cols,
    queryRows: Int32Array.from(qIdx),
    galleryCols: identity ? null : Int32Array.from(gIdx),
    qKey,
    gKey,
    numKeys,
    qPid: Int32Array.from(qIdx, (q) => query[q].pid),
    gPid: Int32Array.from(gIdx, (g) => gallery[g].pid),
    qCam: Int32Array.from(qIdx, (q) => query[q].camid),
    gCam: Int32Array.from(gIdx, (g) => gallery[g].camid),
    exclude: protocol.exclude,
    cmc: protocol.cmc,
    maxRank,
    perQuery: options.perQuery ?? false,
  });
  if (out.numValid === 0) {
    throw new Error(
      `evaluate(${protocol.name}): none of the ${qIdx.length} queries has a true match in the ` +
        `${gIdx.length}-image gallery: ${protocol.noMatchHint}. Check also that the query and ` +
        "gallery items are in the order of the distance matrix's rows and columns.",
    );
  }
  const result: EvalResult = {
    protocol: protocol.name,
    cmc: out.cmc,
    mAP: out.mAP,
    mINP: out.mINP,
    numQueries: qIdx.length,
    numValidQueries: out.numValid,
    numGallery: gIdx.length,
  };
  if (out.perQuery) {
    result.perQuery = out.perQuery;
    result.queryIndices = qIdx;
  }
  return result;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function evaluateStandard(
  dist: DistanceMatrix,
  query: readonly EvalItem[],
  gallery: readonly EvalItem[],
  protocol: StandardProtocol,
  options: EvaluateOptions,
): EvalResult {
  const qIdx = range(query.length);
  const gIdx = range(gallery.length);
  checkModality(query, qIdx, protocol.queryModality, "query", protocol);
  checkModality(gallery, gIdx, protocol.galleryModality, "gallery", protocol);
  return scoreSubset(dist, query, qIdx, gallery, gIdx, protocol, options);
}

/**
 * The gallery of each SYSU-MM01 trial, as indices into `gallery`: for every
 * (identity, camera) among the protocol's gallery cameras, the first `shots`
 * images of a shuffle seeded by `protocol.seed` and the trial number
 * (`Rng(seed).fork("sysu-gallery/trial-<t>")`), returned in ascending order.
 */
export function drawSysuGalleries(
  gallery: readonly EvalItem[],
  protocol: SysuProtocol,
): number[][] {
  const groups = new Map<string, { pid: number; cam: number; items: number[] }>();
  gallery.forEach((item, i) => {
    if (!protocol.galleryCameras.includes(item.camid)) return;
    const key = `${item.pid}/${item.camid}`;
    const group = groups.get(key);
    if (group) group.items.push(i);
    else groups.set(key, { pid: item.pid, cam: item.camid, items: [i] });
  });
  const ordered = [...groups.values()].sort((a, b) => a.pid - b.pid || a.cam - b.cam);
  const root = new Rng(protocol.seed);
  const trials: number[][] = [];
  for (let t = 0; t < protocol.trials; t++) {
    const rng = root.fork(`sysu-gallery/trial-${t}`);
    const picked: number[] = [];
    for (const group of ordered) {
      picked.push(...rng.shuffle(group.items.slice()).slice(0, protocol.shots));
    }
    trials.push(picked.sort((a, b) => a - b));
  }
  return trials;
}

function evaluateSysu(
  dist: DistanceMatrix,
  query: readonly EvalItem[],
  gallery: readonly EvalItem[],
  protocol: SysuProtocol,
  options: EvaluateOptions,
): EvalResult {
  const qIdx = range(query.length).filter((i) => protocol.queryCameras.includes(query[i].camid));
  if (qIdx.length === 0) {
    throw new Error(
      `evaluate(${protocol.name}): no query image comes from the IR cameras ` +
        `${protocol.queryCameras.join(", ")}`,
    );
  }
  checkModality(query, qIdx, protocol.queryModality, "query", protocol);
  const draws = drawSysuGalleries(gallery, protocol);
  if (draws[0].length === 0) {
    throw new Error(
      `evaluate(${protocol.name}): no gallery candidate comes from the RGB cameras ` +
        `${protocol.galleryCameras.join(", ")}`,
    );
  }
  checkModality(gallery, draws.flat(), protocol.galleryModality, "gallery", protocol);
  const trials = draws.map((gIdx): TrialResult => ({
    ...scoreSubset(dist, query, qIdx, gallery, gIdx, protocol, options),
    galleryIndices: gIdx,
  }));
  return averageResults(trials, protocol.name);
}

/**
 * Scores `dist` (query rows × gallery columns) under `protocol`.
 *
 * For SYSU-MM01 pass every test image that may serve: queries are the rows
 * from the IR cameras 3 and 6 (other rows are ignored), and `gallery` is the
 * full candidate set (all test RGB images with pid and camid); the protocol
 * draws each trial's gallery from it and returns the mean with the trials
 * attached. Other protocols score the given sets as they are.
 *
 * Throws when the shapes disagree, a distance is not finite, or no query has a
 * valid match (the message states the protocol's rule).
 *
 * @see notebooks/00_introduction.ipynb §3 (the metrics, on a toy example)
 */
export function evaluate(
  dist: DistanceMatrix,
  query: readonly EvalItem[],
  gallery: readonly EvalItem[],
  protocol: Protocol,
  options: EvaluateOptions = {},
): EvalResult {
  checkItems(query, "query", dist.rows, protocol);
  checkItems(gallery, "gallery", dist.cols, protocol);
  checkFinite(dist, protocol);
  return protocol.kind === "sysu"
    ? evaluateSysu(dist, query, gallery, protocol, options)
    : evaluateStandard(dist, query, gallery, protocol, options);
}

/**
 * The mean over trials (RegDB's 10 splits each with its own model, VIPeR /
 * PRID splits, SYSU gallery draws): CMC, mAP, mINP, valid-query and gallery
 * counts are averaged; the trials are attached.
 */
export function averageResults<T extends EvalResult>(results: T[], name?: string): EvalResult {
  if (results.length === 0) throw new Error("averageResults: no results to average");
  const n = results.length;
  const maxRank = Math.min(...results.map((r) => r.cmc.length));
  const mean = (f: (r: T) => number) => results.reduce((s, r) => s + f(r), 0) / n;
  return {
    protocol: name ?? results[0].protocol,
    cmc: range(maxRank).map((k) => mean((r) => r.cmc[k])),
    mAP: mean((r) => r.mAP),
    mINP: mean((r) => r.mINP),
    numQueries: mean((r) => r.numQueries),
    numValidQueries: mean((r) => r.numValidQueries),
    numGallery: mean((r) => r.numGallery),
    trials: results.map((r) => ({ galleryIndices: [], ...r })),
  };
}

/** Rank-k accuracy from a result (k 1-based), e.g. `rankK(result, 1)` for rank-1. */
export function rankK(result: EvalResult, k: number): number {
  if (k < 1 || k > result.cmc.length) {
    throw new Error(`rankK: rank ${k} outside 1..${result.cmc.length}`);
  }
  return result.cmc[k - 1];
}
