import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../runtime/backend.ts";
import { readValues } from "../runtime/testing.ts";
import { forward, forwardAll } from "./modes.ts";

await initBackend({ backend: "cpu", announce: false });

async function movingMean(model: tf.LayersModel): Promise<number[]> {
  const w = model.getLayer("bn").getWeights()[2]; // gamma, beta, movingMean, movingVariance
  return [...await w.data()];
}

Deno.test("BN moving statistics update in train mode only", async () => {
  const model = tf.sequential();
  model.add(tf.layers.batchNormalization({ inputShape: [2], momentum: 0.5, name: "bn" }));
  const x = tf.tensor2d([[10, 20], [30, 40]]); // batch mean [20, 30]
  assert.deepEqual(await movingMean(model), [0, 0]);
  const evalOut = forward(model, x, "eval");
  assert.deepEqual(await movingMean(model), [0, 0], "eval mode changed the moving mean");
  // eval normalises with the moving stats (mean 0, var 1): output ≈ input
  assert.ok(Math.abs((await evalOut.data())[0] - 10 / Math.sqrt(1 + 1e-3)) < 1e-3);
  model.predict(x);
  assert.deepEqual(await movingMean(model), [0, 0], "predict changed the moving mean");
  const trainOut = forward(model, x, "train");
  assert.deepEqual(
    await movingMean(model),
    [10, 15],
    "train mode should move the mean halfway (momentum 0.5)",
  );
  // train mode normalises with the batch statistics: each column has mean 0
  const cols = await readValues(() => tf.mean(trainOut, 0));
  assert.ok(Math.abs(cols[0]) < 1e-4 && Math.abs(cols[1]) < 1e-4);
  assert.equal(forwardAll(model, x, "eval").length, 1);
  assert.throws(() => forward(model, x, "training" as never), /mode must be/);
  tf.dispose([x, evalOut, trainOut]);
  model.dispose();
});
