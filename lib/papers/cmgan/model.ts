/**
 * cmGAN's networks (lib/papers/cmgan/README.md, 'Architecture'): one generator f(x; θ1) shared by RGB and IR images
 * (its global-average-pooled output is the common embedding), the identification head
 * (2 FCs) and the modality discriminator (3 FCs), {@link cmganModules}.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { plainConvNet } from "../../nn/backbones/plain.ts";
import { resNet50 } from "../../nn/backbones/resnet50.ts";
import { disposeModules } from "../../nn/gan.ts";
import { mlp } from "../../nn/mlp.ts";
import { fromPretrained } from "../../nn/io.ts";
import { Rng } from "../../runtime/random.ts";
import type { CmganConfig } from "./config.ts";
import { repoPath } from "../../runtime/paths.ts";

/** cmGAN's identification head and modality discriminator. */
export interface CmganModules {
  /** Two FCs with ReLU between: feature → hidden → identity logits. */
  idHead: tf.LayersModel;
  /** Three FCs with ReLU: feature → … → 2 modality logits (RGB 0, IR 1). */
  discriminator: tf.LayersModel;
}

/**
 * Builds cmGAN's heads (lib/papers/cmgan/README.md, 'Architecture'): paper scale 2048 → 512 → C and
 * 2048 → 1024 → 512 → 2; CPU scale (lib/papers/cmgan/README.md, 'Architecture') `featureDim: 128, idHidden: 64,
 * discriminatorWidths: [64, 32]`.
 */
export function cmganModules(options: {
  numClasses: number;
  featureDim?: number;
  idHidden?: number;
  discriminatorWidths?: number[];
  seed: number | Rng;
}): CmganModules {
  const rng = options.seed instanceof Rng ? options.seed : new Rng(options.seed);
  const f = options.featureDim ?? 2048;
  return {
    idHead: mlp({
      name: "cmgan_id",
      inputDims: [f],
      units: [options.idHidden ?? 512, options.numClasses],
      seed: rng.fork("cmgan_id"),
    }),
    discriminator: mlp({
      name: "cmgan_D",
      inputDims: [f],
      units: [...(options.discriminatorWidths ?? [1024, 512]), 2],
      seed: rng.fork("cmgan_D"),
    }),
  };
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
