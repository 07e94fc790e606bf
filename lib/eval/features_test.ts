import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { SYMMETRIC_NORMALIZATION } from "../data/images.ts";
import type { ReidSplit } from "../data/split.ts";
import { initBackend } from "../runtime/backend.ts";
import { extractFeatures, pixelFeatures } from "./features.ts";

await initBackend({ announce: false });

/** A split of `n` 2×1 images whose pixels are distinct small numbers. */
function toySplit(n: number): ReidSplit {
  const size = { height: 2, width: 1 };
  const pixels = Uint8Array.from({ length: n * 6 }, (_, i) => (i * 37) % 251);
  const indices = Array.from({ length: n }, (_, i) => i);
  return {
    name: "toy",
    dataset: { name: "toy", root: "/nowhere", images: [] } as unknown as ReidSplit["dataset"],
    indices,
    rowOf: new Map(indices.map((i) => [i, i])),
    pixels,
    size,
    items: indices.map((i) => ({ pid: i, camid: 1 })),
    labels: Int32Array.from(indices),
    numClasses: n,
  };
}

/** Each image's top and bottom pixel, red and green channels: a 4-d "embedding". */
const embed = (x: tf.Tensor4D) =>
  x.slice([0, 0, 0, 0], [-1, -1, -1, 2]).reshape([x.shape[0], 4]) as tf.Tensor2D;

Deno.test("extractFeatures: rows in order whatever the batch size; flip, L2 norm; no leak", async () => {
  const split = toySplit(7);
  const before = tf.memory().numTensors;
  const options = { normalization: SYMMETRIC_NORMALIZATION };
  const a = await extractFeatures(embed, split, options);
  const b = await extractFeatures(embed, split, { ...options, batchSize: 3 });
  assert.deepEqual([a.rows, a.cols], [7, 4]);
  assert.deepEqual(a.data, b.data);
  // Row 0, top pixel, red: 0 → (0/255 − 0.5)/0.5 = −1.
  assert.ok(Math.abs(a.data[0] + 1) < 1e-6);
  // Mirroring a one-pixel-wide image changes nothing.
  const flipped = await extractFeatures(embed, split, { ...options, flip: true });
  assert.deepEqual(flipped.data, a.data);
  const unit = await extractFeatures(embed, split, { ...options, normalize: true });
  for (let r = 0; r < 7; r++) {
    const row = unit.data.subarray(r * 4, r * 4 + 4);
    const norm = Math.hypot(...row);
    assert.ok(Math.abs(norm - 1) < 1e-5, `row ${r} has norm ${norm}`);
    const raw = a.data.subarray(r * 4, r * 4 + 4);
    assert.ok(Math.abs(row[1] * Math.hypot(...raw) - raw[1]) < 1e-5, "same direction");
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("pixelFeatures: the luminance of every pixel in [0, 1]", () => {
  const split = toySplit(2);
  const f = pixelFeatures(split);
  assert.deepEqual([f.rows, f.cols], [2, 2]);
  const [r, g, b] = split.pixels.subarray(3, 6);
  assert.ok(Math.abs(f.data[1] - (0.299 * r + 0.587 * g + 0.114 * b) / 255) < 1e-6);
});
