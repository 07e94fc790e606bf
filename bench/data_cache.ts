/**
 * Measures the image pipeline on N small JPEGs (default 10,000 at 128×64,
 * decoded to 64×32): decode with one decode in flight, decode with a pool,
 * then the cached load (cache key with a stat of every file, plus one read).
 *
 *   deno run -A bench/data_cache.ts [--images 10000] [--concurrency 8]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import sharp from "sharp";
import { cachedPixels } from "../lib/data/cache.ts";
import { decodeImages } from "../lib/data/images.ts";
import { tinyPixels } from "../lib/data/testing.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    images: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "8" },
  },
});
const n = Number(values.images);
const concurrency = Number(values.concurrency);
const size = { height: 64, width: 32 };
const dir = await Deno.makeTempDir({ prefix: "reid-cache-bench-" });
try {
  const variants = await Promise.all(
    Array.from(
      { length: 16 },
      (_, i) =>
        sharp(tinyPixels(64, 128, i + 1), { raw: { width: 64, height: 128, channels: 3 } })
          .jpeg({ quality: 90 }).toBuffer(),
    ),
  );
  const paths = Array.from({ length: n }, (_, i) => join(dir, `${String(i).padStart(5, "0")}.jpg`));
  paths.forEach((p, i) => Deno.writeFileSync(p, variants[i % variants.length]));
  const time = async (label: string, run: () => Promise<unknown>) => {
    const t0 = performance.now();
    await run();
    const ms = performance.now() - t0;
    console.log(
      `${label.padEnd(38)} ${(ms / 1000).toFixed(3)} s  (${(n / (ms / 1000)).toFixed(0)} img/s)`,
    );
    return ms;
  };
  const sample = paths.slice(0, Math.min(n, 2000));
  const t0 = performance.now();
  await decodeImages(sample, size, { concurrency: 1 });
  const serial = (performance.now() - t0) / sample.length;
  console.log(
    `decode, 1 in flight (first ${sample.length})   ${
      (serial * n / 1000).toFixed(3)
    } s for ${n} (extrapolated)`,
  );
  const cacheDir = join(dir, "cache");
  const decodeMs = await time(
    `decode + write cache, ${concurrency} in flight`,
    () => cachedPixels(paths, size, { cacheDir, concurrency }),
  );
  const loadMs = await time("cached load (stat + key + read)", async () => {
    const result = await cachedPixels(paths, size, { cacheDir });
    if (!result.hit) throw new Error("expected a cache hit");
  });
  console.log(`speed-up of the cached load: ${(decodeMs / loadMs).toFixed(0)}×`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
