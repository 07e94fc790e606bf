/**
 * ResNet-50 in torchvision's layout, as the papers use it at paper scale
 * (SAL, AAIPR, cmGAN, PAENet/AGW), with the re-id "last stride" option.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../runtime/random.ts";
import { bottleneck, convBn } from "./blocks.ts";
import { buildStaged, type StagedBackbone } from "./staged.ts";

/** Options of {@link resNet50}. */
export interface ResNet50Options {
  /** NHWC input without the batch axis. Default [256, 128, 3] (re-id crops). */
  inputShape?: [number, number, number];
  /**
   * Stride of layer4's first block: 2 as in ImageNet ResNet-50 (SAL, cmGAN), or 1
   * (BoT/AGW/PAENet "last stride 1", doubling the final map). Default 2.
   */
  lastStride?: 1 | 2;
  /** Bottlenecks per stage. Default [3, 4, 6, 3]. */
  blocks?: [number, number, number, number];
  /** "avg" (default): global average pooling to 2048; "none": the layer4 map. */
  pooling?: "avg" | "none";
  /** Seed of the initial weights (same seed → identical weights). */
  seed: number | Rng;
  /** Model name. Default "resnet50". */
  name?: string;
  /** Prefix of every layer name. Default "" (names exactly torchvision's keys with "." → "_"). */
  layerPrefix?: string;
}

/**
 * ResNet-50 as stages: `stem` (conv1 7×7/2, bn1, ReLU, max-pool 3×3/2), then
 * `layer1`…`layer4` of bottlenecks with 64/128/256/512 planes (outputs 256, 512,
 * 1024, 2048 channels) and strides 1, 2, 2, lastStride.
 */
export function resNet50Stages(
  options: Omit<ResNet50Options, "seed" | "name" | "layerPrefix">,
): StagedBackbone {
  const blocks = options.blocks ?? [3, 4, 6, 3];
  const strides = [1, 2, 2, options.lastStride ?? 2];
  const stages: StagedBackbone["stages"] = [{
    name: "stem",
    build: (x, prefix, rng) => {
      const y = convBn(x, {
        filters: 64,
        kernel: 7,
        stride: 2,
        conv: `${prefix}conv1`,
        bn: `${prefix}bn1`,
        rng,
      });
      // PyTorch pads the max-pool with −∞; after a ReLU, zero padding is the same.
      const padded = tf.layers.zeroPadding2d({
        padding: [[1, 1], [1, 1]],
        name: `${prefix}maxpool_pad`,
      })
        .apply(y) as tf.SymbolicTensor;
      return tf.layers.maxPooling2d({
        poolSize: 3,
        strides: 2,
        padding: "valid",
        name: `${prefix}maxpool`,
      })
        .apply(padded) as tf.SymbolicTensor;
    },
  }];
  [64, 128, 256, 512].forEach((planes, s) => {
    stages.push({
      name: `layer${s + 1}`,
      build: (x, prefix, rng) => {
        let y = x;
        for (let b = 0; b < blocks[s]; b++) {
          y = bottleneck(y, {
            planes,
            stride: b === 0 ? strides[s] : 1,
            name: `${prefix}layer${s + 1}_${b}`,
            rng,
          });
        }
        return y;
      },
    });
  });
  const backbone: StagedBackbone = {
    inputShape: options.inputShape ?? [256, 128, 3],
    stages,
    pooling: options.pooling ?? "avg",
  };
  return backbone;
}

/**
 * ResNet-50 (He et al. 2016) in torchvision's layout ("v1.5": stride on the 3×3
 * conv of each bottleneck), without the ImageNet classifier. Output: [N, 2048]
 * after global average pooling (or the [N, H/32, W/32, 2048] map; H/16 × W/16 with
 * `lastStride: 1`). 23,508,032 trainable parameters (torchvision's 25,557,032
 * minus the 2,049,000 of its fc layer) plus 53,120 BN running statistics.
 *
 * Layer names are torchvision's state-dict keys with "." → "_" (`conv1`, `bn1`,
 * `layer3_5_conv2`, `layer1_0_downsample_1`, …; see {@link torchKeyToWeightName}),
 * so converted ImageNet weights load with `loadWeightsStrict`. He-normal init otherwise.
 */
export function resNet50(options: ResNet50Options): tf.LayersModel {
  const rng = options.seed instanceof Rng ? options.seed : new Rng(options.seed);
  return buildStaged(
    resNet50Stages(options),
    options.name ?? "resnet50",
    rng,
    options.layerPrefix ?? "",
  );
}

/**
 * The tfjs weight name of a torchvision state-dict key: "." → "_" in the layer
 * part, and PyTorch's parameter names mapped to Keras' (`weight` → `kernel` for
 * convs and linears, `gamma` for BN; `bias` → `beta` for BN; `running_mean` →
 * `moving_mean`; `running_var` → `moving_variance`). Returns null for keys with
 * no tfjs counterpart (`num_batches_tracked`). Conv kernels must also be
 * transposed from OIHW to HWIO, linear weights from [out, in] to [in, out].
 */
export function torchKeyToWeightName(key: string, prefix = ""): string | null {
  const dot = key.lastIndexOf(".");
  const layer = key.slice(0, dot).replaceAll(".", "_");
  const param = key.slice(dot + 1);
  const isBn = /(^|_)bn\d*$|downsample_1$/.test(layer);
  const map: Record<string, string | null> = {
    weight: isBn ? "gamma" : "kernel",
    bias: isBn ? "beta" : "bias",
    running_mean: "moving_mean",
    running_var: "moving_variance",
    num_batches_tracked: null,
  };
  if (!(param in map)) {
    throw new Error(`torchKeyToWeightName: unknown parameter "${param}" in ${key}`);
  }
  const name = map[param];
  return name === null ? null : `${prefix}${layer}/${name}`;
}
