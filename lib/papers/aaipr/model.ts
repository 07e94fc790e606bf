/**
 * AAIPR's networks (lib/papers/aaipr/README.md, 'Architecture'): the attribute branch Φ_A
 * (Table 1), the shared semantic-ID classifier Ψ, the concept discriminator D, the image branch
 * Φ_I (a conv trunk plus a dense layer to the 128-d concept) and DeepMAR-lite's attribute head.
 * All fully connected parts are {@link mlp}s (tfjs-layers models that own the weights); they run
 * through {@link MlpOps}, the same computation in plain ops whose matrix-product gradient avoids
 * the wasm backend's slow transposed products (README.md, 'Speed').
 *
 * @see notebooks/aaipr.ipynb §3
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { buildBackbone } from "../../nn/backbones/registry.ts";
import { plainConvNet } from "../../nn/backbones/plain.ts";
import { mlp } from "../../nn/mlp.ts";
import { Rng } from "../../runtime/random.ts";
import type { AaiprConfig } from "./config.ts";
import { matMulPlainGrad } from "../../nn/ops.ts";

function toRng(seed: number | Rng): Rng {
  return seed instanceof Rng ? seed : new Rng(seed);
}

/** AAIPR's attribute branch Φ_A, shared classifier Ψ and concept discriminator D. */
export interface AaiprModules {
  /** Φ_A (Table 1): attributes → 128 → 256 → 512 → concept, BN+ReLU, tanh output. */
  attributeBranch: tf.LayersModel;
  /** Ψ (fc5): concept → semantic-ID logits, shared by both branches. */
  classifier: tf.LayersModel;
  /** D: concept → logit (probability "from the image pipeline" is its sigmoid); LeakyReLU(0.2), no BN. */
  discriminator: tf.LayersModel;
}

/**
 * Builds AAIPR's fully connected modules (README.md, 'Architecture'). The paper's Table 1
 * widths are the default and are cheap enough to keep at CPU scale.
 */
export function aaiprModules(options: {
  attrDim: number;
  numSemanticIds: number;
  /** Concept size (128). */
  conceptDim?: number;
  /** Hidden widths of Φ_A (128, 256, 512). */
  attributeWidths?: number[];
  /** Hidden widths of D (256, 256); SAL's code uses 512, 256 with BN. */
  discriminatorWidths?: number[];
  seed: number | Rng;
}): AaiprModules {
  const rng = toRng(options.seed);
  const c = options.conceptDim ?? 128;
  return {
    attributeBranch: mlp({
      name: "aaipr_PhiA",
      inputDims: [options.attrDim],
      units: [...(options.attributeWidths ?? [128, 256, 512]), c],
      batchNorm: true,
      outputActivation: "tanh",
      seed: rng.fork("aaipr_PhiA"),
    }),
    classifier: mlp({
      name: "aaipr_Psi",
      inputDims: [c],
      units: [options.numSemanticIds],
      seed: rng.fork("aaipr_Psi"),
    }),
    discriminator: mlp({
      name: "aaipr_D",
      inputDims: [c],
      units: [...(options.discriminatorWidths ?? [256, 256]), 1],
      hiddenActivation: "leakyRelu",
      leakySlope: 0.2,
      seed: rng.fork("aaipr_D"),
    }),
  };
}

// ---------------------------------------------------------------- plain-op MLPs

type Op =
  | { kind: "dense"; kernel: tf.Variable; bias: tf.Variable | null }
  | {
    kind: "bn";
    gamma: tf.Variable;
    beta: tf.Variable;
    movingMean: tf.Variable;
    movingVariance: tf.Variable;
    momentum: number;
    epsilon: number;
  }
  | { kind: "act"; fn: "relu" | "leakyRelu" | "tanh" | "sigmoid" | "linear"; alpha: number };

function weightOf(layer: tf.layers.Layer, suffix: string): tf.Variable {
  const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`));
  const value = w?.read();
  if (!(value instanceof tf.Variable)) {
    throw new Error(`MlpOps: layer ${layer.name} has no weight "${suffix}"`);
  }
  return value;
}

/**
 * A sequential {@link mlp} run as plain ops over the model's own variables, so gradients and
 * optimizers act on exactly the model's weights. In "train" mode batch norm uses the batch's
 * statistics and queues its moving-average update; {@link MlpOps.commit} applies the queue
 * (after the step, outside any gradient tape), {@link MlpOps.discard} drops it.
 */
export class MlpOps {
  readonly model: tf.LayersModel;
  #ops: Op[] = [];
  #pending: { op: Extract<Op, { kind: "bn" }>; mean: tf.Tensor; variance: tf.Tensor }[] = [];

  constructor(model: tf.LayersModel) {
    this.model = model;
    for (const layer of model.layers) {
      const cls = layer.getClassName();
      const config = layer.getConfig();
      if (cls === "InputLayer") continue;
      if (cls === "Dense") {
        if (config.activation !== "linear") {
          throw new Error(`MlpOps: dense layer ${layer.name} has a fused activation`);
        }
        this.#ops.push({
          kind: "dense",
          kernel: weightOf(layer, "kernel"),
          bias: config.useBias ? weightOf(layer, "bias") : null,
        });
      } else if (cls === "BatchNormalization") {
        this.#ops.push({
          kind: "bn",
          gamma: weightOf(layer, "gamma"),
          beta: weightOf(layer, "beta"),
          movingMean: weightOf(layer, "moving_mean"),
          movingVariance: weightOf(layer, "moving_variance"),
          momentum: config.momentum as number,
          epsilon: config.epsilon as number,
        });
      } else if (cls === "ReLU") {
        this.#ops.push({ kind: "act", fn: "relu", alpha: 0 });
      } else if (cls === "LeakyReLU") {
        this.#ops.push({ kind: "act", fn: "leakyRelu", alpha: config.alpha as number });
      } else if (cls === "Activation") {
        const fn = config.activation as "tanh" | "sigmoid" | "linear";
        this.#ops.push({ kind: "act", fn, alpha: 0 });
      } else {
        throw new Error(`MlpOps: ${model.name} has a ${cls} layer, which plain ops do not run`);
      }
    }
  }

  /** The model's output for `x` [N, in]. */
  apply(x: tf.Tensor2D, mode: "train" | "eval"): tf.Tensor2D {
    let y: tf.Tensor = x;
    for (const op of this.#ops) {
      if (op.kind === "dense") {
        y = matMulPlainGrad(y, op.kernel);
        if (op.bias) y = tf.add(y, op.bias);
      } else if (op.kind === "bn") {
        let mean: tf.Tensor, variance: tf.Tensor;
        if (mode === "train") {
          const m = tf.moments(y, 0);
          mean = m.mean;
          variance = m.variance;
          this.#pending.push({
            op,
            mean: tf.keep(tf.clone(mean)),
            variance: tf.keep(tf.clone(variance)),
          });
        } else {
          mean = op.movingMean;
          variance = op.movingVariance;
        }
        y = tf.add(
          tf.mul(tf.mul(tf.sub(y, mean), tf.rsqrt(tf.add(variance, op.epsilon))), op.gamma),
          op.beta,
        );
      } else if (op.fn === "relu") y = tf.relu(y);
      else if (op.fn === "leakyRelu") y = tf.leakyRelu(y, op.alpha);
      else if (op.fn === "tanh") y = tf.tanh(y);
      else if (op.fn === "sigmoid") y = tf.sigmoid(y);
    }
    return y as tf.Tensor2D;
  }

  /** Applies the queued moving-average updates of batch norm (as tfjs-layers does). */
  commit(): void {
    for (const { op, mean, variance } of this.#pending) {
      tf.tidy(() => {
        op.movingMean.assign(op.movingMean.mul(op.momentum).add(mean.mul(1 - op.momentum)));
        op.movingVariance.assign(
          op.movingVariance.mul(op.momentum).add(variance.mul(1 - op.momentum)),
        );
      });
      tf.dispose([mean, variance]);
    }
    this.#pending = [];
  }

  /** Drops the queued updates (a forward pass whose statistics must not count). */
  discard(): void {
    for (const p of this.#pending) tf.dispose([p.mean, p.variance]);
    this.#pending = [];
  }
}

// ---------------------------------------------------------------- the networks of a cell

/** Every network of one AAIPR cell. */
export interface AaiprNetworks {
  /** Φ_I's conv trunk: image → pooled feature (64-d at CPU scale, 2048-d for ResNet-50). */
  trunk: tf.LayersModel;
  /** Φ_I's last layer: pooled feature → concept C^I, tanh (README.md, 'Architecture'). */
  imageHead: tf.LayersModel;
  modules: AaiprModules;
  /** DeepMAR-lite's head: pooled feature → attribute logits. */
  deepmarHead: tf.LayersModel;
  /** Plain-op runners of the fully connected parts. */
  ops: {
    imageHead: MlpOps;
    attribute: MlpOps;
    classifier: MlpOps;
    discriminator: MlpOps;
    deepmar: MlpOps;
  };
  featureDim: number;
}

/** Builds the networks of `config` for `attrDim` attributes and `numSids` training semantic IDs. */
export function buildNetworks(
  config: AaiprConfig,
  attrDim: number,
  numSids: number,
  seed: Rng,
): AaiprNetworks {
  const m = config.model;
  const inputShape: [number, number, number] = [config.data.height, config.data.width, 3];
  const trunk = m.backbone === "plain"
    ? plainConvNet({ inputShape, widths: m.widths, seed: seed.fork("trunk") })
    : buildBackbone("resnet50", { inputShape, seed: seed.fork("trunk") });
  const featureDim = trunk.outputs[0].shape[1] as number;
  const modules = aaiprModules({
    attrDim,
    numSemanticIds: numSids,
    conceptDim: m.conceptDim,
    attributeWidths: m.attributeWidths,
    discriminatorWidths: m.discWidths,
    seed: seed.fork("modules"),
  });
  const imageHead = mlp({
    name: "aaipr_head",
    inputDims: [featureDim],
    units: [m.conceptDim],
    outputActivation: "tanh",
    seed: seed.fork("head"),
  });
  const deepmarHead = mlp({
    name: "aaipr_deepmar",
    inputDims: [featureDim],
    units: [attrDim],
    seed: seed.fork("deepmar"),
  });
  return {
    trunk,
    imageHead,
    modules,
    deepmarHead,
    featureDim,
    ops: {
      imageHead: new MlpOps(imageHead),
      attribute: new MlpOps(modules.attributeBranch),
      classifier: new MlpOps(modules.classifier),
      discriminator: new MlpOps(modules.discriminator),
      deepmar: new MlpOps(deepmarHead),
    },
  };
}

/** Frees every network of a cell. */
export function disposeNetworks(nets: AaiprNetworks): void {
  for (const o of Object.values(nets.ops)) o.discard();
  nets.trunk.dispose();
  nets.imageHead.dispose();
  nets.deepmarHead.dispose();
  for (const model of Object.values(nets.modules) as tf.LayersModel[]) model.dispose();
}
