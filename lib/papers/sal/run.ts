/**
 * One SAL cell end to end (README.md, 'Schedule' and 'Evaluation'): data → networks → stage 1
 * (image branch) → stage 2 (Embed), or that checkpoint read back → stage 3 (the row's steps
 * ①–⑥, symbiotic or stage-wise) → attribute-query retrieval on the evaluation split and the
 * diagnostics. Used by the grid cell, the calibration and the notebook.
 *
 * @see notebooks/sal.ipynb §4
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { IMAGENET_NORMALIZATION } from "../../data/images.ts";
import { splitBatch } from "../../data/split.ts";
import { type BatchSource, every, runTraining } from "../../engine/train_loop.ts";
import { attributeMetrics } from "../../eval/attributes.ts";
import { type DenseMatrix, pairwiseDistance } from "../../eval/distance.ts";
import { type EvalResult, evaluate } from "../../eval/evaluate.ts";
import { extractFeatures } from "../../eval/features.ts";
import { attributeQuery } from "../../eval/protocols.ts";
import { fileSystemIO, loadWeightsStrict } from "../../nn/io.ts";
import { pathExists } from "../../runtime/fs.ts";
import type { Rng } from "../../runtime/random.ts";
import { LossHistory } from "../../train/history.ts";
import { forward } from "../../train/modes.ts";
import { getLearningRate, type Player } from "../../train/players.ts";
import type { ProgressSink } from "../../train/progress.ts";
import { multiStep } from "../../train/schedule.ts";
import type { SalConfig } from "./config.ts";
import type { SalData, SalEvalSet, SalImages } from "./data.ts";
import {
  buildNetworks,
  disposeNetworks,
  EMBED_NETWORKS,
  paramsM,
  type SalNetworks,
  sampleNoise,
  SYNTHESIS_NETWORKS,
} from "./model.ts";
import { sampleUnseen } from "./sampler.ts";
import { type SalBatch, SalTrainer, type Stage3Phase } from "./train.ts";

/** Images are normalised with ImageNet's mean and std, as the official code. */
export const NORMALIZATION = IMAGENET_NORMALIZATION;

/** Options of {@link runSal}. */
export interface SalRunOptions {
  history?: LossHistory;
  log?: (line: string) => void;
  progress?: ProgressSink;
  /** A folder holding this seed's stage-2 checkpoint: read instead of pretraining. */
  pretrainedDir?: string | null;
  /** Save the stage-2 checkpoint here (the pretrain row's cell). */
  saveDir?: string | null;
  /** The seed the checkpoint recipe records (default 0). */
  seed?: number;
  /** Validation mAP every this many stage-3 epochs (0: never). Default 4. */
  validateEvery?: number;
  /** Called after every training step of every stage (live plots). */
  onStep?: () => void | Promise<void>;
}

/** What {@link runSal} returns; the caller frees it with {@link disposeRun}. */
export interface SalRun {
  metrics: Record<string, number>;
  nets: SalNetworks;
  trainer: SalTrainer;
  history: LossHistory;
  /** The evaluation split's retrieval (distances, per-query results). */
  evaluation: SalEvaluation;
  /** f_v of the evaluation gallery (eval mode). */
  galleryFeatures: DenseMatrix;
  /** Whether the stage-2 checkpoint was read from `pretrainedDir`. */
  pretrainedFromDisk: boolean;
}

/** Marker written after a complete stage-2 checkpoint. */
const EMBED_MARKER = "embed_complete.json";

/**
 * Everything that decides the stage-2 checkpoint (data, networks, stages 1–2, the seed): a
 * checkpoint made with another recipe is never reused.
 */
export function pretrainRecipe(config: SalConfig, seed: number): string {
  const t = config.train;
  return JSON.stringify({
    seed,
    data: config.data,
    model: config.model,
    loss: { labelSmoothing: config.loss.labelSmoothing, lambdaSem: config.loss.lambdaSem },
    train: {
      batch: t.batch,
      stage1Epochs: t.stage1Epochs,
      stage2Epochs: t.stage2Epochs,
      lrStage1: t.lrStage1,
      lrImage: t.lrImage,
      lrAttribute: t.lrAttribute,
      milestones: t.milestones,
      gamma: t.gamma,
      weightDecay: t.weightDecay,
      flip: t.flip,
    },
  });
}

/** Saves the stage-2 (Embed) networks into `dir`, with the recipe that made them. */
export async function saveEmbed(nets: SalNetworks, dir: string, recipe: string): Promise<void> {
  for (const name of EMBED_NETWORKS) await nets[name].save(fileSystemIO(join(dir, name)));
  await Deno.writeTextFile(join(dir, EMBED_MARKER), recipe);
}

/** Reads a stage-2 checkpoint into `nets`; false when `dir` holds none made by `recipe`. */
export async function loadEmbed(nets: SalNetworks, dir: string, recipe: string): Promise<boolean> {
  const marker = join(dir, EMBED_MARKER);
  if (!(await pathExists(marker)) || (await Deno.readTextFile(marker)) !== recipe) return false;
  for (const name of EMBED_NETWORKS) {
    await loadWeightsStrict(nets[name], join(dir, name, "model.json"));
  }
  return true;
}

/** f_v of every training image and its mirror, for stage 3 with a frozen F_I. */
interface FeatureCache {
  plain: DenseMatrix;
  flipped: DenseMatrix;
}

async function featureCache(nets: SalNetworks, images: SalImages): Promise<FeatureCache> {
  const embed = (x: tf.Tensor4D) => forward(nets.imageExtractor, x, "eval") as tf.Tensor2D;
  return {
    plain: await extractFeatures(embed, images.split, { normalization: NORMALIZATION }),
    flipped: await extractFeatures((x) => tf.tidy(() => embed(tf.reverse(x, 2))), images.split, {
      normalization: NORMALIZATION,
    }),
  };
}

/**
 * Batches of B shuffled training pairs per epoch (drop-last, as the code's loader), each
 * image flipped with probability `flip`; with `unseen`, U sampled attribute vectors.
 */
function batchSource(
  config: SalConfig,
  data: SalData,
  rng: Rng,
  epochs: number,
  options: { cache: FeatureCache | null; unseen: boolean },
): BatchSource<SalBatch> {
  const n = data.train.split.indices.length;
  const B = Math.min(config.train.batch, n);
  const steps = Math.max(1, Math.floor(n / B));
  const d = data.attrDim;
  let order: number[] = [];
  const draw = (index: number) => {
    if (index === 0) order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    const rows = order.slice(index * B, (index + 1) * B);
    const flips = rows.map(() => rng.bernoulli(config.train.flip));
    const unseen = options.unseen
      ? sampleUnseen(data, config.train.unseenBatch, rng, config.loss.sampler)
      : null;
    return { rows, flips, unseen };
  };
  return {
    epochs,
    stepsIn: () => steps,
    skip: (_e, index) => void draw(index),
    batch(_e, index): SalBatch {
      const { rows, flips, unseen } = draw(index);
      const attributes = new Float32Array(rows.length * d);
      rows.forEach((r, i) =>
        attributes.set(data.train.attributes.subarray(r * d, (r + 1) * d), i * d)
      );
      let images: tf.Tensor4D | null = null;
      let features: tf.Tensor2D | null = null;
      if (options.cache) {
        const f = options.cache.plain.cols;
        const buf = new Float32Array(rows.length * f);
        rows.forEach((r, i) => {
          const src = flips[i] ? options.cache!.flipped : options.cache!.plain;
          buf.set(src.data.subarray(r * f, (r + 1) * f), i * f);
        });
        features = tf.tensor2d(buf, [rows.length, f]);
      } else {
        images = tf.tidy(() => {
          const x = splitBatch(data.train.split, rows, NORMALIZATION);
          const mask = tf.tensor4d(flips.map(Number), [rows.length, 1, 1, 1]).cast("bool");
          return tf.where(mask, tf.reverse(x, 2), x) as tf.Tensor4D;
        });
      }
      return {
        images,
        features,
        attributes: tf.tensor2d(attributes, [rows.length, d]),
        categories: rows.map((r) => data.train.categories[r]),
        unseen: unseen ? tf.tensor2d(unseen, [config.train.unseenBatch, d]) : null,
      };
    },
    release(b) {
      tf.dispose([b.images, b.features, b.attributes, b.unseen].filter((t) => t !== null));
    },
  };
}

/** MultiStep decay at the config's fractions of a stage of `epochs` epochs. */
function schedulesFor(players: Player[], config: SalConfig, epochs: number) {
  const ms = [...new Set(config.train.milestones.map((f) => Math.round(f * epochs)))]
    .filter((m) => m > 0)
    .sort((a, b) => a - b);
  return players.map((player) => ({
    player,
    schedule: multiStep(getLearningRate(player.optimizer), ms, config.train.gamma),
    unit: "epoch" as const,
  }));
}

/** Copies `from`'s series into `to` with steps shifted by `offset`. */
function appendHistory(to: LossHistory, from: LossHistory, offset: number): void {
  const byStep = new Map<number, Record<string, number>>();
  for (const name of from.names()) {
    const s = from.series(name);
    s.steps.forEach((step, i) => {
      const row = byStep.get(step) ?? {};
      row[name] = s.values[i];
      byStep.set(step, row);
    });
  }
  for (const step of [...byStep.keys()].sort((a, b) => a - b)) {
    to.record(offset + step, byStep.get(step)!);
  }
}

/** The retrieval of one evaluation split. */
export interface SalEvaluation {
  result: EvalResult;
  /** Cosine distances, queries × gallery. */
  dist: DenseMatrix;
  metrics: Record<string, number>;
}

/** Embeddings of some inputs through a chain of models in eval mode, read back. */
async function embedRows(models: tf.LayersModel[], x: tf.Tensor2D): Promise<DenseMatrix> {
  const y = tf.tidy(() => models.reduce((t, m) => forward(m, t, "eval"), x as tf.Tensor));
  try {
    return { data: (await y.data()) as Float32Array, rows: y.shape[0]!, cols: y.shape[1]! };
  } finally {
    y.dispose();
  }
}

/**
 * Attribute-query retrieval on `set` (README.md, 'Evaluation'): queries E_A(F_A(a)), gallery
 * E_V(f_v), cosine distance, a match is an identical attribute vector; plus the diagnostics
 * of README.md, 'Diagnostics' (synthetic queries through G_V, consistency, attribute accuracy).
 */
export async function evaluateSet(
  nets: SalNetworks,
  set: SalEvalSet,
  galleryFeatures: DenseMatrix,
  config: SalConfig,
  rng: Rng,
): Promise<SalEvaluation> {
  const d = set.queries[0]?.attributes.length ?? 0;
  if (set.queries.length === 0) throw new Error("SAL evaluation: the split has no queries");
  const qa = tf.tensor2d(
    Float32Array.from(set.queries.flatMap((q) => [...q.attributes])),
    [set.queries.length, d],
  );
  const fv = tf.tensor2d(galleryFeatures.data, [galleryFeatures.rows, galleryFeatures.cols]);
  const z = sampleNoise(rng, set.queries.length, config.model.noiseDim);
  try {
    const query = await embedRows([nets.attributeExtractor, nets.encoderA], qa);
    const gallery = await embedRows([nets.encoderV], fv);
    const protocol = attributeQuery({ excludeSourceCamera: set.excludeSource, maxRank: 10 });
    const queryItems = set.queries.map((q) => q.item);
    const dist = await pairwiseDistance(query, gallery, "cosine");
    const result = evaluate(dist, queryItems, set.gallery.items, protocol, { perQuery: true });
    const metrics: Record<string, number> = {
      mAP: 100 * result.mAP,
      R1: 100 * result.cmc[0],
      R5: 100 * result.cmc[4],
      R10: 100 * result.cmc[9],
    };
    // mAP over the unseen and over the seen queries separately.
    const pq = result.perQuery!;
    const idx = result.queryIndices!;
    for (const [name, seen] of [["unseen_mAP", false], ["seen_mAP", true]] as const) {
      const aps = idx.flatMap((q, i) =>
        pq.valid[i] && set.queries[q].seen === seen ? [pq.ap[i]] : []
      );
      if (aps.length > 0) metrics[name] = (100 * aps.reduce((a, b) => a + b, 0)) / aps.length;
    }
    // Synthetic queries: E_V(G_V(F_A(a), z)) ranks the gallery (the code's test_1way_alt).
    const fa = tf.tidy(() => forward(nets.attributeExtractor, qa, "eval"));
    const synthetic = tf.tidy(() =>
      forward(nets.encoderV, forward(nets.generatorV, [fa, z], "eval"), "eval")
    );
    const semantic = tf.tidy(() => forward(nets.encoderA, fa, "eval"));
    const cos = tf.tidy(() => {
      const unit = (t: tf.Tensor) => t.div(t.norm("euclidean", 1, true).add(1e-12));
      return unit(synthetic).mul(unit(semantic)).sum(1).mean();
    });
    try {
      metrics.consistency_cos = (await cos.data())[0];
      const sdist = await pairwiseDistance(synthetic as tf.Tensor2D, gallery, "cosine");
      metrics.synth_query_mAP = 100 *
        evaluate(sdist, queryItems, set.gallery.items, protocol).mAP;
    } finally {
      tf.dispose([fa, synthetic, semantic, cos]);
    }
    // Attribute accuracy of C_att on the gallery's visual embeddings.
    const scores = tf.tidy(() =>
      tf.sigmoid(forward(nets.attributeClassifier, forward(nets.encoderV, fv, "eval"), "eval"))
    );
    try {
      const a = attributeMetrics(await scores.data(), set.gallery.attributes, d);
      metrics.attr_accuracy = 100 *
        (a.perAttribute.reduce((s, x) => s + x.accuracy, 0) / a.perAttribute.length);
    } finally {
      scores.dispose();
    }
    return { result, dist, metrics };
  } finally {
    tf.dispose([qa, fv, z]);
  }
}

/** f_v of an evaluation split's gallery (F_I in eval mode). */
export function galleryFeaturesOf(nets: SalNetworks, set: SalEvalSet): Promise<DenseMatrix> {
  return extractFeatures(
    (x) => forward(nets.imageExtractor, x, "eval") as tf.Tensor2D,
    set.gallery.split,
    { normalization: NORMALIZATION },
  );
}

/** Stages 1 and 2 (README.md, 'Schedule'): the Embed model. */
async function pretrain(
  trainer: SalTrainer,
  config: SalConfig,
  data: SalData,
  rng: Rng,
  history: LossHistory,
  options: SalRunOptions,
): Promise<void> {
  let offset = 0;
  for (const stage of [1, 2] as const) {
    const epochs = stage === 1 ? config.train.stage1Epochs : config.train.stage2Epochs;
    if (epochs === 0) continue;
    if (stage === 1) trainer.beginStage1();
    else trainer.beginStage2();
    const h = new LossHistory();
    const report = await runTraining({
      source: batchSource(config, data, rng, epochs, { cache: null, unseen: false }),
      label: `sal stage ${stage}`,
      history: h,
      progress: options.progress ?? "auto",
      schedules: schedulesFor(Object.values(trainer.players), config, epochs),
      hooks: [{ name: "onStep", afterStep: () => options.onStep?.() }],
      step: async ({ batch }) => {
        const v = await trainer.pretrainStep(batch, stage);
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [`s${stage}_${k}`, x]));
      },
    });
    appendHistory(history, h, offset);
    offset += report.steps;
  }
}

/**
 * Trains (or reads the stage-2 checkpoint, then trains stage 3 of) one cell and evaluates it
 * on `config.eval.split`. Every random draw comes from `rng`: the networks from
 * `rng.fork("init")`, pretraining from `rng.fork("pretrain")` (so a cell that pretrains
 * itself gets the same Embed model as the pretrain row's cell), stage 3 from
 * `rng.fork("stage3")`.
 */
export async function runSal(
  config: SalConfig,
  data: SalData,
  rng: Rng,
  options: SalRunOptions = {},
): Promise<SalRun> {
  const history = options.history ?? new LossHistory();
  const log = options.log ?? (() => {});
  const nets = await buildNetworks(config, data.attrDim, data.numCategories, rng.fork("init"));
  const trainer = new SalTrainer(nets, config, rng.fork("noise"));
  try {
    const recipe = pretrainRecipe(config, options.seed ?? 0);
    const fromDisk = options.pretrainedDir
      ? await loadEmbed(nets, options.pretrainedDir, recipe)
      : false;
    if (fromDisk) log(`stage-2 checkpoint read from ${options.pretrainedDir}`);
    else await pretrain(trainer, config, data, rng.fork("pretrain"), history, options);
    if (options.saveDir && !fromDisk) await saveEmbed(nets, options.saveDir, recipe);
    const set = config.eval.split === "test" ? data.test : data.val;
    let msPerIter = 0;
    if (config.run === "variant" && config.train.stage3Epochs > 0) {
      msPerIter = await stage3(trainer, config, data, rng.fork("stage3"), history, options);
    }
    const galleryFeatures = await galleryFeaturesOf(nets, set);
    const evaluation = await evaluateSet(nets, set, galleryFeatures, config, rng.fork("eval"));
    const sw = config.switches;
    const used: (keyof SalNetworks)[] = [...EMBED_NETWORKS];
    if (sw.alignGAN) used.push("discriminator2");
    if (sw.synthGAN) used.push(...SYNTHESIS_NETWORKS);
    const metrics = {
      ...evaluation.metrics,
      ms_per_iter: msPerIter,
      params_M: paramsM(nets, used),
    };
    return {
      metrics,
      nets,
      trainer,
      history,
      evaluation,
      galleryFeatures,
      pretrainedFromDisk: fromDisk,
    };
  } catch (error) {
    trainer.dispose();
    disposeNetworks(nets);
    throw error;
  }
}

/** Stage 3: the row's steps, symbiotic or in two phases; resolves to ms per iteration. */
async function stage3(
  trainer: SalTrainer,
  config: SalConfig,
  data: SalData,
  rng: Rng,
  history: LossHistory,
  options: SalRunOptions,
): Promise<number> {
  trainer.beginStage3();
  const cache = config.train.imageNetStage3 === "frozen"
    ? await featureCache(trainer.nets, data.train)
    : null;
  const T = config.train.stage3Epochs;
  const phases: { phase: Stage3Phase; epochs: number; players: string[] }[] =
    config.switches.schedule === "symbiotic"
      ? [{ phase: "all", epochs: T, players: ["X", "A", "DS", "ES", "GC", "DC"] }]
      : [
        { phase: "synthesis", epochs: Math.max(1, Math.floor(T / 2)), players: ["GC", "DC"] },
        {
          phase: "alignment",
          epochs: Math.max(1, T - Math.floor(T / 2)),
          players: ["X", "A", "DS", "ES"],
        },
      ];
  const valCache = { features: null as DenseMatrix | null };
  const validateEvery = options.validateEvery ?? 4;
  let offset = history.names().length > 0
    ? Math.max(...history.names().map((n) => history.series(n).steps.at(-1) ?? 0)) + 1
    : 0;
  let seconds = 0;
  let steps = 0;
  for (const { phase, epochs, players } of phases) {
    const source = batchSource(config, data, rng, epochs, {
      cache,
      unseen: config.switches.unseen,
    });
    const perEpoch = source.stepsIn(0);
    const hooks = validateEvery > 0 && phase !== "synthesis" && data.val.queries.length > 0
      ? [every<SalBatch>(perEpoch * validateEvery, async () => {
        // Validation only (never the test split): the live curves' val mAP.
        // With F_I frozen the validation gallery's f_v never change: computed once.
        const features = cache && valCache.features
          ? valCache.features
          : await galleryFeaturesOf(trainer.nets, data.val);
        valCache.features = features;
        const v = await evaluateSet(
          trainer.nets,
          data.val,
          features,
          config,
          rng.fork("val"),
        );
        return { val_mAP: v.metrics.mAP };
      }, { name: "validation" })]
      : [];
    const h = new LossHistory();
    const report = await runTraining({
      source,
      label: `sal stage 3${phase === "all" ? "" : ` (${phase})`}`,
      history: h,
      progress: options.progress ?? "auto",
      schedules: schedulesFor(players.map((p) => trainer.players[p]), config, epochs),
      hooks: [...hooks, { name: "onStep", afterStep: () => options.onStep?.() }],
      step: ({ batch }) => trainer.stage3Step(batch, phase),
    });
    appendHistory(history, h, offset);
    offset += report.steps;
    seconds += report.secondsPerStep * report.stepsRun;
    steps += report.stepsRun;
  }
  return steps > 0 ? (1000 * seconds) / steps : 0;
}

/** Frees a run's networks and optimizers. */
export function disposeRun(run: SalRun | null): void {
  if (!run) return;
  run.trainer.dispose();
  disposeNetworks(run.nets);
}
