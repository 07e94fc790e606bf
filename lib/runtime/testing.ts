/**
 * Helpers for tests that compare backends.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Runs `fn` with `backend` active and returns the values of the tensor it
 * makes, then restores the previous backend. Tensors made under one backend
 * are moved to another on first use, so inputs can be shared.
 */
export async function valuesOn(backend: string, fn: () => tf.Tensor): Promise<Float32Array> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const out = fn();
    const values = await out.data();
    out.dispose();
    return Float32Array.from(values as ArrayLike<number>);
  } finally {
    await tf.setBackend(previous);
  }
}

/** max |a − b| / max(|b|, tiny): the relative error used by the kernel checks. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) {
    throw new Error(`length mismatch: ${actual.length} vs ${expected.length}`);
  }
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, 1e-12);
}
