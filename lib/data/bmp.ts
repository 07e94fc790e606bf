/**
 * Uncompressed Windows BMP, read and written without a dependency: VIPeR and
 * RegDB are released as .bmp, which sharp's bundled libvips does not decode.
 * Reads BI_RGB (and BI_BITFIELDS with the usual masks) at 8 bits (palette), 24
 * and 32 bits, bottom-up or top-down; writes 24-bit bottom-up.
 *
 * @module
 */

/** Decoded pixels: rows top to bottom, RGB interleaved. */
export interface RgbImage {
  width: number;
  height: number;
  /** width × height × 3 bytes. */
  data: Uint8Array;
}

/** Decodes a BMP file's bytes; `file` names it in errors. */
export function decodeBmp(bytes: Uint8Array, file = "<bytes>"): RgbImage {
  const fail = (why: string): never => {
    throw new Error(`${file}: unsupported or corrupt BMP (${why})`);
  };
  if (bytes.length < 54 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) fail("no BM header");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = v.getUint32(10, true);
  const headerSize = v.getUint32(14, true);
  const width = v.getInt32(18, true);
  const rawHeight = v.getInt32(22, true);
  const bits = v.getUint16(28, true);
  const compression = headerSize >= 40 ? v.getUint32(30, true) : 0;
  if (width <= 0 || rawHeight === 0) fail(`size ${width}×${rawHeight}`);
  if (compression !== 0 && compression !== 3) fail(`compression ${compression}`);
  if (![8, 24, 32].includes(bits)) fail(`${bits} bits per pixel`);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  const stride = Math.ceil((width * bits) / 32) * 4;
  if (offset + stride * height > bytes.length) fail("pixel data truncated");
  let palette: Uint8Array | null = null;
  if (bits === 8) {
    const colors = (headerSize >= 40 ? v.getUint32(46, true) : 0) || 256;
    palette = bytes.subarray(14 + headerSize, 14 + headerSize + 4 * colors);
  }
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = offset + stride * (topDown ? y : height - 1 - y);
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (palette) {
        const p = bytes[row + x] * 4;
        data[o] = palette[p + 2];
        data[o + 1] = palette[p + 1];
        data[o + 2] = palette[p];
      } else {
        const s = row + x * (bits / 8);
        data[o] = bytes[s + 2];
        data[o + 1] = bytes[s + 1];
        data[o + 2] = bytes[s];
      }
    }
  }
  return { width, height, data };
}

/** Encodes RGB pixels (rows top to bottom) as a 24-bit BMP. */
export function encodeBmp(image: RgbImage): Uint8Array {
  const { width, height, data } = image;
  if (data.length !== width * height * 3) {
    throw new Error(`encodeBmp: ${data.length} bytes for ${width}×${height}×3`);
  }
  const stride = Math.ceil((width * 3) / 4) * 4;
  const out = new Uint8Array(54 + stride * height);
  const v = new DataView(out.buffer);
  out[0] = 0x42;
  out[1] = 0x4d;
  v.setUint32(2, out.length, true);
  v.setUint32(10, 54, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, width, true);
  v.setInt32(22, height, true);
  v.setUint16(26, 1, true);
  v.setUint16(28, 24, true);
  v.setUint32(34, stride * height, true);
  for (let y = 0; y < height; y++) {
    const row = 54 + stride * (height - 1 - y);
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      out[row + x * 3] = data[i + 2];
      out[row + x * 3 + 1] = data[i + 1];
      out[row + x * 3 + 2] = data[i];
    }
  }
  return out;
}
