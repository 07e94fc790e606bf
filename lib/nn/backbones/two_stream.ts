/**
 * Two-stream backbones for RGB ↔ infrared re-id (AGW, PAENet/MMD-ReID, cmGAN's
 * "separate" option): the first stages have one copy per modality, the rest is
 * shared and runs on the two batches concatenated, so the shared BN layers see
 * statistics over both modalities as in the PyTorch code.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../runtime/random.ts";
import { applyPooling, applyStages, type StagedBackbone } from "./staged.ts";

/** Concatenation along the batch axis (tfjs' Concatenate layer refuses axis 0). */
export class BatchConcat extends tf.layers.Layer {
  /** Registered class name (for model.json round trips). */
  static className = "BatchConcat";

  /** [null, …]: the batch size is the sum of the inputs'. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shapes = inputShape as tf.Shape[];
    return [null, ...shapes[0].slice(1)];
  }

  /** Concatenates the input batches in order. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.concat(inputs as tf.Tensor[], 0);
  }

  /** The registered class name. */
  override getClassName(): string {
    return BatchConcat.className;
  }
}
tf.serialization.registerClass(BatchConcat);

/** Options of {@link twoStream}. */
export interface TwoStreamOptions {
  /**
   * Index of the first shared stage: stages before it are modality-specific. For
   * ResNet-50's stages [stem, layer1, …, layer4]: 1 = AGW ("the first block is
   * specific"), 3 = PAENet's code (`share_net 3`: stem, layer1, layer2 specific);
   * the number of stages = nothing shared (two separate backbones).
   */
  sharedFrom: number;
  /** Seed of the initial weights (same seed → identical weights). */
  seed: number | Rng;
  /** Model name and layer-name prefix. Default "two_stream". */
  name?: string;
}

/**
 * A two-stream model of a staged backbone. Inputs: `[rgb, ir]`, two NHWC batches
 * (IR replicated to 3 channels); the modality-specific stages run on each, their
 * outputs are concatenated along the batch axis (RGB rows first) and go through
 * the shared stages. Output: features [N_rgb + N_ir, …] in that order (rows
 * 0..N_rgb−1 RGB, then IR, the batch layout of the AGW/PAENet code).
 *
 * Layer names: `${name}_rgb_…` and `${name}_ir_…` for the specific stages,
 * `${name}_…` for the shared ones. Call with `model.apply([rgb, ir], { training })`
 * (`predict` wants equal batch sizes).
 */
export function twoStream(backbone: StagedBackbone, options: TwoStreamOptions): tf.LayersModel {
  const n = backbone.stages.length;
  const k = options.sharedFrom;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new Error(`twoStream: sharedFrom must be an integer in [1, ${n}], got ${k}`);
  }
  const rng = options.seed instanceof Rng ? options.seed : new Rng(options.seed);
  const name = options.name ?? "two_stream";
  const rgb = tf.input({ shape: backbone.inputShape, name: `${name}_rgb_input` });
  const ir = tf.input({ shape: backbone.inputShape, name: `${name}_ir_input` });
  const fRgb = applyStages(backbone, rgb, 0, k, `${name}_rgb_`, rng);
  const fIr = applyStages(backbone, ir, 0, k, `${name}_ir_`, rng);
  const joined = new BatchConcat({ name: `${name}_concat` }).apply([
    fRgb,
    fIr,
  ]) as tf.SymbolicTensor;
  const shared = applyStages(backbone, joined, k, n, `${name}_`, rng);
  const output = applyPooling(backbone, shared, `${name}_`);
  return tf.model({ inputs: [rgb, ir], outputs: output, name });
}
