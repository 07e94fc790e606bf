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

/**
 * The first value of the tensor `fn` makes, with `fn`'s intermediate tensors freed: what
 * `tf.tidy(() => fn().dataSync()[0])` did, without the synchronous readback that throws
 * under Deno's WebGPU.
 */
export async function readScalar(fn: () => tf.Tensor): Promise<number> {
  const t = tf.tidy(fn);
  try {
    return (await t.data())[0];
  } finally {
    t.dispose();
  }
}

/** The values of the tensor `fn` makes, with every tensor `fn` made freed. */
export async function readValues(fn: () => tf.Tensor): Promise<Float32Array> {
  const t = tf.tidy(fn);
  try {
    return Float32Array.from(await t.data() as ArrayLike<number>);
  } finally {
    t.dispose();
  }
}

/** Copies of the values of `tensors` (e.g. a model's variables), read asynchronously. */
export function snapshotValues(tensors: readonly tf.Tensor[]): Promise<Float32Array[]> {
  return Promise.all(tensors.map(async (t) => Float32Array.from(await t.data())));
}
