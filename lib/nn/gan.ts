/**
 * The fully connected players of the papers: generators (with condition and
 * noise inputs), discriminators, encoders, with the widths the paper cards give
 * at paper scale and the cards' CPU-scale widths as presets (SAL's set lives in
 * lib/papers/sal/model.ts, AAIPR's in lib/papers/aaipr/model.ts).
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
