/**
 * Every synthetic layout, written by its writer at a tiny size, loads back
 * through the real loader with the same images, ids, cameras, modalities,
 * splits, attributes and (RegDB) trials as the writer's `_synthetic_truth.json`.
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import { DATASET_NAMES, type DatasetName, loadDataset } from "./loaders/index.ts";
import { decodeImage } from "./images.ts";
import type { ReidDataset } from "./types.ts";
import { DEFAULT_CONFIGS, type PresetConfigs } from "./world/presets.ts";
import { executePlan, planPreset, readTruth } from "./writers/mod.ts";
import { withTempDir } from "./testing.ts";

const SMALL = { height: 32, width: 16 };

/** Tiny versions of the default presets: a handful of ids and images each. */
const TINY: { [K in DatasetName]: PresetConfigs[K] } = {
  market1501: {
    ...DEFAULT_CONFIGS.market1501,
    ...SMALL,
    trainIds: 3,
    testIds: 3,
    trainImages: [2, 3],
    queriesPerId: 1,
    galleryPerId: 2,
    distractorImages: 2,
    junkImages: 2,
  },
  dukemtmc_reid: {
    ...DEFAULT_CONFIGS.dukemtmc_reid,
    ...SMALL,
    trainIds: 3,
    testIds: 2,
    trainImages: [2, 2],
    queriesPerId: 1,
    galleryPerId: 2,
    galleryOnlyIds: 2,
  },
  peta: {
    ...DEFAULT_CONFIGS.peta,
    ...SMALL,
    categories: 4,
    extraPersonsMean: 0.5,
    extraImagesMean: 0.3,
  },
  sysu_mm01: {
    ...DEFAULT_CONFIGS.sysu_mm01,
    ...SMALL,
    trainIds: 2,
    valIds: 1,
    testIds: 2,
    maxId: 9,
    trainRgbPerCam: 1,
    trainIrPerCam: 1,
    testRgbPerCam: 2,
    testIrPerCam: 1,
  },
  regdb: { ...DEFAULT_CONFIGS.regdb, ...SMALL, ids: 4, imagesPerId: 2, trials: 2 },
  viper: { ...DEFAULT_CONFIGS.viper, ...SMALL, sharedIds: 4 },
  prid2011: { ...DEFAULT_CONFIGS.prid2011, ...SMALL, sharedIds: 3, onlyA: 2, onlyB: 3 },
};

/**
 * PETA numbers persons per source folder, so its pids are compared as a
 * partition (same person ↔ same pid); every other layout must match exactly.
 */
const PID_BY_BIJECTION: ReadonlySet<DatasetName> = new Set(["peta"]);

function byPath(ds: ReidDataset) {
  return new Map(ds.images.map((im, i) => [relative(ds.root, im.path), { im, i }]));
}

for (const name of DATASET_NAMES) {
  Deno.test(`round trip: ${name} written → loaded matches _synthetic_truth.json`, async () => {
    await withTempDir(async (dir) => {
      const config = TINY[name];
      const plan = planPreset(name, config, 11);
      await executePlan(plan, dir);
      const truth = await readTruth(dir);
      const options = {
        verbose: false,
        ...(name === "peta" ? { split: "none" as const } : {}),
        ...(name === "prid2011"
          ? { sharedIds: (config as PresetConfigs["prid2011"]).sharedIds }
          : {}),
      };
      const loaded = loadDataset(name, dir, options);
      assert.equal(loaded.root, truth.root);
      assert.equal(loaded.images.length, truth.images.length);
      const want = byPath(truth);
      const got = byPath(loaded);
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());

      const pidMap = new Map<string, number>();
      const column = new Map(loaded.attributeNames.map((n, i) => [n, i]));
      if (name !== "peta") assert.deepEqual(loaded.attributeNames, truth.attributeNames);
      else assert.ok(loaded.attributeNames.every((n) => truth.attributeNames.includes(n)));
      for (const [path, { im }] of got) {
        const t = want.get(path)!.im;
        assert.deepEqual([im.camid, im.modality, im.split], [t.camid, t.modality, t.split], path);
        if (PID_BY_BIJECTION.has(name)) {
          // PETA's person numbers restart in every source folder: a person is (source, number).
          const key = `${t.meta!.source}/${t.pid}`;
          if (!pidMap.has(key)) pidMap.set(key, im.pid);
          assert.equal(im.pid, pidMap.get(key), `${path}: same identity partition`);
        } else assert.equal(im.pid, t.pid, path);
        if (!t.attributes) {
          assert.equal(im.attributes, undefined, path);
          continue;
        }
        assert.ok(im.attributes, `${path} has attributes`);
        truth.attributeNames.forEach((attr, a) => {
          const c = column.get(attr);
          assert.equal(
            c === undefined ? 0 : im.attributes![c],
            t.attributes![a],
            `${path} ${attr}`,
          );
        });
      }
      if (PID_BY_BIJECTION.has(name)) {
        assert.equal(
          new Set(pidMap.values()).size,
          pidMap.size,
          "distinct identities stay distinct",
        );
      }
      for (const t of truth.trials ?? []) {
        const mine = loaded.trials!.find((l) => l.name === `${t.name}/visible-to-thermal`)!;
        assert.ok(mine, `trial ${t.name} loaded`);
        for (const part of ["train", "query", "gallery"] as const) {
          const paths = (ds: ReidDataset, idx: number[]) =>
            idx.map((i) => relative(ds.root, ds.images[i].path)).sort();
          assert.deepEqual(paths(loaded, mine[part]), paths(truth, t[part]), `${t.name} ${part}`);
        }
      }
      const first = await decodeImage(loaded.images[0].path, { height: 16, width: 8 });
      assert.equal(first.length, 16 * 8 * 3);
    });
  });
}
