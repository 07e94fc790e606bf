/**
 * AAIPR's data (lib/papers/aaipr/README.md, 'Data' and 'Semantic IDs'): one of three synthetic
 * worlds written in the real releases' layouts (DukeMTMC-reID and Market-1501 with their
 * attribute files, PETA with its Label.txt files), read back by the real loaders; the
 * train / validation / test splits; each image's attribute vector and its semantic ID (the
 * identity of the whole vector, numbered separately in each split).
 *
 * @see notebooks/aaipr.ipynb §2
 * @module
 */
import { loadDataset } from "../../data/loaders/index.ts";
import { isIdentity, type ReidDataset } from "../../data/types.ts";
import { DEFAULT_CONFIGS, type PresetName } from "../../data/world/presets.ts";
import { loadSplit, type ReidSplit } from "../../data/split.ts";
import { ensureSyntheticPreset, TINY_PRESET } from "../../engine/synthetic.ts";
import { repoPath } from "../../runtime/paths.ts";
import { Rng } from "../../runtime/random.ts";
import type { AaiprConfig, AaiprWorld } from "./config.ts";

/** The release layout each world is written in. */
export const PRESET_OF: Record<AaiprWorld, PresetName & ("dukemtmc_reid" | "market1501" | "peta")> =
  {
    duke: "dukemtmc_reid",
    market: "market1501",
    peta: "peta",
  };

/** One split's images with their attribute vectors and semantic IDs. */
export interface AttributeSplit {
  /** The decoded images (rows in `split.indices` order). */
  split: ReidSplit;
  /** Attribute vector of each row, row-major [rows × attrDim], 0/1. */
  attributes: Float32Array;
  /** The vector of each row as a string key (its semantic ID's name). */
  keys: string[];
  /** Semantic ID of each row, numbered 0… in order of first appearance within the split. */
  sids: Int32Array;
  /** Number of distinct semantic IDs of the split. */
  numSids: number;
}

/** A loaded AAIPR world. */
export interface AaiprData {
  world: AaiprWorld;
  dataset: ReidDataset;
  attrDim: number;
  attributeNames: string[];
  train: AttributeSplit;
  val: AttributeSplit;
  test: AttributeSplit;
  /** Counts for the notebook and the cell's notes. */
  stats: Record<string, number>;
}

/** Tiny sizes of quick mode (each world renders in seconds). */
const TINY: Record<AaiprWorld, Record<string, unknown>> = {
  duke: {
    ...TINY_PRESET,
    attributePool: { trainVectors: 6, testVectors: 5, testOverlap: 0.5, zipf: 1.1 },
  },
  market: {
    ...TINY_PRESET,
    attributePool: { trainVectors: 6, testVectors: 5, testOverlap: 0.5, zipf: 1.1 },
  },
  peta: { categories: 16, extraPersonsMean: 0.5, extraImagesMean: 1 },
};

const scaleRange = (r: readonly [number, number], centre: number, d: number): [number, number] => [
  centre + (r[0] - centre) * d,
  centre + (r[1] - centre) * d,
];

/**
 * The preset fields a difficulty other than 1 replaces (README.md, 'Calibration'): the
 * illumination range around 1, colour cast, pixel noise, blur and occluder probability are
 * scaled by `difficulty`; at 1 nothing is replaced, so the preset renders as `deno task data`'s.
 */
export function difficultyOverrides(
  world: AaiprWorld,
  difficulty: number,
): Record<string, unknown> {
  if (!(difficulty > 0)) throw new Error(`AAIPR: difficulty must be > 0, got ${difficulty}`);
  if (difficulty === 1) return {};
  const base = DEFAULT_CONFIGS[PRESET_OF[world]];
  const s = base.style;
  const c = base.cameras;
  const d = difficulty;
  return {
    style: {
      ...s,
      occluder: { ...s.occluder, p: Math.min(0.9, s.occluder.p * d) },
      colorCast: s.colorCast * d,
      noise: [s.noise[0] * d, s.noise[1] * d],
      blurProb: Math.min(0.9, s.blurProb * d),
    },
    cameras: {
      ...c,
      illumination: scaleRange(c.illumination, 1, d),
      blur: [c.blur[0] * d, c.blur[1] * d],
      noise: c.noise * d,
    },
  };
}

function attributeSplit(
  dataset: ReidDataset,
  split: ReidSplit,
  attrDim: number,
): AttributeSplit {
  const n = split.indices.length;
  const attributes = new Float32Array(n * attrDim);
  const keys: string[] = [];
  const sidOf = new Map<string, number>();
  const sids = new Int32Array(n);
  split.indices.forEach((index: number, row: number) => {
    const a = dataset.images[index].attributes;
    if (!a || a.length !== attrDim) {
      throw new Error(
        `${dataset.root}: image ${dataset.images[index].path} has ${a?.length ?? "no"} ` +
          `attributes, expected ${attrDim} (${dataset.name}'s attribute file)`,
      );
    }
    // Unlabelled (-1) entries count as absent: a semantic ID is the 0/1 vector.
    for (let j = 0; j < attrDim; j++) attributes[row * attrDim + j] = a[j] === 1 ? 1 : 0;
    const key = Array.from(attributes.subarray(row * attrDim, (row + 1) * attrDim)).join("");
    keys.push(key);
    if (!sidOf.has(key)) sidOf.set(key, sidOf.size);
    sids[row] = sidOf.get(key)!;
  });
  return { split, attributes, keys, sids, numSids: sidOf.size };
}

function keyOfImage(dataset: ReidDataset, index: number): string {
  return Array.from(dataset.images[index].attributes ?? [], (v) => (v === 1 ? 1 : 0)).join("");
}

/**
 * Train / validation / test indices (README.md, 'Data'). Duke/Market-like: the release's
 * training persons minus `valPersons` held out for validation; the test split is every
 * labelled query and gallery image (distractors and junk dropped). PETA-like: split by
 * attribute category, `testCategories` and `valCategories` held out (SID-disjoint, zero-shot).
 * The draw is seeded by the world seed, not the training seed: the data is fixed per world.
 */
export function splitIndices(
  dataset: ReidDataset,
  world: AaiprWorld,
  config: AaiprConfig["data"],
): { train: number[]; val: number[]; test: number[] } {
  const rng = new Rng(config.worldSeed).fork(`aaipr-split:${world}`);
  const images = dataset.images;
  if (world === "peta") {
    const keys = [...new Set(images.map((_, i) => keyOfImage(dataset, i)))].sort();
    const order = rng.shuffle(keys.slice());
    const nTest = config.testCategories;
    const nVal = config.valCategories;
    if (order.length < nTest + nVal + 2) {
      throw new Error(
        `${dataset.root}: PETA-like world has ${order.length} attribute categories; ` +
          `${nTest} test + ${nVal} validation + training ones need more`,
      );
    }
    const test = new Set(order.slice(0, nTest));
    const val = new Set(order.slice(nTest, nTest + nVal));
    const out = { train: [] as number[], val: [] as number[], test: [] as number[] };
    images.forEach((_, i) => {
      const k = keyOfImage(dataset, i);
      (test.has(k) ? out.test : val.has(k) ? out.val : out.train).push(i);
    });
    return out;
  }
  const trainAll = images.flatMap((im, i) => (im.split === "train" && isIdentity(im) ? [i] : []));
  const persons = [...new Set(trainAll.map((i) => images[i].pid))].sort((a, b) => a - b);
  if (persons.length <= config.valPersons + 1) {
    throw new Error(
      `${dataset.root}: ${persons.length} training persons cannot spare ${config.valPersons} ` +
        "for validation",
    );
  }
  const valPids = new Set(rng.sample(persons, config.valPersons));
  return {
    train: trainAll.filter((i) => !valPids.has(images[i].pid)),
    val: trainAll.filter((i) => valPids.has(images[i].pid)),
    test: images.flatMap((im, i) =>
      (im.split === "query" || im.split === "gallery") && isIdentity(im) ? [i] : []
    ),
  };
}

/**
 * Renders (when synthetic and missing) and loads the world of `config`, decodes its three
 * splits at the network's input size and derives attribute vectors and semantic IDs.
 *
 * @see notebooks/aaipr.ipynb §2
 */
export async function loadAaiprData(
  config: AaiprConfig["data"],
  log: (line: string) => void = () => {},
): Promise<AaiprData> {
  const preset = PRESET_OF[config.world];
  const root = repoPath(config.root);
  const datasetRoot = config.synthetic
    ? await ensureSyntheticPreset(preset, {
      root,
      seed: config.worldSeed,
      overrides: {
        ...(config.tiny ? TINY[config.world] : {}),
        ...difficultyOverrides(config.world, config.difficulty),
      },
      log,
    })
    : `${root}/${preset}`;
  const dataset = preset === "peta"
    ? loadDataset("peta", datasetRoot, { split: "none", verbose: false })
    : loadDataset(preset, datasetRoot, { verbose: false });
  const attrDim = dataset.attributeNames.length;
  if (attrDim === 0) {
    throw new Error(`${datasetRoot}: ${dataset.name} has no attribute annotation; AAIPR needs one`);
  }
  const idx = splitIndices(dataset, config.world, config);
  const size = { height: config.height, width: config.width };
  const cacheDir = repoPath(config.cache);
  const load = async (indices: number[]) =>
    attributeSplit(dataset, await loadSplit(dataset, indices, size, { cacheDir }), attrDim);
  const train = await load(idx.train);
  const val = await load(idx.val);
  const test = await load(idx.test);
  const trainKeys = new Set(train.keys);
  const overlap = (s: AttributeSplit) =>
    [...new Set(s.keys)].filter((k) => trainKeys.has(k)).length / Math.max(1, s.numSids);
  return {
    world: config.world,
    dataset,
    attrDim,
    attributeNames: dataset.attributeNames,
    train,
    val,
    test,
    stats: {
      attrDim,
      trainImages: idx.train.length,
      trainSids: train.numSids,
      valImages: idx.val.length,
      valSids: val.numSids,
      testImages: idx.test.length,
      testSids: test.numSids,
      testSidOverlap: overlap(test),
      valSidOverlap: overlap(val),
    },
  };
}
