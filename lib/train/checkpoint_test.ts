import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../runtime/backend.ts";
import { Rng } from "../runtime/random.ts";
import {
  directoryHandler,
  latestCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import { LossHistory } from "./history.ts";
import { Player, trainableVariables } from "./players.ts";

await initBackend({ backend: "cpu", announce: false });

/** The same architecture and initial weights each call (explicit names, seeded values). */
function build(hidden = 5) {
  const rng = new Rng(11);
  const net = tf.sequential({ name: "net" });
  net.add(tf.layers.dense({ inputShape: [3], units: hidden, activation: "tanh", name: "ck_h" }));
  net.add(tf.layers.batchNormalization({ name: "ck_bn" }));
  net.add(tf.layers.dense({ units: 1, name: "ck_o" }));
  // Seeded dense weights; BN keeps gamma 1, beta 0, moving mean 0, variance 1.
  const names = net.weights.map((w) => w.originalName);
  net.setWeights(
    net.getWeights().map((w, i) =>
      names[i].startsWith("ck_bn/")
        ? w.clone()
        : tf.tensor(rng.normalArray(w.size, 0, 0.5), w.shape)
    ),
  );
  const scale = { scale: tf.variable(tf.scalar(1.5), true, `ck_scale_${crypto.randomUUID()}`) };
  const player = new Player({
    name: "net",
    variables: [...trainableVariables(net), scale.scale],
    optimizer: tf.train.adam(0.05),
  });
  return { net, scale, player };
}

const data = (() => {
  const rng = new Rng(5);
  return { x: tf.tensor(rng.normalArray(24), [8, 3]), y: tf.tensor(rng.normalArray(8), [8, 1]) };
})();

async function train(m: ReturnType<typeof build>, steps: number) {
  for (let i = 0; i < steps; i++) {
    await m.player.step(() =>
      tf.losses.meanSquaredError(
        data.y,
        tf.mul(m.net.apply(data.x, { training: true }) as tf.Tensor, m.scale.scale),
      ) as tf.Scalar
    );
  }
}

const values = (m: ReturnType<typeof build>) =>
  Promise.all([...m.net.getWeights(), m.scale.scale].map(async (t) => [...await t.data()]));

function dispose(m: ReturnType<typeof build>) {
  m.player.dispose();
  m.net.dispose();
  m.scale.scale.dispose();
}

Deno.test("a run interrupted after a checkpoint resumes to the same weights", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_" });
  try {
    const straight = build();
    await train(straight, 10);
    const first = build();
    await train(first, 6);
    const history = new LossHistory();
    history.record(5, { loss: 0.5 });
    await saveCheckpoint(dir, {
      step: 6,
      models: { net: first.net, extra: first.scale },
      players: [first.player],
      history,
      extra: { epoch: 2 },
    });
    dispose(first);

    const resumed = build();
    const loaded = await loadCheckpoint(dir, {
      models: { net: resumed.net, extra: resumed.scale },
      players: [resumed.player],
    });
    assert.ok(loaded);
    assert.equal(loaded.step, 6);
    assert.deepEqual(loaded.extra, { epoch: 2 });
    assert.deepEqual(loaded.history?.series("loss"), { steps: [5], values: [0.5] });
    assert.equal(resumed.player.optimizer.iterations, 6);
    await train(resumed, 4);
    // Moments, bias-correction step and BN moving statistics all came back: same result.
    assert.deepEqual(await values(resumed), await values(straight));
    dispose(resumed);
    dispose(straight);

    // The saved model is a standard tfjs model.json + weights.bin.
    const reopened = await tf.loadLayersModel(directoryHandler(`${loaded.path}/models/net`));
    assert.equal(reopened.layers.length, 3);
    reopened.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loading is strict and names the file and the weight", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_" });
  try {
    assert.equal(await loadCheckpoint(dir, {}), null, "an empty directory means a fresh run");
    const saved = build();
    await train(saved, 1);
    await saveCheckpoint(dir, { step: 1, models: { net: saved.net }, players: [saved.player] });
    const before = await values(saved);

    const wider = build(6);
    await assert.rejects(
      loadCheckpoint(dir, { models: { net: wider.net }, players: [wider.player] }),
      /models\/net\/model\.json: weight "ck_h\/kernel" has shape \[3,5\], expected \[3,6\]/,
    );
    await assert.rejects(
      loadCheckpoint(dir, { models: {}, players: [saved.player] }),
      /holds models \[net\]/,
    );
    await assert.rejects(
      loadCheckpoint(dir, { models: { net: saved.net }, players: [] }),
      /holds players \[net\]/,
    );
    // A variable set missing one saved weight and adding another.
    const other = { other: tf.variable(tf.zeros([2])) };
    await assert.rejects(
      loadCheckpoint(dir, { models: { net: other as never }, players: [saved.player] }),
      /missing weight "other".*unexpected weight "ck_h\/kernel"/,
    );
    assert.deepEqual(await values(saved), before, "a failed load must not change anything");

    // A truncated weights file is caught.
    const latest = await latestCheckpoint(dir);
    const bin = `${latest!.path}/models/net/weights.bin`;
    const bytes = await Deno.readFile(bin);
    await Deno.writeFile(bin, bytes.slice(0, bytes.length - 4));
    await assert.rejects(
      loadCheckpoint(dir, { models: { net: saved.net }, players: [saved.player] }),
      /weights\.bin: \d+ bytes, but/,
    );
    dispose(saved);
    dispose(wider);
    other.other.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a half-written checkpoint is ignored and old ones are pruned", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_" });
  try {
    const m = build();
    for (const step of [1, 2, 3]) {
      await saveCheckpoint(dir, { step, models: { net: m.net } }, { keep: 2 });
    }
    // What a kill during the next save leaves behind: a temp directory, no latest.json update.
    await Deno.mkdir(`${dir}/.tmp-step-000000004-1-abc/models`, { recursive: true });
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names.filter((n) => n.startsWith("step-")).sort(), [
      "step-000000002",
      "step-000000003",
    ]);
    const loaded = await loadCheckpoint(dir, { models: { net: m.net } });
    assert.equal(loaded?.step, 3);
    dispose(m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
