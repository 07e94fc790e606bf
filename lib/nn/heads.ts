/**
 * Heads on top of a backbone's feature vector: embedding layer, BN neck,
 * identity classifier, attribute classifier. Each is a small tfjs-layers model.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../runtime/random.ts";
import { BN_EPSILON, BN_MOMENTUM, noShiftBatchNorm } from "./backbones/blocks.ts";
import { layerSeed } from "./init.ts";
import { type Activation, dense, type DenseInit, mlp } from "./mlp.ts";

function toRng(seed: number | Rng): Rng {
  return seed instanceof Rng ? seed : new Rng(seed);
}

/** Options of {@link embeddingHead}. */
export interface EmbeddingHeadOptions {
  /** Size of the input feature vector. */
  inputDim: number;
  /** Embedding size (e.g. 128 for AAIPR's concept, 512 for SAL's f_v). */
  dim: number;
  /**
   * "linear" (SAL's 2048→512 FC), "tanh" (AAIPR's concept), or "bnRelu"
   * (Open-ReID's FC → BN → ReLU). Default "linear".
   */
  activation?: "linear" | "tanh" | "bnRelu";
  /** Default {@link DenseInit} "pytorch"; SAL's code uses N(0, 0.01). */
  init?: DenseInit;
  /** Seed of the initial weights (same seed → identical weights). */
  seed: number | Rng;
  /** Model name and layer-name prefix. */
  name?: string;
}

/** A linear embedding layer [N, inputDim] → [N, dim] with an optional activation. */
export function embeddingHead(options: EmbeddingHeadOptions): tf.LayersModel {
  const kind = options.activation ?? "linear";
  const name = options.name ?? "embedding";
  if (kind === "bnRelu") {
    const input = tf.input({ shape: [options.inputDim], name: `${name}_input` });
    let x = dense({
      units: options.dim,
      inputDim: options.inputDim,
      init: options.init,
      name: `${name}_fc`,
      rng: toRng(options.seed),
    }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({
      momentum: BN_MOMENTUM,
      epsilon: BN_EPSILON,
      name: `${name}_bn`,
    }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `${name}_relu` }).apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: x, name });
  }
  return mlp({
    name,
    inputDims: [options.inputDim],
    units: [options.dim],
    outputActivation: kind as Activation,
    init: options.init,
    seed: options.seed,
  });
}

/** Options of {@link bnNeck}. */
export interface BnNeckOptions {
  /** Size of the feature vector. */
  dim: number;
  /**
   * Initial BN scale γ: "ones" (BoT) or `{ normalStd }` for N(1, std²) (PAENet: 0.01).
   * Default "ones".
   */
  gammaInit?: "ones" | { normalStd: number };
  /** Needed for a random γ. */
  seed?: number | Rng;
  /** Model name and layer-name prefix. Default "bnneck". */
  name?: string;
}

/**
 * The BN neck of BoT (Luo et al. 2019): BatchNorm over the feature vector with
 * a learned scale and **no shift** (β frozen at 0: a non-trainable weight, see
 * {@link noShiftBatchNorm}). The
 * triplet loss sees the features before it, the classifier the features after it.
 */
export function bnNeck(options: BnNeckOptions): tf.LayersModel {
  const name = options.name ?? "bnneck";
  const g = options.gammaInit ?? "ones";
  let gammaInitializer: ReturnType<typeof tf.initializers.ones> = tf.initializers.ones();
  if (g !== "ones") {
    if (options.seed === undefined) throw new Error(`bnNeck ${name}: a random γ needs a seed`);
    gammaInitializer = tf.initializers.randomNormal({
      mean: 1,
      stddev: g.normalStd,
      seed: layerSeed(toRng(options.seed)),
    });
  }
  const input = tf.input({ shape: [options.dim], name: `${name}_input` });
  const out = noShiftBatchNorm(input, `${name}_bn`, gammaInitializer);
  return tf.model({ inputs: input, outputs: out, name });
}

/** Options of {@link classifier}. */
export interface ClassifierOptions {
  /** Size of the input feature vector. */
  inputDim: number;
  /** Number of classes (logits). */
  numClasses: number;
  /** Default true; BoT/PAENet's identity classifier has none. */
  useBias?: boolean;
  /** Default "pytorch"; BoT/PAENet use `{ normalStd: 0.001 }`. */
  init?: DenseInit;
  /** Seed of the initial weights (same seed → identical weights). */
  seed: number | Rng;
  /** Model name and layer-name prefix. */
  name?: string;
}

/** A linear classifier giving logits [N, numClasses] (softmax/sigmoid live in the loss). */
export function classifier(options: ClassifierOptions): tf.LayersModel {
  return mlp({
    name: options.name ?? "classifier",
    inputDims: [options.inputDim],
    units: [options.numClasses],
    outputBias: options.useBias ?? true,
    init: options.init,
    seed: options.seed,
  });
}

/**
 * Attribute classifier: one logit per binary attribute, [N, inputDim] → [N, m]
 * (sigmoid in the loss). m separate one-unit heads without bias, as PAENet's
 * `class_0..7`, are the same function as one bias-free layer of m units.
 */
export function attributeClassifier(
  options: Omit<ClassifierOptions, "numClasses"> & { numAttributes: number },
): tf.LayersModel {
  return classifier({
    ...options,
    numClasses: options.numAttributes,
    name: options.name ?? "attribute_classifier",
  });
}
