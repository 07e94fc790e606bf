/**
 * Evaluation (docs/design.md, 'Metrics and protocols'): distances, CMC / mAP / mINP under the
 * field's protocols, attribute-recognition metrics, and 2-D embeddings.
 *
 * ```ts
 * import { evaluate, market1501, pairwiseDistance } from "./lib/eval/mod.ts";
 * const dist = await pairwiseDistance(queryFeatures, galleryFeatures, "sqeuclidean");
 * const result = evaluate(dist, queryItems, galleryItems, market1501());
 * console.log(result.cmc[0], result.mAP, result.mINP);
 * ```
 *
 * - {@link pairwiseDistance}: squared Euclidean / Euclidean / cosine in tfjs, in query blocks.
 * - {@link evaluate} with a protocol from {@link market1501}, {@link sysuMM01},
 *   {@link regdb}, {@link attributeQuery} or {@link singleShot}; trials of
 *   separately trained models are combined with {@link averageResults}.
 * - {@link attributeMetrics}: per-attribute accuracy, mA, instance-based accuracy,
 *   precision, recall and F1.
 * - {@link pca} and {@link tsne}: deterministic 2-D embeddings for plots.
 *
 * Ranking ties are broken by gallery index (a stable argsort). The reference
 * implementations (torchreid `eval_market1501`, AGW `eval_sysu` /
 * `eval_regdb`) sort with NumPy's unstable default, so on tied distances their
 * numbers depend on NumPy internals; without ties ours equal theirs (checked
 * to 1e-6 by `reference_test.ts` against NumPy re-implementations).
 *
 * @module
 */
export {
  type DenseMatrix,
  type DistanceMatrix,
  type DistanceMetric,
  type DistanceOptions,
  type FeatureInput,
  pairwiseDistance,
} from "./distance.ts";
export {
  averageResults,
  categoryKey,
  drawSysuGalleries,
  type EvalResult,
  evaluate,
  type EvaluateOptions,
  type PerQueryMetrics,
  rankK,
  type TrialResult,
} from "./evaluate.ts";
export {
  attributeQuery,
  type AttributeQueryOptions,
  type CmcMode,
  type EvalItem,
  type ExclusionRule,
  market1501,
  type Market1501Options,
  type MatchBy,
  type Protocol,
  type ProtocolBase,
  regdb,
  type RegdbOptions,
  singleShot,
  type SingleShotOptions,
  type StandardProtocol,
  sysuMM01,
  type SysuOptions,
  type SysuProtocol,
} from "./protocols.ts";
export {
  type AttributeMetricOptions,
  type AttributeMetrics,
  attributeMetrics,
  type AttributeScore,
} from "./attributes.ts";
export {
  affinities,
  type Embedding,
  pca,
  type PcaOptions,
  type PcaResult,
  tsne,
  type TsneOptions,
} from "./embed2d.ts";
export * from "./sysu.ts";
