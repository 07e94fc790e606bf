/**
 * Seeded weight initialisers (docs/design.md, 'Seeds').
 *
 * Every layer of the library gets its own seed drawn from an {@link Rng}, so a
 * model built twice from the same seed has identical weights, and adding a
 * layer at the end of a model does not change the weights of the layers before
 * it. The seeds are handed to tfjs's own initialisers, whose random ops are
 * computed in JavaScript and so give the same numbers on every backend.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../runtime/random.ts";

/** A tfjs-layers initialiser (the type `tf.initializers.*` return). */
export type Initializer = ReturnType<typeof tf.initializers.heNormal>;

/** The kinds of initialiser the library uses. */
export type InitKind = "heNormal" | "heUniform" | "glorotUniform" | "glorotNormal";

/** Accepts a seed or a generator; a number becomes a fresh {@link Rng}. */
export function toRng(seed: number | Rng): Rng {
  return seed instanceof Rng ? seed : new Rng(seed);
}

/** A seed for one layer's initialiser, drawn from `rng` (a non-negative 31-bit integer). */
export function layerSeed(rng: Rng): number {
  return rng.int(2 ** 31);
}

/**
 * A seeded tfjs initialiser of the given kind.
 *
 * - `heNormal`: truncated normal, std √(2 / fan_in) (conv layers followed by ReLU);
 * - `heUniform`: U(±√(6 / fan_in));
 * - `glorotUniform`: U(±√(6 / (fan_in + fan_out))) (Keras' default for dense layers);
 * - `glorotNormal`: truncated normal, std √(2 / (fan_in + fan_out)).
 */
export function seededInit(kind: InitKind, rng: Rng): Initializer {
  const seed = layerSeed(rng);
  switch (kind) {
    case "heNormal":
      return tf.initializers.heNormal({ seed });
    case "heUniform":
      return tf.initializers.heUniform({ seed });
    case "glorotUniform":
      return tf.initializers.glorotUniform({ seed });
    case "glorotNormal":
      return tf.initializers.glorotNormal({ seed });
  }
}

/** Number of scalar weights of a layers model (trainable and not, e.g. BN running statistics). */
export function countParams(model: tf.LayersModel, which: "all" | "trainable" = "all"): number {
  const weights = which === "all" ? model.weights : model.trainableWeights;
  return weights.reduce((sum, w) => sum + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
}
