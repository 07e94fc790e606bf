/**
 * Tensor-leak guard: a training step must leave `tf.memory().numTensors`
 * unchanged once its lazily created state (optimizer slots, caches) exists.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Options of {@link checkNoLeak}. */
export interface LeakCheckOptions {
  /** Steps run first so that lazily created state (e.g. Adam's moments) exists. Default 2. */
  burnIn?: number;
  /** Steps measured after the burn-in. Default 3. */
  steps?: number;
  /** A name for the error message. */
  label?: string;
}

/** Tensor counts seen by {@link checkNoLeak}, one per measured step. */
export interface LeakReport {
  before: number;
  after: number[];
}

/**
 * Runs `step` `burnIn + steps` times and throws if the live tensor count moves
 * during the measured steps. Returns the counts for the record.
 */
export async function checkNoLeak(
  step: (index: number) => unknown | Promise<unknown>,
  options: LeakCheckOptions = {},
): Promise<LeakReport> {
  const burnIn = options.burnIn ?? 2;
  const steps = options.steps ?? 3;
  const label = options.label ?? "step";
  let index = 0;
  for (; index < burnIn; index++) await step(index);
  const before = tf.memory().numTensors;
  const after: number[] = [];
  for (let i = 0; i < steps; i++, index++) {
    await step(index);
    after.push(tf.memory().numTensors);
  }
  const moved = after.filter((n) => n !== before);
  if (moved.length > 0) {
    throw new Error(
      `${label} leaks tensors: ${before} live after the burn-in, then ${after.join(", ")} ` +
        `over ${steps} further steps (each step should leave the count unchanged)`,
    );
  }
  return { before, after };
}
