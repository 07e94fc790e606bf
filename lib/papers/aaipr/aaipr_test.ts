import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { resolveConfig } from "../../experiments/config.ts";
import { initBackend } from "../../runtime/backend.ts";
import { checkNoLeak } from "../../runtime/leak.ts";
import { Rng } from "../../runtime/random.ts";
import { readScalar, readValues, snapshotValues } from "../../runtime/testing.ts";
import { linearCca } from "./cca.ts";
import type { AaiprConfig } from "./config.ts";
import { loadAaiprData, splitIndices } from "./data.ts";
import {
  buildImageGan,
  disposeImageGan,
  generate,
  generatedConcepts,
  type ImageGanBatch,
  ImageGanTrainer,
} from "./images.ts";
import { aaiprModules, buildNetworks, disposeNetworks, MlpOps } from "./model.ts";
import { disposeRun, runAaipr } from "./run.ts";
import { spec } from "./spec.ts";
import { AaiprTrainer, discriminatorLoss, generatorLoss, type JointBatch } from "./train.ts";

await initBackend({ announce: false });

async function quickConfig(row = "duke-a2img"): Promise<AaiprConfig> {
  return (await resolveConfig(spec, "cpu", row, { quick: true })).config;
}

Deno.test("aaipr: the adversarial losses on hand-made logits (Eqs. 6–7)", async () => {
  const sI = tf.tensor1d([2, -1]);
  const sA = tf.tensor1d([0, 3]);
  const sp = (x: number) => Math.log1p(Math.exp(x));
  const a2img = (sp(-2) + sp(1)) / 2 + (sp(0) + sp(3)) / 2;
  const img2a = (sp(0) + sp(-3)) / 2 + (sp(2) + sp(-1)) / 2;
  const close = (x: number, y: number) => assert.ok(Math.abs(x - y) < 1e-5, `${x} vs ${y}`);
  close(await readScalar(() => discriminatorLoss(sI, sA, "A2Img")), a2img);
  close(await readScalar(() => discriminatorLoss(sI, sA, "Img2A")), img2a);
  close(await readScalar(() => discriminatorLoss(sI, sA, "Both")), a2img + img2a);
  close(await readScalar(() => generatorLoss(sI, sA, "A2Img")), (sp(0) + sp(-3)) / 2);
  close(await readScalar(() => generatorLoss(sI, sA, "Img2A")), (sp(-2) + sp(1)) / 2);
  tf.dispose([sI, sA]);
});

function countParams(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.read().size, 0);
}

Deno.test("aaipr: the module set has the paper's parameter counts", () => {
  const m = aaiprModules({ attrDim: 30, numSemanticIds: 508, seed: 1 });
  // Φ_A (Market, attrDim 30): 236,032 parameters (weights, biases, BN γ/β; README.md, 'Architecture').
  assert.equal(countParams(m.attributeBranch), 236_032);
  assert.equal(countParams(m.classifier), 128 * 508 + 508);
  assert.equal(countParams(m.discriminator), 128 * 256 + 256 + 256 * 256 + 256 + 256 + 1);
  for (const model of Object.values(m)) model.dispose();
});

Deno.test("aaipr: MlpOps computes what the layers models compute, and updates BN as they do", async () => {
  const m = aaiprModules({
    attrDim: 7,
    numSemanticIds: 5,
    conceptDim: 6,
    attributeWidths: [8, 9],
    discriminatorWidths: [5],
    seed: 3,
  });
  const x = tf.tensor2d(new Rng(1).normalArray(4 * 7), [4, 7]);
  for (const mode of ["eval", "train"] as const) {
    const ops = new MlpOps(m.attributeBranch);
    const ours = await readValues(() => ops.apply(x, mode));
    const theirs = await readValues(() =>
      m.attributeBranch.apply(x, { training: mode === "train" }) as tf.Tensor
    );
    ours.forEach((v, i) =>
      assert.ok(Math.abs(v - theirs[i]) < 1e-4, `${mode} ${i}: ${v} vs ${theirs[i]}`)
    );
    // The layers model's training call moved its moving statistics; ours moves them the same.
    ops.commit();
  }
  const c = tf.tensor2d(new Rng(2).normalArray(4 * 6), [4, 6]);
  const dOps = new MlpOps(m.discriminator);
  const d1 = await readValues(() => dOps.apply(c, "eval"));
  const d2 = await readValues(() => m.discriminator.apply(c) as tf.Tensor);
  d1.forEach((v, i) => assert.ok(Math.abs(v - d2[i]) < 1e-4));
  // Moving statistics: two layers-API training calls vs one layers call + one MlpOps commit.
  const bn = m.attributeBranch.layers.find((l) => l.getClassName() === "BatchNormalization")!;
  const stats = async () => (await snapshotValues(bn.getWeights().slice(2)));
  const before = await stats();
  tf.tidy(() => m.attributeBranch.apply(x, { training: true }) as tf.Tensor);
  const viaLayers = await stats();
  // Reset and redo through MlpOps.
  bn.setWeights([
    ...bn.getWeights().slice(0, 2),
    tf.tensor(before[0], [8]),
    tf.tensor(before[1], [8]),
  ]);
  const ops = new MlpOps(m.attributeBranch);
  tf.tidy(() => ops.apply(x, "train"));
  ops.commit();
  const viaOps = await stats();
  for (let k = 0; k < 2; k++) {
    viaOps[k].forEach((v, i) => assert.ok(Math.abs(v - viaLayers[k][i]) < 1e-5, `stat ${k}[${i}]`));
  }
  tf.dispose([x, c]);
  for (const model of Object.values(m)) model.dispose();
});

function batchFor(
  featureDim: number,
  attrDim: number,
  numSids: number,
): JointBatch {
  const rng = new Rng(7);
  const b = 6;
  return {
    input: tf.tensor2d(rng.normalArray(b * featureDim), [b, featureDim]),
    attributes: tf.tensor2d(
      Array.from({ length: b * attrDim }, () => (rng.bernoulli(0.4) ? 1 : 0)),
      [b, attrDim],
    ),
    sids: Array.from({ length: b }, (_, i) => i % numSids),
  };
}

const trainable = (m: tf.LayersModel) => snapshotValues(m.trainableWeights.map((w) => w.read()));

/** The weights each group ends with after one step of `config` from the same start. */
async function afterOneStep(config: AaiprConfig) {
  const nets = buildNetworks(config, 5, 3, new Rng(11));
  const trainer = new AaiprTrainer(nets, config);
  const batch = batchFor(nets.featureDim, 5, 3);
  await trainer.step(batch);
  const out = {
    head: await trainable(nets.imageHead),
    attribute: await trainable(nets.modules.attributeBranch),
    classifier: await trainable(nets.modules.classifier),
    discriminator: await trainable(nets.modules.discriminator),
    players: {
      image: trainer.image.variables.length,
      attribute: trainer.attribute.variables.length,
      discriminator: trainer.discriminator?.variables.length ?? 0,
    },
  };
  trainer.dispose();
  tf.dispose([batch.input, batch.attributes]);
  disposeNetworks(nets);
  return out;
}

const same = (a: Float32Array[], b: Float32Array[]) =>
  a.every((t, i) => t.every((v, j) => Math.abs(v - b[i][j]) < 1e-6));

Deno.test("aaipr: each player moves only its own parameters by its own terms", async () => {
  const base = await quickConfig("duke-a2img");
  const with_ = (loss: Partial<AaiprConfig["loss"]>) => ({
    ...base,
    loss: { ...base.loss, ...loss },
  });
  const none = await afterOneStep(with_({ align: "none" }));
  const a2img = await afterOneStep(with_({ lambdaG: 1 }));
  const img2a = await afterOneStep(with_({ advDirection: "Img2A", lambdaG: 1 }));
  // Without the adversary there is no D player and D never moves.
  assert.equal(none.players.discriminator, 0);
  assert.ok(a2img.players.discriminator > 0);
  // A2Img: the image side is the target, so its update is that of the no-adversary run;
  // the attribute branch's is not.
  assert.ok(same(a2img.head, none.head), "A2Img gave the image head an adversarial gradient");
  assert.ok(same(a2img.classifier, none.classifier));
  assert.ok(!same(a2img.attribute, none.attribute), "A2Img did not reach Φ_A");
  // Img2A: the other way round.
  assert.ok(same(img2a.attribute, none.attribute), "Img2A gave Φ_A an adversarial gradient");
  assert.ok(!same(img2a.head, none.head), "Img2A did not reach Φ_I");
  // D moved in both adversarial runs, differently (real and fake swapped).
  assert.ok(!same(a2img.discriminator, none.discriminator));
  assert.ok(!same(a2img.discriminator, img2a.discriminator));
  // Fast mode: the trunk is no player's; faithful mode: the image player's.
  const faithful = await afterOneStep({ ...base, train: { ...base.train, mode: "faithful" } });
  assert.ok(faithful.players.image > a2img.players.image);
});

Deno.test("aaipr: a training step leaves no tensor behind (fast and every alignment)", async () => {
  for (const align of ["adv", "mmd", "coral"] as const) {
    const config = await quickConfig();
    config.loss.align = align;
    config.loss.advDirection = "Both";
    const nets = buildNetworks(config, 5, 3, new Rng(1));
    const trainer = new AaiprTrainer(nets, config);
    const batch = batchFor(nets.featureDim, 5, 3);
    await checkNoLeak(() => trainer.step(batch), { label: align });
    trainer.dispose();
    tf.dispose([batch.input, batch.attributes]);
    disposeNetworks(nets);
  }
});

Deno.test("aaipr: linear CCA finds a correlated direction", () => {
  const rng = new Rng(5);
  const n = 200;
  const x = new Float32Array(n * 3), y = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    x.set([z + 0.1 * rng.normal(), rng.normal(), rng.normal()], i * 3);
    y.set([rng.normal(), -z + 0.1 * rng.normal()], i * 2);
  }
  const cca = linearCca({ data: x, rows: n, cols: 3 }, { data: y, rows: n, cols: 2 }, 1, 1e-3);
  assert.ok(cca.correlations[0] > 0.95, `first canonical correlation ${cca.correlations[0]}`);
  const px = cca.projectX({ data: x, rows: n, cols: 3 }).data;
  const py = cca.projectY({ data: y, rows: n, cols: 2 }).data;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) (sxy += px[i] * py[i], sxx += px[i] ** 2, syy += py[i] ** 2);
  assert.ok(sxy / Math.sqrt(sxx * syy) > 0.95);
});

Deno.test("aaipr: worlds load in the real layouts; PETA-like test SIDs are disjoint from training's", async () => {
  for (const row of ["duke-woadv", "peta-woadv"]) {
    const config = await quickConfig(row);
    const data = await loadAaiprData(config.data);
    // Duke's release has 23 attributes; PETA's loader keeps the vocabulary its labels use.
    if (row.startsWith("duke")) assert.equal(data.attrDim, 23);
    else assert.ok(data.attrDim > 23 && data.attrDim <= 105, `PETA-like attrDim ${data.attrDim}`);
    assert.ok(data.train.numSids >= 2 && data.test.numSids >= 2);
    const trainKeys = new Set(data.train.keys);
    if (row.startsWith("peta")) {
      assert.ok(
        data.test.keys.every((k) => !trainKeys.has(k)),
        "a PETA-like test SID is a training SID",
      );
      assert.ok(data.val.keys.every((k) => !trainKeys.has(k)));
    }
    // Validation images are never training images.
    const idx = splitIndices(data.dataset, data.world, config.data);
    const train = new Set(idx.train);
    assert.ok(idx.val.every((i) => !train.has(i)) && idx.test.every((i) => !train.has(i)));
  }
});

Deno.test("aaipr: a quick cell trains and scores end to end without leaking; same seed, same metrics", async () => {
  const config = await quickConfig("duke-a2img");
  const data = await loadAaiprData(config.data);
  const before = tf.memory().numTensors;
  const run = async () => {
    const r = await runAaipr(config, data, 0, new Rng(0), { progress: "silent", keep: true });
    disposeRun(r);
    return r.metrics;
  };
  const a = await run();
  const b = await run();
  assert.equal(tf.memory().numTensors, before);
  for (const k of ["r1", "r5", "r10", "mAP", "twoSample"]) {
    assert.ok(Number.isFinite(a[k]), `${k} = ${a[k]}`);
    assert.equal(a[k], b[k], `${k} differs between two runs with one seed`);
  }
  assert.ok(a.r1 <= a.r5 && a.r5 <= a.r10);
});

function ganBatch(config: AaiprConfig, attrDim: number, numSids: number): ImageGanBatch {
  const rng = new Rng(9);
  const b = 4;
  const bits = () =>
    tf.tensor2d(Array.from({ length: b * attrDim }, () => (rng.bernoulli(0.4) ? 1 : 0)), [
      b,
      attrDim,
    ]);
  const { height, width } = config.data;
  return {
    real: tf.tensor4d(rng.normalArray(b * height * width * 3).map(Math.tanh), [
      b,
      height,
      width,
      3,
    ]),
    attributes: bits(),
    wrong: bits(),
    sids: Array.from({ length: b }, (_, i) => i % numSids),
    noise: tf.tensor2d(rng.normalArray(b * config.gan.noiseDim), [b, config.gan.noiseDim]),
  };
}

Deno.test("aaipr: the Images row's GAN trains without leaking, G and D move, Φ_I and Ψ stay frozen, images are H×W×3 in [−1, 1]", async () => {
  const config = await quickConfig("duke-images");
  assert.equal(config.model.kind, "images");
  const nets = buildNetworks(config, 5, 3, new Rng(1));
  const gan = buildImageGan({
    attrDim: 5,
    height: config.data.height,
    width: config.data.width,
    gan: config.gan,
    seed: new Rng(2),
  });
  const trainer = new ImageGanTrainer(gan, nets, config);
  const batch = ganBatch(config, 5, 3);
  const frozen = async () => [
    ...(await trainable(nets.trunk)),
    ...(await trainable(nets.imageHead)),
    ...(await trainable(nets.modules.classifier)),
  ];
  const before = {
    frozen: await frozen(),
    g: await trainable(gan.generator),
    d: await trainable(gan.discriminatorJoint),
  };
  // The two players own disjoint variables; Φ_I and Ψ belong to neither.
  const gVars = new Set(trainer.generatorPlayer.variables);
  assert.ok(trainer.discriminatorPlayer.variables.every((v) => !gVars.has(v)));
  const step = async (i: number) => {
    const v = await trainer.step(batch, i % 2 === 0 ? 1 : 2);
    assert.ok(Number.isFinite(v.l_Dimg) && Number.isFinite(v.l_Gimg));
    if (i % 2 === 1) assert.ok(Number.isFinite(v.l_CE!), "phase 2 reports its CE");
  };
  await checkNoLeak(step, { label: "images step" });
  assert.ok(same(await frozen(), before.frozen), "the Images row moved Φ_I or Ψ");
  assert.ok(!same(await trainable(gan.generator), before.g), "G did not move");
  assert.ok(!same(await trainable(gan.discriminatorJoint), before.d), "D_img did not move");
  const images = generate(gan, batch.attributes, batch.noise, false);
  assert.deepEqual(images.shape, [4, config.data.height, config.data.width, 3]);
  const px = await images.data();
  assert.ok(px.every((v) => v >= -1 && v <= 1));
  images.dispose();
  trainer.dispose();
  tf.dispose(Object.values(batch).filter((t): t is tf.Tensor => t instanceof tf.Tensor));
  disposeImageGan(gan);
  disposeNetworks(nets);
});

Deno.test("aaipr: the Images row scores its generated-image queries against the concept rows' gallery (stage-1 Φ_I), cosine", async () => {
  const images = await quickConfig("duke-images");
  const data = await loadAaiprData(images.data);
  const before = tf.memory().numTensors;
  const run = await runAaipr(images, data, 0, new Rng(0), { progress: "silent", keep: true });
  const joint = await runAaipr(await quickConfig("duke-woadv"), data, 0, new Rng(0), {
    progress: "silent",
    keep: true,
  });
  // The gallery: stage-1 Φ_I's concepts of the test images, the path every row shares (a joint
  // row's stage 2 moves the head, so compare with the head's stage-1 weights, which the Images
  // row never trains).
  const stage1Head = await readValues(() =>
    run.nets!.ops.imageHead.apply(
      tf.tensor2d(run.stage1.test.data, [run.stage1.test.rows, run.stage1.test.cols]),
      "eval",
    )
  );
  assert.equal(run.test.galleryFeatures.rows, data.test.keys.length);
  run.test.galleryFeatures.data.forEach((v, i) => assert.ok(Math.abs(v - stage1Head[i]) < 1e-6));
  assert.equal(run.test.galleryFeatures.cols, joint.test.galleryFeatures.cols);
  // The query: Φ_I of G's image of each distinct test vector, in the concept space.
  assert.equal(run.test.queries.keys.length, joint.test.queries.keys.length);
  assert.equal(run.test.queryFeatures.cols, run.test.galleryFeatures.cols);
  const redo = await generatedConcepts(
    run.gan!,
    run.nets!,
    { data: run.test.queries.vectors, rows: run.test.queries.keys.length, cols: data.attrDim },
    [new Rng(3).normalArray(run.test.queries.keys.length * images.gan.noiseDim)],
  );
  assert.ok(redo.data.every(Number.isFinite) && redo.data.every((v) => Math.abs(v) <= 1));
  for (const k of ["r1", "mAP", "twoSample"]) assert.ok(Number.isFinite(run.metrics[k]), k);
  disposeRun(run);
  disposeRun(joint);
  assert.equal(tf.memory().numTensors, before);
});
