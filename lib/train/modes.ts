/**
 * Explicit train/eval modes for tfjs-layers models.
 *
 * A tfjs-layers `BatchNormalization` normalises with the batch statistics and updates its
 * moving mean/variance only when called with `{ training: true }`; `predict` and
 * `apply(x)` without the flag use the moving statistics and leave them unchanged (dropout
 * likewise). Papers switch modes per step (SAL sets G eval while E trains, TJ-AIDL freezes
 * BN statistics of the identity branch), so the mode is a required argument here instead
 * of an easy-to-forget option.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** `train`: batch statistics, moving averages updated; `eval`: moving statistics, frozen. */
export type Mode = "train" | "eval";

/** Something callable like a tfjs-layers model or layer. */
export interface Appliable {
  apply(
    inputs: tf.Tensor | tf.Tensor[],
    kwargs?: { training?: boolean },
  ): tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[];
}

function check(mode: Mode): boolean {
  if (mode !== "train" && mode !== "eval") {
    throw new Error(`mode must be "train" or "eval", got ${JSON.stringify(mode)}`);
  }
  return mode === "train";
}

/** Runs `model` on `x` in the given mode; the model must return a single tensor. */
export function forward(model: Appliable, x: tf.Tensor | tf.Tensor[], mode: Mode): tf.Tensor {
  const y = model.apply(x, { training: check(mode) });
  if (Array.isArray(y) || !(y instanceof tf.Tensor)) {
    throw new Error("forward: the model returned several outputs; use forwardAll");
  }
  return y;
}

/** Runs `model` on `x` in the given mode and returns every output as a list. */
export function forwardAll(
  model: Appliable,
  x: tf.Tensor | tf.Tensor[],
  mode: Mode,
): tf.Tensor[] {
  const y = model.apply(x, { training: check(mode) });
  const list = Array.isArray(y) ? y : [y];
  if (!list.every((t) => t instanceof tf.Tensor)) {
    throw new Error("forwardAll: the model returned symbolic tensors; pass concrete inputs");
  }
  return list as tf.Tensor[];
}
