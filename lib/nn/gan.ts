/**
 * What the papers' adversarial players share: seeded noise batches and freeing a set of
 * modules. Each paper's own players (generators, discriminators, encoders, built from
 * `mlp`s (lib/nn/mlp.ts) with its widths) live in its folder, `lib/papers/<paper>/model.ts`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../runtime/random.ts";

/**
 * A noise batch z ~ N(0, I) of shape [n, dim] drawn from `rng` (SAL's G_V takes a
 * fresh z on every forward pass; drawing it from the run's Rng keeps runs repeatable).
 */
export function sampleNoise(rng: Rng, n: number, dim: number): tf.Tensor2D {
  return tf.tensor2d(rng.normalArray(n * dim), [n, dim]);
}

/** Frees every model of a module set. */
export function disposeModules(modules: object): void {
  for (const model of Object.values(modules) as (tf.LayersModel | null)[]) model?.dispose();
}
