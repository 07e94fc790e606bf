/**
 * SAL's networks (README.md, 'Architecture'): the image feature extractor F_I (a CNN and a
 * linear head to f_v), and the fully connected modules F_A, G_A, G_V, D_1, E_V, E_A, D_2 and
 * the two classifiers shared by both branches, each built from `lib/nn` parts with its own
 * random stream.
 *
 * @see notebooks/sal.ipynb §2
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { plainConvNet } from "../../nn/backbones/plain.ts";
import { resNet50 } from "../../nn/backbones/resnet50.ts";
import { disposeModules, sampleNoise } from "../../nn/gan.ts";
import { countParams } from "../../nn/init.ts";
import { fromPretrained } from "../../nn/io.ts";
import { dense, mlp } from "../../nn/mlp.ts";
import { repoPath } from "../../runtime/paths.ts";
import { Rng } from "../../runtime/random.ts";
import type { SalConfig } from "./config.ts";
import { matMulPlainGrad } from "../../nn/ops.ts";

export { sampleNoise };

/** Widths of SAL's fully connected modules (README.md, 'Architecture'). */
export interface SalWidths {
  /** f_v, f_a size (512; CPU 128). */
  featureDim: number;
  /** Noise size of G_V (400; CPU 100). */
  noiseDim: number;
  /** Common space size (128; CPU 32). */
  embedDim: number;
  /** Hidden widths of F_A (64, 128, 256; CPU 32, 64, 128). */
  attributeExtractor: number[];
  /** Hidden widths of G_A and G_V (256, 128, 256; CPU 64, 32, 64). */
  generator: number[];
  /** Hidden widths of E_V and E_A (512, 256; CPU 128, 64). */
  encoder: number[];
  /** Hidden widths of D_1 and D_2 (512, 256; CPU 128, 64). */
  discriminator: number[];
}

/** SAL's widths in the official code. */
export const SAL_PAPER_WIDTHS: SalWidths = {
  featureDim: 512,
  noiseDim: 400,
  embedDim: 128,
  attributeExtractor: [64, 128, 256],
  generator: [256, 128, 256],
  encoder: [512, 256],
  discriminator: [512, 256],
};

/** SAL's CPU-scale widths (README.md, 'Architecture'). */
export const SAL_CPU_WIDTHS: SalWidths = {
  featureDim: 128,
  noiseDim: 100,
  embedDim: 32,
  attributeExtractor: [32, 64, 128],
  generator: [64, 32, 64],
  encoder: [128, 64],
  discriminator: [128, 64],
};

/** SAL's fully connected modules (names as in the paper). */
export interface SalModules {
  /** F_A: attributes → f_a; BN+ReLU, tanh output. */
  attributeExtractor: tf.LayersModel;
  /** G_A: f_v → f̃_a; BN+ReLU, tanh output. */
  generatorA: tf.LayersModel;
  /** G_V: [f_a, z] → f̃_v (two inputs); BN+ReLU, tanh output. */
  generatorV: tf.LayersModel;
  /** D_1: [f_a, f_v] (two inputs, attribute first) → probability; BN+LeakyReLU(0.2), sigmoid. */
  discriminator1: tf.LayersModel;
  /** E_V: f_v → common space; BN+ReLU, tanh output. */
  encoderV: tf.LayersModel;
  /** E_A (= G_C): f_a → common space. */
  encoderA: tf.LayersModel;
  /** D_2: common-space embedding → probability. */
  discriminator2: tf.LayersModel;
  /** C_att: embedding → attribute logits (shared by both branches). */
  attributeClassifier: tf.LayersModel;
  /** C_cat: embedding → category logits (shared by both branches). */
  categoryClassifier: tf.LayersModel;
}

/** The fields of a tfjs-layers Dense layer the plain product reads. */
interface DenseInternals {
  kernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
  useBias: boolean;
  activation: { getClassName(): string };
  call: (inputs: tf.Tensor | tf.Tensor[], kwargs: unknown) => tf.Tensor;
}

/**
 * Makes every Dense layer of `model` (linear, as {@link mlp} builds them) compute its product
 * through {@link matMulPlainGrad}; everything else of tfjs-layers (modes, batch norm, weights)
 * is untouched.
 */
export function withPlainProducts<M extends tf.LayersModel>(model: M): M {
  for (const layer of model.layers) {
    if (layer.getClassName() !== "Dense") continue;
    const dense = layer as unknown as DenseInternals;
    if (dense.activation.getClassName() !== "linear") {
      throw new Error(`withPlainProducts: dense layer ${layer.name} has a fused activation`);
    }
    dense.call = (inputs) => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const y = matMulPlainGrad(x, dense.kernel.read());
      return dense.useBias && dense.bias ? tf.add(y, dense.bias.read()) : y;
    };
  }
  return model;
}

/** Builds SAL's fully connected modules (PyTorch default init, as the official code). */
export function salModules(options: {
  attrDim: number;
  numCategories: number;
  widths?: SalWidths;
  seed: number | Rng;
}): SalModules {
  const w = options.widths ?? SAL_PAPER_WIDTHS;
  const rng = options.seed instanceof Rng ? options.seed : new Rng(options.seed);
  const f = w.featureDim;
  const gen = (name: string, inputDims: number[], hidden: number[], out: number) =>
    withPlainProducts(mlp({
      name,
      inputDims,
      units: [...hidden, out],
      batchNorm: true,
      hiddenActivation: "relu",
      outputActivation: "tanh",
      seed: rng.fork(name),
    }));
  const disc = (name: string, inputDims: number[]) =>
    withPlainProducts(mlp({
      name,
      inputDims,
      units: [...w.discriminator, 1],
      batchNorm: true,
      hiddenActivation: "leakyRelu",
      leakySlope: 0.2,
      outputActivation: "sigmoid",
      seed: rng.fork(name),
    }));
  const linear = (name: string, out: number) =>
    withPlainProducts(mlp({ name, inputDims: [w.embedDim], units: [out], seed: rng.fork(name) }));
  return {
    attributeExtractor: gen("sal_FA", [options.attrDim], w.attributeExtractor, f),
    generatorA: gen("sal_GA", [f], w.generator, f),
    generatorV: gen("sal_GV", [f, w.noiseDim], w.generator, f),
    discriminator1: disc("sal_D1", [f, f]),
    encoderV: gen("sal_EV", [f], w.encoder, w.embedDim),
    encoderA: gen("sal_EA", [f], w.encoder, w.embedDim),
    discriminator2: disc("sal_D2", [w.embedDim]),
    attributeClassifier: linear("sal_Catt", options.attrDim),
    categoryClassifier: linear("sal_Ccat", options.numCategories),
  };
}

/** The widths of a config's modules. */
export function widthsOf(config: SalConfig): SalWidths {
  const m = config.model;
  return {
    featureDim: m.featureDim,
    noiseDim: m.noiseDim,
    embedDim: m.embedDim,
    attributeExtractor: m.attributeExtractor,
    generator: m.generator,
    encoder: m.encoder,
    discriminator: m.discriminator,
  };
}

/** Every network of SAL. */
export interface SalNetworks extends SalModules {
  /** F_I: images [N, H, W, 3] → f_v [N, featureDim] (unbounded: a linear head). */
  imageExtractor: tf.LayersModel;
}

/**
 * F_I: the backbone, global average pooling and a linear layer to f_v (no BN, no activation),
 * as the official code's ResNet-50 with its 512-d "classifier" used as the feature head.
 */
async function imageExtractor(config: SalConfig, rng: Rng): Promise<tf.LayersModel> {
  const inputShape: [number, number, number] = [config.data.height, config.data.width, 3];
  const m = config.model;
  const build = () =>
    m.backbone === "plain"
      ? plainConvNet({ inputShape, widths: m.widths, seed: rng.fork("backbone") })
      : resNet50({ inputShape, seed: rng.fork("backbone"), name: "sal_resnet50" });
  const trunk = m.pretrained ? await fromPretrained(repoPath(m.pretrained), build) : build();
  const width = trunk.outputs[0].shape[1] as number;
  const head = dense({
    units: m.featureDim,
    inputDim: width,
    name: "sal_FI_fc",
    rng: rng.fork("head"),
  });
  const input = tf.input({ shape: inputShape, name: "sal_FI_input" });
  const fv = head.apply(trunk.apply(input)) as tf.SymbolicTensor;
  return withPlainProducts(tf.model({ inputs: input, outputs: fv, name: "sal_FI" }));
}

/** Builds every network of a config, seeded (same seed → same initial weights). */
export async function buildNetworks(
  config: SalConfig,
  attrDim: number,
  numCategories: number,
  rng: Rng,
): Promise<SalNetworks> {
  const modules = salModules({
    attrDim,
    numCategories,
    widths: widthsOf(config),
    seed: rng.fork("modules"),
  });
  return { ...modules, imageExtractor: await imageExtractor(config, rng.fork("FI")) };
}

/** Frees the networks. */
export function disposeNetworks(nets: SalNetworks): void {
  disposeModules(nets);
}

/** The networks a stage-2 checkpoint holds (the Embed model: both branches and classifiers). */
export const EMBED_NETWORKS = [
  "imageExtractor",
  "attributeExtractor",
  "encoderV",
  "encoderA",
  "attributeClassifier",
  "categoryClassifier",
] as const;

/** The modules only SAL's synthesis GAN adds (README.md, 'Claims', C4). */
export const SYNTHESIS_NETWORKS = ["generatorA", "generatorV", "discriminator1"] as const;

/** Trainable parameters of some networks, in millions. */
export function paramsM(nets: SalNetworks, names: readonly (keyof SalNetworks)[]): number {
  return names.reduce((s, n) => s + countParams(nets[n], "trainable"), 0) / 1e6;
}
