/**
 * The "Images" row of Table 3 (lib/papers/aaipr/README.md, 'The Images row'): instead of a
 * concept, the attributes generate an *image*, and that image is the query. A small
 * conditional GAN in the GAN-CLS style (Reed et al., the code the paper names):
 *
 * - generator G: [a ⊕ z] → Dense → (H/16 × W/16 × w₀) → BN → ReLU → [deconv4×4 stride 2 → BN →
 *   ReLU] per width → deconv4×4 stride 2 → 3 channels, tanh (pixels in [−1, 1]);
 * - discriminator D_img(x, a): three stride-2 conv4×4 (LeakyReLU 0.2) on the image, the
 *   attributes through Dense → 16 tiled over the H/8 × W/8 map and concatenated, conv1×1 →
 *   LeakyReLU → flatten → Dense → 1 logit;
 * - D's loss: real image with its own attributes → real; the generated image with its
 *   attributes and a real image with another semantic ID's attributes → fake (the two fake
 *   terms averaged, as GAN-CLS does); G's loss −log D(G(a, z), a) (non-saturating).
 * - Phase 1: the GAN alone. Phase 2: G also minimises CE(Ψ(Φ_I(G(a, z))), y) through the
 *   frozen stage-1 image branch and classifier, with the GAN term weighted λ_G (the paper's
 *   "semantic ID classification objective … trade-off λ_G = 0.001").
 * - Query: Φ_I(G(a_q, z_fixed)), scored against the very gallery the concept rows use (Φ_I
 *   of every test image through the same stage-1 head), cosine.
 *
 * G and D are each their own player (own variables, own Adam); Φ_I and Ψ are no player's.
 *
 * @see notebooks/aaipr.ipynb §5
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { augmentBatch } from "../../data/augment.ts";
import {
  IMAGENET_NORMALIZATION,
  pixelsToTensor,
  SYMMETRIC_NORMALIZATION,
} from "../../data/images.ts";
import { gatherPixels } from "../../data/split.ts";
import { runTraining } from "../../engine/train_loop.ts";
import type { DenseMatrix } from "../../eval/distance.ts";
import { batchNorm } from "../../nn/backbones/blocks.ts";
import { seededInit } from "../../nn/init.ts";
import { crossEntropy } from "../../nn/losses/classification.ts";
import type { Rng } from "../../runtime/random.ts";
import type { LossHistory } from "../../train/history.ts";
import { Player, trainableVariables } from "../../train/players.ts";
import type { ProgressSink } from "../../train/progress.ts";
import type { AaiprConfig } from "./config.ts";
import type { AaiprData } from "./data.ts";
import type { AaiprNetworks } from "./model.ts";
import { epochBatches } from "./stage1.ts";

/** The conditional GAN of the Images row. */
export interface ImageGan {
  /** G: [attrDim + noiseDim] → image [H, W, 3] in [−1, 1]. */
  generator: tf.LayersModel;
  /**
   * D_img in two parts: its image path (image → H/8 × W/8 map) and its joint head ([map,
   * attributes] → logit, "a real image showing these attributes"). Split so that a real image's
   * map serves both its matching and its mismatched pair in one discriminator step.
   */
  discriminatorImage: tf.LayersModel;
  discriminatorJoint: tf.LayersModel;
  noiseDim: number;
}

/** Builds G and D_img for images of `height × width` and `attrDim` attributes. */
export function buildImageGan(options: {
  attrDim: number;
  height: number;
  width: number;
  gan: AaiprConfig["gan"];
  seed: Rng;
}): ImageGan {
  const { attrDim, height, width, gan, seed } = options;
  const ups = gan.genWidths.length; // the first width is the dense map's, then one block each
  const h0 = height >> ups, w0 = width >> ups;
  if (h0 << ups !== height || w0 << ups !== width || h0 < 1 || w0 < 1) {
    throw new Error(`Images row: ${height}×${width} is not a multiple of 2^${ups}`);
  }
  const init = (name: string) => seededInit("heNormal", seed.fork(name));
  // ---- G
  const gIn = tf.input({ shape: [attrDim + gan.noiseDim], name: "imgG_input" });
  let g: tf.SymbolicTensor = tf.layers.dense({
    units: h0 * w0 * gan.genWidths[0],
    useBias: false,
    kernelInitializer: init("imgG_fc"),
    name: "imgG_fc",
  }).apply(gIn) as tf.SymbolicTensor;
  g = tf.layers.reshape({ targetShape: [h0, w0, gan.genWidths[0]], name: "imgG_map" })
    .apply(g) as tf.SymbolicTensor;
  g = batchNorm("imgG_bn0").apply(g) as tf.SymbolicTensor;
  g = tf.layers.reLU({ name: "imgG_relu0" }).apply(g) as tf.SymbolicTensor;
  // Each block doubles the map with a 4×4 stride-2 transposed convolution (the "deconvolution
  // layers" of the paper's GAN; README.md, 'The Images row', on why not upsample + conv3×3).
  const blocks = [...gan.genWidths.slice(1), 3];
  blocks.forEach((filters, i) => {
    const last = i === blocks.length - 1;
    g = tf.layers.conv2dTranspose({
      filters,
      kernelSize: 4,
      strides: 2,
      padding: "same",
      useBias: last,
      kernelInitializer: last
        ? seededInit("glorotUniform", seed.fork(`imgG_deconv${i + 1}`))
        : init(`imgG_deconv${i + 1}`),
      name: `imgG_deconv${i + 1}`,
    }).apply(g) as tf.SymbolicTensor;
    if (last) {
      g = tf.layers.activation({ activation: "tanh", name: "imgG_tanh" })
        .apply(g) as tf.SymbolicTensor;
    } else {
      g = batchNorm(`imgG_bn${i + 1}`).apply(g) as tf.SymbolicTensor;
      g = tf.layers.reLU({ name: `imgG_relu${i + 1}` }).apply(g) as tf.SymbolicTensor;
    }
  });
  const generator = tf.model({ inputs: gIn, outputs: g, name: "aaipr_imgG" });
  // ---- D_img (no BN: real, fake and mismatched batches go through separate calls)
  const xIn = tf.input({ shape: [height, width, 3], name: "imgD_image" });
  const aIn = tf.input({ shape: [attrDim], name: "imgD_attributes" });
  let x: tf.SymbolicTensor = xIn;
  gan.discWidths.forEach((filters, i) => {
    x = tf.layers.conv2d({
      filters,
      kernelSize: 4,
      strides: 2,
      padding: "same",
      kernelInitializer: init(`imgD_conv${i + 1}`),
      name: `imgD_conv${i + 1}`,
    }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.leakyReLU({ alpha: 0.2, name: `imgD_lrelu${i + 1}` })
      .apply(x) as tf.SymbolicTensor;
  });
  const discriminatorImage = tf.model({ inputs: xIn, outputs: x, name: "aaipr_imgD_image" });
  const down = 1 << gan.discWidths.length;
  const hd = height / down, wd = width / down;
  const mapIn = tf.input({ shape: [hd, wd, gan.discWidths.at(-1)!], name: "imgD_map" });
  let a: tf.SymbolicTensor = tf.layers.dense({
    units: gan.attrEmbed,
    kernelInitializer: init("imgD_attr"),
    name: "imgD_attr",
  }).apply(aIn) as tf.SymbolicTensor;
  a = tf.layers.leakyReLU({ alpha: 0.2, name: "imgD_attr_lrelu" }).apply(a) as tf.SymbolicTensor;
  a = tf.layers.repeatVector({ n: hd * wd, name: "imgD_tile" }).apply(a) as tf.SymbolicTensor;
  a = tf.layers.reshape({ targetShape: [hd, wd, gan.attrEmbed], name: "imgD_attr_map" })
    .apply(a) as tf.SymbolicTensor;
  let d = tf.layers.concatenate({ axis: -1, name: "imgD_concat" }).apply([
    mapIn,
    a,
  ]) as tf.SymbolicTensor;
  d = tf.layers.conv2d({
    filters: gan.joinWidth,
    kernelSize: 1,
    kernelInitializer: init("imgD_join"),
    name: "imgD_join",
  }).apply(d) as tf.SymbolicTensor;
  d = tf.layers.leakyReLU({ alpha: 0.2, name: "imgD_join_lrelu" }).apply(d) as tf.SymbolicTensor;
  d = tf.layers.flatten({ name: "imgD_flat" }).apply(d) as tf.SymbolicTensor;
  d = tf.layers.dense({
    units: 1,
    kernelInitializer: seededInit("glorotUniform", seed.fork("imgD_out")),
    name: "imgD_out",
  }).apply(d) as tf.SymbolicTensor;
  const discriminatorJoint = tf.model({ inputs: [mapIn, aIn], outputs: d, name: "aaipr_imgD" });
  return { generator, discriminatorImage, discriminatorJoint, noiseDim: gan.noiseDim };
}

/** Frees G and D_img. */
export function disposeImageGan(gan: ImageGan): void {
  gan.generator.dispose();
  gan.discriminatorImage.dispose();
  gan.discriminatorJoint.dispose();
}

/** G's pixels in [−1, 1] → the ImageNet-normalised input the stage-1 trunk was trained on. */
export function toTrunkInput(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const mean = tf.tensor1d(IMAGENET_NORMALIZATION.mean as unknown as number[]);
    const std = tf.tensor1d(IMAGENET_NORMALIZATION.std as unknown as number[]);
    return images.add(1).mul(0.5).sub(mean).div(std) as tf.Tensor4D;
  });
}

/** G's images for attribute rows `a` [N, attrDim] and noise `z` [N, noiseDim]. */
export function generate(gan: ImageGan, a: tf.Tensor2D, z: tf.Tensor2D, training: boolean) {
  return tf.tidy(() => gan.generator.apply(tf.concat([a, z], 1), { training }) as tf.Tensor4D);
}

/**
 * GAN-CLS's discriminator loss (unweighted) from D's logits on (real, own attributes),
 * (generated, own attributes) and (real, mismatched attributes): −log D(real) −
 * ½[log(1 − D(fake)) + log(1 − D(mismatch))], batch means.
 */
export function clsDiscriminatorLoss(
  sReal: tf.Tensor,
  sFake: tf.Tensor,
  sWrong: tf.Tensor,
): tf.Scalar {
  return tf.tidy(() =>
    tf.softplus(tf.neg(sReal)).mean().add(
      tf.softplus(sFake).mean().add(tf.softplus(sWrong).mean()).mul(0.5),
    ) as tf.Scalar
  );
}

/** One batch of the Images row's training: real images ([−1, 1]), attributes, SIDs, mismatches. */
export interface ImageGanBatch {
  real: tf.Tensor4D;
  attributes: tf.Tensor2D;
  /** Attributes of another training image with a different semantic ID, per row. */
  wrong: tf.Tensor2D;
  sids: number[];
  noise: tf.Tensor2D;
}

/** The numbers of one step. */
export interface ImageGanStepValues {
  l_Dimg: number;
  l_Gimg: number;
  /** CE of Ψ(Φ_I(G(a, z))) (phase 2 only). */
  l_CE?: number;
  /** D's accuracy on the real (→ 1) and generated (→ 0) images. */
  dimg_acc: number;
}

/** The two players of the Images row over its GAN and the frozen stage-1 networks. */
export class ImageGanTrainer {
  readonly gan: ImageGan;
  readonly nets: AaiprNetworks;
  readonly config: AaiprConfig;
  readonly generatorPlayer: Player;
  readonly discriminatorPlayer: Player;

  constructor(gan: ImageGan, nets: AaiprNetworks, config: AaiprConfig) {
    this.gan = gan;
    this.nets = nets;
    this.config = config;
    const c = config.gan;
    this.generatorPlayer = new Player({
      name: "image-generator",
      variables: trainableVariables(gan.generator),
      optimizer: tf.train.adam(c.lrG, c.beta1, 0.999, 1e-8),
      weightDecay: c.weightDecay,
    });
    this.discriminatorPlayer = new Player({
      name: "image-discriminator",
      variables: trainableVariables(gan.discriminatorImage, gan.discriminatorJoint),
      optimizer: tf.train.adam(c.lrD, c.beta1, 0.999, 1e-8),
      weightDecay: c.weightDecay,
    });
  }

  /** Φ_I's concepts of G's images (frozen stage-1 trunk and head, eval mode). */
  concepts(images: tf.Tensor4D): tf.Tensor2D {
    const features = this.nets.trunk.apply(toTrunkInput(images), {
      training: false,
    }) as tf.Tensor2D;
    return this.nets.ops.imageHead.apply(features, "eval");
  }

  /** One step: D_img's update on generated images held constant, then G's. */
  async step(batch: ImageGanBatch, phase: 1 | 2): Promise<ImageGanStepValues> {
    const kept: Record<string, tf.Scalar> = {};
    const keep = (name: string, t: tf.Scalar) => {
      kept[name] = tf.keep(tf.clone(t));
    };
    const D = (map: tf.Tensor, a: tf.Tensor) =>
      this.gan.discriminatorJoint.apply([map, a]) as tf.Tensor;
    const image = (x: tf.Tensor) => this.gan.discriminatorImage.apply(x) as tf.Tensor;
    try {
      const fake = generate(this.gan, batch.attributes, batch.noise, true);
      try {
        await this.discriminatorPlayer.step(() => {
          const real = image(batch.real);
          const sReal = D(real, batch.attributes);
          const sFake = D(image(fake), batch.attributes);
          const sWrong = D(real, batch.wrong);
          keep(
            "dimg_acc",
            tf.tidy(() =>
              tf.greater(sReal, 0).toFloat().mean().add(tf.less(sFake, 0).toFloat().mean()).div(2)
            ) as tf.Scalar,
          );
          const l = clsDiscriminatorLoss(sReal, sFake, sWrong);
          keep("l_Dimg", l);
          return l;
        });
      } finally {
        fake.dispose();
      }
      const lambdaG = this.config.gan.lambdaG;
      await this.generatorPlayer.step(() => {
        const images = this.gan.generator.apply(
          tf.concat([batch.attributes, batch.noise], 1),
          { training: true },
        ) as tf.Tensor4D;
        const lG = tf.softplus(tf.neg(D(image(images), batch.attributes))).mean() as tf.Scalar;
        keep("l_Gimg", lG);
        if (phase === 1) return lG;
        const ce = crossEntropy(
          this.nets.ops.classifier.apply(this.concepts(images), "eval"),
          batch.sids,
        );
        keep("l_CE", ce);
        return ce.add(lG.mul(lambdaG)) as tf.Scalar;
      });
      const names = Object.keys(kept);
      const stacked = tf.tidy(() => tf.stack(names.map((n) => kept[n])));
      let values: Float32Array;
      try {
        values = (await stacked.data()) as Float32Array;
      } finally {
        stacked.dispose();
      }
      return Object.fromEntries(
        names.map((n, i) => [n, values[i]]),
      ) as unknown as ImageGanStepValues;
    } finally {
      tf.dispose(Object.values(kept));
    }
  }

  dispose(): void {
    this.generatorPlayer.dispose();
    this.discriminatorPlayer.dispose();
  }
}

/** The batches of the Images row: real training images (flipped at random) with attributes. */
function ganSource(config: AaiprConfig, data: AaiprData, rng: Rng) {
  const train = data.train;
  const n = train.split.indices.length;
  const d = data.attrDim;
  const c = config.gan;
  const epochs: number[][][] = [];
  const batchesOf = (e: number) =>
    epochs[e] ??= epochBatches(n, c.batch, rng.fork(`gan-epoch${e}`));
  const rowsOf = (rows: number[]) => {
    const a = new Float32Array(rows.length * d);
    rows.forEach((row, j) => a.set(train.attributes.subarray(row * d, (row + 1) * d), j * d));
    return tf.tensor2d(a, [rows.length, d]);
  };
  return {
    epochs: c.phase1Epochs + c.phase2Epochs,
    stepsIn: (e: number) => batchesOf(e).length,
    batch: (e: number, i: number): ImageGanBatch => {
      const rows = batchesOf(e)[i];
      const r = rng.fork(`gan-batch${e}:${i}`);
      // Mismatched attributes: another training image's with a different semantic ID.
      const wrongRows = rows.map((row) => {
        for (let t = 0; t < 20; t++) {
          const other = r.int(n);
          if (train.sids[other] !== train.sids[row]) return other;
        }
        return r.int(n);
      });
      const pixels = augmentBatch(gatherPixels(train.split, rows), train.split.size, {
        flip: config.train.flip,
      }, r);
      return {
        real: pixelsToTensor(pixels, train.split.size, 0, rows.length, SYMMETRIC_NORMALIZATION),
        attributes: rowsOf(rows),
        wrong: rowsOf(wrongRows),
        sids: rows.map((row) => train.sids[row]),
        noise: tf.tensor2d(r.normalArray(rows.length * c.noiseDim), [rows.length, c.noiseDim]),
      };
    },
    release: (b: ImageGanBatch) => tf.dispose([b.real, b.attributes, b.wrong, b.noise]),
  };
}

/** Trains the Images row's GAN (phase 1, then phase 2) on the world's training split. */
export async function trainImageGan(
  gan: ImageGan,
  nets: AaiprNetworks,
  config: AaiprConfig,
  data: AaiprData,
  rng: Rng,
  options: {
    history?: LossHistory;
    progress?: ProgressSink;
    onStep?: (step: number, values: Record<string, number>) => void | Promise<void>;
  },
): Promise<void> {
  const trainer = new ImageGanTrainer(gan, nets, config);
  try {
    await runTraining({
      label: `aaipr ${config.data.world} Images (cGAN)`,
      history: options.history,
      progress: options.progress ?? "auto",
      source: ganSource(config, data, rng),
      hooks: [{
        name: "onStep",
        afterStep: ({ step }, values) => options.onStep?.(step, values),
      }],
      async step({ batch, epoch }) {
        const v = await trainer.step(batch, epoch < config.gan.phase1Epochs ? 1 : 2);
        return { ...v };
      },
    });
  } finally {
    trainer.dispose();
  }
}

/** The fixed query noise: one z per query (`querySamples` of them, averaged, when > 1). */
export function queryNoise(config: AaiprConfig, rows: number, rng: Rng): Float32Array[] {
  return Array.from(
    { length: config.gan.querySamples },
    (_, k) => rng.fork(`query-z${k}`).normalArray(rows * config.gan.noiseDim),
  );
}

/**
 * Φ_I's concepts of G's images of attribute rows `attrs` (eval mode, in chunks), averaged
 * over the noise draws `noises` (each [rows × noiseDim]).
 */
export async function generatedConcepts(
  gan: ImageGan,
  nets: AaiprNetworks,
  attrs: DenseMatrix,
  noises: Float32Array[],
  chunk = 128,
): Promise<DenseMatrix> {
  const c = nets.modules.classifier.inputs[0].shape[1] as number;
  const out = new Float32Array(attrs.rows * c);
  for (let s = 0; s < attrs.rows; s += chunk) {
    const n = Math.min(chunk, attrs.rows - s);
    const y = tf.tidy(() => {
      const a = tf.tensor2d(attrs.data.subarray(s * attrs.cols, (s + n) * attrs.cols), [
        n,
        attrs.cols,
      ]);
      let sum: tf.Tensor2D | null = null;
      for (const noise of noises) {
        const z = tf.tensor2d(noise.subarray(s * gan.noiseDim, (s + n) * gan.noiseDim), [
          n,
          gan.noiseDim,
        ]);
        const images = generate(gan, a, z, false);
        const f = nets.trunk.apply(toTrunkInput(images), { training: false }) as tf.Tensor2D;
        const concept = nets.ops.imageHead.apply(f, "eval");
        sum = sum ? sum.add(concept) : concept;
      }
      return sum!.div(noises.length) as tf.Tensor2D;
    });
    try {
      out.set((await y.data()) as Float32Array, s * c);
    } finally {
      y.dispose();
    }
  }
  return { data: out, rows: attrs.rows, cols: c };
}

/** G's images (pixels in [0, 255], NHWC uint8) of attribute rows `attrs` with noise `noise`. */
export async function generatedPixels(
  gan: ImageGan,
  attrs: DenseMatrix,
  noise: Float32Array,
): Promise<Uint8Array> {
  const y = tf.tidy(() => {
    const a = tf.tensor2d(attrs.data, [attrs.rows, attrs.cols]);
    const z = tf.tensor2d(noise.subarray(0, attrs.rows * gan.noiseDim), [attrs.rows, gan.noiseDim]);
    return generate(gan, a, z, false).add(1).mul(127.5).clipByValue(0, 255);
  });
  try {
    return Uint8Array.from(await y.data(), (v) => Math.round(v));
  } finally {
    y.dispose();
  }
}
