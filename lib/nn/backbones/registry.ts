/**
 * The backbones by name, so a config can say `backbone: "resnet50"` and a paper builds it with
 * `buildBackbone(name, options)`, each name typed with its own options.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { mobileNetV1 } from "./mobilenet.ts";
import { plainConvNet } from "./plain.ts";
import { resNet50 } from "./resnet50.ts";
import { smallResNet } from "./small_resnet.ts";
import { twoStream } from "./two_stream.ts";

/** Every backbone builder of lib/nn/backbones, keyed by the name configs use. */
export const BACKBONES = {
  /** The CPU-scale residual net (lib/nn/backbones/small_resnet.ts). */
  small_resnet: smallResNet,
  /** Conv → BN → ReLU blocks without shortcuts (lib/nn/backbones/plain.ts). */
  plain: plainConvNet,
  /** ResNet-50 with torchvision's layout (lib/nn/backbones/resnet50.ts). */
  resnet50: resNet50,
  /** MobileNetV1 (lib/nn/backbones/mobilenet.ts). */
  mobilenet_v1: mobileNetV1,
  /** Two modality-specific stems over shared stages (lib/nn/backbones/two_stream.ts). */
  two_stream: twoStream,
} as const;

/** A registered backbone's name. */
export type BackboneName = keyof typeof BACKBONES;

/** The names of {@link BACKBONES}, in registration order. */
export const BACKBONE_NAMES: readonly BackboneName[] = Object.keys(BACKBONES) as BackboneName[];

/** Whether `name` is a registered backbone (for names read from JSON or a command line). */
export function isBackboneName(name: string): name is BackboneName {
  return Object.hasOwn(BACKBONES, name);
}

/** Builds the backbone registered as `name` with that builder's own arguments. */
export function buildBackbone<N extends BackboneName>(
  name: N,
  ...args: Parameters<(typeof BACKBONES)[N]>
): tf.LayersModel {
  if (!isBackboneName(name)) {
    throw new Error(`unknown backbone "${name}" (known: ${BACKBONE_NAMES.join(", ")})`);
  }
  const build = BACKBONES[name] as (...a: unknown[]) => tf.LayersModel;
  return build(...args);
}
