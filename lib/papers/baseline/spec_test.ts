import assert from "node:assert/strict";
import { resolveConfig } from "../../experiments/config.ts";
import { SCALES, validateSpec } from "../../experiments/spec.ts";
import { checkTrainConfig } from "../../engine/reid_engine.ts";
import { PAPERS } from "../registry.ts";
import { loadBaselineData } from "./run.ts";
import { spec } from "./spec.ts";

Deno.test("baseline spec: valid, registered, every row resolves at both scales and in quick mode", async () => {
  validateSpec(spec);
  const entry = PAPERS.find((p) => p.name === "baseline");
  assert.ok(entry, "registered in lib/papers/registry.ts");
  assert.equal(new URL(entry.module).pathname, new URL("./spec.ts", import.meta.url).pathname);
  for (const scale of SCALES) {
    for (const quick of [false, true]) {
      for (const row of spec.rows) {
        const { config } = await resolveConfig(spec, scale, row.id, { quick });
        checkTrainConfig(config.train);
        assert.equal(config.data.tiny, quick, `${row.id} ${scale} quick=${quick}`);
      }
    }
  }
  const id = (await resolveConfig(spec, "cpu", "id")).config;
  const tri = (await resolveConfig(spec, "cpu", "triplet")).config;
  const both = (await resolveConfig(spec, "cpu", "id-triplet")).config;
  assert.deepEqual([id.train.idWeight, id.train.tripletWeight], [1, 0]);
  assert.deepEqual([tri.train.idWeight, tri.train.tripletWeight], [0, 1]);
  assert.deepEqual([both.train.idWeight, both.train.tripletWeight], [1, 1]);
  assert.equal(tri.eval.feature, "pool", "the untrained BN neck is not used for retrieval");
  const paper = (await resolveConfig(spec, "paper", "id-triplet")).config;
  assert.deepEqual([paper.data.height, paper.data.width, paper.model.backbone], [
    256,
    128,
    "resnet50",
  ]);
  assert.equal(paper.train.epochs, 120);
});

Deno.test("baseline --world-seed: its own folder and hash, another draw of people; real data refused", async () => {
  const base = await resolveConfig(spec, "cpu", "id", { quick: true });
  const w1 = await resolveConfig(spec, "cpu", "id", { quick: true, worldSeed: 1 });
  assert.notEqual(w1.hash, base.hash);
  assert.equal(base.config.data.worldSeed, undefined, "the default world's config is unchanged");
  assert.equal(w1.config.data.worldSeed, 1);
  assert.equal(w1.config.data.root, `${base.config.data.root}/world1`);
  await assert.rejects(
    resolveConfig(spec, "paper", "id", { worldSeed: 1 }),
    /real; --world-seed needs synthetic data/,
  );
  const [a, b] = await Promise.all([base, w1].map((r) => loadBaselineData(r.config)));
  assert.equal(a.train.size.height, b.train.size.height);
  assert.notDeepEqual(b.train.pixels.subarray(0, 4096), a.train.pixels.subarray(0, 4096));
});
