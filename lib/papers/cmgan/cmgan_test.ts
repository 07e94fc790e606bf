import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { resolveConfig } from "../../experiments/config.ts";
import { initBackend } from "../../runtime/backend.ts";
import { checkNoLeak } from "../../runtime/leak.ts";
import { Rng } from "../../runtime/random.ts";
import { readScalar, snapshotValues } from "../../runtime/testing.ts";
import { LossHistory } from "../../train/history.ts";
import type { CmganConfig } from "./config.ts";
import { CPU_PRETRAIN, marginRow, SWEPT_MARGINS, TABLE_METRICS } from "./config.ts";
import { buildNetworks, cmganModules, disposeNetworks } from "./model.ts";
import { countParams } from "../../nn/init.ts";
import { disposeModules } from "../../nn/gan.ts";
import { evaluateClaims } from "../../experiments/claims.ts";
import { spec } from "./spec.ts";
import { CmganTrainer, type PairBatch, playerAt } from "./train.ts";
import { loadCmganData } from "./data.ts";
import { disposeTrained, trainCmgan } from "./run.ts";
import { firstIdentities, normalizeRows, testFeatures } from "./evaluate.ts";

await initBackend({ announce: false });

/** A tiny config: 16×8 inputs, two conv blocks, 4-d embedding. */
async function tinyConfig(): Promise<CmganConfig> {
  const { config } = await resolveConfig(spec, "cpu", "full", { quick: true });
  config.data.height = 16;
  config.data.width = 8;
  config.model.widths = [4, 6];
  config.model.idHidden = 5;
  config.model.discWidths = [5, 3];
  config.model.pretrain = null;
  return config;
}

function randomBatch(rng: Rng, p: number, config: CmganConfig): PairBatch {
  const shape = [p, config.data.height, config.data.width, 3] as const;
  const n = p * shape[1] * shape[2] * 3;
  return {
    rgb: tf.tensor4d(rng.normalArray(n), [...shape]),
    ir: tf.tensor4d(rng.normalArray(n), [...shape]),
    classes: Array.from({ length: p }, (_, i) => i),
  };
}

async function changed(before: Float32Array[], vars: readonly tf.Variable[]): Promise<boolean[]> {
  const now = await snapshotValues(vars);
  return now.map((values, i) => values.some((x, j) => x !== before[i][j]));
}

Deno.test("the schedule: K−1 generator steps per discriminator step (Alg. 1), K in text mode", () => {
  const alg = Array.from({ length: 10 }, (_, i) => playerAt(i + 1, 5, "algorithm")).join("");
  assert.equal(alg, "GGGGDGGGGD");
  const text = Array.from({ length: 12 }, (_, i) => playerAt(i + 1, 5, "text")).join("");
  assert.equal(text, "GGGGGDGGGGGD");
});

Deno.test("each step moves only its own player's variables, and leaks no tensor", async () => {
  const config = await tinyConfig();
  const rng = new Rng(7);
  const nets = await buildNetworks(config, 4, rng.fork("init"));
  const trainer = new CmganTrainer(nets, config, rng.fork("mining"));
  const batch = randomBatch(rng, 4, config);
  try {
    const g = trainer.generator.variables;
    const d = trainer.discriminator.variables;
    // The two players own disjoint lists that cover every trainable weight.
    assert.equal(new Set([...g, ...d]).size, g.length + d.length);
    assert.ok(d.length === 6 && g.length > 6);

    // Steps 1–4 are generator steps.
    let gBefore = await snapshotValues(g);
    let dBefore = await snapshotValues(d);
    const s1 = await trainer.step(batch);
    assert.equal(s1.player, "G");
    assert.ok(
      (await changed(gBefore, g)).every(Boolean),
      "a G-step moves every generator variable",
    );
    assert.ok(
      !(await changed(dBefore, d)).some(Boolean),
      "a G-step leaves the discriminator alone",
    );
    for (let s = 2; s <= 4; s++) assert.equal((await trainer.step(batch)).player, "G");

    // Step 5 is the discriminator's.
    gBefore = await snapshotValues(g);
    dBefore = await snapshotValues(d);
    const s5 = await trainer.step(batch);
    assert.equal(s5.player, "D");
    assert.ok(
      (await changed(dBefore, d)).every(Boolean),
      "a D-step moves every discriminator variable",
    );
    assert.ok(!(await changed(gBefore, g)).some(Boolean), "a D-step leaves θ1 and θ_ide alone");
    assert.equal(trainer.generator.steps, 4);
    assert.equal(trainer.discriminator.steps, 1);
    assert.ok(Math.abs(s5.l_total - (s5.l_gen - config.loss.gamma * s5.l_dis)) < 1e-6);

    // Both kinds of step leave the tensor count flat (10 steps: 8 G, 2 D).
    await checkNoLeak(() => trainer.step(batch), { burnIn: 5, steps: 10, label: "cmGAN step" });
  } finally {
    tf.dispose([batch.rgb, batch.ir]);
    trainer.dispose();
    disposeNetworks(nets);
  }
});

Deno.test("a generator step raises the modality classifier's loss (G plays −γ·l_dis)", async () => {
  // With α = β = 0 the G objective is −γ·l_dis, so one SGD-like comparison suffices:
  // the G-step must *raise* the modality cross-entropy on the same batch.
  const config = await tinyConfig();
  config.loss.alpha = 0;
  config.loss.beta = 0;
  config.loss.gamma = 1;
  config.train.lrG = 0.05;
  const rng = new Rng(3);
  const nets = await buildNetworks(config, 4, rng.fork("init"));
  const trainer = new CmganTrainer(nets, config, rng.fork("mining"));
  const batch = randomBatch(rng, 4, config);
  try {
    const lDis = () =>
      readScalar(() => {
        const f = nets.generator.apply(tf.concat([batch.rgb, batch.ir]), {
          training: true,
        }) as tf.Tensor2D;
        return trainer.losses(f, batch.classes).dis;
      });
    const before = await lDis();
    for (let s = 0; s < 3; s++) await trainer.step(batch); // three G-steps
    const after = await lDis();
    assert.ok(after > before, `l_dis should rise under G's steps (${before} → ${after})`);
  } finally {
    tf.dispose([batch.rgb, batch.ir]);
    trainer.dispose();
    disposeNetworks(nets);
  }
});

Deno.test("the cross-modality triplet mines as lib/papers/cmgan/README.md ('Losses') says, on a hand-made batch", async () => {
  // lib/papers/cmgan/README.md, 'Losses': anchors in one modality, positive = the pair partner in the other,
  // negatives = every other identity of the other modality (batch-all), squared distance
  // on L2-normalised embeddings, mean per direction, directions added.
  const config = await tinyConfig();
  config.model.widths = [4, 2]; // 2-d embeddings, so features can be written by hand
  const nets = await buildNetworks(config, 3, new Rng(1));
  const trainer = new CmganTrainer(nets, config, new Rng(2));
  // Features [V; I], 3 pairs in 2-D. RGB 0 and RGB 1 are nearly identical: a miner that
  // took same-modality negatives would see a large violation there.
  const V = [[1, 0], [0.99, 0.14], [0, 1]];
  const I = [[0.8, 0.6], [-1, 0], [0, -1]];
  const unit = (x: number[]) => x.map((v) => v / Math.hypot(...x));
  const v = V.map(unit);
  const ir = I.map(unit);
  const d2 = (a: number[], b: number[]) => (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2;
  const xi = config.loss.margin;
  let vi = 0;
  let iv = 0;
  for (let a = 0; a < 3; a++) {
    for (let n = 0; n < 3; n++) {
      if (n === a) continue;
      vi += Math.max(0, d2(v[a], ir[a]) - d2(v[a], ir[n]) + xi);
      iv += Math.max(0, d2(ir[a], v[a]) - d2(ir[a], v[n]) + xi);
    }
  }
  const expected = vi / 6 + iv / 6;
  try {
    const got = await readScalar(() =>
      trainer.losses(tf.tensor2d([...V, ...I]), [0, 1, 2]).triplet
    );
    assert.ok(Math.abs(got - expected) < 1e-5, `triplet ${got}, hand-computed ${expected}`);
    // The hardest-mining switch picks the nearest other-modality negative instead.
    config.loss.mining = "hardest";
    let hard = 0;
    for (const [anc, oth] of [[v, ir], [ir, v]]) {
      let sum = 0;
      for (let a = 0; a < 3; a++) {
        const dan = Math.min(...[0, 1, 2].filter((n) => n !== a).map((n) => d2(anc[a], oth[n])));
        sum += Math.max(0, d2(anc[a], oth[a]) - dan + xi);
      }
      hard += sum / 3;
    }
    const gotHard = await readScalar(() =>
      trainer.losses(tf.tensor2d([...V, ...I]), [0, 1, 2]).triplet
    );
    assert.ok(Math.abs(gotHard - hard) < 1e-5, `hardest ${gotHard}, hand-computed ${hard}`);
  } finally {
    trainer.dispose();
    disposeNetworks(nets);
  }
});

Deno.test("the rows' switch sets resolve to the intended configs", async () => {
  const cfg = async (row: string, scale: "cpu" | "paper" = "cpu") =>
    (await resolveConfig(spec, scale, row)).config;
  const full = await cfg("full");
  assert.deepEqual(
    [full.loss.alpha, full.loss.beta, full.loss.gamma, full.loss.margin, full.train.K],
    [1, 1, 0.05, 1.4, 5],
  );
  assert.equal(full.baseline, "none");
  const id = await cfg("idOnly");
  assert.deepEqual([id.loss.alpha, id.loss.beta, id.loss.gamma], [0, 1, 0.05]);
  const tri = await cfg("tripletOnly");
  assert.deepEqual([tri.loss.alpha, tri.loss.beta, tri.loss.gamma], [1, 0, 0.05]);
  const noAdv = await cfg("noAdv");
  assert.deepEqual([noAdv.loss.alpha, noAdv.loss.beta, noAdv.loss.gamma], [1, 1, 0]);
  assert.equal((await cfg("pixels")).baseline, "pixels");
  const floor = await cfg("pretrainedOnly");
  assert.equal(floor.baseline, "pretrained");
  assert.deepEqual({ ...floor, baseline: "none" }, full);
  // CPU scale: the stand-in pretraining, from the same generator widths; paper: a weights file.
  assert.deepEqual(full.model.pretrain, CPU_PRETRAIN);
  assert.deepEqual(full.model.pretrain!.widths, full.model.widths);
  assert.equal(full.model.pretrained, null);
  for (const xi of SWEPT_MARGINS) {
    const m = await cfg(marginRow(xi));
    assert.equal(m.loss.margin, xi);
    // Everything else is the full model's.
    assert.deepEqual({ ...m, loss: { ...m.loss, margin: 1.4 } }, full);
  }
  // The rows differ from the base only where they say.
  assert.deepEqual({ ...id, loss: { ...id.loss, alpha: 1 } }, full);

  const paper = await cfg("full", "paper");
  assert.equal(paper.model.backbone, "resnet50");
  assert.deepEqual([paper.data.height, paper.data.width, paper.train.pairs], [256, 128, 20]);
  assert.deepEqual([paper.train.lrG, paper.train.lrD], [1e-4, 1e-3]);
  assert.deepEqual([paper.model.idHidden, ...paper.model.discWidths], [512, 1024, 512]);
  assert.equal(paper.data.synthetic, false);
  assert.equal(paper.model.pretrain, null);
  assert.match(paper.model.pretrained!, /resnet50_imagenet\/model\.json$/);
  assert.equal(full.model.backbone, "plain");
  assert.deepEqual([full.data.height, full.data.width], [64, 32]);

  const quick = (await resolveConfig(spec, "cpu", "idOnly", { quick: true })).config;
  assert.equal(quick.loss.alpha, 0);
  assert.ok(quick.train.steps < 20 && quick.data.world.trainIds < full.data.world.trainIds);
  assert.notEqual(quick.data.root, full.data.root);
});

Deno.test("a tiny quick cell runs end to end: rendered data, training, SYSU metrics", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cmgan_test_" });
  try {
    const { config } = await resolveConfig(spec, "cpu", "full", { quick: true });
    config.data.root = `${dir}/data`;
    config.data.cache = `${dir}/cache`;
    config.model.pretrain = { ...config.model.pretrain!, root: `${dir}/pre`, out: `${dir}/out` };
    config.train.steps = 5;
    const history = new LossHistory();
    const notes: Record<string, unknown> = {};
    const before = tf.memory().numTensors;
    const metrics = await spec.runCell(config, 0, {
      paper: "cmgan",
      row: "full",
      scale: "cpu",
      seed: 0,
      quick: true,
      rng: new Rng(0),
      history,
      dir,
      dirOf: () => dir,
      note: (k, v) => {
        notes[k] = v;
      },
      log: () => {},
    });
    assert.equal(tf.memory().numTensors, before, "the cell frees its tensors");
    for (const m of TABLE_METRICS) {
      assert.ok(metrics[m] >= 0 && metrics[m] <= 100, `${m} = ${metrics[m]}`);
    }
    // Rank-k accuracy cannot fall as k grows.
    assert.ok(metrics.all_ss_r1 <= metrics.all_ss_r10 && metrics.all_ss_r10 <= metrics.all_ss_r20);
    const series = history.toJSON().series;
    assert.equal(series.l_gen.steps.length, 5);
    assert.deepEqual(series.d_step_l_dis.steps, [5]);
    assert.ok((notes.queries as number) > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const mining of ["all", "randomOne"] as const) {
  Deno.test(`an interrupted cmGAN training (${mining} mining) resumes from its checkpoint and ends as an uninterrupted one`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "cmgan_resume_" });
    try {
      const { config } = await resolveConfig(spec, "cpu", "full", { quick: true });
      config.loss.mining = mining;
      config.data.root = `${dir}/data`;
      config.data.cache = `${dir}/cache`;
      config.data.height = 16;
      config.data.width = 8;
      config.model.widths = [4, 6];
      config.model.pretrain = null;
      config.train.steps = 7;
      config.train.evalEvery = 3;
      const data = await loadCmganData(config.data);
      const run = async (stopAt: number | null) => {
        const checkpoint = stopAt === null ? undefined : { dir: `${dir}/ck`, every: 2 };
        const history = new LossHistory();
        const trained = await trainCmgan(config, data, new Rng(4), {
          history,
          progress: "silent",
          checkpoint,
          onStep: (s) => {
            if (s === stopAt) throw new Error("interrupted");
          },
        });
        try {
          const weights = await Promise.all(
            [trained.nets.generator, trained.nets.discriminator].flatMap((m) =>
              m.getWeights().map(async (w) => Array.from(await w.data()))
            ),
          );
          return { history: history.toJSON(), weights, steps: trained.trainer.steps };
        } finally {
          disposeTrained(trained);
        }
      };
      const before = tf.memory().numTensors;
      const full = await run(null);
      await assert.rejects(run(5), /interrupted/); // the last checkpoint is after step 4
      assert.equal(tf.memory().numTensors, before, "a failed run frees its networks");
      const resumed = await run(-1);
      assert.equal(resumed.steps, 7);
      assert.deepEqual(resumed.history, full.history, "same losses and validation mAP");
      assert.deepEqual(resumed.weights, full.weights, "same final weights");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("claims are scored as lib/papers/cmgan/README.md ('Claims') says: 2-point gaps, reversals beyond the noise", () => {
  // C1 on all-search SS rank-1 only; the other metrics are filled with the same numbers.
  const results = (r1: Record<string, number[]>) =>
    new Map(
      Object.entries(r1).map(([row, values]) => [
        row,
        new Map(values.map((v, seed) => [seed, { metrics: { all_ss_r1: v, all_ss_mAP: v } }])),
      ]),
    );
  const c1 = (r1: Record<string, number[]>) =>
    evaluateClaims({ ...spec, claims: spec.claims.filter((c) => c.id === "C1") }, results(r1))[0];
  const idOnly = [10, 11, 12];
  const cases: [string, Record<string, number[]>, string][] = [
    ["gaps of 4–5 points on every seed", { tripletOnly: [15, 15, 16], full: [20, 19, 21] }, "✓"],
    [
      "consistent 1-point gaps, however tight",
      { tripletOnly: [11, 12, 13], full: [12, 13, 14] },
      "~",
    ],
    ["triplet-only below ID-only within the noise", {
      tripletOnly: [9, 13, 10],
      full: [20, 19, 21],
    }, "~"],
    [
      "triplet-only below ID-only beyond the noise",
      { tripletOnly: [5, 6, 7], full: [20, 19, 21] },
      "✗",
    ],
  ];
  for (const [what, rows, verdict] of cases) {
    assert.equal(c1({ idOnly, ...rows }).verdict, verdict, what);
  }
});

Deno.test("cmGAN heads at paper scale: 2048 → 512 → C and 2048 → 1024 → 512 → 2 (README.md, 'Architecture')", () => {
  const heads = cmganModules({ numClasses: 296, seed: 1 });
  const dense = (dims: number[]) => dims.slice(1).reduce((n, d, i) => n + dims[i] * d + d, 0);
  assert.equal(countParams(heads.discriminator), dense([2048, 1024, 512, 2]));
  assert.equal(countParams(heads.idHead), dense([2048, 512, 296]));
  disposeModules(heads);
});

Deno.test("scoring: one generator pass gives both feature variants exactly; the seen-identity diagnostic keeps the first identities", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cmgan_test_" });
  try {
    const config = await tinyConfig();
    config.data.root = `${dir}/data`;
    config.data.cache = `${dir}/cache`;
    const data = await loadCmganData(config.data);
    const nets = await buildNetworks(config, data.numClasses, new Rng(3));
    const trainer = new CmganTrainer(nets, config, new Rng(4));
    try {
      const raw = await testFeatures(trainer, data.test, false);
      const l2 = await testFeatures(trainer, data.test, true);
      assert.deepEqual(Array.from((await normalizeRows(raw)).data), Array.from(l2.data));
      const few = firstIdentities(data.train, 3);
      const pids = [...new Set(data.train.items.map((it) => it.pid))].sort((a, b) => a - b);
      assert.deepEqual([...new Set(few.items.map((it) => it.pid))].sort((a, b) => a - b), [
        ...pids.slice(0, 3),
      ]);
      assert.equal(few.pixels.length, few.items.length * few.size.height * few.size.width * 3);
      const row = few.items.length - 1;
      const at = data.train.rowOf.get(few.indices[row])!;
      const per = few.size.height * few.size.width * 3;
      assert.deepEqual(
        few.pixels.subarray(row * per, (row + 1) * per),
        data.train.pixels.subarray(at * per, (at + 1) * per),
      );
      assert.equal(firstIdentities(data.train, 1000), data.train);
    } finally {
      trainer.dispose();
      disposeNetworks(nets);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
