import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { resolveConfig } from "../../experiments/config.ts";
import { initBackend } from "../../runtime/backend.ts";
import { Rng } from "../../runtime/random.ts";
import { CPU_PRETRAIN, type PretrainConfig } from "./config.ts";
import { buildNetworks, disposeNetworks } from "./model.ts";
import { ensurePretrained, grayscaleInPlace, pretrainBackbone, pretrainDir } from "./pretrain.ts";
import { withPretrainedWeights } from "./pretrain.ts";
import { spec } from "./spec.ts";

await initBackend({ announce: false });

/** A tiny recipe: the tiny Market-like world, 16×8 inputs, two conv blocks, 3 steps. */
function tinyRecipe(dir: string): PretrainConfig {
  return {
    ...CPU_PRETRAIN,
    sources: ["market1501"],
    root: join(dir, "data"),
    tiny: true,
    out: join(dir, "out"),
    height: 16,
    width: 8,
    widths: [4, 6],
    steps: 3,
    batch: 4,
  };
}

const weightsOf = (model: tf.LayersModel) =>
  Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));

Deno.test("grayscaleInPlace: p = 1 turns every pixel to its luma, p = 0 changes nothing", () => {
  const size = { height: 1, width: 2 };
  const pixels = Uint8Array.from([255, 0, 0, 10, 200, 30]);
  const copy = pixels.slice();
  grayscaleInPlace(copy, size, 0, new Rng(0));
  assert.deepEqual(copy, pixels);
  grayscaleInPlace(copy, size, 1, new Rng(0));
  const red = Math.round(0.299 * 255);
  const green = Math.round(0.299 * 10 + 0.587 * 200 + 0.114 * 30);
  assert.deepEqual([...copy], [red, red, red, green, green, green]);
});

Deno.test("pretraining is seeded, frees its tensors, and is saved once then reused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cmgan_pretrain_" });
  try {
    const recipe = tinyRecipe(dir);
    const before = tf.memory().numTensors;
    const a = await pretrainBackbone(recipe, () => {});
    const b = await pretrainBackbone(recipe, () => {});
    assert.deepEqual(
      await weightsOf(a.generator),
      await weightsOf(b.generator),
      "same seed, same weights",
    );
    assert.equal(a.report.classes, 16);
    assert.ok(Number.isFinite(a.report.lossEnd));
    b.generator.dispose();
    const c = await pretrainBackbone({ ...recipe, seed: 1 }, () => {});
    assert.notDeepEqual(await weightsOf(c.generator), await weightsOf(a.generator));
    c.generator.dispose();
    const expected = await weightsOf(a.generator);
    a.generator.dispose();
    assert.equal(tf.memory().numTensors, before, "pretraining leaves no tensor behind");

    const path = await ensurePretrained(recipe, () => {});
    assert.equal(path, join(await pretrainDir(recipe), "model.json"));
    const written = (await Deno.stat(path)).mtime;
    assert.equal(await ensurePretrained(recipe, () => {}), path);
    assert.deepEqual((await Deno.stat(path)).mtime, written, "a finished copy is reused");
    // The output folder is not part of the recipe's name; every other field is.
    assert.equal(
      await pretrainDir({ ...recipe, out: join(dir, "elsewhere") }),
      join(dir, "elsewhere", (await pretrainDir(recipe)).split("/").pop()!),
    );
    assert.notEqual(await pretrainDir({ ...recipe, steps: 4 }), await pretrainDir(recipe));

    // A cmGAN cell with the recipe starts from exactly the saved weights.
    const { config } = await resolveConfig(spec, "cpu", "full", { quick: true });
    config.data.height = 16;
    config.data.width = 8;
    config.model.widths = [4, 6];
    config.model.pretrain = recipe;
    const resolved = await withPretrainedWeights(config);
    assert.equal(resolved.model.pretrained, path);
    const nets = await buildNetworks(resolved, 3, new Rng(5));
    try {
      assert.deepEqual(await weightsOf(nets.generator), expected);
    } finally {
      disposeNetworks(nets);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withPretrainedWeights refuses a recipe with other widths, or a recipe and a file", async () => {
  const { config } = await resolveConfig(spec, "cpu", "full", { quick: true });
  await assert.rejects(
    withPretrainedWeights({ ...config, model: { ...config.model, widths: [8, 8] } }),
    /model\.pretrain\.widths \[16,32,64,128\] differ from model\.widths \[8,8\]/,
  );
  await assert.rejects(
    withPretrainedWeights({ ...config, model: { ...config.model, pretrained: "w/model.json" } }),
    /model\.pretrained \(w\/model\.json\) and model\.pretrain are both set/,
  );
  const none = { ...config, model: { ...config.model, pretrain: null } };
  assert.equal(await withPretrainedWeights(none), none);
});
