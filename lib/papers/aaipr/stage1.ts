/**
 * Stage 1 (lib/papers/aaipr/README.md, 'Schedule'): the image branch Φ_I and the classifier Ψ
 * trained on semantic IDs alone, once per world and seed, shared by every row of that seed and
 * kept on disk (a folder named by the hash of everything that decides it, written under a lock
 * so two grid workers never train it twice). With it are cached the trunk's pooled features of
 * `augCopies` augmented copies of every training image and of the clean validation and test
 * images: fast mode's stage 2 trains on them with the trunk frozen.
 *
 * @see notebooks/aaipr.ipynb §4
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { dirname, join } from "node:path";
import { augmentBatch } from "../../data/augment.ts";
import { IMAGENET_NORMALIZATION, pixelsToTensor } from "../../data/images.ts";
import { gatherPixels, type ReidSplit } from "../../data/split.ts";
import { runTraining } from "../../engine/train_loop.ts";
import { canonicalJson, sha256Hex } from "../../experiments/config.ts";
import type { DenseMatrix } from "../../eval/distance.ts";
import { extractFeatures } from "../../eval/features.ts";
import { crossEntropy } from "../../nn/losses/classification.ts";
import { withLock } from "../../runtime/lock.ts";
import { repoPath } from "../../runtime/paths.ts";
import { Rng } from "../../runtime/random.ts";
import { LossHistory } from "../../train/history.ts";
import { Player, trainableVariables } from "../../train/players.ts";
import type { ProgressSink } from "../../train/progress.ts";
import type { AaiprConfig } from "./config.ts";
import type { AaiprData } from "./data.ts";
import { type AaiprNetworks, buildNetworks, disposeNetworks } from "./model.ts";

/** What stage 1 leaves for stage 2. */
export interface Stage1Artifacts {
  /** Folder of the cached files. */
  dir: string;
  /** Weights of the trunk, the image head and Ψ, by model, in `getWeights()` order. */
  weights: Record<"trunk" | "imageHead" | "classifier", { shape: number[]; data: Float32Array }[]>;
  /** Pooled trunk features [augCopies × trainRows × F] of augmented training images. */
  trainAug: Float32Array;
  /** Clean features of the three splits. */
  train: DenseMatrix;
  val: DenseMatrix;
  test: DenseMatrix;
  featureDim: number;
  /** Loss per stage-1 step, the learning rate used, the training time. */
  losses: number[];
  lr: number;
  seconds: number;
  /** True when this call trained it (false: read from the cache). */
  trained: boolean;
}

/** Everything that decides stage 1's result (its hash names the cache folder). */
export function stage1Key(config: AaiprConfig, data: AaiprData, seed: number) {
  // Which seed is shared is the caller's business: `seed` below is the one used.
  const { sharedSeed: _shared, ...stage1 } = config.stage1;
  return {
    data: config.data,
    backbone: config.model.backbone,
    widths: config.model.widths,
    pretrained: config.model.pretrained,
    conceptDim: config.model.conceptDim,
    stage1,
    attrDim: data.attrDim,
    numSids: data.train.numSids,
    trainRows: data.train.split.indices.length,
    seed,
    version: 1,
  };
}

/** The training batches of one epoch: a permutation cut into full batches. */
export function epochBatches(rows: number, batch: number, rng: Rng): number[][] {
  const size = Math.min(batch, rows);
  const order = rng.shuffle(Array.from({ length: rows }, (_, i) => i));
  const steps = Math.max(1, Math.floor(rows / size));
  return Array.from({ length: steps }, (_, s) => order.slice(s * size, (s + 1) * size));
}

/** A normalised, augmented image batch of some rows of a split. */
export function augmentedImages(
  split: ReidSplit,
  rows: readonly number[],
  aug: { flip: number; padCrop: number },
  rng: Rng,
): tf.Tensor4D {
  const pixels = augmentBatch(gatherPixels(split, rows), split.size, aug, rng);
  return pixelsToTensor(pixels, split.size, 0, rows.length, IMAGENET_NORMALIZATION);
}

async function trainStage1(
  nets: AaiprNetworks,
  config: AaiprConfig,
  data: AaiprData,
  rng: Rng,
  lr: number,
  options: { progress?: ProgressSink; history?: LossHistory },
): Promise<number[]> {
  const s = config.stage1;
  const player = new Player({
    name: "stage1",
    variables: trainableVariables(nets.trunk, nets.imageHead, nets.modules.classifier),
    optimizer: tf.train.adam(lr, 0.9, 0.999, 1e-8),
    weightDecay: s.weightDecay,
  });
  const train = data.train;
  const n = train.split.indices.length;
  const epochs: number[][][] = [];
  const batchesOf = (e: number) =>
    epochs[e] ??= epochBatches(n, s.batch, rng.fork(`stage1-epoch${e}`));
  const losses: number[] = [];
  try {
    await runTraining({
      label: "aaipr stage 1",
      history: options.history,
      progress: options.progress ?? "auto",
      source: {
        epochs: s.epochs,
        stepsIn: (e) => batchesOf(e).length,
        batch: (e, i) => {
          const rows = batchesOf(e)[i];
          return {
            x: augmentedImages(train.split, rows, s, rng.fork(`stage1-aug${e}:${i}`)),
            sids: rows.map((r) => train.sids[r]),
          };
        },
        release: (b) => b.x.dispose(),
      },
      async step({ batch }) {
        const l = await player.step(() => {
          const f = nets.trunk.apply(batch.x, { training: true }) as tf.Tensor2D;
          const c = nets.ops.imageHead.apply(f, "train");
          return crossEntropy(nets.ops.classifier.apply(c, "train"), batch.sids);
        });
        losses.push(l!);
        return { l_stage1: l! };
      },
    });
  } finally {
    player.dispose();
  }
  return losses;
}

async function trunkFeatures(nets: AaiprNetworks, split: ReidSplit): Promise<DenseMatrix> {
  return await extractFeatures(
    (x) => nets.trunk.apply(x, { training: false }) as tf.Tensor2D,
    split,
    { normalization: IMAGENET_NORMALIZATION },
  );
}

async function augmentedFeatures(
  nets: AaiprNetworks,
  config: AaiprConfig,
  data: AaiprData,
  rng: Rng,
): Promise<Float32Array> {
  const split = data.train.split;
  const n = split.indices.length;
  const f = nets.featureDim;
  const out = new Float32Array(config.stage1.augCopies * n * f);
  for (let k = 0; k < config.stage1.augCopies; k++) {
    for (let start = 0; start < n; start += 128) {
      const rows = Array.from({ length: Math.min(128, n - start) }, (_, i) => start + i);
      const y = tf.tidy(() =>
        nets.trunk.apply(
          augmentedImages(split, rows, config.stage1, rng.fork(`cache-aug${k}:${start}`)),
          { training: false },
        ) as tf.Tensor2D
      );
      try {
        out.set((await y.data()) as Float32Array, (k * n + start) * f);
      } finally {
        y.dispose();
      }
    }
  }
  return out;
}

function packWeights(model: tf.LayersModel): Promise<{ shape: number[]; data: Float32Array }[]> {
  return Promise.all(
    model.getWeights().map(async (w) => ({
      shape: w.shape,
      data: (await w.data()) as Float32Array,
    })),
  );
}

/** Sets a model's weights from packed arrays (the trunk, head or Ψ of stage 1). */
export function setPackedWeights(
  model: tf.LayersModel,
  packed: { shape: number[]; data: Float32Array }[],
): void {
  const tensors = packed.map((p) => tf.tensor(p.data, p.shape));
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

async function writeArtifacts(dir: string, a: Omit<Stage1Artifacts, "dir" | "trained">) {
  const blobs: Float32Array[] = [];
  const meta = {
    featureDim: a.featureDim,
    losses: a.losses,
    lr: a.lr,
    seconds: a.seconds,
    weights: Object.fromEntries(
      Object.entries(a.weights).map(([k, ws]) => [k, ws.map((w) => (blobs.push(w.data), w.shape))]),
    ),
    features: (["trainAug", "train", "val", "test"] as const).map((k) => {
      const v = a[k];
      const data = v instanceof Float32Array ? v : v.data;
      blobs.push(data);
      return { name: k, length: data.length, rows: v instanceof Float32Array ? 0 : v.rows };
    }),
  };
  const total = blobs.reduce((s, b) => s + b.length, 0);
  const all = new Float32Array(total);
  blobs.reduce((o, b) => (all.set(b, o), o + b.length), 0);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(join(dir, "arrays.bin.tmp"), new Uint8Array(all.buffer));
  await Deno.rename(join(dir, "arrays.bin.tmp"), join(dir, "arrays.bin"));
  await Deno.writeTextFile(join(dir, "stage1.json"), JSON.stringify(meta));
}

async function readArtifacts(dir: string): Promise<Stage1Artifacts | null> {
  let meta, bytes: Uint8Array;
  try {
    meta = JSON.parse(await Deno.readTextFile(join(dir, "stage1.json")));
    bytes = await Deno.readFile(join(dir, "arrays.bin"));
  } catch {
    return null;
  }
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  let offset = 0;
  const take = (length: number) => all.slice(offset, offset += length);
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const weights = Object.fromEntries(
    Object.entries(meta.weights as Record<string, number[][]>).map((
      [k, shapes],
    ) => [k, shapes.map((shape) => ({ shape, data: take(size(shape)) }))]),
  ) as Stage1Artifacts["weights"];
  const f = meta.featureDim as number;
  const features: Record<string, Float32Array> = {};
  for (const e of meta.features as { name: string; length: number }[]) {
    features[e.name] = take(e.length);
  }
  if (offset !== all.length) {
    throw new Error(`${dir}/arrays.bin: ${all.length} values, stage1.json describes ${offset}`);
  }
  const matrix = (data: Float32Array) => ({ data, rows: data.length / f, cols: f });
  return {
    dir,
    weights,
    trainAug: features.trainAug,
    train: matrix(features.train),
    val: matrix(features.val),
    test: matrix(features.test),
    featureDim: f,
    losses: meta.losses,
    lr: meta.lr,
    seconds: meta.seconds,
    trained: false,
  };
}

/**
 * Stage 1 of `config` on `data` with `seed`: read from the cache, or trained (Adam at the
 * configured rate, falling back to 1e-3 when the loss diverges, README.md 'Schedule') and
 * cached. The same inputs give the same files.
 */
export async function ensureStage1(
  config: AaiprConfig,
  data: AaiprData,
  seed: number,
  options: { log?: (line: string) => void; progress?: ProgressSink; history?: LossHistory } = {},
): Promise<Stage1Artifacts> {
  const hash = (await sha256Hex(canonicalJson(stage1Key(config, data, seed)))).slice(0, 16);
  const dir = join(repoPath(config.data.cache), "aaipr-stage1", `${data.world}-s${seed}-${hash}`);
  const log = options.log ?? (() => {});
  await Deno.mkdir(dirname(dir), { recursive: true });
  return await withLock(`${dir}.lock`, async () => {
    const cached = await readArtifacts(dir);
    if (cached) return cached;
    const rng = new Rng(seed).fork("stage1");
    const t0 = performance.now();
    let lr = config.stage1.lr;
    for (;;) {
      const nets = buildNetworks(config, data.attrDim, data.train.numSids, rng.fork("init"));
      try {
        let losses: number[];
        try {
          losses = await trainStage1(nets, config, data, rng, lr, options);
        } catch (error) {
          if (error instanceof Error && /non-finite|exploded/i.test(error.message) && lr > 1e-3) {
            log(`stage 1 diverged at lr ${lr}: ${error.message}; retrying at 1e-3`);
            lr = 1e-3;
            continue;
          }
          throw error;
        }
        const artifacts = {
          weights: {
            trunk: await packWeights(nets.trunk),
            imageHead: await packWeights(nets.imageHead),
            classifier: await packWeights(nets.modules.classifier),
          },
          trainAug: await augmentedFeatures(nets, config, data, rng.fork("cache")),
          train: await trunkFeatures(nets, data.train.split),
          val: await trunkFeatures(nets, data.val.split),
          test: await trunkFeatures(nets, data.test.split),
          featureDim: nets.featureDim,
          losses,
          lr,
          seconds: (performance.now() - t0) / 1000,
        };
        await writeArtifacts(dir, artifacts);
        log(`stage 1 (${data.world}, seed ${seed}): ${artifacts.seconds.toFixed(1)} s, lr ${lr}`);
        return { ...artifacts, dir, trained: true };
      } finally {
        disposeNetworks(nets);
      }
    }
  }, { purpose: `AAIPR stage 1 (${data.world}, seed ${seed})`, log });
}
