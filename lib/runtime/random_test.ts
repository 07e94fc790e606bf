import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { hashString, Rng } from "./random.ts";
import { initBackend } from "./backend.ts";

await initBackend({ announce: false });

Deno.test("the same seed gives the same stream; another seed a different one", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const drawsA = Array.from({ length: 100 }, () => a.nextUint32());
  const drawsB = Array.from({ length: 100 }, () => b.nextUint32());
  const drawsC = Array.from({ length: 100 }, () => c.nextUint32());
  assert.deepEqual(drawsA, drawsB);
  assert.notDeepEqual(drawsA, drawsC);
});

Deno.test("forks are independent of how much the parent has drawn", () => {
  const fresh = new Rng(7).fork("augment");
  const used = new Rng(7);
  for (let i = 0; i < 1000; i++) used.float();
  const forked = used.fork("augment");
  assert.deepEqual(
    Array.from({ length: 10 }, () => fresh.float()),
    Array.from({ length: 10 }, () => forked.float()),
  );
  assert.notEqual(new Rng(7).fork("a").nextUint32(), new Rng(7).fork("b").nextUint32());
  assert.notEqual(hashString("a"), hashString("b"));
});

Deno.test("draws have the distributions they claim", () => {
  const rng = new Rng(1);
  const n = 20000;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    sum += z;
    sumSq += z * z;
  }
  const mean = sum / n;
  assert.ok(Math.abs(mean) < 0.03, `normal mean ${mean}`);
  assert.ok(Math.abs(sumSq / n - mean * mean - 1) < 0.04, `normal variance ${sumSq / n}`);
  const counts = new Array(5).fill(0);
  for (let i = 0; i < n; i++) counts[rng.int(5)]++;
  for (const count of counts) {
    assert.ok(Math.abs(count / n - 0.2) < 0.015, `int(5) counts ${counts}`);
  }
  const sample = rng.sample([1, 2, 3, 4, 5, 6], 4);
  assert.equal(new Set(sample).size, 4);
  assert.throws(() => rng.sample([1, 2], 3), /cannot draw 3 of 2/);
  assert.throws(() => new Rng(0.5), /safe integer/);
});

/** Trains a tiny conv net whose weights come from `seed`; returns initial weights and losses. */
async function trainTiny(
  seed: number,
  steps: number,
): Promise<{ weights: number[]; losses: number[] }> {
  const rng = new Rng(seed);
  const init = rng.fork("init");
  const data = rng.fork("data");
  const w = tf.variable(tf.tensor4d(init.normalArray(3 * 3 * 3 * 4, 0, 0.3), [3, 3, 3, 4]));
  const v = tf.variable(tf.tensor2d(init.normalArray(4 * 3, 0, 0.3), [4, 3]));
  const weights = Array.from(await w.data());
  const x = tf.tensor4d(data.normalArray(8 * 8 * 4 * 3), [8, 8, 4, 3]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: 8 }, () => data.int(3)), "int32"), 3);
  const optimizer = tf.train.adam(0.05);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const loss = optimizer.minimize(
      () =>
        tf.tidy(() =>
          tf.losses.softmaxCrossEntropy(
            y,
            tf.matMul(tf.mean(tf.relu(tf.conv2d(x, w as tf.Tensor4D, 1, "same")), [1, 2]), v),
          ) as tf.Scalar
        ),
      true,
      [w, v],
    )!;
    losses.push((await loss.data())[0]);
    loss.dispose();
  }
  optimizer.dispose();
  tf.dispose([w, v, x, y]);
  return { weights, losses };
}

Deno.test("the same seed gives identical weights and identical losses after N steps", async () => {
  const first = await trainTiny(2024, 6);
  const second = await trainTiny(2024, 6);
  const other = await trainTiny(2025, 6);
  assert.deepEqual(second.weights, first.weights);
  assert.deepEqual(second.losses, first.losses);
  assert.notDeepEqual(other.weights, first.weights);
  assert.notDeepEqual(other.losses, first.losses);
});

Deno.test("a generator restored from its state continues the same stream", () => {
  const a = new Rng(11);
  for (let i = 0; i < 5; i++) a.normal(); // leaves a spare normal cached
  const b = Rng.fromState(JSON.parse(JSON.stringify(a.state())));
  const draw = (r: Rng) => [r.normal(), r.nextUint32(), r.float(), r.normal()];
  assert.deepEqual(draw(b), draw(a));
  assert.equal(b.fork("x").nextUint32(), a.fork("x").nextUint32(), "forks as the original's");
  assert.throws(
    () => Rng.fromState({ seed: 1, words: [1, 2], spareNormal: null } as never),
    /4 integers/,
  );
});
