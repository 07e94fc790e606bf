import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../runtime/backend.ts";
import { readScalar } from "../runtime/testing.ts";
import { smallResNet, smallResNetStages } from "./backbones/small_resnet.ts";
import { twoStream } from "./backbones/two_stream.ts";
import { fileSystemIO, fromPretrained, loadWeightsStrict, MODEL_JSON, WEIGHTS_BIN } from "./io.ts";
import { mlp } from "./mlp.ts";

await initBackend({ announce: false });

const tiny = (seed: number, name = "net", units = [5, 3]) =>
  mlp({ name, inputDims: [4], units, batchNorm: true, seed });

function values(model: tf.LayersModel): Promise<number[][]> {
  return Promise.all(model.weights.map(async (w) => Array.from(await w.read().data())));
}

async function withTempDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "reid_nn_io_" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("fileSystemIO: save writes model.json + weights.bin; load round-trips", async () => {
  await withTempDir(async (dir) => {
    const a = tiny(1);
    await a.save(fileSystemIO(`${dir}/a`));
    const files = [...Deno.readDirSync(`${dir}/a`)].map((e) => e.name).sort();
    assert.deepEqual(files, [MODEL_JSON, WEIGHTS_BIN].sort());
    // Full model (topology + weights) through tfjs' own loader.
    const loaded = await tf.loadLayersModel(fileSystemIO(`${dir}/a`));
    assert.deepEqual(await values(loaded), await values(a));
    // Weights only, into a model built from code with another seed.
    const b = tiny(2);
    assert.notDeepEqual(await values(b), await values(a));
    await loadWeightsStrict(b, `${dir}/a/model.json`);
    assert.deepEqual(await values(b), await values(a));
    // A directory path works as well.
    const c = tiny(3);
    await loadWeightsStrict(c, `${dir}/a`);
    assert.deepEqual(await values(c), await values(a));
    for (const m of [a, loaded, b, c]) m.dispose();
  });
});

Deno.test("loadWeightsStrict: missing, unused and mis-shaped weights fail, naming file and weight", async () => {
  await withTempDir(async (dir) => {
    const saved = tiny(1);
    await saved.save(fileSystemIO(`${dir}/m`));
    const file = `${dir}/m/model.json`;
    // The model has a layer the file lacks → missing weights.
    const deeper = tiny(1, "net", [5, 5, 3]);
    await assert.rejects(
      () => loadWeightsStrict(deeper, file),
      (e: Error) =>
        e.message.startsWith(file) && e.message.includes('missing weight "net_fc3/kernel"'),
    );
    // The file has a layer the model lacks → unused weights.
    const shallow = mlp({ name: "net", inputDims: [4], units: [3], seed: 1 });
    await assert.rejects(
      () => loadWeightsStrict(shallow, file),
      (e: Error) =>
        e.message.includes('unused weight "net_fc2/kernel"') && e.message.includes(file),
    );
    // Same names, other widths → shape mismatch.
    const wider = tiny(1, "net", [6, 3]);
    const before = await values(wider);
    await assert.rejects(
      () => loadWeightsStrict(wider, file),
      /weight "net_fc1\/kernel" has shape \[4,5\] in the file but \[4,6\] in the model/,
    );
    // fc2's kernel matches in shape, but a failed load writes nothing.
    assert.deepEqual(await values(wider), before, "a failed load must not write any weight");
    // A rename makes a prefixed model load the same file.
    const renamed = tiny(9, "other");
    await loadWeightsStrict(renamed, file, { rename: (n) => n.replace(/^net_/, "other_") });
    assert.deepEqual(await values(renamed), await values(saved));
    for (const m of [saved, deeper, shallow, wider, renamed]) m.dispose();
  });
});

Deno.test("fromPretrained: local files only, never downloads; Keras .h5 must be converted", async () => {
  await assert.rejects(
    () => fromPretrained("https://example.org/model.json", () => tiny(1)),
    /nothing is ever downloaded/,
  );
  await assert.rejects(
    () => fromPretrained("/no/such/dir/model.json", () => tiny(1)),
    /no such file/,
  );
  await assert.rejects(() => fromPretrained("weights.h5", () => tiny(1)), /tensorflowjs_converter/);
  await withTempDir(async (dir) => {
    const saved = tiny(4);
    await saved.save(fileSystemIO(dir));
    const model = await fromPretrained(dir, () => tiny(5));
    assert.deepEqual(await values(model), await values(saved));
    // A missing weight file named in the manifest is reported.
    await Deno.remove(`${dir}/${WEIGHTS_BIN}`);
    await assert.rejects(
      () => fromPretrained(dir, () => tiny(5)),
      /weights\.bin listed in weightsManifest is missing/,
    );
    saved.dispose();
    model.dispose();
  });
});

Deno.test("fileSystemIO: a two-stream backbone (custom batch-concat layer) round-trips", async () => {
  await withTempDir(async (dir) => {
    const model = twoStream(smallResNetStages({ inputShape: [8, 4, 3], widths: [2, 4] }), {
      sharedFrom: 1,
      seed: 1,
      name: "ts",
    });
    await model.save(fileSystemIO(dir));
    const loaded = await tf.loadLayersModel(fileSystemIO(dir));
    const gap = await readScalar(() => {
      const x = tf.randomUniform([2, 8, 4, 3], 0, 1, "float32", 7);
      const a = model.predict([x, x.reverse(0)]) as tf.Tensor;
      const b = loaded.predict([x, x.reverse(0)]) as tf.Tensor;
      return a.sub(b).abs().max();
    });
    assert.ok(gap < 1e-6, `reloaded model differs by ${gap}`);
    // And the one-stream small ResNet loads strictly into a fresh copy.
    const one = smallResNet({ inputShape: [8, 4, 3], widths: [2, 4], seed: 1 });
    await one.save(fileSystemIO(`${dir}/one`));
    const copy = smallResNet({ inputShape: [8, 4, 3], widths: [2, 4], seed: 2 });
    await loadWeightsStrict(copy, `${dir}/one`);
    assert.deepEqual(await values(copy), await values(one));
    for (const m of [model, loaded, one, copy]) m.dispose();
  });
});
