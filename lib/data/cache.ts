/**
 * A binary cache of decoded, resized pixels: one file per image list and
 * target size, holding N × H × W × 3 bytes, so that loading a split again
 * costs one file read instead of N decodes.
 *
 * The file is keyed by the ordered file list, each file's size and
 * modification time, and the target shape; the key is stored in the file's
 * header and checked on load, so a changed, added, removed or reordered image
 * (or another size) rebuilds it. Writes go to a temporary file renamed into
 * place, so an interrupted run never leaves a half-written cache.
 *
 * The header also holds the SHA-256 of the pixels, checked on every load: a cache
 * file changed in place (a bad disk, a stray write) is rebuilt, never used.
 *
 * File format: 8 bytes magic `REIDPIX1`, uint32 LE header length, the JSON
 * header `{version, key, count, height, width, channels, sha256}`, zero padding to
 * a multiple of 8, then the pixels.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomicSync } from "../runtime/fs.ts";
import { hashString } from "../runtime/random.ts";
import { repoPath } from "../runtime/paths.ts";
import { decodeImages, type DecodeOptions, imageBytes, type ImageSize } from "./images.ts";

const MAGIC = "REIDPIX1";
const VERSION = 2;

/** The default cache folder: `data/cache/` at the repository root (ignored by git). */
export const DEFAULT_CACHE_DIR: string = `${repoPath("data", "cache")}/`;

/** Options of {@link cachedPixels}. */
export interface CacheOptions extends DecodeOptions {
  /** Folder for cache files (default {@link DEFAULT_CACHE_DIR}). */
  cacheDir?: string;
  /** A readable prefix of the cache file name, e.g. "market1501-train". */
  name?: string;
}

/** Result of {@link cachedPixels}. */
export interface CachedPixels {
  pixels: Uint8Array;
  count: number;
  size: ImageSize;
  /** Whether the pixels came from the cache file. */
  hit: boolean;
  /** Why the cache was not used (absent on a hit). */
  missReason?: string;
  path: string;
}

/** SHA-256 of a string or bytes, hex. */
async function sha256(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The cache key of an image list at a size: hashes paths, byte sizes and
 * modification times (stat'ed here) with the shape and format version.
 */
export async function cacheKey(paths: readonly string[], size: ImageSize): Promise<string> {
  const parts: string[] = [`v${VERSION}`, `${size.height}x${size.width}x3`];
  for (const path of paths) {
    const info = Deno.statSync(path);
    parts.push(`${path}\t${info.size}\t${info.mtime?.getTime() ?? 0}`);
  }
  return await sha256(parts.join("\n"));
}

/** The cache file for a list (named by the list and size, so edits overwrite it). */
export function cachePath(
  paths: readonly string[],
  size: ImageSize,
  options: CacheOptions = {},
): string {
  const dir = options.cacheDir ?? DEFAULT_CACHE_DIR;
  const listHash = hashString(paths.join("\n")).toString(16).padStart(8, "0");
  const prefix = (options.name ?? "pixels").replace(/[^\w.-]+/g, "_");
  return join(dir, `${prefix}-${size.height}x${size.width}-${paths.length}-${listHash}.bin`);
}

interface Header {
  version: number;
  key: string;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** SHA-256 of the pixel bytes. */
  sha256: string;
}

/**
 * Reads and validates a cache file (key, shape, length and the pixels' SHA-256); returns
 * the pixels or why they cannot be used.
 */
export async function readCacheFile(
  path: string,
  key: string,
  count: number,
  size: ImageSize,
): Promise<{ pixels: Uint8Array } | { reason: string }> {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch {
    return { reason: "no cache file" };
  }
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    return { reason: "not a pixel cache file" };
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  } catch {
    return { reason: "unreadable header" };
  }
  if (header.version !== VERSION) return { reason: `format version ${header.version}` };
  if (header.key !== key) return { reason: "images or size changed" };
  if (header.count !== count || header.height !== size.height || header.width !== size.width) {
    return { reason: "shape differs" };
  }
  const offset = Math.ceil((12 + headerLength) / 8) * 8;
  const expected = count * imageBytes(size);
  if (bytes.length !== offset + expected) {
    return { reason: `truncated (${bytes.length - offset} of ${expected} pixel bytes)` };
  }
  const pixels = bytes.subarray(offset);
  if ((await sha256(pixels)) !== header.sha256) {
    return { reason: "pixel content does not match its hash (the file was changed or corrupted)" };
  }
  return { pixels };
}

/** Writes a cache file atomically (temporary file in the same folder, then rename). */
export async function writeCacheFile(
  path: string,
  key: string,
  size: ImageSize,
  pixels: Uint8Array,
): Promise<void> {
  const count = pixels.length / imageBytes(size);
  const header: Header = {
    version: VERSION,
    key,
    count,
    height: size.height,
    width: size.width,
    channels: 3,
    sha256: await sha256(pixels),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const offset = Math.ceil((12 + json.length) / 8) * 8;
  const head = new Uint8Array(offset);
  head.set(new TextEncoder().encode(MAGIC));
  new DataView(head.buffer).setUint32(8, json.length, true);
  head.set(json, 12);
  writeFileAtomicSync(path, [head, pixels]);
}

/**
 * The decoded pixels of `paths` at `size`: from the cache when it is valid,
 * else decoded (concurrently) and written to the cache.
 */
export async function cachedPixels(
  paths: readonly string[],
  size: ImageSize,
  options: CacheOptions = {},
): Promise<CachedPixels> {
  const path = cachePath(paths, size, options);
  const key = await cacheKey(paths, size);
  const read = await readCacheFile(path, key, paths.length, size);
  if ("pixels" in read) return { pixels: read.pixels, count: paths.length, size, hit: true, path };
  const pixels = await decodeImages(paths, size, options);
  await writeCacheFile(path, key, size, pixels);
  return { pixels, count: paths.length, size, hit: false, missReason: read.reason, path };
}
