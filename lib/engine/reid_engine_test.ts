import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadDataset } from "../data/loaders/index.ts";
import { market1501 } from "../eval/protocols.ts";
import { initBackend } from "../runtime/backend.ts";
import { Rng } from "../runtime/random.ts";
import { LossHistory } from "../train/history.ts";
import {
  buildReidNet,
  checkTrainConfig,
  evaluateReid,
  reidFeatures,
  type ReidNetConfig,
  type ReidTrainConfig,
  trainReid,
} from "./reid_engine.ts";
import { loadSplit, type ReidSplit } from "../data/split.ts";
import { ensureSyntheticPreset } from "./synthetic.ts";

await initBackend({ announce: false });

const SIZE = { height: 32, width: 16 };
const NET: ReidNetConfig = { backbone: "small_resnet", widths: [4, 8], lastStride: 1, neck: true };
const RECIPE: ReidTrainConfig = {
  epochs: 3,
  stepsPerEpoch: null,
  p: 4,
  k: 4,
  schedule: { kind: "constant", lr: 3e-3 },
  weightDecay: 0,
  idWeight: 1,
  labelSmoothing: 0.1,
  tripletWeight: 1,
  margin: 0.3,
  augment: { flip: 0.5, padCrop: 2, erasing: 0 },
};

/** A tiny synthetic Market-1501 written by the real writers, loaded by the real loader. */
async function withTinyMarket(
  body: (splits: { train: ReidSplit; query: ReidSplit; gallery: ReidSplit }) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "reid-engine-" });
  try {
    const root = await ensureSyntheticPreset("market1501", {
      root: join(dir, "data"),
      seed: 5,
      overrides: {
        trainIds: 8,
        testIds: 6,
        trainImages: [4, 6],
        distractorImages: 2,
        junkImages: 1,
        height: 64,
        width: 32,
      },
    });
    const dataset = loadDataset("market1501", root, { verbose: false });
    const cacheDir = join(dir, "cache");
    await body({
      train: await loadSplit(dataset, "train", SIZE, { cacheDir, identitiesOnly: true }),
      query: await loadSplit(dataset, "query", SIZE, { cacheDir }),
      gallery: await loadSplit(dataset, "gallery", SIZE, { cacheDir }),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function train(split: ReidSplit, seed: number, recipe = RECIPE) {
  const rng = new Rng(seed);
  const net = buildReidNet(NET, {
    numClasses: split.numClasses,
    inputShape: [SIZE.height, SIZE.width, 3],
    seed: rng.fork("net"),
  });
  const history = new LossHistory();
  const report = await trainReid({
    net,
    train: split,
    config: recipe,
    rng: rng.fork("train"),
    history,
    progress: "silent",
    log: () => {},
  });
  return { net, report, history };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

Deno.test("trainReid: the loss falls, tensor counts stay flat, memory and timings are reported", async () => {
  await withTinyMarket(async ({ train: split, query, gallery }) => {
    assert.equal(split.numClasses, 8);
    assert.ok(split.labels.every((l) => l >= 0 && l < 8), "persons only, labelled 0..7");
    const before = tf.memory().numTensors;
    const { net, report, history } = await train(split, 1, {
      ...RECIPE,
      epochs: 8,
      schedule: { kind: "constant", lr: 1e-2 },
      augment: { flip: 0, padCrop: 0, erasing: 0 },
    });
    const loss = history.series("loss").values;
    assert.equal(loss.length, report.steps);
    assert.ok(report.steps >= 12, `${report.steps} steps`);
    assert.ok(
      mean(loss.slice(-4)) < 0.9 * mean(loss.slice(0, 4)),
      `loss should fall: ${loss.map((v) => v.toFixed(2)).join(" ")}`,
    );
    assert.deepEqual(history.names(), ["loss", "id", "triplet"]);
    assert.equal(report.tensorCounts.length, 8);
    assert.ok(report.tensorCounts.every((c) => c === report.tensorCounts[0]), "flat per epoch");
    assert.ok(report.memory.peakRssBytes > 0 && report.memory.peakTfTensors > 0);
    assert.ok(report.secondsPerStep > 0);

    // Eval mode leaves the BN statistics alone: two extractions agree exactly.
    const a = await reidFeatures(net, query);
    const b = await reidFeatures(net, query, { batchSize: 3 });
    assert.deepEqual(a.data, b.data, "batching and repetition do not change features");
    assert.equal(a.rows, query.indices.length);
    assert.equal(a.cols, net.featureDim);
    const flipped = await reidFeatures(net, query, { flip: true });
    assert.notDeepEqual(flipped.data, a.data, "flip-averaging changes the features");

    const evaluation = await evaluateReid(net, query, gallery, market1501());
    assert.equal(evaluation.result.numQueries, query.indices.length);
    for (const [name, v] of Object.entries(evaluation.metrics)) {
      assert.ok(v >= 0 && v <= 100, `${name} = ${v}`);
    }
    assert.ok(evaluation.metrics.R1 <= evaluation.metrics.R5);
    net.dispose();
    assert.equal(tf.memory().numTensors, before, "nothing is left behind after dispose");
  });
});

Deno.test("trainReid: the same seed gives the same losses; another seed does not", async () => {
  await withTinyMarket(async ({ train: split }) => {
    const recipe = { ...RECIPE, epochs: 2, stepsPerEpoch: 2 };
    const runs = [];
    for (const seed of [3, 3, 4]) {
      const { net, history } = await train(split, seed, recipe);
      runs.push(history.series("loss").values);
      net.dispose();
    }
    assert.deepEqual(runs[0], runs[1]);
    assert.notDeepEqual(runs[0], runs[2]);
  });
});

Deno.test("trainReid: a triplet-only run leaves the classifier untouched", async () => {
  await withTinyMarket(async ({ train: split }) => {
    const recipe = { ...RECIPE, epochs: 1, stepsPerEpoch: 2, idWeight: 0 };
    const rng = new Rng(9);
    const net = buildReidNet(NET, {
      numClasses: split.numClasses,
      inputShape: [SIZE.height, SIZE.width, 3],
      seed: rng.fork("net"),
    });
    const head = await net.classifier.getWeights()[0].array();
    const stem = await net.backbone.getWeights()[0].array();
    const history = new LossHistory();
    await trainReid({
      net,
      train: split,
      config: recipe,
      rng,
      history,
      progress: "silent",
      log: () => {},
    });
    assert.deepEqual(history.names(), ["loss", "triplet"]);
    assert.deepEqual(await net.classifier.getWeights()[0].array(), head);
    assert.notDeepEqual(await net.backbone.getWeights()[0].array(), stem);
    net.dispose();
  });
});

Deno.test("trainReid: an interrupted run resumes from its checkpoint and ends as an uninterrupted one", async () => {
  await withTinyMarket(async ({ train: split }) => {
    const dir = await Deno.makeTempDir({ prefix: "reid-resume-" });
    const recipe: ReidTrainConfig = {
      ...RECIPE,
      epochs: 3,
      stepsPerEpoch: 2,
      schedule: { kind: "multistep", lr: 3e-3, milestones: [1, 2], gamma: 0.5 },
      augment: { flip: 0.5, padCrop: 2, erasing: 0.5 },
    };
    const run = async (stopAt: number | null) => {
      const rng = new Rng(11);
      const net = buildReidNet(NET, {
        numClasses: split.numClasses,
        inputShape: [SIZE.height, SIZE.width, 3],
        seed: rng.fork("net"),
      });
      const history = new LossHistory();
      const options = {
        net,
        train: split,
        config: recipe,
        rng: rng.fork("train"),
        history,
        progress: "silent" as const,
        log: () => {},
      };
      try {
        if (stopAt === null) await trainReid(options);
        else {
          await trainReid({
            ...options,
            checkpoint: { dir, every: 2 },
            hooks: [{
              beforeStep: ({ index }) => {
                if (index === stopAt) throw new Error("interrupted");
              },
            }],
          });
        }
        return { history: history.toJSON(), weights: await weightsOf(net) };
      } finally {
        net.dispose();
      }
    };
    try {
      const full = await run(null);
      await assert.rejects(run(3), /interrupted/); // checkpoint after step 2, mid-epoch 1
      const resumed = await run(-1);
      assert.deepEqual(resumed.history, full.history, "same losses");
      assert.deepEqual(resumed.weights, full.weights, "same final weights");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

const weightsOf = (net: { backbone: tf.LayersModel; classifier: tf.LayersModel }) =>
  Promise.all(
    [...net.backbone.getWeights(), ...net.classifier.getWeights()].map(async (w) =>
      Array.from(await w.data())
    ),
  );

Deno.test("checkTrainConfig names the wrong field", () => {
  assert.throws(() => checkTrainConfig({ ...RECIPE, epochs: 0 }), /epochs is 0/);
  assert.throws(
    () => checkTrainConfig({ ...RECIPE, idWeight: 0, tripletWeight: 0 }),
    /at least one loss/,
  );
  assert.throws(() => checkTrainConfig({ ...RECIPE, k: 1 }), /k is 1/);
  assert.throws(() => checkTrainConfig({ ...RECIPE, stepsPerEpoch: 0 }), /stepsPerEpoch/);
});
