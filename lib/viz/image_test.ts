import assert from "node:assert/strict";
import sharp from "sharp";
import { DISPLAY_METADATA } from "../runtime/display.ts";
import { pageImage, pagePng } from "./image.ts";

Deno.test("pagePng: at most the page width, palette, no alpha; pageImage asks for its width", async () => {
  // A noisy RGBA picture 1600 px wide, as a contact sheet might be.
  const w = 1600, h = 200;
  const pixels = new Uint8Array(w * h * 4);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919) % 251;
  const input = await sharp(pixels, { raw: { width: w, height: h, channels: 4 } }).png().toBuffer();
  const png = await pagePng(new Uint8Array(input), 720, 1.5);
  const meta = await sharp(png).metadata();
  assert.equal(meta.width, 1080);
  assert.equal(meta.hasAlpha, false);
  assert.equal(png[25], 3, "indexed colour");
  const captioned = await sharp(await pagePng(new Uint8Array(input), 400, 1, "left: RGB"))
    .metadata();
  assert.equal(captioned.width, 400);
  assert.equal(captioned.height, 50 + 17 + 5, "the caption strip sits above the picture");
  const long = "left half: visible light · right half: thermal infrared";
  const wrapped = await sharp(await pagePng(new Uint8Array(input), 200, 1, long)).metadata();
  assert.equal(wrapped.height, 25 + 2 * 17 + 5, "a long caption wraps to the picture's width");
  const bundle = await pageImage(new Uint8Array(input), { alt: "sheet", width: 400 });
  assert.equal(bundle["text/plain"], "sheet");
  assert.deepEqual((bundle as unknown as Record<symbol, unknown>)[DISPLAY_METADATA], {
    "image/png": { width: 400 },
  });
});
