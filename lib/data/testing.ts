/**
 * Helpers for the data tests: tiny images written with sharp (or as BMP) into
 * hand-made dataset trees in a temporary folder.
 *
 * @module
 */
import sharp from "sharp";
import { dirname, join } from "node:path";
import { encodeBmp } from "./bmp.ts";

/** A solid-colour image whose colour is derived from `seed`, with a bright top-left pixel. */
export function tinyPixels(width: number, height: number, seed: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[i * 3] = (seed * 53 + i) % 256;
    data[i * 3 + 1] = (seed * 97) % 256;
    data[i * 3 + 2] = (seed * 29 + 2 * i) % 256;
  }
  data[0] = data[1] = data[2] = 255;
  return data;
}

/**
 * Writes a tiny image at `path` (format from the extension: .jpg, .png or
 * .bmp), creating folders as needed.
 */
export async function writeTinyImage(
  path: string,
  seed = 0,
  width = 8,
  height = 16,
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const data = tinyPixels(width, height, seed);
  const ext = path.slice(path.lastIndexOf(".")).toLowerCase();
  if (ext === ".bmp") {
    await Deno.writeFile(path, encodeBmp({ width, height, data }));
    return;
  }
  const img = sharp(data, { raw: { width, height, channels: 3 } });
  const buffer = ext === ".png"
    ? await img.png().toBuffer()
    : await img.jpeg({ quality: 95 }).toBuffer();
  await Deno.writeFile(path, buffer);
}

/** Writes each relative path under `root` as a tiny image (seeded by position). */
export async function writeTree(root: string, files: readonly string[]): Promise<void> {
  await Promise.all(files.map((f, i) => writeTinyImage(join(root, f), i + 1)));
}

/** Writes a text file under `root`, creating folders. */
export async function writeText(root: string, path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(join(root, path)), { recursive: true });
  await Deno.writeTextFile(join(root, path), text);
}

/** Runs `body` with a fresh temporary folder that is removed afterwards. */
export async function withTempDir<T>(body: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "reid-data-test-" });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
