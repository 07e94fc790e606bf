/**
 * cmGAN's networks (lib/papers/cmgan/README.md, 'Architecture'): one generator f(x; θ1) shared by RGB and IR images
 * (its global-average-pooled output is the common embedding), the identification head
 * (2 FCs) and the modality discriminator (3 FCs) from `lib/nn`'s {@link cmganModules}.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { batchNorm } from "../../nn/backbones/blocks.ts";
import { resNet50 } from "../../nn/backbones/resnet50.ts";
import { cmganModules, disposeModules } from "../../nn/gan.ts";
import { seededInit } from "../../nn/init.ts";
import { fromPretrained } from "../../nn/io.ts";
import { Rng } from "../../runtime/random.ts";
import type { CmganConfig } from "./config.ts";
import { repoPath } from "../../runtime/paths.ts";

/**
 * The small generator of lib/papers/cmgan/README.md ('Architecture'): blocks conv3×3 (same) → BN → ReLU with the given widths,
 * each but the last followed by 2×2 max-pooling (64×32 → 32×16 → 16×8 → 8×4), then global
 * average pooling; the embedding size is the last width. Layer names start with `gen_`.
 */
export function plainConvNet(options: {
  inputShape: [number, number, number];
  widths: number[];
  seed: number | Rng;
}): tf.LayersModel {
  const rng = options.seed instanceof Rng ? options.seed : new Rng(options.seed);
  if (options.widths.length === 0) throw new Error("plainConvNet: widths is empty");
  const input = tf.input({ shape: options.inputShape, name: "gen_input" });
  let x: tf.SymbolicTensor = input;
  options.widths.forEach((filters, i) => {
    x = tf.layers.conv2d({
      filters,
      kernelSize: 3,
      padding: "same",
      useBias: false,
      kernelInitializer: seededInit("heNormal", rng.fork(`conv${i + 1}`)),
      name: `gen_conv${i + 1}`,
    }).apply(x) as tf.SymbolicTensor;
    x = batchNorm(`gen_bn${i + 1}`).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `gen_relu${i + 1}` }).apply(x) as tf.SymbolicTensor;
    if (i < options.widths.length - 1) {
      x = tf.layers.maxPooling2d({ poolSize: 2, name: `gen_pool${i + 1}` })
        .apply(x) as tf.SymbolicTensor;
    }
  });
  const out = tf.layers.globalAveragePooling2d({ name: "gen_gap" }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: "gen" });
}

/** The three networks of cmGAN. */
export interface CmganNetworks {
  /** f(x; θ1): images [N, H, W, 3] → embeddings [N, d]. */
  generator: tf.LayersModel;
  /** θ_ide: embeddings → identity logits [N, C]. */
  idHead: tf.LayersModel;
  /** θ_D = θ2: embeddings → modality logits [N, 2] (RGB 0, IR 1). */
  discriminator: tf.LayersModel;
  /** Embedding size d. */
  featureDim: number;
}

/** Builds the networks of a config, seeded (same seed → same initial weights). */
export async function buildNetworks(
  config: CmganConfig,
  numClasses: number,
  rng: Rng,
): Promise<CmganNetworks> {
  const inputShape: [number, number, number] = [config.data.height, config.data.width, 3];
  const build = () =>
    config.model.backbone === "plain"
      ? plainConvNet({ inputShape, widths: config.model.widths, seed: rng.fork("generator") })
      : resNet50({ inputShape, seed: rng.fork("generator"), name: "gen" });
  const generator = config.model.pretrained
    ? await fromPretrained(repoPath(config.model.pretrained), build)
    : build();
  const featureDim = generator.outputs[0].shape[1] as number;
  const heads = cmganModules({
    numClasses,
    featureDim,
    idHidden: config.model.idHidden,
    discriminatorWidths: config.model.discWidths,
    seed: rng.fork("heads"),
  });
  return { generator, ...heads, featureDim };
}

/** Frees the networks. */
export function disposeNetworks(nets: CmganNetworks): void {
  nets.generator.dispose();
  disposeModules({ idHead: nets.idHead, discriminator: nets.discriminator });
}
