/**
 * PAENet's data (README, 'Synthetic world'): the SYSU-like world with pooled attribute
 * vectors, rendered in SYSU-MM01's release layout (PAENet's `sysu_attribute/camK_att.mat`
 * included), read back through the SYSU-MM01 loader and decoded once into splits; each image
 * carries the 8 attribute labels of its (identity, camera), as the official loaders read them.
 *
 * @module
 */
import { join } from "node:path";
import { loadRegDB } from "../../data/loaders/regdb.ts";
import { loadSplit, type ReidSplit } from "../../data/split.ts";
import type { ReidDataset } from "../../data/types.ts";
import { DEFAULT_CONFIGS, type RegdbConfig, type SysuConfig } from "../../data/world/presets.ts";
import { ensureSyntheticPreset, loadSysuSplits } from "../../engine/synthetic.ts";
import { repoPath } from "../../runtime/paths.ts";
import type { PaenetConfig, PaenetRegdbWorld, PaenetWorld } from "./config.ts";

/** Network inputs: per-channel mean 0.5, std 0.25 (a from-scratch net; README, 'Scales'). */
export const INPUT_NORMALIZATION = {
  mean: [0.5, 0.5, 0.5] as [number, number, number],
  std: [0.25, 0.25, 0.25] as [number, number, number],
};

/** Number of PAENet attributes (gender, hair, glasses, sleeve, dress, lower length, backpack, satchel). */
export const NUM_ATTRIBUTES = 8;

/** The `sysu_mm01` preset with PAENet's knobs applied (cameras 3 and 6 are the IR ones). */
export function paenetWorld(knobs: PaenetWorld): SysuConfig {
  const base = DEFAULT_CONFIGS.sysu_mm01;
  const cameras = base.cameras.map((cam) => {
    if (cam.id !== 3 && cam.id !== 6) return cam;
    const ir = cam.id === 3 ? 0 : 1;
    return { ...cam, blur: knobs.irBlur[ir], noise: knobs.irNoise[ir] };
  });
  return {
    ...base,
    cameras,
    style: { ...base.style, extraClutter: knobs.clutter },
    appearance: {
      ...base.appearance,
      shadeStd: knobs.shadeStd,
      ...(knobs.thermalCoupling > 0 ? { thermalCoupling: knobs.thermalCoupling } : {}),
    },
    trainIds: knobs.trainIds,
    valIds: knobs.valIds,
    testIds: knobs.testIds,
    maxId: knobs.maxId,
    trainRgbPerCam: knobs.trainRgbPerCam,
    trainIrPerCam: knobs.trainIrPerCam,
    testRgbPerCam: knobs.testRgbPerCam,
    testIrPerCam: knobs.testIrPerCam,
    attributePool: {
      trainVectors: knobs.trainVectors,
      testVectors: knobs.testVectors,
      testOverlap: 0.5,
      zipf: 1.1,
    },
  };
}

/**
 * The `regdb` preset with PAENet's knobs (README, 'RegDB-like world'): the SYSU-like world's
 * difficulty (camera 6's IR blur and noise on the thermal camera, shades, thermal coupling,
 * extra clutter), the identities, images and trials of `regdb`, and a pool of attribute
 * vectors written to `attribute/regdb_att.txt`.
 */
export function paenetRegdbWorld(knobs: PaenetWorld, regdb: PaenetRegdbWorld): RegdbConfig {
  const base = DEFAULT_CONFIGS.regdb;
  const [vis, thr] = base.cameras;
  return {
    ...base,
    cameras: [vis, { ...thr, blur: knobs.irBlur[1], noise: knobs.irNoise[1] }],
    style: { ...base.style, extraClutter: knobs.clutter },
    appearance: {
      ...base.appearance,
      shadeStd: knobs.shadeStd,
      ...(knobs.thermalCoupling > 0 ? { thermalCoupling: knobs.thermalCoupling } : {}),
    },
    ids: regdb.ids,
    imagesPerId: regdb.imagesPerId,
    trials: regdb.trials,
    attributePool: { trainVectors: regdb.vectors, testVectors: 0, testOverlap: 0, zipf: 1.1 },
  };
}

/** A split with each row's attribute vector (0/1, [rows × 8]). */
export interface AttributedSplit extends ReidSplit {
  attributes: Float32Array;
}

/** Everything a PAENet cell reads. */
export interface PaenetData {
  dataset: ReidDataset;
  train: AttributedSplit;
  /** Validation identities (SYSU-MM01's `val_id.txt`); RegDB's protocol has none (null). */
  val: AttributedSplit | null;
  test: AttributedSplit;
  /** The protocol the test split is scored with. */
  protocol: "sysu" | "regdb";
}

function withAttributes(split: ReidSplit): AttributedSplit {
  const attributes = new Float32Array(split.indices.length * NUM_ATTRIBUTES);
  split.indices.forEach((index, row) => {
    const a = split.dataset.images[index].attributes;
    if (!a || a.length !== NUM_ATTRIBUTES) {
      throw new Error(
        `${split.dataset.root}: image ${split.dataset.images[index].path} has no PAENet ` +
          `attributes (expected sysu_attribute/camK_att.mat with 8 rows per identity)`,
      );
    }
    // The release's −1 (unlabelled) reads as 0: the model needs a value.
    for (let j = 0; j < NUM_ATTRIBUTES; j++) {
      attributes[row * NUM_ATTRIBUTES + j] = a[j] > 0 ? 1 : 0;
    }
  });
  return { ...split, attributes };
}

/** Loads (rendering first when synthetic) the dataset and decodes its three parts. */
export async function loadPaenetData(
  data: PaenetConfig["data"],
  log: (line: string) => void = () => {},
): Promise<PaenetData> {
  const tag = data.synthetic
    ? `paenet-w${data.worldSeed}-${data.root.replace(/\W+/g, "_")}`
    : "sysu";
  const parts = await loadSysuSplits(data, paenetWorld(data.world), tag, log);
  const [train, val, test] = [parts.train, parts.val, parts.test].map(withAttributes);
  const { dataset } = parts;
  return { dataset, train, val, test, protocol: "sysu" };
}

/** Labels of `attribute/regdb_att.txt` (lines `<id> <8 labels>`) by identity. */
export function readRegdbAttributes(dataDir: string): Map<number, Int8Array> {
  const path = join(dataDir, "attribute", "regdb_att.txt");
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    throw new Error(
      `${path}: missing. RegDB has no attribute labels; PAENet's RegDB rows need one line ` +
        `"<id> <8 labels 0/1>" per identity there (the synthetic RegDB-like world writes it)`,
    );
  }
  const out = new Map<number, Int8Array>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const v = line.trim().split(/\s+/).map(Number);
    if (v.length !== NUM_ATTRIBUTES + 1 || v.some((x) => !Number.isInteger(x))) {
      throw new Error(`${path}:${i + 1}: expected "<id> <8 labels>", got "${line}"`);
    }
    out.set(v[0], Int8Array.from(v.slice(1)));
  });
  return out;
}

/**
 * RegDB trial `trial` (1-based; README, 'RegDB-like world'): renders the RegDB-like world
 * when synthetic, loads the release layout, attaches each identity's attribute labels and
 * decodes the trial's training half and its test half (visible and thermal images of the
 * other identities) through the pixel cache.
 */
export async function loadPaenetRegdb(
  data: PaenetConfig["data"],
  trial: number,
  log: (line: string) => void = () => {},
): Promise<PaenetData> {
  const root = data.synthetic
    ? await ensureSyntheticPreset("regdb", {
      root: repoPath(data.regdbRoot),
      seed: data.worldSeed,
      overrides: { ...paenetRegdbWorld(data.world, data.regdb) },
      lockTimeoutMs: 15 * 60_000,
      log,
    })
    : repoPath(data.regdbRoot);
  const dataset = loadRegDB(root, { verbose: false, trials: [trial] });
  const labels = readRegdbAttributes(dataset.root);
  for (const im of dataset.images) {
    const a = labels.get(im.pid);
    if (a) im.attributes = a;
  }
  const v2t = dataset.trials?.find((t) => t.name === `trial${trial}/visible-to-thermal`);
  if (!v2t) throw new Error(`${dataset.root}: no trial ${trial} in idx/`);
  const size = { height: data.height, width: data.width };
  const cacheDir = repoPath(data.cache);
  const tag = data.synthetic
    ? `paenet-regdb-w${data.worldSeed}-${data.regdbRoot.replace(/\W+/g, "_")}`
    : "regdb";
  const [train, test] = await Promise.all(
    ([["train", v2t.train], ["test", [...v2t.query, ...v2t.gallery]]] as const).map((
      [part, indices],
    ) => loadSplit(dataset, indices, size, { cacheDir, cacheName: `${tag}-t${trial}-${part}` })),
  );
  return {
    dataset,
    train: withAttributes(train),
    val: null,
    test: withAttributes(test),
    protocol: "regdb",
  };
}

/**
 * Statistics of a split's identities and attribute vectors (README, 'Synthetic world'):
 * how many identities share a vector, and the share with a vector of their own.
 */
export function attributeStats(split: AttributedSplit): {
  ids: number;
  images: number;
  vectors: number;
  idsPerVector: number;
  uniqueIdShare: number;
} {
  const vectorOf = new Map<number, string>();
  split.indices.forEach((index, row) => {
    const pid = split.dataset.images[index].pid;
    // An identity's vector as its first image's camera labels it (labels vary per camera).
    if (vectorOf.has(pid)) return;
    const a = split.attributes.subarray(row * NUM_ATTRIBUTES, (row + 1) * NUM_ATTRIBUTES);
    vectorOf.set(pid, Array.from(a).join(""));
  });
  const count = new Map<string, number>();
  for (const v of vectorOf.values()) count.set(v, (count.get(v) ?? 0) + 1);
  const unique = [...vectorOf.values()].filter((v) => count.get(v) === 1).length;
  return {
    ids: vectorOf.size,
    images: split.indices.length,
    vectors: count.size,
    idsPerVector: vectorOf.size / Math.max(1, count.size),
    uniqueIdShare: unique / Math.max(1, vectorOf.size),
  };
}
