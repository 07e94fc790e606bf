import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { resolveConfig } from "../../experiments/config.ts";
import { gaussianMmd } from "../../nn/losses/mmd.ts";
import { heteroCenterTriplet } from "../../nn/losses/triplet.ts";
import { gemPool } from "../../nn/ops.ts";
import { initBackend } from "../../runtime/backend.ts";
import { checkNoLeak } from "../../runtime/leak.ts";
import { Rng } from "../../runtime/random.ts";
import { readScalar, snapshotValues } from "../../runtime/testing.ts";
import { CPU_REGDB, CPU_WORLD, type PaenetConfig } from "./config.ts";
import { paenetRegdbWorld, paenetWorld, readRegdbAttributes } from "./data.ts";
import { planRegdb } from "../../data/writers/regdb.ts";
import { planSysuMm01 } from "../../data/writers/sysu_mm01.ts";
import { DEFAULT_CONFIGS } from "../../data/world/presets.ts";
import { gem3, heteroCenterTripletBlocks, marginMmdBlocks } from "./losses.ts";
import { avgPool2, type Group, PaenetNet } from "./model.ts";
import { spec } from "./spec.ts";
import { type PaenetBatch, PaenetTrainer } from "./train.ts";

await initBackend({ announce: false });

/** A row's quick config at 32×16 with a tiny net. */
async function tiny(row: string): Promise<PaenetConfig> {
  const { config } = await resolveConfig(spec, "cpu", row, { quick: true }) as {
    config: PaenetConfig;
  };
  config.data.height = 32;
  config.data.width = 16;
  return config as PaenetConfig;
}

function batch(rng: Rng, config: PaenetConfig, p = 2, k = 2): PaenetBatch {
  const n = p * k;
  const shape = [n, config.data.height, config.data.width, 3] as [number, number, number, number];
  const size = shape.reduce((a, b) => a * b, 1);
  return {
    rgb: tf.tensor4d(rng.normalArray(size), shape),
    ir: tf.tensor4d(rng.normalArray(size), shape),
    labels: Array.from({ length: n }, (_, i) => Math.floor(i / k)),
    attributes: tf.tensor2d(Array.from({ length: 2 * n * 8 }, () => (rng.bernoulli(0.5) ? 1 : 0)), [
      2 * n,
      8,
    ]),
  };
}

const free = (b: PaenetBatch) => tf.dispose([b.rgb, b.ir, b.attributes]);

Deno.test("batched hetero-centre triplet and margin MMD equal the library's per-identity losses", async () => {
  const rng = new Rng(3);
  const labels = [0, 0, 0, 1, 1, 1, 2, 2, 2];
  const v = tf.tensor2d(rng.normalArray(9 * 5), [9, 5]);
  const i = tf.tensor2d(rng.normalArray(9 * 5), [9, 5]);
  try {
    const ours = await readScalar(() => heteroCenterTripletBlocks(v, i, labels, 3, 0.3));
    const lib = await readScalar(() => heteroCenterTriplet(v, labels, i, labels, { margin: 0.3 }));
    assert.ok(Math.abs(ours - lib) < 1e-5, `HcTri ${ours} vs ${lib}`);
    const perId = await Promise.all(
      [0, 1, 2].map((id) =>
        readScalar(() => gaussianMmd(v.slice([3 * id, 0], [3, -1]), i.slice([3 * id, 0], [3, -1])))
      ),
    );
    for (const margin of [0, 0.05, 10]) {
      const expected = perId.reduce((a, m) => a + (m > margin ? m : 0), 0) / 3;
      const got = await readScalar(() => marginMmdBlocks(v, i, labels, 3, margin));
      assert.ok(Math.abs(got - expected) < 1e-5, `margin ${margin}: ${got} vs ${expected}`);
    }
    const x = tf.tensor4d(rng.uniformArray(2 * 3 * 2 * 4), [2, 3, 2, 4]);
    const a = await x.data();
    const g1 = await gem3(x).data();
    const g2 = await gemPool(x, 3, 1e-12).data();
    x.dispose();
    assert.ok(a.length > 0 && g1.every((g, j) => Math.abs(g - g2[j]) < 1e-4));
    assert.throws(
      () => heteroCenterTripletBlocks(v, i, [0, 1, 0, 1, 2, 2, 2, 0, 1], 3, 0.3),
      /blocks of K/,
    );
  } finally {
    tf.dispose([v, i]);
  }
});

Deno.test("each module group is its own player over disjoint variables, and a step moves each", async () => {
  const config = await tiny("d");
  const net = new PaenetNet(config, 2, new Rng(1));
  const trainer = new PaenetTrainer(net, config);
  const b = batch(new Rng(2), config);
  try {
    const all = trainer.players.flatMap((p) => p.variables);
    assert.equal(new Set(all).size, all.length, "players share no variable");
    assert.deepEqual(trainer.players.map((p) => p.name), [
      "backbone",
      "heads",
      "pae",
      "aal",
      "probe",
    ]);
    const before = await snapshotValues(all);
    const values = await trainer.step(b);
    assert.ok(Number.isFinite(values.l_total) && values.l_atr > 0 && values.l_probe > 0);
    const after = await snapshotValues(all);
    for (const p of trainer.players) {
      const moved = p.variables.map((v) => all.indexOf(v)).filter((j) =>
        after[j].some((x, q) => x !== before[j][q])
      );
      assert.ok(moved.length > 0, `player ${p.name} did not move`);
    }
  } finally {
    free(b);
    trainer.dispose();
    net.dispose();
  }
});

Deno.test("Table 4: a frozen module does not move while the others do; steps leak no tensor", async () => {
  const config = await tiny("fixAAL");
  const net = new PaenetNet(config, 2, new Rng(1));
  const trainer = new PaenetTrainer(net, config);
  const b = batch(new Rng(2), config);
  try {
    await trainer.step(b);
    trainer.freeze("AAL");
    const aal = net.groups.aal;
    const pae = net.groups.pae;
    const [aalBefore, paeBefore] = [await snapshotValues(aal), await snapshotValues(pae)];
    await checkNoLeak(() => trainer.step(b), { label: "a PAENet step" });
    const still = (await snapshotValues(aal)).every((v, j) =>
      v.every((x, q) => x === aalBefore[j][q])
    );
    const moved = (await snapshotValues(pae)).some((v, j) =>
      v.some((x, q) => x !== paeBefore[j][q])
    );
    assert.ok(still, "the frozen AAL moved");
    assert.ok(moved, "PAE should keep training");
  } finally {
    free(b);
    trainer.dispose();
    net.dispose();
  }
});

async function testFeatures(
  config: PaenetConfig,
  attrs: tf.Tensor2D,
  b: PaenetBatch,
): Promise<Float32Array> {
  const net = new PaenetNet(config, 2, new Rng(5));
  try {
    await new PaenetTrainer(net, config).step(b).then(() => {});
    const f = tf.tidy(() =>
      net.heads(net.features(b.rgb, b.ir, false), attrs, { training: false }).fTest
    );
    const out = await f.data() as Float32Array;
    f.dispose();
    return out;
  } finally {
    net.dispose();
  }
}

Deno.test("Embedding-II as the code draws it is an identity; the spatial variant is not", async () => {
  const rng = new Rng(4);
  const code = await tiny("code-d");
  const b = batch(rng, code);
  const other = tf.tensor2d(Array.from({ length: 64 }, () => (rng.bernoulli(0.5) ? 1 : 0)), [8, 8]);
  try {
    const gate = (config: PaenetConfig) => {
      const net = new PaenetNet(config, 2, new Rng(9));
      try {
        return tf.tidy(() => {
          const F = net.features(b.rgb, b.ir, false);
          const fBar = tf.randomNormal([8, net.C], 0, 1, "float32", 1) as tf.Tensor2D;
          return net.gates(F, fBar, b.attributes, false, 0);
        }).data();
      } finally {
        net.dispose();
      }
    };
    const withEmb2 = await gate({ ...code, pae: { ...code.pae, emb3: false } });
    const withoutEmb2 = await gate({ ...code, pae: { ...code.pae, emb2: false, emb3: false } });
    assert.deepEqual(withEmb2, withoutEmb2, "code-mode Embedding-II changed the gate");
    const spatial = { ...code, pae: { ...code.pae, emb2Mode: "spatial" as const, emb3: false } };
    const s = await gate(spatial);
    assert.ok(
      s.some((x, j) => Math.abs(x - withoutEmb2[j]) > 1e-6),
      "spatial Embedding-II had no effect",
    );
    // With PAE the test attributes are an input; without, they are ignored.
    const d = await tiny("d");
    const gtF = await testFeatures(d, b.attributes, b);
    const shufF = await testFeatures(d, other, b);
    assert.ok(gtF.some((x, j) => Math.abs(x - shufF[j]) > 1e-6), "PAE ignored its attributes");
    const a = await tiny("a");
    assert.deepEqual(await testFeatures(a, b.attributes, b), await testFeatures(a, other, b));
  } finally {
    free(b);
    other.dispose();
  }
});

Deno.test("every row builds, and each config's module groups are the ones its switches ask for", async () => {
  const expect: Record<string, Group[]> = {
    a: ["backbone", "heads"],
    b: ["backbone", "heads", "pae", "probe"],
    c: ["backbone", "heads", "aal"],
    d: ["backbone", "heads", "pae", "aal", "probe"],
    agw: ["backbone", "heads"],
    "hct-ours": ["backbone", "heads", "pae", "aal", "probe"],
  };
  for (const [row, groups] of Object.entries(expect)) {
    const config = await tiny(row);
    const net = new PaenetNet(config, 3, new Rng(0));
    const trainer = new PaenetTrainer(net, config);
    try {
      assert.deepEqual(trainer.players.map((p) => p.name), groups, row);
      const b = batch(new Rng(1), config);
      const v = await trainer.step(b);
      free(b);
      assert.ok(Number.isFinite(v.l_total), `${row}: loss ${v.l_total}`);
    } finally {
      trainer.dispose();
      net.dispose();
    }
  }
});

Deno.test("the PAENet world shares attribute vectors (≈ 2.5 persons each); the default world does not", () => {
  const perVector = (cfg: Parameters<typeof planSysuMm01>[0]) => {
    const plan = planSysuMm01(cfg, 2022);
    const vectorOf = new Map<number, string>();
    for (const im of plan.truth.images) {
      if (im.split === "all" && !vectorOf.has(im.pid)) {
        vectorOf.set(im.pid, im.attributes!.join(""));
      }
    }
    return vectorOf.size / new Set(vectorOf.values()).size;
  };
  const ours = perVector(paenetWorld(CPU_WORLD));
  const plain = perVector(DEFAULT_CONFIGS.sysu_mm01);
  assert.ok(ours >= 2 && ours <= 3.2, `PAENet world: ${ours.toFixed(2)} test persons per vector`);
  assert.ok(plain < 2, `default world: ${plain.toFixed(2)} per vector`);
});

Deno.test("the RegDB-like world writes one attribute line per person (≈ 2.5 per vector); the preset writes none", () => {
  const plan = planRegdb(paenetRegdbWorld(CPU_WORLD, CPU_REGDB), 2022);
  const file = plan.files.find((f) => f.path === "attribute/regdb_att.txt");
  assert.ok(file, "attribute/regdb_att.txt");
  const lines = (file.content as string).trim().split("\n");
  assert.equal(lines.length, CPU_REGDB.ids);
  const vectors = new Set(lines.map((l) => l.split(" ").slice(1).join("")));
  const perVector = CPU_REGDB.ids / vectors.size;
  assert.ok(perVector >= 2 && perVector <= 3.2, `${perVector.toFixed(2)} persons per vector`);
  // Visible and thermal images of a person carry the same labels (one simultaneous capture).
  const byPid = new Map<number, string>();
  for (const im of plan.truth.images) {
    const key = im.attributes!.join("");
    assert.equal(byPid.get(im.pid) ?? key, key, `person ${im.pid}`);
    byPid.set(im.pid, key);
  }
  const plain = planRegdb(DEFAULT_CONFIGS.regdb, 2022);
  assert.ok(!plain.files.some((f) => f.path.startsWith("attribute/")));
  assert.ok(plain.truth.images.every((im) => im.attributes === undefined));
});

Deno.test("RegDB attribute labels: a malformed line is an error naming the file and line", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/attribute`);
    Deno.writeTextFileSync(`${dir}/attribute/regdb_att.txt`, "1 0 1 0 1 0 1 0 1\n2 0 1\n");
    assert.throws(() => readRegdbAttributes(dir), /regdb_att\.txt:2/);
    Deno.writeTextFileSync(`${dir}/attribute/regdb_att.txt`, "1 0 1 0 1 0 1 0 1\n");
    assert.deepEqual(Array.from(readRegdbAttributes(dir).get(1)!), [0, 1, 0, 1, 0, 1, 0, 1]);
    assert.throws(() => readRegdbAttributes(`${dir}/none`), /no attribute labels/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the backbone's 2×2 average pooling has tf.avgPool's values and gradients", async () => {
  const x = tf.tensor4d(new Rng(5).normalArray(2 * 4 * 6 * 3), [2, 4, 6, 3]);
  const w = tf.tensor4d(new Rng(6).normalArray(2 * 2 * 3 * 3), [2, 2, 3, 3]);
  try {
    const loss = (f: (t: tf.Tensor4D) => tf.Tensor4D) => (t: tf.Tensor) =>
      f(t as tf.Tensor4D).mul(w).sum() as tf.Scalar;
    const ours = tf.valueAndGrad(loss(avgPool2))(x);
    const lib = tf.valueAndGrad(loss((t) => tf.avgPool(t, 2, 2, "valid")))(x);
    assert.ok(Math.abs((await ours.value.data())[0] - (await lib.value.data())[0]) < 1e-5);
    const [g1, g2] = [await ours.grad.data(), await lib.grad.data()];
    assert.ok(g1.every((v, i) => Math.abs(v - g2[i]) < 1e-6), "gradients differ");
    tf.dispose([ours.value, ours.grad, lib.value, lib.grad]);
  } finally {
    tf.dispose([x, w]);
  }
});
