/**
 * The training-time augmentations the papers use, on uint8 RGB pixels (N × H ×
 * W × 3), all seeded through {@link Rng}: horizontal flip, pad-and-crop
 * (torchvision's `RandomCrop(size, padding)`: zero padding, then a random
 * window of the original size) and random erasing (Zhong et al., AAAI 2020: a
 * rectangle of random area and aspect ratio replaced by the mean colour or by
 * noise). Applied per image in that order, as torchreid's default transforms.
 *
 * @module
 */
import type { Rng } from "../runtime/random.ts";
import {
  imageBytes,
  IMAGENET_NORMALIZATION,
  type ImageSize,
  type Normalization,
} from "./images.ts";

/** Random erasing parameters (defaults are Zhong et al.'s). */
export interface ErasingConfig {
  /** Probability per image (default 0.5). */
  probability?: number;
  /** Area fraction range (default 0.02–0.4). */
  areaMin?: number;
  areaMax?: number;
  /** Minimum aspect ratio; the range is [r, 1/r] (default 0.3). */
  aspectMin?: number;
  /** "mean": fill with the normalisation mean colour (0 after normalising); "random": noise. */
  fill?: "mean" | "random";
}

/** Which augmentations to apply. Everything off by default. */
export interface AugmentConfig {
  /** Probability of a horizontal flip (e.g. 0.5). */
  flip?: number;
  /** Padding in pixels for pad-and-crop (e.g. 10 at 256×128, 4 at 64×32); 0 = off. */
  padCrop?: number;
  /** Random erasing; absent = off. */
  erasing?: ErasingConfig;
  /** Mean colour used by erasing with fill "mean" (default ImageNet's). */
  normalization?: Normalization;
}

/** Mirrors one image left ↔ right in place. */
export function flipHorizontal(image: Uint8Array, size: ImageSize): void {
  const { height, width } = size;
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width >> 1; x++) {
      const a = row + x * 3;
      const b = row + (width - 1 - x) * 3;
      for (let c = 0; c < 3; c++) {
        const t = image[a + c];
        image[a + c] = image[b + c];
        image[b + c] = t;
      }
    }
  }
}

/**
 * Zero-pads one image by `pad` on every side and takes a random window of the
 * original size (offsets uniform in [0, 2·pad]); in place.
 */
export function padCrop(image: Uint8Array, size: ImageSize, pad: number, rng: Rng): void {
  const { height, width } = size;
  const dy = rng.int(2 * pad + 1) - pad;
  const dx = rng.int(2 * pad + 1) - pad;
  if (dx === 0 && dy === 0) return;
  const src = image.slice();
  image.fill(0);
  for (let y = 0; y < height; y++) {
    const sy = y + dy;
    if (sy < 0 || sy >= height) continue;
    for (let x = 0; x < width; x++) {
      const sx = x + dx;
      if (sx < 0 || sx >= width) continue;
      const o = (y * width + x) * 3;
      const s = (sy * width + sx) * 3;
      image[o] = src[s];
      image[o + 1] = src[s + 1];
      image[o + 2] = src[s + 2];
    }
  }
}

/**
 * Random erasing on one image in place. Returns whether a rectangle was erased
 * (up to 100 tries for one that fits, as in the reference implementation).
 */
export function randomErase(
  image: Uint8Array,
  size: ImageSize,
  rng: Rng,
  config: ErasingConfig = {},
  normalization: Normalization = IMAGENET_NORMALIZATION,
): boolean {
  const { height, width } = size;
  if (!rng.bernoulli(config.probability ?? 0.5)) return false;
  const areaMin = config.areaMin ?? 0.02;
  const areaMax = config.areaMax ?? 0.4;
  const r1 = config.aspectMin ?? 0.3;
  for (let attempt = 0; attempt < 100; attempt++) {
    const area = height * width * rng.uniform(areaMin, areaMax);
    const aspect = Math.exp(rng.uniform(Math.log(r1), Math.log(1 / r1)));
    const h = Math.round(Math.sqrt(area * aspect));
    const w = Math.round(Math.sqrt(area / aspect));
    if (h < 1 || w < 1 || h >= height || w >= width) continue;
    const y0 = rng.int(height - h + 1);
    const x0 = rng.int(width - w + 1);
    const fill = normalization.mean.map((m) => Math.round(m * 255));
    for (let y = y0; y < y0 + h; y++) {
      for (let x = x0; x < x0 + w; x++) {
        const o = (y * width + x) * 3;
        for (let c = 0; c < 3; c++) {
          image[o + c] = config.fill === "random" ? rng.int(256) : fill[c];
        }
      }
    }
    return true;
  }
  return false;
}

/**
 * Augments a batch: returns new pixels (the input is not changed), each image
 * flipped / pad-cropped / erased as `config` says, with draws from `rng` in
 * image order, so the same seed gives the same batch.
 */
export function augmentBatch(
  pixels: Uint8Array,
  size: ImageSize,
  config: AugmentConfig,
  rng: Rng,
): Uint8Array {
  const per = imageBytes(size);
  const out = pixels.slice();
  for (let i = 0; i < out.length / per; i++) {
    const image = out.subarray(i * per, (i + 1) * per);
    if (config.flip && rng.bernoulli(config.flip)) flipHorizontal(image, size);
    if (config.padCrop) padCrop(image, size, config.padCrop, rng);
    if (config.erasing) randomErase(image, size, rng, config.erasing, config.normalization);
  }
  return out;
}
