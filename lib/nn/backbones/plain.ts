/**
 * The plain conv-net backbone (no residual connections): the CPU-scale generator of cmGAN and a
 * baseline small backbone for any paper.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { seededInit } from "../init.ts";
import { Rng } from "../../runtime/random.ts";
import { batchNorm } from "./blocks.ts";

/**
 * A plain conv net: blocks conv3×3 (same) → BN → ReLU with the given widths, each but the last
 * followed by 2×2 max-pooling (64×32 → 32×16 → 16×8 → 8×4), then global average pooling; the
 * embedding size is the last width. Layer names start with `gen_` and the model is named `gen`
 * (cmGAN's CPU-scale generator, lib/papers/cmgan/README.md 'Architecture', whose committed
 * pretrained weights load by these names).
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
