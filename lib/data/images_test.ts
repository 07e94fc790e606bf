import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../runtime/backend.ts";
import { Rng } from "../runtime/random.ts";
import { augmentBatch, flipHorizontal, padCrop, randomErase } from "./augment.ts";
import { decodeBmp, encodeBmp } from "./bmp.ts";
import { cachedPixels, cachePath } from "./cache.ts";
import {
  channelStatistics,
  decodeImage,
  decodeImages,
  gatherToTensor,
  IMAGENET_NORMALIZATION,
  pixelsToFloat,
} from "./images.ts";
import { tinyPixels, withTempDir, writeTinyImage } from "./testing.ts";

await initBackend({ announce: false, backend: "cpu" });

const SIZE = { height: 16, width: 8 };

Deno.test("bmp: encode → decode round-trips exactly", () => {
  const data = tinyPixels(5, 3, 9);
  const back = decodeBmp(encodeBmp({ width: 5, height: 3, data }));
  assert.deepEqual([back.width, back.height], [5, 3]);
  assert.deepEqual(back.data, data);
  assert.throws(() => decodeBmp(new Uint8Array(60), "x.bmp"), /x\.bmp: unsupported or corrupt BMP/);
});

Deno.test("decodeImage: png/bmp exact at native size, jpg close; resize; corrupt file named", async () => {
  await withTempDir(async (dir) => {
    for (const ext of ["png", "bmp", "jpg"]) await writeTinyImage(join(dir, `a.${ext}`), 4, 8, 16);
    const exact = tinyPixels(8, 16, 4);
    assert.deepEqual(await decodeImage(join(dir, "a.png"), SIZE), exact);
    assert.deepEqual(await decodeImage(join(dir, "a.bmp"), SIZE), exact);
    const jpg = await decodeImage(join(dir, "a.jpg"), SIZE);
    // JPEG is lossy on this busy pattern: compare channel means, not pixels.
    const means = (px: Uint8Array) => channelStatistics(px).mean;
    means(jpg).forEach((m, c) => assert.ok(Math.abs(m - means(exact)[c]) < 0.02, `channel ${c}`));
    assert.equal(
      (await decodeImage(join(dir, "a.png"), { height: 32, width: 16 })).length,
      32 * 16 * 3,
    );
    await Deno.writeFile(join(dir, "bad.jpg"), new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]));
    await assert.rejects(decodeImage(join(dir, "bad.jpg"), SIZE), /cannot decode image .*bad\.jpg/);
    await assert.rejects(
      decodeImages([join(dir, "a.png"), join(dir, "missing.png")], SIZE),
      /missing\.png/,
    );
  });
});

Deno.test("pixelsToFloat / gatherToTensor normalise per channel, NHWC", async () => {
  const pixels = new Uint8Array([0, 128, 255, 255, 255, 255]);
  const size = { height: 1, width: 1 };
  assert.deepEqual([...pixelsToFloat(pixels, size, 1, 1)], [1, 1, 1]);
  const n = pixelsToFloat(pixels, size, 0, 1, IMAGENET_NORMALIZATION);
  assert.ok(Math.abs(n[0] - (0 - 0.485) / 0.229) < 1e-5);
  assert.ok(Math.abs(n[2] - (1 - 0.406) / 0.225) < 1e-5);
  const before = tf.memory().numTensors;
  const t = gatherToTensor(pixels, size, [1, 0, 1]);
  assert.deepEqual(t.shape, [3, 1, 1, 3]);
  assert.deepEqual([...await t.data()].slice(0, 6), [1, 1, 1, 0, Math.fround(128 / 255), 1]);
  t.dispose();
  assert.equal(tf.memory().numTensors, before);
  const stats = channelStatistics(pixels);
  assert.ok(Math.abs(stats.mean[0] - 0.5) < 1e-9 && Math.abs(stats.std[0] - 0.5) < 1e-9);
});

Deno.test("augment: flip is an involution, pad-crop shifts, erasing fills; same seed same batch", () => {
  const img = tinyPixels(8, 16, 3);
  const flipped = img.slice();
  flipHorizontal(flipped, SIZE);
  assert.deepEqual(flipped.subarray(7 * 3, 8 * 3), img.subarray(0, 3));
  flipHorizontal(flipped, SIZE);
  assert.deepEqual(flipped, img);

  const shifted = img.slice();
  padCrop(shifted, SIZE, 3, new Rng(1));
  const zeros = shifted.filter((v) => v === 0).length;
  assert.notDeepEqual(shifted, img);
  assert.ok(zeros >= 3 * Math.min(8, 16), "padding shows up as zero rows/columns");

  const erased = img.slice();
  assert.equal(randomErase(erased, SIZE, new Rng(2), { probability: 1 }), true);
  const fill = IMAGENET_NORMALIZATION.mean.map((m) => Math.round(m * 255));
  let filled = 0;
  for (let i = 0; i < erased.length; i += 3) {
    if (erased[i] === fill[0] && erased[i + 1] === fill[1] && erased[i + 2] === fill[2]) filled++;
  }
  assert.ok(
    filled >= Math.round(0.02 * 128) && filled <= Math.round(0.4 * 128) + 16,
    `erased ${filled}`,
  );
  assert.equal(randomErase(img.slice(), SIZE, new Rng(2), { probability: 0 }), false);

  const batch = new Uint8Array([
    ...tinyPixels(8, 16, 1),
    ...tinyPixels(8, 16, 2),
    ...tinyPixels(8, 16, 3),
  ]);
  const config = { flip: 0.5, padCrop: 2, erasing: { probability: 0.5 } };
  const a = augmentBatch(batch, SIZE, config, new Rng(5));
  const b = augmentBatch(batch, SIZE, config, new Rng(5));
  const c = augmentBatch(batch, SIZE, config, new Rng(6));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual(batch.subarray(0, 384), tinyPixels(8, 16, 1), "input left unchanged");
});

Deno.test("cache: miss then hit with identical pixels; invalidated by change, size, order; atomic", async () => {
  await withTempDir(async (dir) => {
    const paths = [0, 1, 2, 3, 4].map((i) => join(dir, `img${i}.png`));
    for (const [i, p] of paths.entries()) await writeTinyImage(p, i + 1, 8, 16);
    const options = { cacheDir: join(dir, "cache"), name: "tiny/train" };
    const first = await cachedPixels(paths, SIZE, options);
    assert.equal(first.hit, false);
    assert.equal(first.missReason, "no cache file");
    const second = await cachedPixels(paths, SIZE, options);
    assert.equal(second.hit, true);
    assert.deepEqual(second.pixels, first.pixels);
    assert.deepEqual(second.pixels, await decodeImages(paths, SIZE));
    assert.deepEqual([...Deno.readDirSync(options.cacheDir)].map((e) => e.name), [
      cachePath(paths, SIZE, options).split("/").pop(),
    ]);

    const reordered = await cachedPixels([...paths].reverse(), SIZE, options);
    assert.equal(reordered.hit, false);
    const smaller = await cachedPixels(paths, { height: 8, width: 4 }, options);
    assert.equal(smaller.hit, false);

    await writeTinyImage(paths[2], 42, 8, 20); // another size on disk → other byte count
    const changed = await cachedPixels(paths, SIZE, options);
    assert.equal(changed.hit, false);
    assert.equal(changed.missReason, "images or size changed");
    assert.notDeepEqual(changed.pixels, first.pixels);
    assert.equal((await cachedPixels(paths, SIZE, options)).hit, true);

    const file = cachePath(paths, SIZE, options);
    const bytes = await Deno.readFile(file);
    await Deno.writeFile(file, bytes.subarray(0, bytes.length - 10));
    const truncated = await cachedPixels(paths, SIZE, options);
    assert.equal(truncated.hit, false);
    assert.match(truncated.missReason!, /truncated/);
    assert.ok([...Deno.readDirSync(options.cacheDir)].every((e) => !e.name.endsWith(".tmp")));
  });
});
