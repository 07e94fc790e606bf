import assert from "node:assert/strict";
import { Rng } from "../runtime/random.ts";
import {
  attributeCategories,
  categoryBatches,
  crossModalBatches,
  identityBatches,
  transferBatches,
} from "./samplers.ts";
import type { Modality, ReidDataset, ReidImage } from "./types.ts";

/** A dataset of `counts[i]` images for identity i+1 (RGB, or alternating RGB/IR). */
function fakeDataset(
  counts: number[],
  crossModal = false,
  attrs?: (pid: number) => number[],
): ReidDataset {
  const images: ReidImage[] = [];
  counts.forEach((n, i) => {
    for (let j = 0; j < n; j++) {
      const modality: Modality = crossModal && j % 2 === 1 ? "ir" : "rgb";
      images.push({
        path: `p${i + 1}_${j}.jpg`,
        pid: i + 1,
        camid: modality === "ir" ? 3 : 1,
        modality,
        split: "train",
        attributes: attrs ? Int8Array.from(attrs(i + 1)) : undefined,
      });
    }
  });
  images.push({ path: "junk.jpg", pid: -1, camid: 1, modality: "rgb", split: "train" });
  images.push({ path: "test.jpg", pid: 99, camid: 1, modality: "rgb", split: "query" });
  return { name: "fake", root: "/", images, attributeNames: [], attributeGroups: {} };
}

Deno.test("identityBatches: P distinct ids × K each, small ids padded, junk excluded, seeded", () => {
  const ds = fakeDataset([9, 2, 5, 4, 1, 8, 6, 3]);
  const batches = identityBatches(ds, { p: 3, k: 4 }, new Rng(1));
  assert.ok(batches.length > 0);
  const used = new Map<number, number>();
  for (const batch of batches) {
    assert.equal(batch.length, 12);
    const pids = batch.map((i) => ds.images[i].pid);
    for (let j = 0; j < 3; j++) {
      const group = pids.slice(j * 4, j * 4 + 4);
      assert.ok(group.every((p) => p === group[0]), "K consecutive images of one id");
    }
    assert.equal(new Set(pids).size, 3, "P distinct ids");
    assert.ok(batch.every((i) => ds.images[i].split === "train" && ds.images[i].pid !== -1));
    for (const i of batch) used.set(i, (used.get(i) ?? 0) + 1);
  }
  const total = batches.length;
  // Chunks available: 2 + 1 + 1 + 1 + 1 + 2 + 1 + 1 = 10 → at most ⌊10 / 3⌋ batches.
  assert.ok(total <= 3 && total >= 2, `${total} batches`);
  const bigOnly = batches.flat().filter((i) => ds.images[i].pid === 1);
  assert.equal(new Set(bigOnly).size, bigOnly.length, "ids with ≥ K images are not repeated");
  assert.deepEqual(identityBatches(ds, { p: 3, k: 4 }, new Rng(1)), batches);
  assert.notDeepEqual(identityBatches(ds, { p: 3, k: 4 }, new Rng(2)), batches);
  assert.throws(() => identityBatches(ds, { p: 20, k: 2 }, new Rng(1)), /at least p=20 groups/);
});

Deno.test("identityBatches: pid 0 is a person outside a gallery (VIPeR numbers from 000)", () => {
  const ds = fakeDataset([2, 2]);
  for (const im of ds.images) if (im.pid === 1) im.pid = 0;
  ds.images.push({ path: "distractor.jpg", pid: 0, camid: 1, modality: "rgb", split: "gallery" });
  const all = ds.images.flatMap((im, i) => (im.split === "query" ? [] : [i]));
  const pids = identityBatches(ds, { p: 2, k: 2 }, new Rng(1), all).flat().map((i) => ds.images[i]);
  assert.ok(pids.some((im) => im.pid === 0 && im.split === "train"));
  assert.ok(pids.every((im) => im.path !== "distractor.jpg" && im.path !== "junk.jpg"));
});

Deno.test("crossModalBatches: P ids, K RGB + K IR of the same ids, balanced over the epoch", () => {
  const ds = fakeDataset([6, 2, 8, 10, 4, 6], true);
  ds.images.push({ path: "rgbonly.jpg", pid: 50, camid: 1, modality: "rgb", split: "train" });
  const batches = crossModalBatches(ds, { p: 2, k: 3 }, new Rng(3));
  assert.equal(batches.length, Math.ceil(Math.max(19, 18) / 6));
  const seen = new Map<number, number>();
  for (const b of batches) {
    assert.equal(new Set(b.pids).size, 2);
    assert.equal(b.rgb.length, 6);
    assert.equal(b.ir.length, 6);
    b.pids.forEach((pid, j) => {
      seen.set(pid, (seen.get(pid) ?? 0) + 1);
      for (const i of b.rgb.slice(j * 3, j * 3 + 3)) {
        assert.deepEqual([ds.images[i].pid, ds.images[i].modality], [pid, "rgb"]);
      }
      for (const i of b.ir.slice(j * 3, j * 3 + 3)) {
        assert.deepEqual([ds.images[i].pid, ds.images[i].modality], [pid, "ir"]);
      }
    });
  }
  assert.ok(!seen.has(50), "an id without IR images is not used");
  const counts = [...seen.values()];
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `balanced: ${counts}`);
  const b0 = crossModalBatches(ds, { p: 2, k: 3, batches: 5 }, new Rng(3));
  assert.equal(b0.length, 5);
  assert.deepEqual(crossModalBatches(ds, { p: 2, k: 3, batches: 5 }, new Rng(3)), b0);
  const bigId = batches.flatMap((b) => b.rgb.filter((i) => ds.images[i].pid === 4));
  for (let j = 0; j < bigId.length; j += 3) assert.equal(new Set(bigId.slice(j, j + 3)).size, 3);
});

Deno.test("categoryBatches: batches of P distinct attribute vectors × K images", () => {
  const vector = (pid: number) => [pid % 2, pid % 3 === 0 ? 1 : 0, 0];
  const ds = fakeDataset([4, 4, 4, 4, 4, 4], false, vector);
  ds.images = ds.images.filter((im) => im.attributes);
  const indices = ds.images.map((_, i) => i);
  const cats = attributeCategories(ds, indices);
  assert.deepEqual(cats.keys.sort(), ["000", "100", "010", "110"].sort());
  const batches = categoryBatches(ds, { p: 3, k: 2 }, new Rng(4), indices);
  assert.ok(batches.length > 0);
  for (const b of batches) {
    const keys = b.map((i) => cats.keys[cats.categoryOf.get(i)!]);
    assert.equal(new Set(keys).size, 3);
    for (let j = 0; j < 6; j += 2) assert.equal(keys[j], keys[j + 1]);
  }
  assert.deepEqual(categoryBatches(ds, { p: 3, k: 2 }, new Rng(4), indices), batches);
  const noAttrs = fakeDataset([2, 2]);
  assert.throws(() => categoryBatches(noAttrs, { p: 1, k: 1 }, new Rng(1)), /has no attributes/);
});

Deno.test("transferBatches: source P×K identity batches with disjoint-in-pass target batches", () => {
  const source = fakeDataset([4, 4, 4, 4, 4, 4]);
  const target = fakeDataset([3, 3, 3, 3, 3]);
  const batches = transferBatches(source, target, { p: 2, k: 2, targetBatch: 5 }, new Rng(9));
  assert.equal(batches.length, 6);
  const targetTrain = target.images.flatMap((im, i) => (im.split === "train" ? [i] : []));
  for (const b of batches) {
    assert.equal(b.source.length, 4);
    assert.equal(b.target.length, 5);
    assert.equal(new Set(b.target).size, 5);
    assert.ok(b.target.every((i) => targetTrain.includes(i)));
  }
  const firstPass = batches.slice(0, 3).flatMap((b) => b.target);
  assert.equal(new Set(firstPass).size, 15, "each target image once per pass");
  assert.deepEqual(
    transferBatches(source, target, { p: 2, k: 2, targetBatch: 5 }, new Rng(9)),
    batches,
  );
});
