/**
 * Encodes rendered images in the file formats the releases use: JPEG
 * (Market-1501, DukeMTMC-reID, SYSU-MM01), PNG (PRID2011, parts of PETA) and
 * BMP (VIPeR, RegDB, parts of PETA). sharp cannot write BMP, so BMP is written
 * here: Windows BITMAPINFOHEADER, 24-bit BI_RGB, bottom-up rows padded to
 * 4 bytes, which is what those releases contain.
 *
 * @module
 */
import sharp from "sharp";
import type { RgbImage } from "./render.ts";

/** Image file formats the writers produce. */
export type ImageFormat = "jpg" | "png" | "bmp";

/** JPEG quality used for all JPEG output (high, so that the noise model, not the codec, dominates). */
export const JPEG_QUALITY = 92;

/** Encodes an image in `format`. JPEG and PNG encoding are deterministic for a pinned sharp. */
export async function encodeImage(img: RgbImage, format: ImageFormat): Promise<Uint8Array> {
  if (format === "bmp") return encodeBmp(img);
  const s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  const buf = format === "jpg"
    ? await s.jpeg({ quality: JPEG_QUALITY, chromaSubsampling: "4:4:4" }).toBuffer()
    : await s.png({ compressionLevel: 6 }).toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** A 24-bit uncompressed BMP of an RGB image. */
export function encodeBmp(img: RgbImage): Uint8Array {
  const { width, height, data } = img;
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + rowBytes * height;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = 0x42; // "B"
  out[1] = 0x4d; // "M"
  view.setUint32(2, size, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, height, true); // positive: rows stored bottom-up
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  view.setUint32(30, 0, true); // BI_RGB
  view.setUint32(34, rowBytes * height, true);
  view.setInt32(38, 2835, true); // 72 dpi
  view.setInt32(42, 2835, true);
  for (let y = 0; y < height; y++) {
    const dst = 54 + (height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      out[dst + x * 3] = data[s + 2];
      out[dst + x * 3 + 1] = data[s + 1];
      out[dst + x * 3 + 2] = data[s];
    }
  }
  return out;
}

/**
 * Decodes a 24-bit uncompressed BMP (what {@link encodeBmp} and the VIPeR /
 * RegDB releases contain) to RGB; sharp has no BMP reader.
 */
export function decodeBmp(bytes: Uint8Array, name = "image"): RgbImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 54 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) {
    throw new Error(`decodeBmp: ${name} is not a BMP file (expected "BM" header)`);
  }
  const offset = view.getUint32(10, true);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bpp = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (bpp !== 24 || compression !== 0) {
    throw new Error(
      `decodeBmp: ${name} is ${bpp}-bit with compression ${compression}; expected 24-bit BI_RGB`,
    );
  }
  const height = Math.abs(rawHeight);
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  if (offset + rowBytes * height > bytes.length) throw new Error(`decodeBmp: ${name} is truncated`);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const src = offset + (rawHeight > 0 ? height - 1 - y : y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const d = (y * width + x) * 3;
      data[d] = bytes[src + x * 3 + 2];
      data[d + 1] = bytes[src + x * 3 + 1];
      data[d + 2] = bytes[src + x * 3];
    }
  }
  return { width, height, data };
}

/** Reads an image file written by the writers (JPEG, PNG or BMP) to RGB. */
export async function readImageFile(path: string): Promise<RgbImage> {
  const bytes = await Deno.readFile(path);
  if (bytes[0] === 0x42 && bytes[1] === 0x4d) return decodeBmp(bytes, path);
  const { data, info } = await sharp(bytes).removeAlpha().toColourspace("srgb").raw().toBuffer({
    resolveWithObject: true,
  });
  if (info.channels !== 3) {
    throw new Error(`readImageFile: ${path} decoded to ${info.channels} channels, expected 3`);
  }
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}
