/**
 * A split: some images of a dataset decoded once at one size (through the pixel cache), with
 * the evaluation items and training labels of each row. Every paper trains and evaluates on
 * these; `splitBatch` turns some rows into a network input.
 *
 * @see notebooks/00_introduction.ipynb §2 (datasets and their layouts)
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { isAbsolute, join } from "node:path";
import { cachedPixels } from "./cache.ts";
import { gatherImages, gatherToTensor, type ImageSize, type Normalization } from "./images.ts";
import { type EvalItem, isIdentity, type ReidDataset, type SplitName } from "./types.ts";

/** Some images of a dataset, decoded at one size, with what training and evaluation need. */
export interface ReidSplit {
  /** A readable name, e.g. "market1501/train". */
  name: string;
  dataset: ReidDataset;
  /** Indices into `dataset.images`, in row order. */
  indices: number[];
  /** Row of each dataset index. */
  rowOf: Map<number, number>;
  /** uint8 N × H × W × 3. */
  pixels: Uint8Array;
  size: ImageSize;
  /** What the evaluation sees of each row. */
  items: EvalItem[];
  /** Training label of each row: the identity's rank among the split's identities (−1: none). */
  labels: Int32Array;
  /** Distinct identities (the classifier's width when training on this split). */
  numClasses: number;
}

/** Options of {@link loadSplit}. */
export interface LoadSplitOptions {
  /** Cache folder (default `data/cache/`). */
  cacheDir?: string;
  /** Readable prefix of the cache file (default `<dataset>-<split>`). */
  cacheName?: string;
  /** Keep only labelled persons (drop Market junk and distractors); default false. */
  identitiesOnly?: boolean;
}

/**
 * The absolute path of an image of `dataset`.
 *
 * @see notebooks/00_introduction.ipynb §5 (a ranked gallery)
 */
export function imagePath(dataset: ReidDataset, index: number): string {
  const p = dataset.images[index].path;
  return isAbsolute(p) ? p : join(dataset.root, p);
}

/**
 * Decodes the images of `split` (a split name or explicit indices) at `size`, through the
 * pixel cache, and labels their identities 0…C−1 in ascending pid order.
 *
 * @see notebooks/00_introduction.ipynb §2 (datasets and their layouts)
 */
export async function loadSplit(
  dataset: ReidDataset,
  split: SplitName | readonly number[],
  size: ImageSize,
  options: LoadSplitOptions = {},
): Promise<ReidSplit> {
  let indices = typeof split === "string"
    ? dataset.images.flatMap((im, i) => (im.split === split ? [i] : []))
    : [...split];
  if (options.identitiesOnly) indices = indices.filter((i) => isIdentity(dataset.images[i]));
  const label = typeof split === "string" ? split : "subset";
  if (indices.length === 0) {
    throw new Error(`${dataset.root}: split "${label}" of ${dataset.name} has no images`);
  }
  const { pixels } = await cachedPixels(indices.map((i) => imagePath(dataset, i)), size, {
    cacheDir: options.cacheDir,
    name: options.cacheName ?? `${dataset.name}-${label}`,
  });
  const pids = [
    ...new Set(
      indices.filter((i) => isIdentity(dataset.images[i])).map((i) => dataset.images[i].pid),
    ),
  ].sort((a, b) => a - b);
  const classOf = new Map(pids.map((pid, c) => [pid, c]));
  const labels = Int32Array.from(indices, (i) => {
    const im = dataset.images[i];
    return isIdentity(im) ? classOf.get(im.pid)! : -1;
  });
  return {
    name: `${dataset.name}/${label}`,
    dataset,
    indices,
    rowOf: new Map(indices.map((index, row) => [index, row])),
    pixels,
    size,
    items: indices.map((i) => {
      const im = dataset.images[i];
      return { pid: im.pid, camid: im.camid, modality: im.modality };
    }),
    labels,
    numClasses: pids.length,
  };
}

/** The uint8 pixels of some rows of a split, concatenated. */
export function gatherPixels(split: ReidSplit, rows: readonly number[]): Uint8Array {
  return gatherImages(split.pixels, split.size, rows);
}

/** A float NHWC tensor of some rows of a split, normalised per channel. */
export function splitBatch(
  split: ReidSplit,
  rows: readonly number[],
  normalization: Normalization,
): tf.Tensor4D {
  return gatherToTensor(split.pixels, split.size, rows, normalization);
}

/** One row's pixels with their size, as the gallery composer and image helpers take them. */
export function splitImage(split: Pick<ReidSplit, "pixels" | "size">, row: number): {
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: 3;
} {
  const { height, width } = split.size;
  const per = height * width * 3;
  return { pixels: split.pixels.subarray(row * per, (row + 1) * per), width, height, channels: 3 };
}
