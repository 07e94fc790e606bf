/**
 * The ID + triplet re-id trainer (the baseline's, torchreid's "engine" role) on a split of
 * `lib/data/split.ts`: a backbone with an optional BN neck and an identity
 * classifier, identity cross-entropy (label smoothing) and batch-hard triplet losses over
 * P×K batches, seeded augmentation, Adam with an epoch schedule; then features in eval
 * mode (optionally averaged with the mirrored image) and the protocol's CMC / mAP / mINP.
 *
 * Training runs on the engine's one loop (`train_loop.ts`): every step runs inside the tape
 * of `tf.variableGrads` (a tidy scope), the live tensor count is checked at the end of every
 * epoch (a growth after the first epoch throws), and the run reports its peak memory and
 * timings. Randomness comes only from the `Rng`s
 * passed in: the same seed on the same backend gives the same losses.
 *
 * @see notebooks/00_introduction.ipynb §4 (training the default backbone)
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { augmentBatch, type AugmentConfig } from "../data/augment.ts";
import { IMAGENET_NORMALIZATION, type Normalization, pixelsToTensor } from "../data/images.ts";
import { identityBatches } from "../data/samplers.ts";
import { gatherPixels, type ReidSplit } from "../data/split.ts";
import type { DenseMatrix, DistanceMatrix, DistanceMetric } from "../eval/distance.ts";
import { pairwiseDistance } from "../eval/distance.ts";
import { type Embed, extractFeatures, type FeatureOptions } from "../eval/features.ts";
import { type EvalResult, evaluate } from "../eval/evaluate.ts";
import type { Protocol } from "../eval/protocols.ts";
import { bnNeck, classifier } from "../nn/heads.ts";
import { smallResNet } from "../nn/backbones/small_resnet.ts";
import { resNet50 } from "../nn/backbones/resnet50.ts";
import { crossEntropy } from "../nn/losses/classification.ts";
import { batchHardTriplet } from "../nn/losses/triplet.ts";
import type { Rng } from "../runtime/random.ts";
import { LossHistory } from "../train/history.ts";
import { forward } from "../train/modes.ts";
import { Player, trainableVariables } from "../train/players.ts";
import type { ProgressSink } from "../train/progress.ts";
import { scheduleFrom, type ScheduleSpec } from "../train/schedule.ts";
import { DisplayHandle, isNotebook } from "../runtime/display.ts";
import { lossCurves } from "../viz/plots.ts";
import { formatPeaks, type MemoryPeaks } from "./memory.ts";
import { type BatchSource, type Hook, runTraining, type TrainLoopReport } from "./train_loop.ts";

// ---------------------------------------------------------------- model

/** The backbones the engine builds (CPU scale: the small ResNet; paper scale: ResNet-50). */
export type BackboneName = "small_resnet" | "resnet50";

/** The network's config (JSON, so it can live in an experiment config). */
export type ReidNetConfig = {
  backbone: BackboneName;
  /** small_resnet stage widths (null: its default 16, 32, 64, 128). */
  widths: number[] | null;
  /** resnet50's last stride (BoT uses 1). */
  lastStride: 1 | 2;
  /** BoT's BN neck between the pooled feature and the classifier. */
  neck: boolean;
};

/** Backbone, optional BN neck and identity classifier. */
export interface ReidNet {
  config: ReidNetConfig;
  backbone: tf.LayersModel;
  neck: tf.LayersModel | null;
  classifier: tf.LayersModel;
  /** Size of the pooled feature. */
  featureDim: number;
  numClasses: number;
  /** Disposes the weights of every part. */
  dispose(): void;
}

/**
 * Builds a {@link ReidNet} for `inputShape` (H, W, 3) and `numClasses` identities; all
 * weights from `seed`. The classifier has no bias and N(0, 0.001²) weights as in BoT.
 */
export function buildReidNet(
  config: ReidNetConfig,
  options: { numClasses: number; inputShape: [number, number, number]; seed: Rng },
): ReidNet {
  const rng = options.seed;
  const backbone = config.backbone === "small_resnet"
    ? smallResNet({
      inputShape: options.inputShape,
      widths: config.widths ?? undefined,
      seed: rng.fork("backbone"),
    })
    : config.backbone === "resnet50"
    ? resNet50({
      inputShape: options.inputShape,
      lastStride: config.lastStride,
      seed: rng.fork("backbone"),
    })
    : (() => {
      throw new Error(
        `unknown backbone "${config.backbone}"; expected small_resnet or resnet50`,
      );
    })();
  const featureDim = backbone.outputs[0].shape[1] as number;
  const neck = config.neck ? bnNeck({ dim: featureDim, name: "bnneck" }) : null;
  const head = classifier({
    inputDim: featureDim,
    numClasses: options.numClasses,
    useBias: false,
    init: { normalStd: 0.001 },
    seed: rng.fork("classifier"),
    name: "id_classifier",
  });
  return {
    config,
    backbone,
    neck,
    classifier: head,
    featureDim,
    numClasses: options.numClasses,
    dispose() {
      backbone.dispose();
      neck?.dispose();
      head.dispose();
    },
  };
}

// ---------------------------------------------------------------- training

/** The training recipe (JSON, so it can live in an experiment config). */
export type ReidTrainConfig = {
  epochs: number;
  /** Cap on steps per epoch (null: the sampler's full epoch). */
  stepsPerEpoch: number | null;
  /** P identities × K images per batch. */
  p: number;
  k: number;
  /** Learning-rate schedule indexed by epoch. */
  schedule: ScheduleSpec;
  /** Coupled L2 weight decay (BoT: 5e-4). */
  weightDecay: number;
  /** Weight of the identity cross-entropy (0: off). */
  idWeight: number;
  labelSmoothing: number;
  /** Weight of the batch-hard triplet loss on the pooled feature (0: off). */
  tripletWeight: number;
  margin: number;
  /** Flip probability, pad-and-crop padding (pixels), random-erasing probability. */
  augment: { flip: number; padCrop: number; erasing: number };
};

/** Options of {@link trainReid}. */
export interface TrainReidOptions {
  net: ReidNet;
  train: ReidSplit;
  config: ReidTrainConfig;
  /** The run's random source (sampling and augmentation are forked from it per epoch). */
  rng: Rng;
  /** Losses are recorded here (a new history when absent). */
  history?: LossHistory;
  /** Input normalisation (default ImageNet's). */
  normalization?: Normalization;
  /** Progress output (default "auto": notebook bar, terminal bar or log lines). */
  progress?: ProgressSink;
  /** Live-updating loss curve in a notebook (default: when in a kernel and progress is not silent). */
  livePlot?: boolean;
  /** Summary lines (default stderr). */
  log?: (line: string) => void;
  /** Name in progress and log lines (default "train"). */
  label?: string;
  /**
   * Checkpoints every `every` steps under `dir`, and resume from the latest one there: the
   * resumed run ends with the same weights and losses as an uninterrupted one.
   */
  checkpoint?: { dir: string; every: number; keep?: number };
  /** More hooks (periodic validation, say), run after the built-in ones. */
  hooks?: Hook<ReidBatch>[];
}

/** A training batch of {@link trainReid}: normalised images and their identity labels. */
export interface ReidBatch {
  x: tf.Tensor4D;
  labels: number[];
}

/** What a training run did. */
export interface TrainReport {
  epochs: number;
  steps: number;
  seconds: number;
  secondsPerStep: number;
  /** Live tensors at the end of each epoch this call ran (flat after the first, or it throws). */
  tensorCounts: number[];
  memory: MemoryPeaks;
  history: LossHistory;
  /** Learning rate of each epoch (of the epochs this call ran, after a resume). */
  learningRates: number[];
}

function augmentConfig(c: ReidTrainConfig["augment"], norm: Normalization): AugmentConfig {
  return {
    flip: c.flip,
    padCrop: c.padCrop,
    erasing: c.erasing > 0 ? { probability: c.erasing, fill: "mean" } : undefined,
    normalization: norm,
  };
}

/** Checks a training config, naming the field that is wrong. */
export function checkTrainConfig(c: ReidTrainConfig): void {
  const bad = (field: string, value: unknown, want: string) => {
    throw new Error(`train config: ${field} is ${JSON.stringify(value)}, expected ${want}`);
  };
  if (!Number.isInteger(c.epochs) || c.epochs < 1) bad("epochs", c.epochs, "an integer ≥ 1");
  if (c.stepsPerEpoch !== null && !(Number.isInteger(c.stepsPerEpoch) && c.stepsPerEpoch >= 1)) {
    bad("stepsPerEpoch", c.stepsPerEpoch, "null or an integer ≥ 1");
  }
  if (!(c.idWeight >= 0)) bad("idWeight", c.idWeight, "≥ 0");
  if (!(c.tripletWeight >= 0)) bad("tripletWeight", c.tripletWeight, "≥ 0");
  if (c.idWeight === 0 && c.tripletWeight === 0) {
    bad("idWeight/tripletWeight", [c.idWeight, c.tripletWeight], "at least one loss switched on");
  }
  if (c.tripletWeight > 0 && c.k < 2) bad("k", c.k, "≥ 2 for the triplet loss (positives)");
}

/**
 * Trains `net` on `train` with the ID and/or triplet loss. The identity loss reads the
 * classifier on the BN-neck output (BoT), the triplet loss the pooled feature before it.
 * Throws when the live tensor count grows after the first epoch.
 *
 * @see notebooks/00_introduction.ipynb §4 (training the default backbone)
 */
export async function trainReid(options: TrainReidOptions): Promise<TrainReport> {
  const { net, train, config, rng } = options;
  checkTrainConfig(config);
  const log = options.log ?? ((line: string) => console.error(line));
  const label = options.label ?? "train";
  const history = options.history ?? new LossHistory();
  const norm = options.normalization ?? IMAGENET_NORMALIZATION;
  const augment = augmentConfig(config.augment, norm);
  const schedule = scheduleFrom(config.schedule);
  const useId = config.idWeight > 0;
  const useTriplet = config.tripletWeight > 0;
  if (useId && net.numClasses !== train.numClasses) {
    throw new Error(
      `${train.name}: ${train.numClasses} identities but the classifier has ${net.numClasses} outputs`,
    );
  }

  // Only what the losses reach is trained: a triplet-only run leaves the classifier alone.
  const modules = [net.backbone, ...(useId ? [net.neck, net.classifier] : [])].filter(
    (m): m is tf.LayersModel => m !== null,
  );
  const player = new Player({
    name: label,
    variables: trainableVariables(...modules),
    optimizer: tf.train.adam(schedule(0)),
    weightDecay: config.weightDecay,
  });

  // All epochs' batches up front (indices only): the progress bar knows the total.
  const epochs = Array.from({ length: config.epochs }, (_, e) => {
    const batches = identityBatches(
      train.dataset,
      { p: config.p, k: config.k },
      rng.fork(`sampler:epoch${e}`),
      train.indices,
    );
    return config.stepsPerEpoch === null ? batches : batches.slice(0, config.stepsPerEpoch);
  });
  const total = epochs.reduce((s, b) => s + b.length, 0);
  if (total === 0) {
    throw new Error(
      `${train.name}: no P×K batch (p=${config.p}, k=${config.k}) fits the training identities`,
    );
  }

  const sink = options.progress ?? "auto";
  const livePlot = options.livePlot ?? (sink !== "silent" && isNotebook());
  const plot = livePlot ? new DisplayHandle() : null;
  let lastPlot = -Infinity;
  const showPlot = async (force: boolean) => {
    if (!plot || history.names().length === 0) return;
    if (!force && performance.now() - lastPlot < 2000) return;
    lastPlot = performance.now();
    await plot.show(lossCurves(history, { title: `${label}: losses`, smooth: 0.6 }));
  };

  // The augmentation stream of an epoch is forked at its first batch and consumed in order.
  let augRng = rng.fork("augment:epoch0");
  const prepare = (epoch: number, index: number) => {
    if (index === 0) augRng = rng.fork(`augment:epoch${epoch}`);
    const rows = epochs[epoch][index].map((i) => train.rowOf.get(i)!);
    const pixels = augmentBatch(gatherPixels(train, rows), train.size, augment, augRng);
    return { rows, pixels };
  };
  const source: BatchSource<ReidBatch> = {
    epochs: epochs.length,
    stepsIn: (e) => epochs[e].length,
    batch(epoch, index) {
      const { rows, pixels } = prepare(epoch, index);
      const x = pixelsToTensor(pixels, train.size, 0, rows.length, norm);
      return { x, labels: rows.map((r) => train.labels[r]) };
    },
    skip: (epoch, index) => void prepare(epoch, index),
    release: (batch) => batch.x.dispose(),
  };

  let loop: TrainLoopReport;
  try {
    loop = await runTraining({
      source,
      label,
      history,
      progress: sink,
      schedules: [{ player, schedule, unit: "epoch" }],
      hooks: [{ name: "live plot", afterStep: () => showPlot(false) }, ...(options.hooks ?? [])],
      checkpoint: options.checkpoint && {
        ...options.checkpoint,
        // Every part, trained or not: a triplet-only run resumes with the same classifier.
        models: Object.fromEntries(
          [net.backbone, net.neck, net.classifier].flatMap((m, i) =>
            m ? [[["backbone", "neck", "classifier"][i], m]] : []
          ),
        ),
        players: [player],
      },
      async step({ batch: { x, labels } }) {
        let parts: tf.Tensor1D | null = null;
        const value = await player.step(() => {
          const feature = forward(net.backbone, x, "train") as tf.Tensor2D;
          const terms: tf.Scalar[] = [];
          let loss = tf.scalar(0);
          if (useId) {
            const z = net.neck ? forward(net.neck, feature, "train") : feature;
            const logits = forward(net.classifier, z, "train") as tf.Tensor2D;
            const ce = crossEntropy(logits, labels, { labelSmoothing: config.labelSmoothing });
            terms.push(ce);
            loss = loss.add(ce.mul(config.idWeight));
          }
          if (useTriplet) {
            const tri = batchHardTriplet(feature, labels, { margin: config.margin });
            terms.push(tri);
            loss = loss.add(tri.mul(config.tripletWeight));
          }
          // Kept past the tape's scope so the parts can be read with the total.
          parts = tf.keep(tf.stack(terms) as tf.Tensor1D);
          return loss as tf.Scalar;
        });
        const got = parts as tf.Tensor1D | null;
        let values: number[] = [];
        try {
          if (got) values = Array.from(await got.data());
        } finally {
          got?.dispose();
        }
        // The player is never frozen here, so the total is always there.
        const record: Record<string, number> = { loss: value! };
        let i = 0;
        if (useId) record.id = values[i++];
        if (useTriplet) record.triplet = values[i++];
        return record;
      },
    });
  } finally {
    player.dispose();
  }
  await showPlot(true);
  const report: TrainReport = {
    epochs: config.epochs,
    steps: loop.steps,
    seconds: loop.seconds,
    secondsPerStep: loop.seconds / Math.max(1, loop.steps),
    tensorCounts: loop.tensorCounts,
    memory: loop.memory,
    history,
    learningRates: loop.learningRates[label],
  };
  log(
    `[${label}] ${report.epochs} epochs, ${report.steps} steps in ${loop.seconds.toFixed(1)} s ` +
      `(${report.secondsPerStep.toFixed(2)} s/step, ${tf.getBackend()}); live tensors at ` +
      `epoch ends ${loop.tensorCounts.join(", ")} ` +
      `(${loop.tensorCountsFlat ? "flat" : "varying, not growing"}); ` + formatPeaks(loop.memory),
  );
  return report;
}

// ---------------------------------------------------------------- features and evaluation

/** Which feature the retrieval uses: the pooled backbone output or the BN-neck output. */
export type FeatureKind = "pool" | "neck";

/** Options of {@link evaluateReid}: the feature, and those of `extractFeatures`. */
export interface ReidFeatureOptions extends Partial<FeatureOptions> {
  /** Default "neck" when the net has one, else "pool". */
  feature?: FeatureKind;
}

/**
 * The embedding a re-id net retrieves with, in eval mode (BN moving statistics): the pooled
 * backbone output or its BN-neck output.
 *
 * @see notebooks/00_introduction.ipynb §5 (evaluation)
 */
export function reidEmbed(net: ReidNet, feature?: FeatureKind): Embed {
  const kind = feature ?? (net.neck ? "neck" : "pool");
  if (kind === "neck" && !net.neck) throw new Error("reidEmbed: the net has no BN neck");
  return (x) => {
    const f = forward(net.backbone, x, "eval") as tf.Tensor2D;
    return kind === "neck" ? forward(net.neck!, f, "eval") as tf.Tensor2D : f;
  };
}

/** {@link extractFeatures} of a re-id net (ImageNet normalisation unless told). */
export function reidFeatures(
  net: ReidNet,
  split: ReidSplit,
  options: ReidFeatureOptions = {},
): Promise<DenseMatrix> {
  return extractFeatures(reidEmbed(net, options.feature), split, {
    ...options,
    normalization: options.normalization ?? IMAGENET_NORMALIZATION,
  });
}

/** The metrics the baseline tables report, in percent: R1, R5, R10, mAP, mINP. */
export function reidMetrics(result: EvalResult): Record<string, number> {
  const r = (k: number) => 100 * result.cmc[Math.min(k, result.cmc.length) - 1];
  return { R1: r(1), R5: r(5), R10: r(10), mAP: 100 * result.mAP, mINP: 100 * result.mINP };
}

/** What {@link evaluateReid} returns. */
export interface ReidEvaluation {
  result: EvalResult;
  /** {@link reidMetrics} of the result. */
  metrics: Record<string, number>;
  dist: DistanceMatrix;
  queryFeatures: DenseMatrix;
  galleryFeatures: DenseMatrix;
}

/**
 * Features of `query` and `gallery`, their distances (`metric`, default squared
 * Euclidean) and the scores under `protocol`.
 *
 * @see notebooks/00_introduction.ipynb §5 (evaluation)
 */
export async function evaluateReid(
  net: ReidNet,
  query: ReidSplit,
  gallery: ReidSplit,
  protocol: Protocol,
  options: ReidFeatureOptions & { metric?: DistanceMetric } = {},
): Promise<ReidEvaluation> {
  const queryFeatures = await reidFeatures(net, query, options);
  const galleryFeatures = await reidFeatures(net, gallery, options);
  const dist = await pairwiseDistance(queryFeatures, galleryFeatures, options.metric);
  const result = evaluate(dist, query.items, gallery.items, protocol);
  return { result, metrics: reidMetrics(result), dist, queryFeatures, galleryFeatures };
}
