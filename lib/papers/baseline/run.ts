/**
 * The baseline re-id run: a Market-1501-layout dataset (the synthetic copy by default, a
 * real download when pointed at one), a backbone trained with identity cross-entropy and/or
 * the batch-hard triplet loss by the shared engine, scored under the Market-1501 protocol.
 * The grid's cells (spec.ts) and the introduction notebook both call {@link runBaseline}.
 *
 * @see notebooks/00_introduction.ipynb §4–§5
 * @module
 */
import { join } from "node:path";
import { loadDataset } from "../../data/loaders/index.ts";
import type { ReidDataset } from "../../data/types.ts";
import { ensureSyntheticPreset, TINY_PRESET } from "../../engine/synthetic.ts";
import {
  buildReidNet,
  evaluateReid,
  type FeatureKind,
  type ReidEvaluation,
  type ReidNet,
  type ReidNetConfig,
  type ReidTrainConfig,
  trainReid,
  type TrainReport,
} from "../../engine/reid_engine.ts";
import { loadSplit, type ReidSplit } from "../../data/split.ts";
import type { DistanceMetric } from "../../eval/distance.ts";
import { market1501 } from "../../eval/protocols.ts";
import { repoPath, worldFolder } from "../../runtime/paths.ts";
import type { Rng } from "../../runtime/random.ts";
import type { LossHistory } from "../../train/history.ts";
import type { ProgressSink } from "../../train/progress.ts";

/** Where the data comes from and at which size it is read. */
export type BaselineData = {
  /** The Market-1501 layout (DukeMTMC-reID shares it). */
  dataset: "market1501" | "dukemtmc_reid";
  /** "synthetic": generated under `root` when missing; "real": a release already at `root`. */
  source: "synthetic" | "real";
  /** Folder holding the preset (synthetic) or the release (real); relative to the repository. */
  root: string;
  /** Synthetic only: the tiny preset of {@link TINY_PRESET} instead of the default size. */
  tiny: boolean;
  /**
   * Synthetic only: the world's seed (absent: 0, the world `deno task data` draws). Set by
   * `reproduce --world-seed` through {@link withWorldSeed}, with a root of its own.
   */
  worldSeed?: number;
  /** Input size fed to the network. */
  height: number;
  width: number;
};

/** A baseline config: data, network, recipe, evaluation. */
export type BaselineConfig = {
  data: BaselineData;
  model: ReidNetConfig;
  train: ReidTrainConfig;
  eval: { feature: FeatureKind; flip: boolean; metric: DistanceMetric };
};

/** The loaded splits of a baseline run. */
export interface BaselineSplits {
  dataset: ReidDataset;
  train: ReidSplit;
  query: ReidSplit;
  gallery: ReidSplit;
}

/**
 * Loads (and for synthetic data first generates, if needed) the dataset of `config`, and
 * decodes its train (persons only), query and gallery splits at the config's size.
 *
 * @see notebooks/00_introduction.ipynb §2 (datasets and their layouts)
 */
export async function loadBaselineData(
  config: BaselineConfig,
  options: { log?: (line: string) => void; verbose?: boolean } = {},
): Promise<BaselineSplits> {
  const d = config.data;
  const root = repoPath(d.root);
  const datasetRoot = d.source === "synthetic"
    ? await ensureSyntheticPreset(d.dataset, {
      root,
      seed: d.worldSeed ?? 0,
      overrides: d.tiny ? TINY_PRESET : null,
      log: options.log,
    })
    : root;
  const dataset = loadDataset(d.dataset, datasetRoot, { verbose: options.verbose ?? false });
  const size = { height: d.height, width: d.width };
  // Another world's pixels get a cache of their own (the default world keeps data/cache).
  const cacheDir = d.worldSeed === undefined ? undefined : join(root, "cache");
  return {
    dataset,
    train: await loadSplit(dataset, "train", size, { identitiesOnly: true, cacheDir }),
    query: await loadSplit(dataset, "query", size, { cacheDir }),
    gallery: await loadSplit(dataset, "gallery", size, { cacheDir }),
  };
}

/**
 * `config` on the synthetic world drawn with seed `worldSeed` (`reproduce --world-seed`), in
 * a `world<N>/` folder of its own; a config that reads a real release has no world to redraw.
 */
export function withWorldSeed(config: BaselineConfig, worldSeed: number): BaselineConfig {
  if (config.data.source !== "synthetic") {
    throw new Error(
      `baseline: data at ${config.data.root} is real; --world-seed needs synthetic data`,
    );
  }
  return {
    ...config,
    data: { ...config.data, root: worldFolder(config.data.root, worldSeed), worldSeed },
  };
}

/** Options of {@link runBaseline}. */
export interface RunBaselineOptions {
  /** The run's random source: weights, sampling and augmentation are forked from it. */
  rng: Rng;
  history?: LossHistory;
  log?: (line: string) => void;
  progress?: ProgressSink;
  /** Data already loaded (the notebook reuses it between runs). */
  data?: BaselineSplits;
  /** Keep the trained net in the result (the caller disposes it); default false. */
  keepNet?: boolean;
}

/** What {@link runBaseline} returns. */
export interface BaselineRun {
  data: BaselineSplits;
  train: TrainReport;
  evaluation: ReidEvaluation;
  /** R1, R5, R10, mAP, mINP in percent. */
  metrics: Record<string, number>;
  /** The trained net when `keepNet` was set. */
  net: ReidNet | null;
}

/**
 * Trains and evaluates one baseline configuration.
 *
 * @see notebooks/00_introduction.ipynb §4 (training) and §5 (evaluation)
 */
export async function runBaseline(
  config: BaselineConfig,
  options: RunBaselineOptions,
): Promise<BaselineRun> {
  const data = options.data ?? await loadBaselineData(config, { log: options.log });
  const net = buildReidNet(config.model, {
    numClasses: data.train.numClasses,
    inputShape: [config.data.height, config.data.width, 3],
    seed: options.rng.fork("net"),
  });
  try {
    const train = await trainReid({
      net,
      train: data.train,
      config: config.train,
      rng: options.rng.fork("train"),
      history: options.history,
      log: options.log,
      progress: options.progress,
    });
    const evaluation = await evaluateReid(net, data.query, data.gallery, market1501(), {
      feature: config.eval.feature,
      flip: config.eval.flip,
      metric: config.eval.metric,
    });
    return {
      data,
      train,
      evaluation,
      metrics: evaluation.metrics,
      net: options.keepNet ? net : null,
    };
  } finally {
    if (!options.keepNet) net.dispose();
  }
}
