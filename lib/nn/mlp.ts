/**
 * Fully connected networks as tfjs-layers models: the building block of the
 * heads, the GAN generators and discriminators, encoders and auto-encoders.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../runtime/random.ts";
import { batchNorm } from "./backbones/blocks.ts";
import { layerSeed, seededInit } from "./init.ts";

/** Activations an MLP layer can end with. */
export type Activation = "linear" | "relu" | "relu6" | "leakyRelu" | "tanh" | "sigmoid";

/**
 * How dense weights are initialised:
 * - "pytorch": PyTorch's `nn.Linear` default, weight and bias U(±1/√fan_in) (the
 *   papers' official code is PyTorch);
 * - "glorot": Keras' default, Glorot-uniform weight, zero bias;
 * - "he": He-normal weight, zero bias;
 * - `{ normalStd }`: weight N(0, std²), zero bias (BoT/PAENet classifiers: 0.001).
 */
export type DenseInit = "pytorch" | "glorot" | "he" | { normalStd: number };

/** Options of {@link dense}. */
export interface DenseOptions {
  /** Output size. */
  units: number;
  /** Input size (the fan-in of the PyTorch-style init). */
  inputDim: number;
  /** Default true. */
  useBias?: boolean;
  /** Default "pytorch". */
  init?: DenseInit;
  /** Layer name. */
  name: string;
  /** Stream the layer's initialiser seeds are drawn from. */
  rng: Rng;
}

/** A seeded dense layer (no activation). */
export function dense(options: DenseOptions): tf.layers.Layer {
  const init = options.init ?? "pytorch";
  const useBias = options.useBias ?? true;
  let kernelInitializer, biasInitializer;
  if (init === "pytorch") {
    const bound = 1 / Math.sqrt(options.inputDim);
    // Kaiming-uniform with a = √5 reduces to U(±1/√fan_in): variance scaling 1/3.
    kernelInitializer = tf.initializers.varianceScaling({
      scale: 1 / 3,
      mode: "fanIn",
      distribution: "uniform",
      seed: layerSeed(options.rng),
    });
    biasInitializer = tf.initializers.randomUniform({
      minval: -bound,
      maxval: bound,
      seed: layerSeed(options.rng),
    });
  } else if (init === "glorot") {
    kernelInitializer = seededInit("glorotUniform", options.rng);
  } else if (init === "he") {
    kernelInitializer = seededInit("heNormal", options.rng);
  } else {
    kernelInitializer = tf.initializers.randomNormal({
      mean: 0,
      stddev: init.normalStd,
      seed: layerSeed(options.rng),
    });
  }
  return tf.layers.dense({
    units: options.units,
    useBias,
    kernelInitializer,
    biasInitializer: useBias ? (biasInitializer ?? "zeros") : undefined,
    name: options.name,
  });
}

/** Applies an activation layer (none for "linear"). */
export function activation(
  x: tf.SymbolicTensor,
  kind: Activation,
  name: string,
  leakySlope = 0.2,
): tf.SymbolicTensor {
  switch (kind) {
    case "linear":
      return x;
    case "relu":
      return tf.layers.reLU({ name }).apply(x) as tf.SymbolicTensor;
    case "relu6":
      return tf.layers.reLU({ maxValue: 6, name }).apply(x) as tf.SymbolicTensor;
    case "leakyRelu":
      return tf.layers.leakyReLU({ alpha: leakySlope, name }).apply(x) as tf.SymbolicTensor;
    case "tanh":
    case "sigmoid":
      return tf.layers.activation({ activation: kind, name }).apply(x) as tf.SymbolicTensor;
  }
}

/** Options of {@link mlp}. */
export interface MlpOptions {
  /** Model name and layer-name prefix (`${name}_fc1`, `${name}_bn1`, …). */
  name: string;
  /**
   * Sizes of the inputs; several inputs are concatenated in this order (e.g.
   * [condition, noise] for a conditional generator, [f_a, f_v] for SAL's pair
   * discriminator). The model takes one tensor per entry.
   */
  inputDims: number[];
  /** Output sizes of the layers, the last one being the output. */
  units: number[];
  /** Activation after each hidden layer (default "relu"). */
  hiddenActivation?: Activation;
  /** Activation of the output (default "linear": logits / unbounded features). */
  outputActivation?: Activation;
  /** BatchNorm after each hidden layer, before its activation (default false). */
  batchNorm?: boolean;
  /** Negative slope of "leakyRelu" (default 0.2; tfjs' own default is 0.3). */
  leakySlope?: number;
  /** Weight initialisation (default "pytorch"). */
  init?: DenseInit;
  /** Bias on the output layer (default true). */
  outputBias?: boolean;
  /** Seed of the initial weights (same seed → identical weights). */
  seed: number | Rng;
}

/**
 * A multi-layer perceptron: for each hidden layer Dense → [BN] → activation →
 * then Dense → output activation. With `batchNorm`, the model must be
 * called with `{ training: true }` while training so that BN uses batch statistics.
 */
export function mlp(options: MlpOptions): tf.LayersModel {
  const rng = options.seed instanceof Rng ? options.seed : new Rng(options.seed);
  const { name, inputDims, units } = options;
  if (inputDims.length === 0 || units.length === 0) {
    throw new Error(`mlp ${name}: needs at least one input and one layer`);
  }
  const inputs = inputDims.map((d, i) =>
    tf.input({
      shape: [d],
      name: inputDims.length === 1 ? `${name}_input` : `${name}_input${i + 1}`,
    })
  );
  let x: tf.SymbolicTensor = inputs.length === 1
    ? inputs[0]
    : tf.layers.concatenate({ axis: -1, name: `${name}_concat` }).apply(
      inputs,
    ) as tf.SymbolicTensor;
  let width = inputDims.reduce((a, b) => a + b, 0);
  units.forEach((u, i) => {
    const last = i === units.length - 1;
    x = dense({
      units: u,
      inputDim: width,
      useBias: last ? (options.outputBias ?? true) : true,
      init: options.init,
      name: `${name}_fc${i + 1}`,
      rng,
    }).apply(x) as tf.SymbolicTensor;
    width = u;
    if (last) {
      x = activation(x, options.outputActivation ?? "linear", `${name}_out`, options.leakySlope);
      return;
    }
    if (options.batchNorm) x = batchNorm(`${name}_bn${i + 1}`).apply(x) as tf.SymbolicTensor;
    x = activation(
      x,
      options.hiddenActivation ?? "relu",
      `${name}_act${i + 1}`,
      options.leakySlope,
    );
  });
  return tf.model({ inputs, outputs: x, name });
}
