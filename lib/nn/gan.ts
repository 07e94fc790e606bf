/**
 * The fully connected players of the papers: generators (with condition and
 * noise inputs), discriminators, encoders, with the widths the paper cards give
 * at paper scale and the cards' CPU-scale widths as presets.
 *
 * All modules are {@link mlp}s; each gets its own random stream
 * (`rng.fork(moduleName)`), so one module's initial weights do not depend on
 * which other modules were built. BatchNorm modules must be called with
 * `{ training: true }` while training.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../runtime/random.ts";
import { mlp } from "./mlp.ts";

function toRng(seed: number | Rng): Rng {
  return seed instanceof Rng ? seed : new Rng(seed);
}

/**
 * A noise batch z ~ N(0, I) of shape [n, dim] drawn from `rng` (SAL's G_V takes a
 * fresh z on every forward pass; drawing it from the run's Rng keeps runs repeatable).
 */
export function sampleNoise(rng: Rng, n: number, dim: number): tf.Tensor2D {
  return tf.tensor2d(rng.normalArray(n * dim), [n, dim]);
}

// ---------------------------------------------------------------- AAIPR

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
 * Builds AAIPR's fully connected modules (card §3.2, §3.4). The paper's Table 1 widths
 * are the default and are cheap enough to keep at CPU scale (card §10.2).
 */
export function aaiprModules(options: {
  attrDim: number;
  numSemanticIds: number;
  /** Concept size (128). */
  conceptDim?: number;
  /** Hidden widths of Φ_A (128, 256, 512). */
  attributeWidths?: number[];
  /** Hidden widths of D (256, 256); the card notes SAL's 512, 256 with BN as an alternative. */
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

// ---------------------------------------------------------------- cmGAN

/** cmGAN's identification head and modality discriminator. */
export interface CmganModules {
  /** Two FCs with ReLU between: feature → hidden → identity logits. */
  idHead: tf.LayersModel;
  /** Three FCs with ReLU: feature → … → 2 modality logits (RGB 0, IR 1). */
  discriminator: tf.LayersModel;
}

/**
 * Builds cmGAN's heads (lib/papers/cmgan/README.md, 'Architecture'): paper scale 2048 → 512 → C and
 * 2048 → 1024 → 512 → 2; CPU scale (lib/papers/cmgan/README.md, 'Architecture') `featureDim: 128, idHidden: 64,
 * discriminatorWidths: [64, 32]`.
 */
export function cmganModules(options: {
  numClasses: number;
  featureDim?: number;
  idHidden?: number;
  discriminatorWidths?: number[];
  seed: number | Rng;
}): CmganModules {
  const rng = toRng(options.seed);
  const f = options.featureDim ?? 2048;
  return {
    idHead: mlp({
      name: "cmgan_id",
      inputDims: [f],
      units: [options.idHidden ?? 512, options.numClasses],
      seed: rng.fork("cmgan_id"),
    }),
    discriminator: mlp({
      name: "cmgan_D",
      inputDims: [f],
      units: [...(options.discriminatorWidths ?? [1024, 512]), 2],
      seed: rng.fork("cmgan_D"),
    }),
  };
}

/** Frees every model of a module set. */
export function disposeModules(modules: object): void {
  for (const model of Object.values(modules) as tf.LayersModel[]) model.dispose();
}
