import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { resolveConfig } from "../../experiments/config.ts";
import { disposeModules } from "../../nn/gan.ts";
import { countParams } from "../../nn/init.ts";
import { initBackend } from "../../runtime/backend.ts";
import { Rng } from "../../runtime/random.ts";
import { readValues, snapshotValues } from "../../runtime/testing.ts";
import type { SalConfig } from "./config.ts";
import { loadSalData } from "./data.ts";
import {
  buildNetworks,
  disposeNetworks,
  SAL_CPU_WIDTHS,
  salModules,
  type SalNetworks,
  sampleNoise,
} from "./model.ts";
import { disposeRun, loadEmbed, pretrainRecipe, runSal } from "./run.ts";
import { sampleUnseen } from "./sampler.ts";
import { spec } from "./spec.ts";
import { ganLoss, mse, type SalBatch, SalTrainer } from "./train.ts";

await initBackend({ announce: false });

/** Trainable parameters of a dense stack: weights + biases (+ BN γ, β after hidden layers). */
function denseParams(dims: number[], bn: boolean): number {
  let n = 0;
  for (let i = 1; i < dims.length; i++) {
    n += dims[i - 1] * dims[i] + dims[i];
    if (bn && i < dims.length - 1) n += 2 * dims[i];
  }
  return n;
}

function weightsOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return snapshotValues(model.weights.map((w) => w.read()));
}

async function config(row: string): Promise<SalConfig> {
  return (await resolveConfig(spec, "cpu", row, { quick: true })).config as SalConfig;
}

Deno.test("SAL modules: shapes and the official code's parameter counts (G_A 0.330M, G_V 0.433M, D_1 0.658M)", async () => {
  const m = salModules({ attrDim: 30, numCategories: 100, seed: 1 });
  assert.equal(
    countParams(m.generatorA, "trainable"),
    denseParams([512, 256, 128, 256, 512], true),
  );
  assert.equal(Math.round(countParams(m.generatorA, "trainable") / 1e3), 330);
  assert.equal(Math.round(countParams(m.generatorV, "trainable") / 1e3), 433);
  assert.equal(Math.round(countParams(m.discriminator1, "trainable") / 1e3), 658);
  assert.equal(countParams(m.encoderV, "trainable"), denseParams([512, 512, 256, 128], true));
  assert.equal(countParams(m.discriminator2, "trainable"), denseParams([128, 512, 256, 1], true));
  const shapes: number[][] = [];
  const ranges = await readValues(() => {
    const fa = m.attributeExtractor.predict(tf.ones([4, 30])) as tf.Tensor;
    const fv = m.generatorV.predict([fa, sampleNoise(new Rng(1), 4, 400)]) as tf.Tensor;
    const d = m.discriminator1.predict([fa, fv]) as tf.Tensor;
    const e = m.encoderA.predict(fa) as tf.Tensor;
    const outputs = [fa, fv, d, e, m.categoryClassifier.predict(e) as tf.Tensor];
    for (const t of outputs) shapes.push(t.shape);
    return tf.stack(outputs.flatMap((t) => [t.min(), t.max()]));
  });
  assert.deepEqual(shapes, [[4, 512], [4, 512], [4, 1], [4, 128], [4, 100]]);
  // tanh outputs in (−1, 1); the discriminators end in a sigmoid.
  for (const i of [0, 1, 3]) assert.ok(ranges[2 * i] > -1 && ranges[2 * i + 1] < 1);
  assert.ok(ranges[4] > 0 && ranges[5] < 1);
  disposeModules(m);
});

Deno.test("SAL modules: same seed → identical weights, other seed → different; CPU widths", async () => {
  const a = salModules({ attrDim: 18, numCategories: 150, widths: SAL_CPU_WIDTHS, seed: 5 });
  const b = salModules({ attrDim: 18, numCategories: 150, widths: SAL_CPU_WIDTHS, seed: 5 });
  const c = salModules({ attrDim: 18, numCategories: 150, widths: SAL_CPU_WIDTHS, seed: 6 });
  assert.deepEqual(await weightsOf(a.generatorV), await weightsOf(b.generatorV));
  assert.deepEqual(await weightsOf(a.discriminator2), await weightsOf(b.discriminator2));
  assert.notDeepEqual((await weightsOf(a.generatorV))[0], (await weightsOf(c.generatorV))[0]);
  assert.equal(a.generatorV.inputs[1].shape[1], 100);
  assert.deepEqual(a.encoderA.outputs[0].shape, [null, 32]);
  for (const m of [a, b, c]) disposeModules(m);
});

Deno.test("SAL GAN losses: the official double sigmoid with targets 1.0 / 0.1, and the paper's log-loss", async () => {
  const p = [0.2, 0.7, 0.9];
  const softplus = (x: number) => Math.log1p(Math.exp(x));
  const mean = (f: (x: number) => number) => p.reduce((s, x) => s + f(x), 0) / p.length;
  const [offReal, offFake, papReal, papFake, m] = await readValues(() =>
    tf.stack([
      ganLoss(tf.tensor1d(p), "real", "official"),
      ganLoss(tf.tensor1d(p), "fake", "official"),
      ganLoss(tf.tensor1d(p), "real", "paper"),
      ganLoss(tf.tensor1d(p), "fake", "paper"),
      mse(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1, 0], [0, 4]])),
    ])
  );
  assert.ok(Math.abs(offReal - mean((x) => softplus(x) - x)) < 1e-5);
  assert.ok(Math.abs(offFake - mean((x) => softplus(x) - 0.1 * x)) < 1e-5);
  assert.ok(Math.abs(papReal - mean((x) => -Math.log(x))) < 1e-5);
  assert.ok(Math.abs(papFake - mean((x) => -Math.log(1 - x))) < 1e-5);
  assert.ok(Math.abs(m - (4 + 9) / 4) < 1e-6);
});

Deno.test("SAL unseen sampler: one-hot groups; fixedCount switches on exactly ⌊k̄ − #groups⌋ binary dims", () => {
  const priors = {
    attrDim: 7,
    priors: [0.5, 0.2, 0.9, 0.3, 0.7, 0.1, 0.4],
    groups: [[3, 4], [
      5,
      6,
    ]],
    binaryDims: [0, 1, 2],
    meanPositives: 4.2,
  };
  for (const mode of ["bernoulli", "fixedCount"] as const) {
    const s = sampleUnseen(priors, 200, new Rng(3), mode);
    for (let i = 0; i < 200; i++) {
      const row = s.subarray(i * 7, (i + 1) * 7);
      assert.equal(row[3] + row[4], 1);
      assert.equal(row[5] + row[6], 1);
      if (mode === "fixedCount") assert.equal(row[0] + row[1] + row[2], 2);
    }
    // Bernoulli follows the priors: dim 2 (0.9) on far more often than dim 1 (0.2).
    const on = (j: number) =>
      Array.from({ length: 200 }, (_, i) => s[i * 7 + j]).reduce((a, b) => a + b);
    if (mode === "bernoulli") assert.ok(on(2) > 150 && on(1) < 70, `${on(2)} ${on(1)}`);
  }
});

/** A batch of cached features for the CPU-width networks (attrDim 6, 4 categories). */
function batch(rng: Rng, withUnseen: boolean): SalBatch {
  const a = tf.tensor2d(Float32Array.from({ length: 8 * 6 }, () => (rng.bernoulli(0.4) ? 1 : 0)), [
    8,
    6,
  ]);
  return {
    images: null,
    features: tf.tensor2d(rng.normalArray(8 * 128), [8, 128]),
    attributes: a,
    categories: [0, 1, 2, 3, 0, 1, 2, 3],
    unseen: withUnseen
      ? tf.tensor2d(Float32Array.from({ length: 8 * 6 }, () => (rng.bernoulli(0.4) ? 1 : 0)), [
        8,
        6,
      ])
      : null,
  };
}

async function snapshot(nets: SalNetworks): Promise<Record<string, Float32Array[]>> {
  const out: Record<string, Float32Array[]> = {};
  for (const [k, m] of Object.entries(nets)) {
    out[k] = await snapshotValues((m as tf.LayersModel).trainableWeights.map((w) => w.read()));
  }
  return out;
}

Deno.test("SAL stage 3: each row moves only the players its switches turn on, with their own variables", async () => {
  const moved = async (row: string) => {
    const c = await config(row);
    const nets = await buildNetworks(c, 6, 4, new Rng(1));
    const trainer = new SalTrainer(nets, c, new Rng(2));
    trainer.beginStage3();
    const before = await snapshot(nets);
    const b = batch(new Rng(4), c.switches.unseen);
    let losses: Record<string, number>;
    try {
      losses = await trainer.stage3Step(b);
    } finally {
      tf.dispose([b.features!, b.attributes, ...(b.unseen ? [b.unseen] : [])]);
    }
    const after = await snapshot(nets);
    const changed = Object.keys(before).filter((k) =>
      before[k].some((w, i) => w.some((x, j) => x !== after[k][i][j]))
    ).sort();
    trainer.dispose();
    disposeNetworks(nets);
    return { changed, losses: Object.keys(losses).sort() };
  };
  const classifiers = ["attributeClassifier", "categoryClassifier"];
  const embed = await moved("embed");
  // F_I is frozen in stage 3 at CPU scale; no GAN player exists in the Embed row.
  assert.deepEqual(
    embed.changed,
    ["attributeExtractor", ...classifiers, "encoderA", "encoderV"].sort(),
  );
  assert.deepEqual(embed.losses, ["l_A", "l_X"]);
  const adv = await moved("embed-adv");
  assert.deepEqual(
    adv.changed,
    ["attributeExtractor", ...classifiers, "discriminator2", "encoderA", "encoderV"].sort(),
  );
  assert.deepEqual(adv.losses, ["l_A", "l_D2", "l_E", "l_X"]);
  const sal = await moved("sal");
  assert.deepEqual(
    sal.changed,
    [
      "attributeExtractor",
      ...classifiers,
      "discriminator1",
      "discriminator2",
      "encoderA",
      "encoderV",
      "generatorA",
      "generatorV",
    ].sort(),
  );
  assert.deepEqual(
    sal.losses,
    ["l_A", "l_D1", "l_D2", "l_E", "l_G", "l_GA", "l_GV", "l_X", "l_cyc"],
  );
});

Deno.test("SAL stage 3: removing L_consis changes only the generators' objective; the step leaks nothing", async () => {
  const run = async (row: string) => {
    const c = await config(row);
    const nets = await buildNetworks(c, 6, 4, new Rng(1));
    const trainer = new SalTrainer(nets, c, new Rng(2));
    trainer.beginStage3();
    const b = batch(new Rng(4), true);
    try {
      const first = await trainer.stage3Step(b);
      const before = tf.memory().numTensors;
      await trainer.stage3Step(b);
      assert.equal(tf.memory().numTensors, before, `${row}: the step left tensors behind`);
      return first;
    } finally {
      tf.dispose([b.features!, b.attributes, b.unseen!]);
      trainer.dispose();
      disposeNetworks(nets);
    }
  };
  const full = await run("sal");
  const noConsis = await run("sal-no-consis");
  // Same initial weights and batch: D_1's loss (computed before any generator update) agrees.
  assert.ok(Math.abs(full.l_D1 - noConsis.l_D1) < 1e-6);
  assert.ok(full.l_GV > noConsis.l_GV, `${full.l_GV} vs ${noConsis.l_GV}`);
  assert.ok(full.l_GA > noConsis.l_GA);
  assert.ok(Math.abs(full.l_cyc - noConsis.l_cyc) < 1e-6);
});

Deno.test("SAL cell: the stage-2 checkpoint read back gives the same result as pretraining inline; no leak", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sal-test-" });
  try {
    const pre = await config("pretrain");
    const data = await loadSalData(pre.data);
    const before = tf.memory().numTensors;
    const p = await runSal(pre, data, new Rng(7), { saveDir: dir, seed: 7, progress: "silent" });
    assert.equal(p.pretrainedFromDisk, false);
    disposeRun(p);
    const c = await config("sal");
    const fromDisk = await runSal(c, data, new Rng(7), {
      pretrainedDir: dir,
      seed: 7,
      progress: "silent",
    });
    const inline = await runSal(c, data, new Rng(7), { seed: 7, progress: "silent" });
    assert.equal(fromDisk.pretrainedFromDisk, true);
    assert.equal(inline.pretrainedFromDisk, false);
    for (const k of ["mAP", "R1", "synth_query_mAP", "attr_accuracy"]) {
      assert.ok(Number.isFinite(fromDisk.metrics[k]), k);
      assert.ok(Math.abs(fromDisk.metrics[k] - inline.metrics[k]) < 1e-4, `${k} differs`);
    }
    // Another seed's (or config's) recipe is not reused.
    const nets = await buildNetworks(c, data.attrDim, data.numCategories, new Rng(1));
    assert.equal(await loadEmbed(nets, dir, pretrainRecipe(c, 8)), false);
    const longer = { ...c, train: { ...c.train, stage2Epochs: 3 } };
    assert.equal(await loadEmbed(nets, dir, pretrainRecipe(longer, 7)), false);
    assert.equal(await loadEmbed(nets, dir, pretrainRecipe(c, 7)), true);
    disposeNetworks(nets);
    for (const r of [fromDisk, inline]) disposeRun(r);
    assert.equal(tf.memory().numTensors, before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
