/**
 * The CPU-scale default backbone: a small batch-normalised ResNet for 64×32
 * pedestrian crops (docs/design.md, 'Scales').
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { Rng } from "../../runtime/random.ts";
import { basicBlock, convBn } from "./blocks.ts";
import { buildStaged, type StagedBackbone } from "./staged.ts";

/** Options of {@link smallResNet}. */
export interface SmallResNetOptions {
  /** NHWC input without the batch axis. Default [64, 32, 3]. */
  inputShape?: [number, number, number];
  /** Width of each stage (the stem has the first stage's width). Default [16, 32, 64, 128]. */
  widths?: number[];
  /** Basic blocks per stage. Default [1, 1, 1, 1]. */
  blocksPerStage?: number[];
  /** Stride of the first block of each stage. Default [1, 2, 2, 2]. */
  strides?: number[];
  /** "avg" (default): global average pooling to a feature vector; "none": the last feature map. */
  pooling?: "avg" | "none";
  /** Seed of the initial weights (same seed → identical weights). */
  seed: number | Rng;
  /** Model name and layer-name prefix. Default "small_resnet". */
  name?: string;
}

function resolve(options: SmallResNetOptions) {
  const widths = options.widths ?? [16, 32, 64, 128];
  const blocks = options.blocksPerStage ?? widths.map(() => 1);
  const strides = options.strides ?? widths.map((_, i) => (i === 0 ? 1 : 2));
  if (widths.length === 0 || blocks.length !== widths.length || strides.length !== widths.length) {
    throw new Error(
      `smallResNet: widths, blocksPerStage and strides need one entry per stage, got ` +
        `${widths.length}, ${blocks.length}, ${strides.length}`,
    );
  }
  return { widths, blocks, strides };
}

/**
 * The small ResNet as stages (stem, then one stage per width), for
 * {@link buildStaged} and the two-stream builder.
 */
export function smallResNetStages(
  options: Omit<SmallResNetOptions, "seed" | "name">,
): StagedBackbone {
  const { widths, blocks, strides } = resolve({ ...options, seed: 0 });
  const stages: StagedBackbone["stages"] = [{
    name: "stem",
    build: (x, prefix, rng) =>
      convBn(x, { filters: widths[0], kernel: 3, conv: `${prefix}conv1`, bn: `${prefix}bn1`, rng }),
  }];
  widths.forEach((width, s) => {
    stages.push({
      name: `stage${s + 1}`,
      build: (x, prefix, rng) => {
        let y = x;
        for (let b = 0; b < blocks[s]; b++) {
          y = basicBlock(y, {
            filters: width,
            stride: b === 0 ? strides[s] : 1,
            name: `${prefix}layer${s + 1}_${b}`,
            rng,
          });
        }
        return y;
      },
    });
  });
  return {
    inputShape: options.inputShape ?? [64, 32, 3],
    stages,
    pooling: options.pooling ?? "avg",
  };
}

/**
 * A small BN ResNet (basic blocks, He et al. 2016) — the CPU-scale default backbone.
 *
 * Default architecture (input NHWC [N, 64, 32, 3], output [N, 128]); every conv has
 * no bias and is followed by BatchNorm (momentum 0.1 in PyTorch's sense, eps 1e-5):
 *
 * | layer | op | output |
 * |---|---|---|
 * | stem | conv3×3 3→16, stride 1, pad 1; BN; ReLU | 64×32×16 |
 * | stage1 | BasicBlock 16→16, stride 1 (identity shortcut) | 64×32×16 |
 * | stage2 | BasicBlock 16→32, stride 2 (shortcut conv1×1 s2 + BN) | 32×16×32 |
 * | stage3 | BasicBlock 32→64, stride 2 (shortcut conv1×1 s2 + BN) | 16×8×64 |
 * | stage4 | BasicBlock 64→128, stride 2 (shortcut conv1×1 s2 + BN) | 8×4×128 |
 * | pool | global average pooling | 128 |
 *
 * A BasicBlock(in→out, stride s) is: conv3×3 in→out stride s pad 1, BN, ReLU;
 * conv3×3 out→out stride 1 pad 1, BN; add the shortcut; ReLU. Stride-2 3×3 convs
 * pad one pixel on every side (ZeroPadding2D + 'valid'), exactly like PyTorch's
 * `nn.Conv2d(..., stride=2, padding=1)`, so the PyTorch mirror is
 * torchvision's `BasicBlock` with `conv3x3`/`conv1x1` and no bias.
 *
 * Layer names are torchvision's state-dict keys with "." → "_" behind the model
 * name: `small_resnet_conv1`, `small_resnet_bn1`, `small_resnet_layer2_0_conv1`,
 * `small_resnet_layer2_0_downsample_0`, … (block index from 0), so PyTorch key
 * `layer2.0.bn1.running_mean` is weight `small_resnet_layer2_0_bn1/moving_mean`.
 *
 * Parameters (default): 308,976 in total — 307,536 trainable (conv kernels
 * 306,096 = stem 432 + stage1 4,608 + stage2 14,336 + stage3 57,344 + stage4
 * 229,376; BN γ and β 1,440) and 1,440 BN running statistics (non-trainable;
 * PyTorch counts 307,536 parameters plus buffers). About 32.3 M conv
 * multiply-adds per image forward. Kernels are He-normal
 * (truncated, fan-in), seeded per layer from `seed`.
 *
 * BN layers behave as in training only when the model is called with
 * `model.apply(x, { training: true })`.
 *
 * @see notebooks/00_introduction.ipynb §4 (training the default backbone)
 */
export function smallResNet(options: SmallResNetOptions): tf.LayersModel {
  const rng = options.seed instanceof Rng ? options.seed : new Rng(options.seed);
  return buildStaged(smallResNetStages(options), options.name ?? "small_resnet", rng);
}
