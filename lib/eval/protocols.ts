/**
 * Evaluation protocols as data (docs/design.md, 'Metrics and protocols'): which gallery items a
 * query ignores, what counts as a match, how CMC is counted, and — for
 * SYSU-MM01 — how galleries are drawn per trial. {@link evaluate} in
 * `evaluate.ts` interprets these objects; they are plain JSON so a result file
 * can record exactly the protocol it was scored with.
 *
 * @module
 */

// An evaluation item describes an image, so it lives with the data types (a split carries them).
export type { EvalItem } from "../data/types.ts";
import type { Modality } from "../data/types.ts";

/**
 * A gallery item is ignored for a query when every condition the rule sets
 * holds (unset conditions are not checked). A protocol ignores an item when
 * any of its rules says so.
 */
export interface ExclusionRule {
  /** The gallery item has the query's identity. */
  samePid?: boolean;
  /** The gallery item comes from the query's camera. */
  sameCamera?: boolean;
  /** The gallery item is a match for the query (same pid or same category). */
  sameMatch?: boolean;
  /** The query's camera is one of these. */
  queryCameras?: number[];
  /** The gallery item's camera is one of these. */
  galleryCameras?: number[];
  /** The gallery item's identity is one of these (e.g. Market-1501 junk, pid -1). */
  galleryPids?: number[];
}

/** What makes a gallery item a true match for a query. */
export type MatchBy = "pid" | "category";

/**
 * How CMC is counted. `first-match`: rank of the first true match in the
 * ranked gallery (torchreid, AGW's `eval_regdb`). `distinct-identity`: rank of
 * the query's identity in the ranked list of distinct gallery identities (the
 * official SYSU-MM01 code and AGW's `eval_sysu`); identical to `first-match`
 * when each identity has one gallery item.
 */
export type CmcMode = "first-match" | "distinct-identity";

/** Fields every protocol has. */
export interface ProtocolBase {
  /** Name recorded with results, e.g. "market1501", "sysu-mm01/all/single-shot". */
  name: string;
  matchBy: MatchBy;
  exclude: ExclusionRule[];
  cmc: CmcMode;
  /** CMC is reported for ranks 1..maxRank. */
  maxRank: number;
  /** Expected query / gallery modality (checked when items carry one). */
  queryModality?: Modality;
  galleryModality?: Modality;
  /** Said in the error when no query has a valid match (the rule a user most likely broke). */
  noMatchHint: string;
}

/** A protocol scored on the query and gallery exactly as given. */
export interface StandardProtocol extends ProtocolBase {
  kind: "standard";
}

/**
 * SYSU-MM01: queries are the infrared images of {@link queryCameras}; the
 * gallery is drawn per trial from the candidate images of
 * {@link galleryCameras}: for each identity and camera, the first
 * {@link shots} of a seeded shuffle of its images (all of them when fewer).
 */
export interface SysuProtocol extends ProtocolBase {
  kind: "sysu";
  mode: "all" | "indoor";
  shots: number;
  trials: number;
  seed: number;
  queryCameras: number[];
  galleryCameras: number[];
}

/** Any protocol {@link evaluate} understands. */
export type Protocol = StandardProtocol | SysuProtocol;

const DEFAULT_MAX_RANK = 50;

/** Options of {@link market1501}. */
export interface Market1501Options {
  /** Name recorded with results (default "market1501"; use "dukemtmc-reid" for Duke). */
  name?: string;
  maxRank?: number;
  /**
   * Gallery identities always ignored. Default [-1]: Market-1501's junk images
   * (torchreid drops them when loading; the official MATLAB code ignores them).
   * Distractors (pid 0) stay in the gallery.
   */
  junkPids?: number[];
}

/**
 * Market-1501 / DukeMTMC-reID single-query: gallery images with the query's
 * identity *and* camera are ignored; queries left without a match are skipped.
 * Equals torchreid's `eval_market1501` (plus mINP).
 *
 * @see notebooks/00_introduction.ipynb §3 (the metrics, on a toy example)
 */
export function market1501(options: Market1501Options = {}): StandardProtocol {
  const junk = options.junkPids ?? [-1];
  const exclude: ExclusionRule[] = [{ samePid: true, sameCamera: true }];
  if (junk.length > 0) exclude.push({ galleryPids: junk.slice() });
  return {
    kind: "standard",
    name: options.name ?? "market1501",
    matchBy: "pid",
    exclude,
    cmc: "first-match",
    maxRank: options.maxRank ?? DEFAULT_MAX_RANK,
    noMatchHint: "gallery images of the query's identity taken by the query's own camera are " +
      "ignored, so each query needs its identity in the gallery from another camera" +
      (junk.length > 0 ? ` (gallery pids ${junk.join(", ")} are junk and ignored too)` : ""),
  };
}

/** Options of {@link sysuMM01}. */
export interface SysuOptions {
  /** `all`: gallery from RGB cameras 1, 2, 4, 5; `indoor`: cameras 1, 2. */
  mode: "all" | "indoor";
  /** Gallery images per identity and camera: 1 (single-shot, default) or 10 (multi-shot). */
  shots?: number;
  /** Gallery draws (default 10). */
  trials?: number;
  /** Seed of the gallery draws (default 0). */
  seed?: number;
  maxRank?: number;
}

/**
 * SYSU-MM01 infrared → visible search, as the official evaluation and AGW's
 * `eval_sysu`: queries from IR cameras 3 and 6; a camera-3 query ignores
 * gallery camera 2 (the same indoor location); CMC counts each identity once,
 * mAP and mINP use the full ranked list.
 */
export function sysuMM01(options: SysuOptions): SysuProtocol {
  const shots = options.shots ?? 1;
  const trials = options.trials ?? 10;
  if (!Number.isInteger(shots) || shots < 1) throw new Error(`sysuMM01: shots must be ≥ 1`);
  if (!Number.isInteger(trials) || trials < 1) throw new Error(`sysuMM01: trials must be ≥ 1`);
  if (options.mode !== "all" && options.mode !== "indoor") {
    throw new Error(`sysuMM01: mode must be "all" or "indoor", got "${options.mode}"`);
  }
  return {
    kind: "sysu",
    name: `sysu-mm01/${options.mode}/${shots === 1 ? "single-shot" : `multi-shot-${shots}`}`,
    mode: options.mode,
    shots,
    trials,
    seed: options.seed ?? 0,
    queryCameras: [3, 6],
    galleryCameras: options.mode === "all" ? [1, 2, 4, 5] : [1, 2],
    matchBy: "pid",
    exclude: [{ queryCameras: [3], galleryCameras: [2] }],
    cmc: "distinct-identity",
    maxRank: options.maxRank ?? DEFAULT_MAX_RANK,
    queryModality: "ir",
    galleryModality: "rgb",
    noMatchHint: "queries are the IR images of cameras 3 and 6, the gallery is drawn from the " +
      "RGB cameras, and a camera-3 query ignores gallery camera 2; each query identity needs " +
      "gallery images in another RGB camera",
  };
}

/** Options of {@link regdb}. */
export interface RegdbOptions {
  direction: "visible-to-thermal" | "thermal-to-visible";
  maxRank?: number;
}

/**
 * RegDB, one trial: the given query set against the given gallery set of the
 * other modality, nothing ignored, first-match CMC (AGW's `eval_regdb`). Each
 * trial is scored with the model trained on that trial; average trials with
 * {@link averageResults} from `evaluate.ts`.
 */
export function regdb(options: RegdbOptions): StandardProtocol {
  const v2t = options.direction === "visible-to-thermal";
  if (!v2t && options.direction !== "thermal-to-visible") {
    throw new Error(
      `regdb: direction must be "visible-to-thermal" or "thermal-to-visible", got "${options.direction}"`,
    );
  }
  return {
    kind: "standard",
    name: `regdb/${options.direction}`,
    matchBy: "pid",
    exclude: [],
    cmc: "first-match",
    maxRank: options.maxRank ?? DEFAULT_MAX_RANK,
    queryModality: v2t ? "rgb" : "ir",
    galleryModality: v2t ? "ir" : "rgb",
    noMatchHint: "each query identity needs images of the other modality in the trial's gallery",
  };
}

/** Options of {@link attributeQuery}. */
export interface AttributeQueryOptions {
  /**
   * SAL's rule: ignore gallery images of the query's category that share the
   * identity *and* camera of the image the query was taken from (query pid /
   * camid). Default false: a pure attribute query has no source image (AAIPR).
   */
  excludeSourceCamera?: boolean;
  maxRank?: number;
}

/**
 * Attribute → image retrieval (SAL, AAIPR): the query is an attribute vector;
 * a gallery image matches when its attribute vector is identical (same
 * category). First-match CMC, standard non-interpolated AP.
 */
export function attributeQuery(options: AttributeQueryOptions = {}): StandardProtocol {
  return {
    kind: "standard",
    name: options.excludeSourceCamera ? "attribute-query/exclude-source" : "attribute-query",
    matchBy: "category",
    exclude: options.excludeSourceCamera
      ? [{ sameMatch: true, samePid: true, sameCamera: true }]
      : [],
    cmc: "first-match",
    maxRank: options.maxRank ?? DEFAULT_MAX_RANK,
    noMatchHint: "a match is a gallery image whose full attribute vector equals the query's; " +
      "no gallery image carries any query's attribute category",
  };
}

/** Options of {@link singleShot}. */
export interface SingleShotOptions {
  /** e.g. "viper", "prid". */
  name: string;
  maxRank?: number;
}

/**
 * VIPeR / PRID single-shot: one split's probes (view A) against its gallery
 * (view B, PRID with distractors), first-match CMC. Average the 10 splits with
 * {@link averageResults} from `evaluate.ts`.
 */
export function singleShot(options: SingleShotOptions): StandardProtocol {
  return {
    kind: "standard",
    name: `${options.name}/single-shot`,
    matchBy: "pid",
    exclude: [],
    cmc: "first-match",
    maxRank: options.maxRank ?? DEFAULT_MAX_RANK,
    noMatchHint: "each probe identity needs its image from the other view in the gallery",
  };
}
