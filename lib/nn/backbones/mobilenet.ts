/**
 * MobileNetV1 (Howard et al. 2017) in the Keras-applications layout, as TJ-AIDL
 * uses it (one per branch; 1,024-D pooled feature at width 1.0).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../runtime/random.ts";
import { layerSeed, seededInit } from "../init.ts";
import { batchNorm } from "./blocks.ts";
import { buildStaged, type StagedBackbone } from "./staged.ts";

/** Output channels (at α = 1) and strides of the 13 depthwise-separable blocks. */
export const MOBILENET_V1_BLOCKS: readonly { filters: number; stride: number }[] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
].map(([filters, stride]) => ({ filters, stride }));

/** Options of {@link mobileNetV1}. */
export interface MobileNetV1Options {
  /** NHWC input without the batch axis. Default [224, 224, 3]. */
  inputShape?: [number, number, number];
  /** Width multiplier α (0.25, 0.5, 0.75, 1). Default 1. */
  alpha?: number;
  /** "avg" (default): global average pooling to 1024·α; "none": the last map. */
  pooling?: "avg" | "none";
  /** Seed of the initial weights (same seed → identical weights). */
  seed: number | Rng;
  /** Model name. Default "mobilenet_v1". */
  name?: string;
  /** Prefix of every layer name. Default "" (Keras' names: conv1, conv_dw_1, conv_pw_1_bn, …). */
  layerPrefix?: string;
}

function bnRelu6(x: tf.SymbolicTensor, bn: string, relu: string): tf.SymbolicTensor {
  // Keras/TF-slim's epsilon, so that converted ImageNet weights behave as trained.
  const y = batchNorm(bn, { epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
  return tf.layers.reLU({ maxValue: 6, name: relu }).apply(y) as tf.SymbolicTensor;
}

/** MobileNetV1 as stages: `conv1` then `block1`…`block13`. */
export function mobileNetV1Stages(
  options: Omit<MobileNetV1Options, "seed" | "name" | "layerPrefix">,
): StagedBackbone {
  const alpha = options.alpha ?? 1;
  const width = (c: number) => Math.round(c * alpha);
  const stages: StagedBackbone["stages"] = [{
    name: "conv1",
    build: (x, p, rng) => {
      const y = tf.layers.conv2d({
        filters: width(32),
        kernelSize: 3,
        strides: 2,
        padding: "same",
        useBias: false,
        kernelInitializer: seededInit("glorotUniform", rng),
        name: `${p}conv1`,
      }).apply(x) as tf.SymbolicTensor;
      return bnRelu6(y, `${p}conv1_bn`, `${p}conv1_relu`);
    },
  }];
  MOBILENET_V1_BLOCKS.forEach(({ filters, stride }, i) => {
    const id = i + 1;
    stages.push({
      name: `block${id}`,
      build: (x, p, rng) => {
        // TF's 'same' padding (0 before, 1 after at stride 2), as TF-slim and Keras' ZeroPadding2D((0,1),(0,1)).
        let y = tf.layers.depthwiseConv2d({
          kernelSize: 3,
          strides: stride,
          padding: "same",
          depthMultiplier: 1,
          useBias: false,
          depthwiseInitializer: tf.initializers.glorotUniform({ seed: layerSeed(rng) }),
          name: `${p}conv_dw_${id}`,
        }).apply(x) as tf.SymbolicTensor;
        y = bnRelu6(y, `${p}conv_dw_${id}_bn`, `${p}conv_dw_${id}_relu`);
        y = tf.layers.conv2d({
          filters: width(filters),
          kernelSize: 1,
          padding: "same",
          useBias: false,
          kernelInitializer: seededInit("glorotUniform", rng),
          name: `${p}conv_pw_${id}`,
        }).apply(y) as tf.SymbolicTensor;
        return bnRelu6(y, `${p}conv_pw_${id}_bn`, `${p}conv_pw_${id}_relu`);
      },
    });
  });
  return {
    inputShape: options.inputShape ?? [224, 224, 3],
    stages,
    pooling: options.pooling ?? "avg",
  };
}

/**
 * MobileNetV1 without its classifier: conv3×3/2 (32α) then 13 depthwise-separable
 * blocks (dw3×3 + BN + ReLU6, pw1×1 + BN + ReLU6; see {@link MOBILENET_V1_BLOCKS}),
 * total stride 32, global average pooling to 1024·α. At α = 1: 3,206,976 trainable
 * parameters plus 21,888 BN running statistics (Keras' `MobileNet(include_top=False)`:
 * 3,228,864 in all). Layer names are Keras' (behind `layerPrefix`), so a Keras
 * MobileNet converted to tfjs loads with `loadWeightsStrict`. Glorot-uniform init
 * (Keras' default) otherwise; BN epsilon 1e-3 as Keras/TF-slim, momentum 0.9 (Keras sense)
 * as the other backbones.
 */
export function mobileNetV1(options: MobileNetV1Options): tf.LayersModel {
  const rng = options.seed instanceof Rng ? options.seed : new Rng(options.seed);
  return buildStaged(
    mobileNetV1Stages(options),
    options.name ?? "mobilenet_v1",
    rng,
    options.layerPrefix ?? "",
  );
}
