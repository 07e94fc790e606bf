import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../runtime/backend.ts";
import { checkNoLeak } from "../runtime/leak.ts";
import { Rng } from "../runtime/random.ts";
import {
  getLearningRate,
  Player,
  setLearningRate,
  stepTogether,
  trainableVariables,
} from "./players.ts";

await initBackend({ backend: "cpu", announce: false });

function dense(rng: Rng, name: string, inDim: number, outDim: number): tf.Sequential {
  const model = tf.sequential({ name });
  model.add(
    tf.layers.dense({ inputShape: [inDim], units: 8, activation: "relu", name: `${name}_h` }),
  );
  model.add(tf.layers.dense({ units: outDim, name: `${name}_o` }));
  // Seeded initial weights, so the test does not depend on tfjs' own initialiser state.
  model.setWeights(
    model.getWeights().map((w) => tf.tensor(rng.normalArray(w.size, 0, 0.3), w.shape)),
  );
  return model;
}

function snapshot(vars: readonly tf.Variable[]): Promise<Float32Array[]> {
  return Promise.all(vars.map(async (v) => (await v.data()).slice() as Float32Array));
}

async function optimizerState(opt: tf.Optimizer): Promise<Float32Array[]> {
  const weights = await opt.getWeights();
  const out = await Promise.all(
    weights.map(async (w) => (await w.tensor.data()).slice() as Float32Array),
  );
  weights[0].tensor.dispose(); // the iteration scalar is a fresh tensor; the slots are live state
  return out;
}

Deno.test("trainableVariables returns the models' own tf.Variables", async () => {
  const model = dense(new Rng(1), "tv", 3, 2);
  const vars = trainableVariables(model);
  assert.equal(vars.length, 4);
  for (const v of vars) assert.ok(v instanceof tf.Variable);
  const x = tf.ones([1, 3]);
  const before = (await (model.predict(x) as tf.Tensor).data())[0];
  // Writing through the returned variable must change what the model computes.
  vars[3].assign(tf.add(vars[3], 1));
  const after = (await (model.predict(x) as tf.Tensor).data())[0];
  assert.ok(
    Math.abs(after - before - 1) < 1e-5,
    `bias +1 should shift output by 1: ${before} → ${after}`,
  );
  // A model sharing a layer contributes its variables once.
  assert.equal(trainableVariables(model, model).length, 4);
  tf.dispose(x);
  model.dispose();
});

Deno.test("stepping player A leaves player B's variables and optimizer state untouched", async () => {
  const rng = new Rng(7);
  const a = dense(rng, "pa", 4, 4);
  const b = dense(rng, "pb", 4, 1);
  const A = new Player({
    name: "A",
    variables: trainableVariables(a),
    optimizer: tf.train.adam(0.01),
  });
  const B = new Player({
    name: "B",
    variables: trainableVariables(b),
    optimizer: tf.train.adam(0.01),
  });
  const x = tf.tensor(rng.normalArray(16 * 4), [16, 4]);
  const y = tf.tensor(rng.normalArray(16), [16, 1]);
  // The loss depends on both players' variables.
  const loss = () =>
    tf.losses.meanSquaredError(y, b.apply(a.apply(x) as tf.Tensor) as tf.Tensor) as tf.Scalar;
  await B.step(loss); // give B some Adam state to protect
  const bVars = await snapshot(B.variables);
  const bState = await optimizerState(B.optimizer);
  const aVars = await snapshot(A.variables);
  for (let i = 0; i < 3; i++) assert.equal(typeof await A.step(loss), "number");
  assert.deepEqual(await snapshot(B.variables), bVars, "B's variables moved when A stepped");
  assert.deepEqual(await optimizerState(B.optimizer), bState, "B's optimizer state moved");
  assert.notDeepEqual(await snapshot(A.variables), aVars, "A's variables did not move");
  assert.equal(A.steps, 3);
  assert.equal(B.steps, 1);

  // Freezing A by its flag: no evaluation, no update, null result.
  A.trainable = false;
  const frozen = await snapshot(A.variables);
  let called = false;
  assert.equal(
    await A.step(() => {
      called = true;
      return loss();
    }),
    null,
  );
  assert.equal(called, false);
  assert.deepEqual(await snapshot(A.variables), frozen);
  A.dispose();
  B.dispose();
  tf.dispose([x, y]);
  a.dispose();
  b.dispose();
});

Deno.test("a player's optimizer slots stay bound to its variables in list order", async () => {
  const v1 = tf.variable(tf.tensor1d([1, 2, 3]), true, "slot_v1");
  const v2 = tf.variable(tf.tensor2d([[1, 2], [3, 4]]), true, "slot_v2");
  const p = new Player({ name: "p", variables: [v1, v2], optimizer: tf.train.adam(0.1) });
  // A loss touching only v2: v1 keeps slot 0 (zero moments), v2 gets slot 1.
  await p.step(() => tf.sum(tf.square(v2)));
  const weights = await p.optimizer.getWeights();
  assert.deepEqual(weights.slice(1).map((w) => w.tensor.shape), [[3], [2, 2], [3], [2, 2]]);
  assert.deepEqual([...await weights[1].tensor.data()], [0, 0, 0]);
  weights[0].tensor.dispose();
  // The list is frozen: nobody can edit it behind the optimizer's back.
  assert.throws(() => (p.variables as tf.Variable[]).push(v1), TypeError);
  p.dispose();
  tf.dispose([v1, v2]);
});

Deno.test("players refuse shared optimizers and bad variable lists", async () => {
  const v = tf.variable(tf.scalar(1), true, "refuse_v");
  const w = tf.variable(tf.scalar(2), true, "refuse_w");
  const opt = tf.train.sgd(0.1);
  const p = new Player({ name: "first", variables: [v], optimizer: opt });
  assert.throws(
    () => new Player({ name: "second", variables: [w], optimizer: opt }),
    /already belongs to player "first"/,
  );
  assert.throws(
    () => new Player({ name: "dup", variables: [w, w], optimizer: tf.train.sgd(1) }),
    /listed twice/,
  );
  assert.throws(
    () => new Player({ name: "empty", variables: [], optimizer: tf.train.sgd(1) }),
    /empty/,
  );
  // A loss that does not depend on the player's variables fails naming the player.
  await assert.rejects(() => p.step(() => tf.mul(w, 2) as tf.Scalar), /player "first"/);
  p.dispose();
  tf.dispose([v, w]);
});

Deno.test("weight decay is coupled L2 and stepTogether applies each player's own rate", async () => {
  const v = tf.variable(tf.tensor1d([2, -4]), true, "wd_v");
  const p = new Player({
    name: "wd",
    variables: [v],
    optimizer: tf.train.sgd(0.1),
    weightDecay: 0.5,
  });
  await p.step(() => tf.mul(tf.sum(v), 0) as tf.Scalar); // zero loss gradient: only the decay acts
  assert.deepEqual([...await v.data()].map((x) => +x.toFixed(5)), [1.9, -3.8]);
  p.dispose();

  const a = tf.variable(tf.scalar(0), true, "tog_a");
  const b = tf.variable(tf.scalar(0), true, "tog_b");
  const A = new Player({ name: "A", variables: [a], optimizer: tf.train.sgd(0.1) });
  const B = new Player({ name: "B", variables: [b], optimizer: tf.train.sgd(0.01) });
  const value = await stepTogether([A, B], () => tf.add(a, b) as tf.Scalar);
  assert.equal(value, 0);
  assert.ok(Math.abs((await a.data())[0] + 0.1) < 1e-7);
  assert.ok(Math.abs((await b.data())[0] + 0.01) < 1e-7);
  B.trainable = false;
  await stepTogether([A, B], () => tf.add(a, b) as tf.Scalar);
  assert.ok(Math.abs((await b.data())[0] + 0.01) < 1e-7, "frozen B moved");
  assert.ok(Math.abs((await a.data())[0] + 0.2) < 1e-7);
  A.dispose();
  B.dispose();
  tf.dispose([v, a, b]);
});

Deno.test("learning rates can be read and set on Adam and SGD", async () => {
  const adam = tf.train.adam(0.1);
  setLearningRate(adam, 0);
  assert.equal(getLearningRate(adam), 0);
  const v = tf.variable(tf.scalar(3), true, "lr_v");
  const p = new Player({ name: "lr", variables: [v], optimizer: adam });
  await p.step(() => tf.square(v) as tf.Scalar);
  assert.equal((await v.data())[0], 3, "Adam with lr 0 must not move");
  p.dispose();
  const sgd = tf.train.sgd(0.1);
  setLearningRate(sgd, 0.5);
  const q = new Player({ name: "lr2", variables: [v], optimizer: sgd });
  await q.step(() => tf.square(v) as tf.Scalar); // grad 6 → 3 − 0.5·6
  assert.equal((await v.data())[0], 0);
  assert.throws(() => setLearningRate(sgd, -1), /≥ 0/);
  q.dispose();
  v.dispose();
});

Deno.test("a tiny two-player training run lowers the loss without leaking tensors", async () => {
  const rng = new Rng(3);
  const enc = dense(rng, "enc", 6, 4);
  const head = dense(rng, "head", 4, 1);
  const x = tf.tensor(rng.normalArray(32 * 6), [32, 6]);
  const target = tf.tidy(() => tf.sum(tf.slice(x, [0, 0], [32, 2]), 1, true));
  const E = new Player({
    name: "enc",
    variables: trainableVariables(enc),
    optimizer: tf.train.adam(0.01),
  });
  const H = new Player({
    name: "head",
    variables: trainableVariables(head),
    optimizer: tf.train.adam(0.02),
  });
  const loss = () =>
    tf.losses.meanSquaredError(
      target,
      head.apply(enc.apply(x) as tf.Tensor) as tf.Tensor,
    ) as tf.Scalar;
  const lossValue = async () => {
    const l = tf.tidy(loss);
    try {
      return (await l.data())[0];
    } finally {
      l.dispose();
    }
  };
  const first = await lossValue();
  await checkNoLeak(async () => {
    await E.step(loss);
    await H.step(loss);
  }, { label: "two-player step" });
  for (let i = 0; i < 150; i++) {
    await E.step(loss);
    await H.step(loss);
  }
  const last = await lossValue();
  assert.ok(last < first * 0.3, `loss should fall: ${first} → ${last}`);
  E.dispose();
  H.dispose();
  tf.dispose([x, target]);
  enc.dispose();
  head.dispose();
});
