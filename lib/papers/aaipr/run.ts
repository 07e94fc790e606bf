/**
 * One AAIPR cell end to end (lib/papers/aaipr/README.md, 'Schedule' and 'Evaluation'): the
 * world → stage 1 (cached per world and seed) → stage 2 of the row's model (the joint space, or
 * DeepMAR-lite, or linear CCA) → attribute queries against the test gallery (cosine on the
 * concepts) → rank-1/5/10, mAP and the modality two-sample accuracy. Used by the grid cell, the
 * calibration and the notebook.
 *
 * @see notebooks/aaipr.ipynb §4–§5
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { IMAGENET_NORMALIZATION } from "../../data/images.ts";
import { runTraining } from "../../engine/train_loop.ts";
import {
  type AttributeQueryScore,
  distinctAttributeQueries,
  scoreAttributeQueries,
  twoSampleAccuracy,
} from "../../eval/attribute_query.ts";
import type { DenseMatrix } from "../../eval/distance.ts";
import { extractFeatures } from "../../eval/features.ts";
import { attributeBce, positiveRatioWeights } from "../../nn/losses/attribute.ts";
import type { Rng } from "../../runtime/random.ts";
import { LossHistory } from "../../train/history.ts";
import { Player, trainableVariables } from "../../train/players.ts";
import type { ProgressSink } from "../../train/progress.ts";
import { linearCca } from "./cca.ts";
import type { AaiprConfig } from "./config.ts";
import type { AaiprData, AttributeSplit } from "./data.ts";
import {
  buildImageGan,
  disposeImageGan,
  generatedConcepts,
  type ImageGan,
  queryNoise,
  trainImageGan,
} from "./images.ts";
import { type AaiprNetworks, buildNetworks, disposeNetworks } from "./model.ts";
import {
  augmentedImages,
  ensureStage1,
  epochBatches,
  setPackedWeights,
  type Stage1Artifacts,
} from "./stage1.ts";
import { AaiprTrainer, type JointBatch, type JointStepValues } from "./train.ts";

/** Options of {@link runAaipr}. */
export interface RunOptions {
  history?: LossHistory;
  log?: (line: string) => void;
  progress?: ProgressSink;
  /** Called after every stage-2 step (live plots). */
  onStep?: (step: number, values: Record<string, number>) => void | Promise<void>;
  /** Keep the trained networks in the result (the caller frees them with {@link disposeRun}). */
  keep?: boolean;
  /** Also score the validation split (the calibration reads it). */
  validation?: boolean;
}

/** Query and gallery embeddings of one evaluation split, with the scores. */
export interface SplitEvaluation {
  score: AttributeQueryScore;
  queries: { vectors: Float32Array; keys: string[] };
  queryFeatures: DenseMatrix;
  galleryFeatures: DenseMatrix;
  /** Attribute concepts of every gallery image's own vector (for the two-sample test, plots). */
  pairedAttributeFeatures: DenseMatrix | null;
  /** The Images row: the fixed noise of each query's generated image (one array per draw). */
  queryNoise?: Float32Array[];
}

/** What {@link runAaipr} returns. */
export interface AaiprRun {
  metrics: Record<string, number>;
  test: SplitEvaluation;
  val: SplitEvaluation | null;
  stage1: Stage1Artifacts;
  history: LossHistory;
  /** The trained networks when `keep` was set. */
  nets: AaiprNetworks | null;
  /** The Images row's GAN when `keep` was set (null on the other rows). */
  gan: ImageGan | null;
}

async function mapRows(
  m: { data: Float32Array; rows: number; cols: number },
  fn: (x: tf.Tensor2D) => tf.Tensor2D,
): Promise<DenseMatrix> {
  const y = tf.tidy(() => fn(tf.tensor2d(m.data, [m.rows, m.cols])));
  try {
    return { data: (await y.data()) as Float32Array, rows: m.rows, cols: y.shape[1] };
  } finally {
    y.dispose();
  }
}

/** The batches of stage 2 (fast mode: a random cached augmented copy per sample). */
function jointSource(
  config: AaiprConfig,
  data: AaiprData,
  stage1: Stage1Artifacts,
  rng: Rng,
) {
  const train = data.train;
  const n = train.split.indices.length;
  const f = stage1.featureDim;
  const t = config.train;
  const epochs: number[][][] = [];
  const batchesOf = (e: number) => epochs[e] ??= epochBatches(n, t.batch, rng.fork(`epoch${e}`));
  return {
    epochs: t.epochs,
    stepsIn: (e: number) => batchesOf(e).length,
    batch: (e: number, i: number): JointBatch => {
      const rows = batchesOf(e)[i];
      const r = rng.fork(`batch${e}:${i}`);
      let input: tf.Tensor2D | tf.Tensor4D;
      if (t.mode === "faithful") {
        input = augmentedImages(train.split, rows, t, r);
      } else {
        const x = new Float32Array(rows.length * f);
        const copies = config.stage1.augCopies;
        rows.forEach((row, j) => {
          const k = r.int(copies);
          const o = (k * n + row) * f;
          x.set(stage1.trainAug.subarray(o, o + f), j * f);
        });
        input = tf.tensor2d(x, [rows.length, f]);
      }
      const a = new Float32Array(rows.length * data.attrDim);
      rows.forEach((row, j) =>
        a.set(
          train.attributes.subarray(row * data.attrDim, (row + 1) * data.attrDim),
          j * data.attrDim,
        )
      );
      return {
        input,
        attributes: tf.tensor2d(a, [rows.length, data.attrDim]),
        sids: rows.map((row) => train.sids[row]),
      };
    },
    release: (b: JointBatch) => tf.dispose([b.input, b.attributes]),
  };
}

async function trainJoint(
  nets: AaiprNetworks,
  config: AaiprConfig,
  data: AaiprData,
  stage1: Stage1Artifacts,
  rng: Rng,
  options: RunOptions,
  history: LossHistory,
): Promise<void> {
  const trainer = new AaiprTrainer(nets, config);
  try {
    await runTraining({
      label: `aaipr ${config.data.world} ${config.loss.align}${
        config.loss.align === "adv" ? ` ${config.loss.advDirection}` : ""
      }`,
      history,
      progress: options.progress ?? "auto",
      source: jointSource(config, data, stage1, rng),
      hooks: [{
        name: "onStep",
        afterStep: ({ step }, values) => options.onStep?.(step, values),
      }],
      async step({ batch }): Promise<Record<string, number>> {
        const v: JointStepValues = await trainer.step(batch);
        return { ...v };
      },
    });
  } finally {
    trainer.dispose();
  }
}

async function trainDeepmar(
  nets: AaiprNetworks,
  config: AaiprConfig,
  data: AaiprData,
  stage1: Stage1Artifacts,
  rng: Rng,
  options: RunOptions,
  history: LossHistory,
): Promise<void> {
  const d = data.attrDim;
  const n = data.train.split.indices.length;
  const ratio = Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += data.train.attributes[i * d + j];
    return s / n;
  });
  const weights = positiveRatioWeights(ratio);
  const player = new Player({
    name: "deepmar",
    variables: trainableVariables(nets.deepmarHead),
    optimizer: tf.train.adam(config.train.lrImage, config.train.beta1, 0.999, 1e-8),
    weightDecay: config.train.weightDecay,
  });
  try {
    await runTraining({
      label: `aaipr ${config.data.world} DeepMAR-lite`,
      history,
      progress: options.progress ?? "auto",
      source: jointSource(config, data, stage1, rng),
      async step({ batch }) {
        const l = await player.step(() =>
          attributeBce(
            nets.ops.deepmar.apply(batch.input as tf.Tensor2D, "train"),
            batch.attributes,
            {
              weights,
            },
          )
        );
        return { l_bce: l! };
      },
    });
  } finally {
    player.dispose();
  }
}

/**
 * Query and gallery embeddings of one split under the cell's model: the joint space's concepts
 * (C^A of each distinct vector, C^I of each image; cosine); DeepMAR-lite's predicted attribute
 * probabilities against the raw query vectors (Euclidean); CCA's projections (cosine).
 */
async function evaluateSplit(
  config: AaiprConfig,
  nets: AaiprNetworks,
  split: AttributeSplit,
  trunkFeatures: DenseMatrix,
  attrDim: number,
  cca: ReturnType<typeof linearCca> | null,
  gan: ImageGan | null,
  rng: Rng,
): Promise<SplitEvaluation> {
  const queries = distinctAttributeQueries(split.attributes, attrDim, split.keys);
  const qm = { data: queries.vectors, rows: queries.keys.length, cols: attrDim };
  const paired = { data: split.attributes, rows: split.keys.length, cols: attrDim };
  let queryFeatures: DenseMatrix, galleryFeatures: DenseMatrix;
  let pairedAttributeFeatures: DenseMatrix | null = null;
  let metric: "cosine" | "euclidean" = "cosine";
  let noise: Float32Array[] | undefined;
  if (config.model.kind === "deepmar") {
    queryFeatures = qm;
    galleryFeatures = await mapRows(
      trunkFeatures,
      (x) => tf.sigmoid(nets.ops.deepmar.apply(x, "eval")),
    );
    metric = "euclidean";
  } else if (config.model.kind === "cca") {
    queryFeatures = cca!.projectY(qm);
    galleryFeatures = cca!.projectX(trunkFeatures);
    pairedAttributeFeatures = cca!.projectY(paired);
  } else if (config.model.kind === "images") {
    // The query is Φ_I of the image G draws from the query's attributes (one fixed z per query);
    // the gallery goes through the same path as every concept row's: Φ_I's head on the trunk.
    noise = queryNoise(config, qm.rows, rng.fork("query"));
    queryFeatures = await generatedConcepts(gan!, nets, qm, noise);
    galleryFeatures = await mapRows(trunkFeatures, (x) => nets.ops.imageHead.apply(x, "eval"));
    pairedAttributeFeatures = await generatedConcepts(
      gan!,
      nets,
      paired,
      queryNoise(config, paired.rows, rng.fork("paired")),
    );
  } else {
    const ops = nets.ops;
    queryFeatures = await mapRows(qm, (a) => ops.attribute.apply(a, "eval"));
    galleryFeatures = await mapRows(trunkFeatures, (x) => ops.imageHead.apply(x, "eval"));
    pairedAttributeFeatures = await mapRows(paired, (a) => ops.attribute.apply(a, "eval"));
  }
  const score = await scoreAttributeQueries(
    queryFeatures,
    queries.keys,
    galleryFeatures,
    split.keys,
    {
      metric,
      perQuery: true,
    },
  );
  return {
    score,
    queries,
    queryFeatures,
    galleryFeatures,
    pairedAttributeFeatures,
    ...(noise ? { queryNoise: noise } : {}),
  };
}

/**
 * Trains and evaluates one cell of `config` on `data`; `seed` picks the stage-1 weights (and the
 * stage-2 draws come from `rng`).
 */
export async function runAaipr(
  config: AaiprConfig,
  data: AaiprData,
  seed: number,
  rng: Rng,
  options: RunOptions = {},
): Promise<AaiprRun> {
  const history = options.history ?? new LossHistory();
  const log = options.log ?? (() => {});
  const stage1 = await ensureStage1(config, data, config.stage1.sharedSeed ?? seed, {
    log,
    progress: options.progress,
  });
  const nets = buildNetworks(config, data.attrDim, data.train.numSids, rng.fork("init"));
  let keepNets = false;
  let gan: ImageGan | null = null;
  try {
    setPackedWeights(nets.trunk, stage1.weights.trunk);
    setPackedWeights(nets.imageHead, stage1.weights.imageHead);
    setPackedWeights(nets.modules.classifier, stage1.weights.classifier);
    const t0 = performance.now();
    let cca: ReturnType<typeof linearCca> | null = null;
    if (config.model.kind === "joint") {
      await trainJoint(nets, config, data, stage1, rng.fork("joint"), options, history);
    } else if (config.model.kind === "deepmar") {
      await trainDeepmar(nets, config, data, stage1, rng.fork("deepmar"), options, history);
    } else if (config.model.kind === "images") {
      gan = buildImageGan({
        attrDim: data.attrDim,
        height: config.data.height,
        width: config.data.width,
        gan: config.gan,
        seed: rng.fork("gan-init"),
      });
      await trainImageGan(gan, nets, config, data, rng.fork("gan"), {
        history,
        progress: options.progress,
        onStep: options.onStep,
      });
    } else {
      cca = linearCca(
        stage1.train,
        { data: data.train.attributes, rows: data.train.keys.length, cols: data.attrDim },
        config.model.ccaComponents,
        config.model.ccaRidge,
      );
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    // Faithful mode moved the trunk: the cached features are stale, embed the images again.
    const features = async (which: "val" | "test") =>
      config.train.mode === "faithful" && config.model.kind === "joint"
        ? await extractFeatures(
          (x) => nets.trunk.apply(x, { training: false }) as tf.Tensor2D,
          data[which].split,
          { normalization: IMAGENET_NORMALIZATION },
        )
        : stage1[which];
    const test = await evaluateSplit(
      config,
      nets,
      data.test,
      await features("test"),
      data.attrDim,
      cca,
      gan,
      rng.fork("eval-test"),
    );
    const val = options.validation
      ? await evaluateSplit(
        config,
        nets,
        data.val,
        await features("val"),
        data.attrDim,
        cca,
        gan,
        rng.fork("eval-val"),
      )
      : null;
    const metrics: Record<string, number> = { ...test.score.metrics };
    if (test.pairedAttributeFeatures) {
      metrics.twoSample = twoSampleAccuracy(
        test.pairedAttributeFeatures,
        test.galleryFeatures,
        rng.fork("two-sample"),
        { steps: config.eval.twoSampleSteps },
      );
    }
    metrics.chance_r1 = test.score.chanceR1;
    if (val) {
      metrics.val_r1 = val.score.metrics.r1;
      metrics.val_mAP = val.score.metrics.mAP;
    }
    const tail = (name: string) => {
      const values = (history.toJSON().series[name]?.values ?? []).filter((v): v is number =>
        typeof v === "number"
      );
      const k = Math.max(1, Math.round(values.length * 0.3));
      return values.length ? values.slice(-k).reduce((a, b) => a + b, 0) / k : NaN;
    };
    if (config.loss.align === "adv" && config.model.kind === "joint") {
      metrics.d_acc_tail = 100 * tail("d_acc");
      metrics.l_D_tail = tail("l_D");
    }
    if (config.model.kind === "images") {
      metrics.dimg_acc_tail = 100 * tail("dimg_acc");
      metrics.l_CE_tail = tail("l_CE");
    }
    metrics.stage2_seconds = trainSeconds;
    metrics.stage1_seconds = stage1.trained ? stage1.seconds : 0;
    keepNets = options.keep ?? false;
    return {
      metrics,
      test,
      val,
      stage1,
      history,
      nets: keepNets ? nets : null,
      gan: keepNets ? gan : null,
    };
  } finally {
    if (!keepNets) {
      disposeNetworks(nets);
      if (gan) disposeImageGan(gan);
    }
  }
}

/** Frees the networks a kept run holds. */
export function disposeRun(run: AaiprRun): void {
  if (run.nets) disposeNetworks(run.nets);
  if (run.gan) disposeImageGan(run.gan);
  run.nets = null;
  run.gan = null;
}
