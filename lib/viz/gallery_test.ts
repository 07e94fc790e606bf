import assert from "node:assert/strict";
import sharp from "sharp";
import { attributeQuery, market1501 } from "../eval/protocols.ts";
import type { EvalItem } from "../eval/protocols.ts";
import {
  attributeWords,
  galleryLayout,
  type GalleryOptions,
  isExcluded,
  itemX,
  MATCH_COLOR,
  MISMATCH_COLOR,
  rankedGallery,
} from "./gallery.ts";

/** A solid-colour image whose red channel encodes the gallery index (decoded pixels). */
function solid(index: number, w = 16, h = 32) {
  const pixels = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) pixels.set([20 + index * 30, 100, 200], p * 3);
  return { pixels, width: w, height: h };
}

/** Colours match within 4 levels per channel (the PNG is a 128-colour palette). */
function assertColor(
  actual: { r: number; g: number; b: number },
  expected: { r: number; g: number; b: number },
  message = "",
) {
  const off = Math.max(
    Math.abs(actual.r - expected.r),
    Math.abs(actual.g - expected.g),
    Math.abs(actual.b - expected.b),
  );
  assert.ok(off <= 4, `${message}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`);
}

async function pixelAt(png: Uint8Array, x: number, y: number) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const o = (y * info.width + x) * info.channels;
  return { r: data[o], g: data[o + 1], b: data[o + 2] };
}

// Query 0: id 1, camera 1. Gallery by distance: g3 junk (-1), g0 same id + camera
// (both ignored by Market-1501), then g1 wrong, g2 the true match, g4 wrong.
const query: EvalItem[] = [{ pid: 1, camid: 1 }, { pid: 7, camid: 2 }];
const gallery: EvalItem[] = [
  { pid: 1, camid: 1 },
  { pid: 2, camid: 2 },
  { pid: 1, camid: 2 },
  { pid: -1, camid: 3 },
  { pid: 3, camid: 1 },
];
const dist = {
  rows: 2,
  cols: 5,
  data: new Float32Array([
    0.1,
    0.2,
    0.3,
    0.05,
    0.4,
    // query 1 (id 7) has no match in the gallery
    0.5,
    0.4,
    0.3,
    0.2,
    0.1,
  ]),
};

function options(extra: Partial<GalleryOptions> = {}): GalleryOptions {
  return {
    dist,
    query,
    gallery,
    rows: [0, 1],
    k: 3,
    protocol: market1501(),
    queryImage: () => solid(7),
    galleryImage: (g) => solid(g),
    ...extra,
  };
}

Deno.test("rankedGallery skips what Market-1501 ignores and colours borders by match", async () => {
  const result = await rankedGallery(options());
  const [row0, row1] = result.rows;
  assert.deepEqual(row0.items.map((i) => i.galleryIndex), [1, 2, 4]);
  assert.deepEqual(row0.items.map((i) => i.match), [false, true, false]);
  assert.deepEqual(row0.items.map((i) => i.rank), [1, 2, 3]);
  assert.equal(row0.excluded, 2);
  assert.equal(row0.valid, true);
  assert.deepEqual(row1.items.map((i) => i.galleryIndex), [4, 2, 1], "junk g3 skipped");
  assert.equal(row1.valid, false, "no true match left: the query does not count in the metrics");

  const L = galleryLayout(options());
  const meta = await sharp(result.png).metadata();
  assert.equal(meta.format, "png");
  assert.equal(meta.width, result.width);
  for (
    const [j, expected] of [[0, MISMATCH_COLOR], [1, MATCH_COLOR], [2, MISMATCH_COLOR]] as const
  ) {
    const x = itemX(L, j);
    const border = await pixelAt(result.png, x + 1, L.top + L.tileHeight / 2);
    assertColor(border, expected, `border of item ${j}`);
    // The tile inside the border is the gallery image that ranked there.
    const inside = await pixelAt(result.png, x + L.border + L.tileWidth / 2, L.top + 20);
    assert.ok(
      Math.abs(inside.r - (20 + row0.items[j].galleryIndex * 30)) <= 4,
      `image of item ${j}`,
    );
  }
  assert.equal(result.bundle["text/plain"], "[ranked gallery, top-3]\nq0: ✗✓✗\nq1: ✗✗✗");
  assert.equal(typeof result.bundle["image/png"], "string");
});

Deno.test("rankedGallery follows a custom exclusion and match rule", async () => {
  const result = await rankedGallery(options({
    rows: [0],
    k: 2,
    protocol: undefined,
    exclude: (_q, g) => g === 1,
    isMatch: (_q, g) => g === 3,
  }));
  assert.deepEqual(result.rows[0].items.map((i) => [i.galleryIndex, i.match]), [[3, true], [
    0,
    false,
  ]]);
});

Deno.test("attribute queries: the attributes are written out, matches by category", async () => {
  const names = ["male", "backpack", "hat", "upper red"];
  const q: EvalItem[] = [{ pid: -1, camid: 0, attributes: [1, 0, 0, 1] }];
  const g: EvalItem[] = [
    { pid: 5, camid: 1, attributes: [1, 0, 0, 1] },
    { pid: 6, camid: 2, attributes: [1, 1, 0, 1] },
  ];
  assert.deepEqual(attributeWords(q[0], names), ["male", "upper red"]);
  const opts: GalleryOptions = {
    dist: { rows: 1, cols: 2, data: new Float32Array([0.9, 0.1]) },
    query: q,
    gallery: g,
    rows: [0],
    k: 2,
    protocol: attributeQuery(),
    attributeNames: names,
    queryImage: () => null,
    galleryImage: (i) => solid(i),
  };
  const result = await rankedGallery(opts);
  assert.deepEqual(result.rows[0].items.map((i) => i.match), [false, true]);
  // Text was drawn in the query box: dark pixels inside its light background.
  const L = galleryLayout(opts);
  const { data, info } = await sharp(result.png).extract({
    left: L.left + L.border,
    top: L.top + L.border,
    width: L.queryWidth,
    height: 30,
  }).raw().toBuffer({ resolveWithObject: true });
  let dark = 0;
  for (let p = 0; p < info.width * info.height; p++) if (data[p * info.channels] < 120) dark++;
  assert.ok(dark > 20, `expected text pixels in the query box, found ${dark}`);
});

Deno.test("isExcluded and input checks", async () => {
  const market = market1501();
  assert.equal(isExcluded(market, query[0], gallery[0]), true);
  assert.equal(isExcluded(market, query[0], gallery[2]), false);
  assert.equal(isExcluded(market, query[0], gallery[3]), true, "junk id -1");
  await assert.rejects(
    () => rankedGallery(options({ dist: { rows: 1, cols: 5, data: new Float32Array(5) } })),
    /1 × 5, expected 2 queries × 5 gallery items/,
  );
  await assert.rejects(
    () =>
      rankedGallery(
        options({ galleryImage: () => ({ pixels: new Uint8Array(3), width: 2, height: 2 }) }),
      ),
    /3 pixel bytes/,
  );
});

Deno.test("rankedGallery shows a missed first true match after the top k, as an RGB palette PNG", async () => {
  // k = 1: query 0's top item is g1 (wrong); its first true match g2 ranks 2nd.
  const result = await rankedGallery(
    options({ k: 1, queryHeading: "IR query", galleryHeading: "RGB gallery" }),
  );
  const [row0, row1] = result.rows;
  assert.deepEqual(row0.items.map((i) => i.galleryIndex), [1]);
  assert.deepEqual(row0.firstMatch, {
    galleryIndex: 2,
    rank: 2,
    distance: dist.data[2],
    match: true,
  });
  assert.equal(row1.firstMatch, undefined, "no true match at all: nothing to show");
  const L = galleryLayout(options({ k: 1 }));
  assert.ok(result.width > itemX(L, 1) + L.left, "room for the extra slot");
  // The extra slot's border is green, to the right of the top-1 slot.
  const firstX = itemX(L, 1) + Math.round(L.tileWidth / 2);
  assertColor(await pixelAt(result.png, firstX + 1, L.top + 1), MATCH_COLOR, "first match");
  assert.match(String(result.bundle["text/plain"]), /first true match at rank 2/);
  assert.equal(result.png[25], 3, "indexed colour (no alpha)");
  const none = await rankedGallery(options({ k: 1, showFirstMatch: false }));
  assert.equal(none.width, itemX(L, 1) + L.left);
});
