/**
 * Two changes to how tfjs-layers 4.22 runs its layers in training, installed once at start-up
 * by lib/runtime/backend.ts, so that every model of the project (backbones, heads, paper
 * modules) gets them without being built differently:
 *
 * - **BatchNormalization** in training mode goes through the fused native kernel
 *   (lib/runtime/fused_bn.ts) when the wasm backend has one; elsewhere, and for layouts the
 *   kernel does not cover, the layer runs as tfjs-layers wrote it.
 * - **Conv2D without bias or activation** (every convolution followed by BN) runs as a plain
 *   `tf.conv2d`. tfjs-layers calls `tf.fused.conv2d`, whose custom gradient always computes
 *   the input gradient, even for the stem, whose input (the image) nothing differentiates:
 *   the plain op's gradient is evaluated per input, so the tape skips it. The forward
 *   arithmetic is the same op.
 *
 * Both patches wrap the prototype methods (tfjs-layers exports factories, not classes); the
 * version is pinned in deno.json and the tests check both paths against the originals.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { fusedBatchNormAvailable, fusedBatchNormTraining } from "./fused_bn.ts";

type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor;

interface LayerVariableLike {
  read(): tf.Tensor;
  write(value: tf.Tensor): void;
}

/** The fields of tfjs-layers' BatchNormalization the fused path reads. */
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: LayerVariableLike;
  beta: LayerVariableLike;
  movingMean: LayerVariableLike;
  movingVariance: LayerVariableLike;
}

/** The fields of tfjs-layers' Conv (the base of Conv2D) the plain path reads. */
interface ConvLayer {
  rank: number;
  useBias: boolean;
  dataFormat: "channelsFirst" | "channelsLast";
  padding: string;
  strides: number[];
  dilationRate: number | number[];
  kernel: LayerVariableLike;
  activation: { getClassName(): string };
}

/** The prototype in the chain of `instance` that defines `method` itself. */
function ownerOf(instance: object, method: string): Record<string, unknown> {
  let proto = Object.getPrototypeOf(instance);
  while (proto && !Object.prototype.hasOwnProperty.call(proto, method)) {
    proto = Object.getPrototypeOf(proto);
  }
  if (!proto) throw new Error(`layer_patches: no ${method} in the prototype chain`);
  return proto;
}

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

function batchNormCall(original: Call): Call {
  return function (this: BatchNormLayer, inputs, kwargs) {
    const x = single(inputs);
    const axis = this.axis >= 0 ? this.axis : this.axis + x.rank;
    const fused = kwargs?.training === true && fusedBatchNormAvailable() &&
      axis === x.rank - 1 && this.center && this.scale && x.dtype === "float32";
    if (!fused) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = fusedBatchNormTraining(
        x,
        this.gamma.read() as tf.Tensor1D,
        this.beta.read() as tf.Tensor1D,
        this.epsilon,
      );
      // As tfjs-layers: moving ← moving − (moving − batch)·(1 − momentum).
      for (const [moving, batch] of [[this.movingMean, mean], [this.movingVariance, variance]]) {
        tf.tidy(() => {
          const old = (moving as LayerVariableLike).read();
          (moving as LayerVariableLike).write(
            tf.sub(old, tf.mul(tf.sub(old, batch as tf.Tensor), 1 - this.momentum)),
          );
        });
      }
      return y;
    });
  };
}

function convCall(original: Call): Call {
  return function (this: ConvLayer, inputs, kwargs) {
    const plain = this.rank === 2 && !this.useBias && this.dataFormat === "channelsLast" &&
      this.activation.getClassName() === "linear" &&
      (this.padding === "same" || this.padding === "valid");
    if (!plain) return original.call(this, inputs, kwargs);
    return tf.tidy(() =>
      tf.conv2d(
        single(inputs) as tf.Tensor4D,
        this.kernel.read() as tf.Tensor4D,
        this.strides as [number, number],
        this.padding as "same" | "valid",
        "NHWC",
        this.dilationRate as number | [number, number],
      )
    );
  };
}

let installed = false;

/** Installs both patches (idempotent). */
export function installLayerPatches(): void {
  if (installed) return;
  installed = true;
  const bn = ownerOf(tf.layers.batchNormalization({}), "call");
  bn.call = batchNormCall(bn.call as Call);
  const conv = ownerOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 }), "call");
  conv.call = convCall(conv.call as Call);
}
