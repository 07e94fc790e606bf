import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../runtime/backend.ts";
import { countParams } from "../init.ts";
import { smallResNet } from "./small_resnet.ts";

await initBackend({ announce: false });

/** Conv kernel sizes of the default architecture, worked out from the table in the TSDoc. */
function expectedDefaultParams(): { trainable: number; all: number } {
  const widths = [16, 32, 64, 128];
  let conv = 3 * 3 * 3 * 16; // stem
  let bnChannels = 16;
  let cin = 16;
  for (const w of widths) {
    conv += 9 * cin * w + 9 * w * w;
    bnChannels += 2 * w;
    if (cin !== w) {
      conv += cin * w;
      bnChannels += w;
    }
    cin = w;
  }
  return { trainable: conv + 2 * bnChannels, all: conv + 4 * bnChannels };
}

Deno.test("smallResNet: default shapes and parameter count", () => {
  const model = smallResNet({ seed: 1 });
  const expected = expectedDefaultParams();
  assert.equal(countParams(model, "trainable"), expected.trainable);
  assert.equal(countParams(model), expected.all);
  assert.equal(expected.trainable, 307_536);
  const y = tf.tidy(() => model.predict(tf.zeros([2, 64, 32, 3])) as tf.Tensor);
  assert.deepEqual(y.shape, [2, 128]);
  y.dispose();
  model.dispose();
});

Deno.test("smallResNet: feature map without pooling is 8×4", () => {
  const model = smallResNet({ seed: 1, pooling: "none", widths: [8, 8, 8, 8] });
  assert.deepEqual(model.outputs[0].shape, [null, 8, 4, 8]);
  model.dispose();
});

Deno.test("smallResNet: same seed gives identical weights, another seed differs", async () => {
  const options = { widths: [4, 8], blocksPerStage: [1, 2] };
  const a = smallResNet({ ...options, seed: 7 });
  const b = smallResNet({ ...options, seed: 7 });
  const c = smallResNet({ ...options, seed: 8 });
  const names = a.weights.map((w) => w.originalName);
  assert.deepEqual(b.weights.map((w) => w.originalName), names);
  let differing = 0;
  for (const [i, w] of a.weights.entries()) {
    const va = await w.read().data();
    assert.deepEqual(await b.weights[i].read().data(), va, `weight ${w.name} differs for one seed`);
    const vc = await c.weights[i].read().data();
    if (va.some((v, j) => v !== vc[j])) differing++;
  }
  const kernels = a.weights.filter((w) => w.originalName.endsWith("kernel")).length;
  assert.equal(differing, kernels, "every conv kernel should change with the seed");
  for (const m of [a, b, c]) m.dispose();
});
