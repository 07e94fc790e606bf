/**
 * `reproduce --world-seed N`: the flag is validated like the others, the world seed is part
 * of the resolved config and its hash, and a quick cmGAN cell on world 1 renders its own
 * data and stores its result in its own folder, while the default cell is unchanged.
 */
import assert from "node:assert/strict";
import { initBackend } from "../runtime/backend.ts";
import { repoPath } from "../runtime/paths.ts";
import { spec } from "../papers/cmgan/spec.ts";
import { runCellAndStore } from "./cell.ts";
import { resolveConfig } from "./config.ts";
import { parseReproduceArgs } from "./reproduce.ts";
import { resultPath, scaleDir } from "./store.ts";

await initBackend({ backend: "cpu", announce: false });

Deno.test("--world-seed: a non-negative integer, absent by default", () => {
  for (const bad of ["-1", "x", "1.5", ""]) {
    assert.throws(
      () => parseReproduceArgs([`--world-seed=${bad}`]),
      /--world-seed must be a non-negative integer/,
      bad,
    );
  }
  assert.equal(parseReproduceArgs(["--world-seed", "7"]).worldSeed, 7);
  assert.equal(parseReproduceArgs(["--world-seed", "0"]).worldSeed, 0);
  assert.equal(parseReproduceArgs([]).worldSeed, undefined);
  assert.equal(scaleDir("cpu", false), "cpu");
  assert.equal(scaleDir("cpu", true, 1), "cpu-quick-world1");
});

Deno.test("a bad --world-seed stops the command with the usage and exit code 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../cli/reproduce.ts", import.meta.url).pathname, "--world-seed=x"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2, stderr);
  assert.match(
    stderr,
    /--world-seed must be a non-negative integer[\s\S]*usage: deno task reproduce/,
  );
  assert.doesNotMatch(stderr, /\[grid\]/);
});

Deno.test("the world seed is in the resolved config and its hash; the default is untouched", async () => {
  const base = await resolveConfig(spec, "cpu", "full", { quick: true });
  const none = await resolveConfig(spec, "cpu", "full", { quick: true, worldSeed: undefined });
  assert.equal(none.hash, base.hash, "no world seed: the same hash as before");
  const w1 = await resolveConfig(spec, "cpu", "full", { quick: true, worldSeed: 1 });
  const w2 = await resolveConfig(spec, "cpu", "full", { quick: true, worldSeed: 2 });
  assert.notEqual(w1.hash, base.hash);
  assert.notEqual(w1.hash, w2.hash);
  assert.equal(w1.config.data.worldSeed, 1);
  assert.equal(w1.config.data.root, `${base.config.data.root}/world1`);
  assert.equal(w1.config.model.pretrain!.worldSeed, 1);
  assert.equal(w1.config.model.pretrain!.root, `${base.config.model.pretrain!.root}/world1`);
  assert.equal(w1.config.model.pretrain!.out, `${base.config.model.pretrain!.out}/world1`);
  // Only the draw changes: the calibrated difficulty knobs stay.
  assert.deepEqual(w1.config.data.world, base.config.data.world);
  assert.equal(base.config.data.worldSeed, 2018);
  await assert.rejects(
    resolveConfig(spec, "paper", "full", { worldSeed: 1 }),
    /real; --world-seed needs synthetic data/,
  );
  await assert.rejects(
    resolveConfig(spec, "cpu", "full", { worldSeed: -1 }),
    /world seed must be a non-negative integer/,
  );
  const { withWorldSeed: _drop, ...noHook } = spec;
  await assert.rejects(
    resolveConfig(noHook, "cpu", "full", { worldSeed: 1 }),
    /cannot regenerate its world/,
  );
});

/** The bytes of the first image of the rendered SYSU-like world's camera 3, person 1. */
async function firstIrImage(root: string): Promise<Uint8Array> {
  const cam = `${repoPath(root)}/sysu_mm01/SYSU-MM01/cam3`;
  const person = [...Deno.readDirSync(cam)].map((e) => e.name).sort()[0];
  const image = [...Deno.readDirSync(`${cam}/${person}`)].map((e) => e.name).sort()[0];
  return await Deno.readFile(`${cam}/${person}/${image}`);
}

Deno.test("a quick cell on world 1 renders its own data and stores under its own folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "world_seed_test_" });
  const roots = { results: `${dir}/results`, work: `${dir}/work` };
  const key = { paper: "cmgan", scale: "cpu" as const, row: "pixels", seed: 0, quick: true };
  const log = () => {};
  try {
    const plain = await runCellAndStore(spec, key, roots, { log });
    const world = await runCellAndStore(spec, { ...key, worldSeed: 1 }, roots, { log });
    assert.equal(plain.path, `${roots.results}/cmgan/cpu-quick/pixels/seed0.json`);
    assert.equal(world.path, `${roots.results}/cmgan/cpu-quick-world1/pixels/seed0.json`);
    assert.equal(world.path, resultPath(roots.results, { ...key, worldSeed: 1 }));
    assert.equal(plain.result.worldSeed, undefined, "the default result has no world seed");
    assert.equal(world.result.worldSeed, 1);
    assert.notEqual(world.result.configHash, plain.result.configHash);
    const { config } = await resolveConfig(spec, "cpu", "pixels", { quick: true });
    const world1 = await resolveConfig(spec, "cpu", "pixels", { quick: true, worldSeed: 1 });
    assert.notDeepEqual(
      await firstIrImage(world1.config.data.root),
      await firstIrImage(config.data.root),
      "world 1 draws other people than the default world",
    );
    // Each result is reused from its own folder.
    assert.equal((await runCellAndStore(spec, key, roots, { log })).status, "reused");
    const again = await runCellAndStore(spec, { ...key, worldSeed: 1 }, roots, { log });
    assert.equal(again.status, "reused");
    assert.deepEqual(again.result.metrics, world.result.metrics);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
