/**
 * Image decoding and conversion: files → resized uint8 RGB pixels (sharp, with
 * several decodes in flight so both cores work) → float NHWC tensors in [0, 1]
 * with per-channel normalisation (ImageNet's mean/std or a dataset's own).
 *
 * Pixels stay uint8 (H × W × 3 per image, images concatenated) until a batch
 * is made, so that a whole split fits in memory and in the binary cache
 * (lib/data/cache.ts), and augmentation (lib/data/augment.ts) works on bytes.
 *
 * @module
 */
import sharp from "sharp";
import * as tf from "@tensorflow/tfjs";
import { decodeBmp } from "./bmp.ts";

/** Target image size (rows × columns). */
export interface ImageSize {
  height: number;
  width: number;
}

/** Per-channel mean and standard deviation of pixel values in [0, 1]. */
export interface Normalization {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** ImageNet statistics, as used with ImageNet-pretrained backbones. */
export const IMAGENET_NORMALIZATION: Normalization = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** Pixels scaled to [−1, 1]: what networks trained from scratch (the GAN papers) take. */
export const SYMMETRIC_NORMALIZATION: Normalization = {
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
};

/** Bytes of one decoded image of `size`. */
export function imageBytes(size: ImageSize): number {
  return size.height * size.width * 3;
}

/**
 * Decodes one image file and resizes it (stretching, as `Resize((h, w))` does)
 * to `size`; returns H × W × 3 RGB bytes. Greyscale (e.g. infrared) images are
 * replicated to three channels. A corrupt or unreadable file throws an error
 * naming its path.
 */
export async function decodeImage(path: string, size: ImageSize): Promise<Uint8Array> {
  try {
    let input: sharp.Sharp;
    if (path.toLowerCase().endsWith(".bmp")) {
      const bmp = decodeBmp(await Deno.readFile(path), path);
      input = sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: 3 } });
    } else {
      input = sharp(path, { failOn: "error" });
    }
    const { data, info } = await input
      .removeAlpha()
      .toColourspace("srgb")
      .resize(size.width, size.height, { fit: "fill" })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== imageBytes(size)) {
      throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (error) {
    const message = (error as Error).message;
    if (message.startsWith(`cannot decode image ${path}`)) throw error;
    throw new Error(`cannot decode image ${path}: ${await describeBadImage(path, message)}`, {
      cause: error,
    });
  }
}

const SIGNATURES: [string, number[]][] = [
  ["JPEG", [0xff, 0xd8, 0xff]],
  ["PNG", [0x89, 0x50, 0x4e, 0x47]],
  ["BMP", [0x42, 0x4d]],
  ["GIF", [0x47, 0x49, 0x46]],
  ["WebP", [0x52, 0x49, 0x46, 0x46]],
];
const EXPECTED_FORMAT: Record<string, string> = {
  ".jpg": "JPEG",
  ".jpeg": "JPEG",
  ".png": "PNG",
  ".bmp": "BMP",
};

/**
 * Why `path` does not decode, from the file itself when libvips's message says little:
 * libvips keeps one error buffer per process, so concurrent failing decodes can take each
 * other's message ("" or "Unknown error"). An empty file, or content of another format
 * than the extension says, is named as such; otherwise the decoder's message stays.
 */
async function describeBadImage(path: string, message: string): Promise<string> {
  let head: Uint8Array;
  let size: number;
  try {
    size = (await Deno.stat(path)).size;
    const file = await Deno.open(path);
    try {
      head = new Uint8Array(16);
      const n = (await file.read(head)) ?? 0;
      head = head.subarray(0, n);
    } finally {
      file.close();
    }
  } catch (error) {
    return `${message} (${(error as Error).message})`;
  }
  if (size === 0) return "the file is empty (0 bytes); expected an image";
  const found = SIGNATURES.find(([, sig]) => sig.every((b, i) => head[i] === b))?.[0];
  const dot = path.lastIndexOf(".");
  const expected = EXPECTED_FORMAT[path.slice(dot).toLowerCase()];
  if (expected && found !== expected) {
    return `the content is ${found ?? "not a known image format"}, but the name says ${expected}` +
      (message.trim() && !/^Unknown error$/i.test(message.trim()) ? ` (${message.trim()})` : "");
  }
  const useful = message.replace(/^Input file has corrupt header:\s*/, "").trim();
  return useful && !/^Unknown error$/i.test(useful)
    ? message
    : `${
      expected ?? "image"
    } data is corrupt or truncated (${size} bytes; the decoder gave no reason)`;
}

/** Options of {@link decodeImages}. */
export interface DecodeOptions {
  /** Decodes in flight at once (default 8: enough to keep two cores busy with small images). */
  concurrency?: number;
  /** Called now and then with the number of images done. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Decodes many files into one buffer of N × H × W × 3 bytes, in `paths`
 * order, with a pool of concurrent decodes.
 */
export async function decodeImages(
  paths: readonly string[],
  size: ImageSize,
  options: DecodeOptions = {},
): Promise<Uint8Array> {
  const per = imageBytes(size);
  const out = new Uint8Array(paths.length * per);
  let next = 0;
  let done = 0;
  const failed: number[] = [];
  const worker = async () => {
    // After a failure no new decode starts: the error is reported once the pool is idle.
    while (next < paths.length && failed.length === 0) {
      const i = next++;
      try {
        out.set(await decodeImage(paths[i], size), i * per);
      } catch {
        failed.push(i);
        continue;
      }
      done++;
      if (options.onProgress && (done % 500 === 0 || done === paths.length)) {
        options.onProgress(done, paths.length);
      }
    }
  };
  const pool = Math.max(1, Math.min(options.concurrency ?? 8, paths.length));
  await Promise.all(Array.from({ length: pool }, worker));
  if (failed.length > 0) {
    // Decoded again one at a time: with nothing else in flight the error keeps its cause.
    failed.sort((a, b) => a - b);
    const errors: Error[] = [];
    for (const i of failed.slice(0, 5)) {
      try {
        await decodeImage(paths[i], size);
        errors.push(
          new Error(`cannot decode image ${paths[i]}: failed only when decoded in parallel`),
        );
      } catch (error) {
        errors.push(error as Error);
      }
    }
    const more = failed.length > 1
      ? `; ${failed.length - 1} more image(s) failed: ${
        failed.slice(1, 5).map((i) => paths[i]).join(", ")
      }${failed.length > 5 ? ", …" : ""}`
      : "";
    throw new Error(`${errors[0].message}${more}`, { cause: errors[0] });
  }
  return out;
}

/**
 * Converts `count` images from `pixels` (starting at image `start`) to floats:
 * x / 255, then (x − mean) / std per channel when `norm` is given.
 */
export function pixelsToFloat(
  pixels: Uint8Array,
  size: ImageSize,
  start = 0,
  count = pixels.length / imageBytes(size) - start,
  norm?: Normalization,
): Float32Array {
  const per = imageBytes(size);
  const src = pixels.subarray(start * per, (start + count) * per);
  const out = new Float32Array(src.length);
  const scale = [0, 1, 2].map((c) => 1 / (255 * (norm ? norm.std[c] : 1)));
  const shift = [0, 1, 2].map((c) => (norm ? norm.mean[c] / norm.std[c] : 0));
  for (let i = 0; i < src.length; i += 3) {
    out[i] = src[i] * scale[0] - shift[0];
    out[i + 1] = src[i + 1] * scale[1] - shift[1];
    out[i + 2] = src[i + 2] * scale[2] - shift[2];
  }
  return out;
}

/** A float32 NHWC tensor of `count` images (see {@link pixelsToFloat}). */
export function pixelsToTensor(
  pixels: Uint8Array,
  size: ImageSize,
  start = 0,
  count = pixels.length / imageBytes(size) - start,
  norm?: Normalization,
): tf.Tensor4D {
  return tf.tensor4d(pixelsToFloat(pixels, size, start, count, norm), [
    count,
    size.height,
    size.width,
    3,
  ]);
}

/** The uint8 images at `indices` of `pixels`, concatenated. */
export function gatherImages(
  pixels: Uint8Array,
  size: ImageSize,
  indices: readonly number[],
): Uint8Array {
  const per = imageBytes(size);
  const out = new Uint8Array(indices.length * per);
  indices.forEach((index, i) => out.set(pixels.subarray(index * per, (index + 1) * per), i * per));
  return out;
}

/** A float32 NHWC tensor of the images at `indices` of `pixels`. */
export function gatherToTensor(
  pixels: Uint8Array,
  size: ImageSize,
  indices: readonly number[],
  norm?: Normalization,
): tf.Tensor4D {
  return pixelsToTensor(gatherImages(pixels, size, indices), size, 0, indices.length, norm);
}

/** A dataset's own per-channel mean and std (of values in [0, 1]). */
export function channelStatistics(pixels: Uint8Array): Normalization {
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  for (let i = 0; i < pixels.length; i += 3) {
    for (let c = 0; c < 3; c++) {
      const v = pixels[i + c] / 255;
      sum[c] += v;
      sq[c] += v * v;
    }
  }
  const n = pixels.length / 3;
  const mean = sum.map((s) => s / n);
  const std = sq.map((s, c) => Math.sqrt(Math.max(s / n - mean[c] * mean[c], 1e-12)));
  return { mean: [mean[0], mean[1], mean[2]], std: [std[0], std[1], std[2]] };
}
