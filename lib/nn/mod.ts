/**
 * Neural-network parts shared by the five papers (docs/design.md, 'Scales' and 'Seeds'):
 *
 * - backbones: {@link smallResNet} (the CPU-scale default at 64×32),
 *   {@link resNet50} (torchvision layout, last stride 1 or 2) and {@link mobileNetV1}
 *   (width multiplier) at paper scale, and {@link twoStream} RGB/IR variants of any
 *   staged backbone;
 * - heads: {@link embeddingHead}, {@link bnNeck}, {@link classifier},
 *   {@link attributeClassifier};
 * - fully connected players: {@link mlp}, {@link sampleNoise}, {@link disposeModules} (each
 *   paper's module set lives in its folder, `lib/papers/<paper>/model.ts`);
 * - losses (see `losses/mod.ts`);
 * - model files: {@link fileSystemIO}, {@link loadWeightsStrict}, {@link fromPretrained};
 * - ops: {@link stopGradient}, {@link gemPool}.
 *
 * Every builder takes an explicit seed (or an `Rng`): the same seed gives the same
 * initial weights. Models with BatchNorm must be applied with `{ training: true }`
 * while training.
 *
 * @module
 */
export * from "./init.ts";
export * from "./ops.ts";
export * from "./mlp.ts";
export * from "./heads.ts";
export * from "./gan.ts";
export * from "./io.ts";
export * from "./losses/mod.ts";
export { BN_EPSILON, BN_MOMENTUM, noShiftBatchNorm } from "./backbones/blocks.ts";
export * from "./backbones/staged.ts";
export * from "./backbones/small_resnet.ts";
export * from "./backbones/resnet50.ts";
export * from "./backbones/mobilenet.ts";
export * from "./backbones/two_stream.ts";
export * from "./backbones/plain.ts";
export * from "./backbones/registry.ts";
