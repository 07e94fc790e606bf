/**
 * Small tensor operations the papers need and tfjs lacks.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

// tfjs types customGrad's arguments as `Tensor | GradSaveFunc`; only tensors reach it here.
const stopGradientOp = tf.customGrad(
  ((x: tf.Tensor) => ({
    value: x.clone(),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  })) as unknown as Parameters<typeof tf.customGrad>[0],
);

/**
 * The identity in the forward pass with a zero gradient (PyTorch's `detach`,
 * TensorFlow's `stop_gradient`): "sg(·)" in the papers' formulas. Variables
 * reached only through it receive no gradient.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopGradientOp(x) as T;
}

/**
 * Generalised-mean (GeM) pooling over the spatial axes of an NHWC map:
 * (mean_hw max(x, eps)^p)^(1/p), [N, H, W, C] → [N, C]; p = 1 is average pooling,
 * p → ∞ max pooling. PAENet uses p = 3 fixed (its code adds 1e-12 inside the root).
 */
export function gemPool(x: tf.Tensor4D, p = 3, eps = 1e-6): tf.Tensor2D {
  return tf.tidy(() => x.maximum(eps).pow(p).mean([1, 2]).pow(1 / p) as tf.Tensor2D);
}

/**
 * x·W with a gradient that transposes explicitly (dx = dy·transpose(W), dW = transpose(x)·dy):
 * the same values and gradients as `tf.matMul`, but on the wasm backend a product with a
 * transposed operand (what tfjs's own matMul gradient asks for) is 7–20× slower than a
 * transpose and a plain product (measured by SAL and AAIPR: lib/papers/sal/README.md and
 * lib/papers/aaipr/README.md, 'Speed').
 */
export const matMulPlainGrad = tf.customGrad(
  ((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([x, w]);
    return {
      value: tf.matMul(x, w),
      gradFunc: (dy: tf.Tensor, [sx, sw]: tf.Tensor[]) => [
        tf.matMul(dy as tf.Tensor2D, tf.transpose(sw) as tf.Tensor2D),
        tf.matMul(tf.transpose(sx) as tf.Tensor2D, dy as tf.Tensor2D),
      ],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
) as unknown as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor2D;
