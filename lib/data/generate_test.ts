import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { configHash, generate, isComplete, MARKER_FILE } from "./generate.ts";
import { DEFAULT_CONFIGS } from "./world/presets.ts";

const tiny = {
  viper: { ...DEFAULT_CONFIGS.viper, height: 64, width: 24, sharedIds: 4 },
  regdb: { ...DEFAULT_CONFIGS.regdb, height: 64, width: 32, ids: 3, imagesPerId: 3, trials: 1 },
};

Deno.test("generate: renders on worker shards, writes a marker, reuses finished data, regenerates stale data", async () => {
  const root = await Deno.makeTempDir({ prefix: "generate_" });
  const sheets = join(root, "sheets");
  const lines: string[] = [];
  const opts = {
    presets: ["viper", "regdb"] as const,
    root,
    seed: 3,
    force: false,
    workers: 2,
    sheets,
    configs: tiny,
    log: (l: string) => lines.push(l),
  };
  try {
    const first = await generate({ ...opts, presets: [...opts.presets] });
    assert.ok(first.viper > 0 && first.regdb > 0);
    assert.ok(await isComplete(join(root, "viper"), configHash("viper", tiny.viper, 3)));
    const files = [...Deno.readDirSync(join(root, "viper", "VIPeR", "cam_a"))].map((e) => e.name)
      .sort();
    assert.equal(files.length, 4);
    const before = await Deno.readFile(join(root, "viper", "VIPeR", "cam_a", files[0]));
    // Contact sheets: RGB beside IR for RegDB (two blocks), one block for VIPeR.
    const regdbSheet = await sharp(join(sheets, "regdb.png")).metadata();
    const viperSheet = await sharp(join(sheets, "viper.png")).metadata();
    assert.ok(
      regdbSheet.width! > viperSheet.width!,
      "the cross-modal sheet has an RGB and an IR block",
    );
    assert.equal(viperSheet.height, 8 * 128 + 7 * 2);

    const again = await generate({ ...opts, presets: [...opts.presets] });
    assert.deepEqual(again, { viper: 0, regdb: 0 }, "finished presets are reused");
    assert.match(lines.at(-1)!, /regdb: up to date/);

    // An interrupted run (no marker) and a changed seed are both regenerated from scratch.
    await Deno.remove(join(root, "viper", MARKER_FILE));
    await Deno.writeTextFile(join(root, "viper", "VIPeR", "cam_a", "stray.bmp"), "half-written");
    const redo = await generate({ ...opts, presets: ["viper"], workers: 1 });
    assert.ok(redo.viper > 0);
    assert.ok(
      !(await Deno.stat(join(root, "viper", "VIPeR", "cam_a", "stray.bmp")).catch(() => null)),
      "old files are removed",
    );
    assert.deepEqual(
      await Deno.readFile(join(root, "viper", "VIPeR", "cam_a", files[0])),
      before,
      "same seed, same bytes",
    );
    const reseeded = await generate({ ...opts, presets: ["viper"], seed: 4, workers: 1 });
    assert.ok(reseeded.viper > 0);
    assert.ok(!(await isComplete(join(root, "viper"), configHash("viper", tiny.viper, 3))));

    // A folder the generator did not make (a user's real copy) is never deleted.
    await Deno.mkdir(join(root, "real_viper", "VIPeR", "cam_a"), { recursive: true });
    await Deno.writeTextFile(join(root, "real_viper", "VIPeR", "cam_a", "001_45.bmp"), "real");
    await Deno.rename(join(root, "viper"), join(root, "ours"));
    await Deno.rename(join(root, "real_viper"), join(root, "viper"));
    await assert.rejects(
      generate({ ...opts, presets: ["viper"], workers: 1 }),
      /did not write \(VIPeR\); refusing to delete it/,
    );
    assert.equal(
      await Deno.readTextFile(join(root, "viper", "VIPeR", "cam_a", "001_45.bmp")),
      "real",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("configHash: changes with config, seed and preset", () => {
  const h = configHash("viper", tiny.viper, 1);
  assert.equal(h, configHash("viper", { ...tiny.viper }, 1));
  assert.notEqual(h, configHash("viper", tiny.viper, 2));
  assert.notEqual(h, configHash("viper", { ...tiny.viper, sharedIds: 5 }, 1));
  assert.notEqual(h, configHash("prid2011", tiny.viper, 1));
});
