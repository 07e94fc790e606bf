/**
 * Layer blocks shared by the backbones: conv + BN (+ ReLU), the ResNet basic
 * block and the ResNet bottleneck, written on tfjs-layers symbolic tensors so
 * that backbones are ordinary `tf.LayersModel`s.
 *
 * Conventions, chosen so that weights port one-to-one from PyTorch:
 * - a k×k convolution with stride 1 uses 'same' padding (= PyTorch `padding=k//2`);
 * - a strided k×k convolution (k > 1) is an explicit symmetric ZeroPadding2D of
 *   k//2 followed by a 'valid' convolution, i.e. exactly PyTorch's `padding=k//2`
 *   (TF's 'same' would pad 0 before and 1 after for stride 2, shifting the grid);
 * - convolutions followed by BN have no bias;
 * - BN uses PyTorch's defaults: momentum 0.1 in PyTorch's sense (0.9 in the
 *   Keras sense used by tfjs) and epsilon 1e-5. One difference remains: tfjs
 *   updates the running variance with the biased batch variance, PyTorch with
 *   the unbiased one (a factor n/(n−1), negligible at re-id batch sizes).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../../runtime/random.ts";
import { seededInit } from "../init.ts";

/** Keras-sense BN momentum matching PyTorch's default `momentum=0.1`. */
export const BN_MOMENTUM = 0.9;
/** PyTorch's default BN epsilon. */
export const BN_EPSILON = 1e-5;

/** A batch-normalisation layer over the last axis with PyTorch's defaults. */
export function batchNorm(
  name: string,
  options: { center?: boolean; scale?: boolean; epsilon?: number } = {},
) {
  return tf.layers.batchNormalization({
    axis: -1,
    momentum: BN_MOMENTUM,
    epsilon: options.epsilon ?? BN_EPSILON,
    center: options.center ?? true,
    scale: options.scale ?? true,
    name,
  });
}

/**
 * BatchNorm with a learned scale and **no shift** (the bias frozen at 0), as BoT's
 * BN neck and PAENet's "no shift" BNs, applied to `x`. tfjs-layers'
 * `center: false` breaks in training mode (it reads the absent β), so β exists
 * and stays at zero because it is marked non-trainable: it is in no variable
 * list and receives no update.
 */
export function noShiftBatchNorm(
  x: tf.SymbolicTensor,
  name: string,
  gammaInitializer?: ReturnType<typeof tf.initializers.ones>,
): tf.SymbolicTensor {
  const layer = tf.layers.batchNormalization({
    axis: -1,
    momentum: BN_MOMENTUM,
    epsilon: BN_EPSILON,
    gammaInitializer,
    name,
  });
  const y = layer.apply(x) as tf.SymbolicTensor;
  for (const w of layer.weights) {
    if (w.originalName.endsWith("/beta")) w.trainable = false;
  }
  return y;
}

/** Options of {@link convBn}. */
export interface ConvBnOptions {
  filters: number;
  kernel: number;
  stride?: number;
  /** Follow the BN with a ReLU (default true). */
  relu?: boolean;
  /** Name of the conv layer; its padding and ReLU layers are `${conv}_pad`, `${conv}_relu`. */
  conv: string;
  /** Name of the BN layer. */
  bn: string;
  rng: Rng;
}

/** A convolution (no bias, He-normal init) followed by BN and optionally ReLU. */
export function convBn(x: tf.SymbolicTensor, options: ConvBnOptions): tf.SymbolicTensor {
  const stride = options.stride ?? 1;
  const k = options.kernel;
  let y = x;
  let padding: "same" | "valid" = "same";
  if (stride > 1 && k > 1) {
    const p = Math.floor(k / 2);
    y = tf.layers.zeroPadding2d({ padding: [[p, p], [p, p]], name: `${options.conv}_pad` })
      .apply(y) as tf.SymbolicTensor;
    padding = "valid";
  }
  y = tf.layers.conv2d({
    filters: options.filters,
    kernelSize: k,
    strides: stride,
    padding,
    useBias: false,
    kernelInitializer: seededInit("heNormal", options.rng),
    name: options.conv,
  }).apply(y) as tf.SymbolicTensor;
  y = batchNorm(options.bn).apply(y) as tf.SymbolicTensor;
  if (options.relu ?? true) {
    y = tf.layers.reLU({ name: `${options.conv}_relu` }).apply(y) as tf.SymbolicTensor;
  }
  return y;
}

/** Channels of the last axis of a symbolic tensor. */
export function channels(x: tf.SymbolicTensor): number {
  return x.shape[x.shape.length - 1] as number;
}

/** The residual sum followed by ReLU. */
function addRelu(y: tf.SymbolicTensor, shortcut: tf.SymbolicTensor, name: string) {
  const sum = tf.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as tf.SymbolicTensor;
  return tf.layers.reLU({ name: `${name}_out` }).apply(sum) as tf.SymbolicTensor;
}

/** The projection shortcut conv1×1(stride)-BN, named like torchvision's `downsample.0/1`. */
function downsample(x: tf.SymbolicTensor, filters: number, stride: number, name: string, rng: Rng) {
  return convBn(x, {
    filters,
    kernel: 1,
    stride,
    relu: false,
    conv: `${name}_downsample_0`,
    bn: `${name}_downsample_1`,
    rng,
  });
}

/**
 * The ResNet basic block (He et al. 2016, as torchvision's `BasicBlock`):
 * conv3×3(stride)-BN-ReLU, conv3×3-BN, plus the shortcut, then ReLU. The
 * shortcut is the identity, or conv1×1(stride)-BN when the stride or width changes.
 * Layers are named as torchvision's state-dict keys with "." → "_":
 * `${name}_conv1`, `${name}_bn1`, `${name}_conv2`, `${name}_bn2`, `${name}_downsample_0/1`.
 */
export function basicBlock(
  x: tf.SymbolicTensor,
  options: { filters: number; stride: number; name: string; rng: Rng },
): tf.SymbolicTensor {
  const { filters, stride, name, rng } = options;
  let y = convBn(x, { filters, kernel: 3, stride, conv: `${name}_conv1`, bn: `${name}_bn1`, rng });
  y = convBn(y, { filters, kernel: 3, relu: false, conv: `${name}_conv2`, bn: `${name}_bn2`, rng });
  const needsProjection = stride !== 1 || channels(x) !== filters;
  return addRelu(y, needsProjection ? downsample(x, filters, stride, name, rng) : x, name);
}

/**
 * The ResNet bottleneck in torchvision's layout ("ResNet v1.5": the stride sits
 * on the 3×3 conv): conv1×1-BN-ReLU, conv3×3(stride)-BN-ReLU, conv1×1(4·planes)-BN,
 * plus the shortcut (identity, or conv1×1(stride)-BN), then ReLU. Layer names follow
 * torchvision's keys as in {@link basicBlock} (conv1..3, bn1..3, downsample_0/1).
 */
export function bottleneck(
  x: tf.SymbolicTensor,
  options: { planes: number; stride: number; name: string; rng: Rng; expansion?: number },
): tf.SymbolicTensor {
  const { planes, stride, name, rng } = options;
  const out = planes * (options.expansion ?? 4);
  let y = convBn(x, { filters: planes, kernel: 1, conv: `${name}_conv1`, bn: `${name}_bn1`, rng });
  y = convBn(y, {
    filters: planes,
    kernel: 3,
    stride,
    conv: `${name}_conv2`,
    bn: `${name}_bn2`,
    rng,
  });
  y = convBn(y, {
    filters: out,
    kernel: 1,
    relu: false,
    conv: `${name}_conv3`,
    bn: `${name}_bn3`,
    rng,
  });
  const needsProjection = stride !== 1 || channels(x) !== out;
  return addRelu(y, needsProjection ? downsample(x, out, stride, name, rng) : x, name);
}
