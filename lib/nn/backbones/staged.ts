/**
 * A backbone described as a list of stages, so that the same description
 * builds a one-stream model and a two-stream (RGB/IR) model whose first
 * stages are modality-specific (see `two_stream.ts`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../../runtime/random.ts";

/**
 * Builds one stage on a symbolic tensor. `prefix` is prepended to every layer
 * name; `rng` is the stage's own stream (a fork keyed by the stage name, so a
 * stage's initial weights do not depend on which stages were built before it).
 */
export type StageBuilder = (x: tf.SymbolicTensor, prefix: string, rng: Rng) => tf.SymbolicTensor;

/** A backbone as stages: input → stages[0] → … → stages[n-1] → pooling. */
export interface StagedBackbone {
  /** Input shape without the batch axis, NHWC: [height, width, channels]. */
  inputShape: [number, number, number];
  /** Named stages in order; names are unique within the backbone. */
  stages: { name: string; build: StageBuilder }[];
  /** Global pooling at the end: "avg" gives [N, C]; "none" keeps the [N, h, w, C] map. */
  pooling: "avg" | "none";
}

/** Applies stages `from` (inclusive) to `to` (exclusive) of `backbone` to `x`. */
export function applyStages(
  backbone: StagedBackbone,
  x: tf.SymbolicTensor,
  from: number,
  to: number,
  prefix: string,
  rng: Rng,
): tf.SymbolicTensor {
  let y = x;
  for (let i = from; i < to; i++) {
    const stage = backbone.stages[i];
    y = stage.build(y, prefix, rng.fork(`${prefix}${stage.name}`));
  }
  return y;
}

/** Adds the backbone's final pooling (if any) to `x`. */
export function applyPooling(
  backbone: StagedBackbone,
  x: tf.SymbolicTensor,
  prefix: string,
): tf.SymbolicTensor {
  if (backbone.pooling === "none") return x;
  return tf.layers.globalAveragePooling2d({ name: `${prefix}pool` }).apply(x) as tf.SymbolicTensor;
}

/**
 * Builds the one-stream model of a staged backbone; layer names are prefixed with
 * `prefix` (default `${name}_`).
 */
export function buildStaged(
  backbone: StagedBackbone,
  name: string,
  rng: Rng,
  prefix = `${name}_`,
): tf.LayersModel {
  const input = tf.input({ shape: backbone.inputShape, name: `${prefix}input` });
  const features = applyStages(backbone, input, 0, backbone.stages.length, prefix, rng);
  const output = applyPooling(backbone, features, prefix);
  return tf.model({ inputs: input, outputs: output, name });
}
