/**
 * Rasterises a shot with sharp and applies the camera and domain photometrics
 * (colour transform, illumination, contrast, resolution loss, blur, noise; for
 * IR a thermal single channel replicated to three).
 *
 * Every random number comes from the `Rng` passed in, which callers fork per
 * image, so a pixel depends only on (seed, image key), never on render order.
 *
 * @module
 */
import sharp from "sharp";
import type { Rng } from "../../runtime/random.ts";
import type { Identity } from "./identity.ts";
import { type CameraModel, type DomainStyle, sampleShot, type Shot } from "./scene.ts";
import { sceneSvg } from "./svg.ts";

/** An 8-bit interleaved RGB image. */
export interface RgbImage {
  width: number;
  height: number;
  /** `height · width · 3` bytes, row-major, RGB. */
  data: Uint8Array;
}

/** What to render: who, through which camera, in which style, at which size. */
export interface RenderRequest {
  identity: Identity;
  camera: CameraModel;
  style: DomainStyle;
  width: number;
  height: number;
  /** The image's own random stream (fork it from the dataset seed by the image's key). */
  rng: Rng;
  /** A shot to reuse (RegDB's aligned visible/thermal pair); drawn from `rng` when absent. */
  shot?: Shot;
}

/** Blur below this sigma moves an 8-bit value by at most one level (neighbour weight < 0.4 %): skipped. */
const MIN_BLUR = 0.3;

/** Draws the shot of a request (exposed so paired captures can share one). */
export function shotFor(req: Omit<RenderRequest, "shot">): Shot {
  return sampleShot(req.rng.fork("shot"), req.camera, req.style, (128 * req.width) / req.height);
}

/** Renders one image to 8-bit RGB. */
export async function renderImage(req: RenderRequest): Promise<RgbImage> {
  const { width, height, camera, style } = req;
  const shot = req.shot ?? shotFor(req);
  const svg = sceneSvg(req.identity, camera, shot, width, height);
  const raw = await sharp(new TextEncoder().encode(svg)).removeAlpha().raw().toBuffer();
  if (raw.length !== width * height * 3) {
    throw new Error(`render: sharp returned ${raw.length} bytes, expected ${width * height * 3}`);
  }
  const noiseRng = req.rng.fork("pixels");
  const px = new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  return camera.modality === "ir"
    ? finishIr(px, width, height, camera, style, shot, noiseRng)
    : finishRgb(px, width, height, camera, style, shot, noiseRng);
}

function finishRgb(
  raw: Uint8Array,
  width: number,
  height: number,
  cam: CameraModel,
  style: DomainStyle,
  shot: Shot,
  rng: Rng,
): RgbImage {
  // The camera response is a per-channel curve of the 8-bit input: a lookup table is exact and cheap.
  const [ca, cb] = style.contrast;
  const luts = [0, 1, 2].map((c) =>
    Float32Array.from(
      { length: 256 },
      (_, v) =>
        (cam.gain[c] * Math.pow((v / 255) * shot.illumination, cam.gamma[c]) + cam.offset[c]) * ca +
        cb,
    )
  );
  let img: Float32Array = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i += 3) {
    img[i] = luts[0][raw[i]];
    img[i + 1] = luts[1][raw[i + 1]];
    img[i + 2] = luts[2][raw[i + 2]];
  }
  if (style.resolutionLoss > 1) img = resolutionLoss(img, width, height, 3, style.resolutionLoss);
  if (cam.blur >= MIN_BLUR) img = gaussianBlur(img, width, height, 3, cam.blur);
  if (shot.boxBlur) img = boxBlur3(img, width, height, 3);
  const sigma = Math.hypot(cam.noise, shot.noise);
  const out = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) out[i] = quantize(img[i] + sigma * fastNormal(rng));
  return { width, height, data: out };
}

function finishIr(
  raw: Uint8Array,
  width: number,
  height: number,
  cam: CameraModel,
  style: DomainStyle,
  shot: Shot,
  rng: Rng,
): RgbImage {
  // The SVG was painted in gray levels; one channel carries the whole signal.
  const [ca, cb] = style.contrast;
  const lut = Float32Array.from(
    { length: 256 },
    (_, v) => (cam.gain[0] * (v / 255) * shot.illumination + cam.offset[0]) * ca + cb,
  );
  let mono: Float32Array = new Float32Array(width * height);
  for (let i = 0; i < mono.length; i++) mono[i] = lut[raw[i * 3]];
  if (style.resolutionLoss > 1) mono = resolutionLoss(mono, width, height, 1, style.resolutionLoss);
  if (cam.blur >= MIN_BLUR) mono = gaussianBlur(mono, width, height, 1, cam.blur);
  if (shot.boxBlur) mono = boxBlur3(mono, width, height, 1);
  const sigma = Math.hypot(cam.noise, shot.noise);
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < mono.length; i++) {
    const v = quantize(mono[i] + sigma * fastNormal(rng));
    out[i * 3] = v;
    out[i * 3 + 1] = v;
    out[i * 3 + 2] = v;
  }
  return { width, height, data: out };
}

/**
 * An approximately standard normal draw from one 32-bit word: the sum of its
 * four bytes (Irwin–Hall with 4 terms), centred and scaled to unit variance.
 * Pixel noise needs the variance, not exact tails, and this is 8× cheaper.
 */
function fastNormal(rng: Rng): number {
  const x = rng.nextUint32();
  return ((x & 255) + ((x >>> 8) & 255) + ((x >>> 16) & 255) + (x >>> 24) - 510) / 147.80138;
}

function quantize(v: number): number {
  const q = Math.round(v * 255);
  return q < 0 ? 0 : q > 255 ? 255 : q;
}

/** Box-averages `factor × factor` blocks and upsamples bilinearly back to full size. */
export function resolutionLoss(
  src: Float32Array,
  w: number,
  h: number,
  ch: number,
  factor: number,
): Float32Array {
  const sw = Math.max(1, Math.floor(w / factor));
  const sh = Math.max(1, Math.floor(h / factor));
  const small = new Float32Array(sw * sh * ch);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      for (let c = 0; c < ch; c++) {
        let s = 0;
        let n = 0;
        for (let yy = y * factor; yy < Math.min(h, (y + 1) * factor); yy++) {
          for (let xx = x * factor; xx < Math.min(w, (x + 1) * factor); xx++) {
            s += src[(yy * w + xx) * ch + c];
            n++;
          }
        }
        small[(y * sw + x) * ch + c] = s / n;
      }
    }
  }
  const out = new Float32Array(w * h * ch);
  for (let y = 0; y < h; y++) {
    const fy = Math.min(sh - 1, Math.max(0, ((y + 0.5) * sh) / h - 0.5));
    const y0 = Math.floor(fy), y1 = Math.min(sh - 1, y0 + 1), ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(sw - 1, Math.max(0, ((x + 0.5) * sw) / w - 0.5));
      const x0 = Math.floor(fx), x1 = Math.min(sw - 1, x0 + 1), tx = fx - x0;
      for (let c = 0; c < ch; c++) {
        const a = small[(y0 * sw + x0) * ch + c] * (1 - tx) + small[(y0 * sw + x1) * ch + c] * tx;
        const b = small[(y1 * sw + x0) * ch + c] * (1 - tx) + small[(y1 * sw + x1) * ch + c] * tx;
        out[(y * w + x) * ch + c] = a * (1 - ty) + b * ty;
      }
    }
  }
  return out;
}

/** Separable Gaussian blur with edge clamping. */
export function gaussianBlur(
  src: Float32Array,
  w: number,
  h: number,
  ch: number,
  sigma: number,
): Float32Array {
  const r = Math.max(1, Math.ceil(sigma * 2.5));
  const k = Array.from(
    { length: 2 * r + 1 },
    (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)),
  );
  const sum = k.reduce((a, b) => a + b, 0);
  return separable(src, w, h, ch, k.map((v) => v / sum));
}

/** 3×3 box blur with edge clamping. */
export function boxBlur3(src: Float32Array, w: number, h: number, ch: number): Float32Array {
  return separable(src, w, h, ch, [1 / 3, 1 / 3, 1 / 3]);
}

/** Convolves rows then columns with a symmetric 1-D kernel, clamping at the edges. */
function separable(
  src: Float32Array,
  w: number,
  h: number,
  ch: number,
  kernel: number[],
): Float32Array {
  const r = (kernel.length - 1) / 2;
  // Clamped neighbour offsets, precomputed so the inner loops have no branches.
  const xs = new Int32Array(w * kernel.length);
  for (let x = 0; x < w; x++) {
    for (let i = 0; i < kernel.length; i++) {
      xs[x * kernel.length + i] = Math.min(w - 1, Math.max(0, x + i - r)) * ch;
    }
  }
  const ys = new Int32Array(h * kernel.length);
  for (let y = 0; y < h; y++) {
    for (let i = 0; i < kernel.length; i++) {
      ys[y * kernel.length + i] = Math.min(h - 1, Math.max(0, y + i - r)) * w * ch;
    }
  }
  const n = kernel.length;
  const tmp = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * ch;
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < ch; c++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += kernel[i] * src[row + xs[x * n + i] + c];
        tmp[row + x * ch + c] = s;
      }
    }
  }
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < ch; c++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += kernel[i] * tmp[ys[y * n + i] + x * ch + c];
        out[y * w * ch + x * ch + c] = s;
      }
    }
  }
  return out;
}
