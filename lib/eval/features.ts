/**
 * Features for retrieval: every row of a split through an embedding function in chunks (eval
 * mode is the caller's `embed`), optionally averaged with the mirrored images and
 * L2-normalised, read back with `await data()` (a synchronous readback throws under Deno's
 * WebGPU). One extractor for every paper.
 *
 * @see notebooks/00_introduction.ipynb §5 (evaluation)
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Normalization } from "../data/images.ts";
import { type ReidSplit, splitBatch } from "../data/split.ts";
import type { DenseMatrix } from "./distance.ts";

/** An image batch → its embeddings (N × D), in evaluation mode. */
export type Embed = (x: tf.Tensor4D) => tf.Tensor2D;

/** Options of {@link extractFeatures}. */
export interface FeatureOptions {
  /** The per-channel normalisation `embed` was trained with. */
  normalization: Normalization;
  /** Average with the embeddings of the mirrored images (default false). */
  flip?: boolean;
  /** Divide each feature by its L2 norm (after the flip average; default false). */
  normalize?: boolean;
  /** Images per forward pass (default 128). */
  batchSize?: number;
}

/**
 * The features of every row of `split`, in row order, as a row-major matrix.
 *
 * @see notebooks/00_introduction.ipynb §5 (evaluation)
 */
export async function extractFeatures(
  embed: Embed,
  split: ReidSplit,
  options: FeatureOptions,
): Promise<DenseMatrix> {
  const batchSize = options.batchSize ?? 128;
  const n = split.indices.length;
  const parts: Float32Array[] = [];
  let cols = 0;
  for (let start = 0; start < n; start += batchSize) {
    const rows = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const f = tf.tidy(() => {
      const x = splitBatch(split, rows, options.normalization);
      const y = options.flip
        ? embed(x).add(embed(tf.reverse(x, 2))).div(2) as tf.Tensor2D
        : embed(x);
      return options.normalize ? y.div(y.norm("euclidean", 1, true).add(1e-12)) : y;
    });
    cols = f.shape[1] as number;
    try {
      parts.push((await f.data()) as Float32Array);
    } finally {
      f.dispose();
    }
  }
  const data = new Float32Array(n * cols);
  parts.reduce((offset, p) => (data.set(p, offset), offset + p.length), 0);
  return { data, rows: n, cols };
}

/**
 * Raw pixels as features: the luminance of each pixel in [0, 1] (IR images are gray already),
 * the "no learning" row of a table.
 */
export function pixelFeatures(split: ReidSplit): DenseMatrix {
  const per = split.size.height * split.size.width;
  const n = split.indices.length;
  const data = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < per; j++) {
      const o = (i * per + j) * 3;
      data[i * per + j] = (0.299 * split.pixels[o] + 0.587 * split.pixels[o + 1] +
        0.114 * split.pixels[o + 2]) / 255;
    }
  }
  return { data, rows: n, cols: per };
}
