import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../runtime/backend.ts";
import { Rng } from "../runtime/random.ts";
import { checkNoLeak } from "../runtime/leak.ts";
import { readValues } from "../runtime/testing.ts";
import { countParams } from "./init.ts";
import { attributeClassifier, bnNeck, classifier, embeddingHead } from "./heads.ts";
import { mlp } from "./mlp.ts";
import { gemPool } from "./ops.ts";
import { attributeBce, crossEntropy } from "./losses/mod.ts";

await initBackend({ announce: false });

/** Trainable parameters of a dense stack: weights + biases (+ BN γ, β after hidden layers). */

Deno.test("heads: BN neck has no shift, bias-free classifier, embedding activations", async () => {
  const neck = bnNeck({ dim: 8 });
  assert.deepEqual(neck.trainableWeights.map((w) => w.originalName.split("/").pop()), ["gamma"]);
  const neckBeta = neck.weights.find((w) => w.originalName.endsWith("/beta"))!;
  const neckRandom = bnNeck({ dim: 8, gammaInit: { normalStd: 0.01 }, seed: 3, name: "neck2" });
  const gamma = await neckRandom.trainableWeights[0].read().data();
  assert.ok(gamma.every((g) => Math.abs(g - 1) < 0.05) && gamma.some((g) => g !== 1));
  const cls = classifier({
    inputDim: 8,
    numClasses: 5,
    useBias: false,
    seed: 1,
    init: { normalStd: 0.001 },
  });
  assert.equal(countParams(cls), 40);
  const att = attributeClassifier({ inputDim: 8, numAttributes: 3, seed: 1 });
  assert.equal(countParams(att), 27);
  const emb = embeddingHead({ inputDim: 8, dim: 4, activation: "bnRelu", seed: 1 });
  assert.equal(countParams(emb, "trainable"), 8 * 4 + 4 + 8);
  const embTanh = embeddingHead({ inputDim: 8, dim: 4, activation: "tanh", seed: 1, name: "e2" });
  const [neckMean, relu, tanh] = await readValues(() => {
    const x = tf.tensor2d(new Rng(2).normalArray(6 * 8, 0, 10), [6, 8]);
    // In training mode the neck standardises each feature over the batch (γ = 1, no shift).
    const n = neck.apply(x, { training: true }) as tf.Tensor;
    return tf.stack([
      n.mean(0).abs().max(),
      (emb.apply(x, { training: true }) as tf.Tensor).min(),
      (embTanh.predict(x.div(10)) as tf.Tensor).abs().max(),
    ]);
  });
  const y = { neckMean, relu, tanh };
  assert.deepEqual(Array.from(await neckBeta.read().data()), new Array(8).fill(0));
  assert.ok(y.neckMean < 1e-4, `BN neck output should have zero batch mean, got ${y.neckMean}`);
  assert.ok(y.relu >= 0);
  assert.ok(y.tanh < 1);
  for (const m of [neck, neckRandom, cls, att, emb, embTanh]) m.dispose();
});

Deno.test("training: an MLP classifier's loss falls, with a flat tensor count", async () => {
  const rng = new Rng(11);
  const net = mlp({
    name: "toy",
    inputDims: [6],
    units: [16, 3],
    batchNorm: true,
    seed: rng.fork("net"),
  });
  const att = attributeClassifier({ inputDim: 6, numAttributes: 2, seed: rng.fork("att") });
  const n = 48;
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  const xs = tf.tensor2d(
    labels.flatMap((l) => Array.from({ length: 6 }, (_, j) => (j === l ? 2 : 0) + rng.normal())),
    [n, 6],
  );
  const attTargets = tf.tensor2d(labels.map((l) => [l === 0 ? 1 : 0, l === 2 ? 1 : 0]));
  const optimizer = tf.train.adam(0.05);
  const vars = [...net.trainableWeights, ...att.trainableWeights].map((w) =>
    w.read() as tf.Variable
  );
  const losses: number[] = [];
  const step = async () => {
    const cost = optimizer.minimize(
      () =>
        tf.tidy(() =>
          crossEntropy(net.apply(xs, { training: true }) as tf.Tensor2D, labels, {
            labelSmoothing: 0.1,
          }).add(attributeBce(att.apply(xs) as tf.Tensor2D, attTargets))
        ),
      true,
      vars,
    );
    losses.push((await cost!.data())[0]);
    cost!.dispose();
  };
  await checkNoLeak(step, { burnIn: 2, steps: 5, label: "mlp step" });
  for (let i = 0; i < 20; i++) await step();
  assert.ok(losses.at(-1)! < 0.6 * losses[0], `loss should fall: ${losses[0]} → ${losses.at(-1)}`);
  optimizer.dispose();
  tf.dispose([xs, attTargets]);
  net.dispose();
  att.dispose();
});

Deno.test("gemPool: generalised mean over the spatial axes, p = 1 is average pooling", async () => {
  // One image, 2×2 map, 2 channels.
  const map = [[[1, 4], [2, 0]], [[3, 1], [5, 2]]];
  const ch0 = [1, 2, 3, 5], ch1 = [4, 0, 1, 2];
  const gem = (xs: number[], p: number) =>
    Math.pow(xs.reduce((s, v) => s + Math.max(v, 1e-6) ** p, 0) / xs.length, 1 / p);
  const x = tf.tensor4d([map]);
  const g3 = await readValues(() => gemPool(x, 3).reshape([-1]));
  const g1 = await readValues(() => gemPool(x, 1).reshape([-1]));
  x.dispose();
  assert.ok(Math.abs(g3[0] - gem(ch0, 3)) < 1e-5 && Math.abs(g3[1] - gem(ch1, 3)) < 1e-5);
  assert.ok(Math.abs(g1[0] - 11 / 4) < 1e-5 && Math.abs(g1[1] - 7 / 4) < 1e-5);
});
