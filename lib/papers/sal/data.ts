/**
 * SAL's data (README.md, 'Data and splits'): the synthetic PETA-like and Market-attribute-like
 * worlds rendered in the real releases' layouts (or a real copy), loaded through the PETA and
 * Market-1501 loaders, split by attribute category as the official code does, with one
 * attribute query per evaluation category.
 *
 * @module
 */
import { loadDataset } from "../../data/loaders/index.ts";
import { loadSplit, type ReidSplit } from "../../data/split.ts";
import { type EvalItem, isIdentity, type ReidDataset } from "../../data/types.ts";
import { DEFAULT_CONFIGS } from "../../data/world/presets.ts";
import { ensureSyntheticPreset } from "../../engine/synthetic.ts";
import { repoPath } from "../../runtime/paths.ts";
import { Rng } from "../../runtime/random.ts";
import type { SalConfig, WorldKnobs } from "./config.ts";
import { join } from "node:path";

/** Images of one part of the data with their attribute vectors and categories. */
export interface SalImages {
  split: ReidSplit;
  /** Row-major rows × attrDim, 0/1. */
  attributes: Float32Array;
  /** Training: category index 0…M−1; evaluation: the category key's index in `categoryKeys`. */
  categories: Int32Array;
  /** What the evaluation sees of each row (pid, camid, category). */
  items: EvalItem[];
}

/** One attribute query: a category's attribute vector. */
export interface SalQuery {
  attributes: Float32Array;
  /** The category (its attribute vector as a 0/1 string). */
  key: string;
  /** Whether the category occurs in training. */
  seen: boolean;
  item: EvalItem;
}

/** An evaluation set: the gallery images and one query per category. */
export interface SalEvalSet {
  gallery: SalImages;
  queries: SalQuery[];
  /** SAL's Market rule: drop gallery images of the query's person and camera. */
  excludeSource: boolean;
}

/** Everything a SAL cell trains and evaluates on. */
export interface SalData {
  dataset: ReidDataset;
  attributeNames: string[];
  attrDim: number;
  /** One-hot groups (age, colours) as index lists; every other dimension is binary. */
  groups: number[][];
  binaryDims: number[];
  train: SalImages;
  /** Number of training categories M. */
  numCategories: number;
  /** The training category keys, index = category. */
  trainKeys: string[];
  val: SalEvalSet;
  test: SalEvalSet;
  /** Fraction of training images with each attribute on. */
  priors: Float32Array;
  /** Mean number of positive dimensions per training image. */
  meanPositives: number;
}

/** The attribute vector of an image as its category key. */
export function categoryKey(attributes: ArrayLike<number>): string {
  let s = "";
  for (let j = 0; j < attributes.length; j++) s += attributes[j] > 0 ? "1" : "0";
  return s;
}

function style<S extends { occluder: { p: number; area: [number, number] } }>(
  base: S,
  k: WorldKnobs,
): S {
  return {
    ...base,
    occluder: { ...base.occluder, p: k.occluder },
    noise: k.noise,
    shift: k.shift,
    blurProb: k.blurProb,
    extraClutter: k.clutter,
    colorCast: k.colorCast,
    shadeJitter: k.shadeJitter,
  };
}

/** The preset overrides of a config's world (README.md, 'Synthetic worlds'). */
export function worldOverrides(data: SalConfig["data"]): Record<string, unknown> {
  const s = data.sizes;
  if (data.dataset === "peta") {
    return {
      style: style(DEFAULT_CONFIGS.peta.style, data.world),
      categories: s.petaCategories,
      extraPersonsMean: s.petaExtraPersons,
      extraImagesMean: s.petaExtraImages,
    };
  }
  const quick = s.marketTrainIds < 50;
  return {
    style: style(DEFAULT_CONFIGS.market1501.style, data.world),
    trainIds: s.marketTrainIds,
    testIds: s.marketTestIds,
    attributePool: {
      trainVectors: s.marketTrainVectors,
      testVectors: s.marketTestVectors,
      testOverlap: s.marketSeenShare,
      zipf: 1.1,
    },
    ...(quick ? { trainImages: [3, 5], distractorImages: 4, junkImages: 2 } : {}),
  };
}

/** Loads the dataset of a config, rendering the synthetic world first when needed. */
export async function loadSalDataset(
  data: SalConfig["data"],
  log: (line: string) => void = () => {},
): Promise<ReidDataset> {
  const preset = data.dataset === "peta" ? "peta" : "market1501";
  const root = repoPath(data.root);
  const folder = data.synthetic
    ? await ensureSyntheticPreset(preset, {
      root,
      seed: data.worldSeed,
      overrides: worldOverrides(data),
      log,
    })
    : join(root, preset);
  return preset === "peta"
    ? loadDataset("peta", folder, { verbose: false, split: "none" })
    : loadDataset("market1501", folder, { verbose: false });
}

function attributesOf(dataset: ReidDataset, index: number, where: string): Int8Array {
  const a = dataset.images[index].attributes;
  if (!a) {
    throw new Error(
      `${dataset.root}: image ${dataset.images[index].path} has no attribute labels; ` +
        `${where} needs an attribute annotation for every image`,
    );
  }
  return a;
}

async function images(
  dataset: ReidDataset,
  indices: number[],
  config: SalConfig["data"],
  name: string,
  category: (key: string) => number,
  item: (index: number) => EvalItem,
): Promise<SalImages> {
  const split = await loadSplit(dataset, indices, { height: config.height, width: config.width }, {
    cacheDir: repoPath(config.cache),
    cacheName: `sal-${dataset.name}-${name}`,
  });
  const d = dataset.attributeNames.length;
  const attributes = new Float32Array(indices.length * d);
  const categories = new Int32Array(indices.length);
  const items: EvalItem[] = [];
  indices.forEach((index, row) => {
    const a = attributesOf(dataset, index, "SAL");
    for (let j = 0; j < d; j++) attributes[row * d + j] = a[j] > 0 ? 1 : 0;
    const key = categoryKey(a);
    categories[row] = category(key);
    items.push({ ...item(index), category: key });
  });
  return { split, attributes, categories, items };
}

/**
 * One query per category of `indices` (its attribute vector; the source image is the first
 * image of the category in file order), as the official code builds them.
 */
function queriesOf(
  dataset: ReidDataset,
  indices: number[],
  seen: Set<string>,
  sourceItem: (index: number) => EvalItem,
): SalQuery[] {
  const first = new Map<string, number>();
  const sorted = [...indices].sort((a, b) =>
    dataset.images[a].path < dataset.images[b].path ? -1 : 1
  );
  for (const i of sorted) {
    const key = categoryKey(attributesOf(dataset, i, "SAL"));
    if (!first.has(key)) first.set(key, i);
  }
  return [...first.entries()].map(([key, index]) => ({
    attributes: Float32Array.from(attributesOf(dataset, index, "SAL"), (v) => (v > 0 ? 1 : 0)),
    key,
    seen: seen.has(key),
    item: { ...sourceItem(index), category: key },
  }));
}

/**
 * The splits of README.md, 'Data and splits'. PETA-like: categories with one image are
 * dropped; `testCategories` and `valCategories` categories are drawn (seeded) as test and
 * validation, the rest train; each image is its own identity, so a query excludes only its
 * source image. Market-like: the release's train / query / gallery, `valIds` training
 * identities held out for validation; queries from the first query image of each test
 * category; the gallery is bounding_box_test (no distractors or junk) plus the query images.
 */
export async function loadSalData(
  config: SalConfig["data"],
  log: (line: string) => void = () => {},
): Promise<SalData> {
  const dataset = await loadSalDataset(config, log);
  const d = dataset.attributeNames.length;
  if (d === 0) throw new Error(`${dataset.root}: ${dataset.name} has no attribute annotation`);
  const rng = new Rng(config.splitSeed);
  let trainIdx: number[];
  let valGallery: number[];
  let valQuerySources: number[];
  let testGallery: number[];
  let testQuerySources: number[];
  let item: (index: number) => EvalItem;
  if (dataset.name === "peta") {
    const byKey = new Map<string, number[]>();
    dataset.images.forEach((_, i) => {
      const key = categoryKey(attributesOf(dataset, i, "SAL"));
      byKey.set(key, [...(byKey.get(key) ?? []), i]);
    });
    const keys = [...byKey.keys()].filter((k) => byKey.get(k)!.length > 1).sort();
    const need = config.testCategories + config.valCategories + 2;
    if (keys.length < need) {
      throw new Error(
        `${dataset.root}: ${keys.length} categories with ≥ 2 images; expected at least ${need} ` +
          `(${config.testCategories} test + ${config.valCategories} validation + training)`,
      );
    }
    const order = rng.shuffle([...keys]);
    const test = order.slice(0, config.testCategories);
    const val = order.slice(config.testCategories, config.testCategories + config.valCategories);
    const train = order.slice(config.testCategories + config.valCategories);
    const flat = (ks: string[]) => ks.flatMap((k) => byKey.get(k)!).sort((a, b) => a - b);
    trainIdx = flat(train);
    valGallery = valQuerySources = flat(val);
    testGallery = testQuerySources = flat(test);
    // Every PETA image is its own "identity" in the official code.
    item = (i) => ({ pid: i, camid: dataset.images[i].camid });
  } else {
    const persons = (split: string) =>
      dataset.images.flatMap((im, i) => (im.split === split && isIdentity(im) ? [i] : []));
    const allTrain = persons("train");
    const pids = rng.shuffle(
      [...new Set(allTrain.map((i) => dataset.images[i].pid))].sort((a, b) => a - b),
    );
    const valPids = new Set(pids.slice(0, config.valIds));
    trainIdx = allTrain.filter((i) => !valPids.has(dataset.images[i].pid));
    valGallery = allTrain.filter((i) => valPids.has(dataset.images[i].pid));
    // Validation persons have no query set: each category's first image is its source.
    valQuerySources = valGallery;
    testQuerySources = persons("query");
    testGallery = [...persons("gallery"), ...testQuerySources].sort((a, b) => a - b);
    item = (i) => ({ pid: dataset.images[i].pid, camid: dataset.images[i].camid });
  }
  const trainKeyList: string[] = [];
  const trainKeyIndex = new Map<string, number>();
  for (const i of trainIdx) {
    const key = categoryKey(attributesOf(dataset, i, "SAL"));
    if (!trainKeyIndex.has(key)) {
      trainKeyIndex.set(key, trainKeyList.length);
      trainKeyList.push(key);
    }
  }
  const seen = new Set(trainKeyList);
  const train = await images(
    dataset,
    trainIdx,
    config,
    "train",
    (k) => trainKeyIndex.get(k)!,
    item,
  );
  const evalSet = async (name: string, gallery: number[], sources: number[]) => {
    const queries = queriesOf(dataset, sources, seen, item);
    const index = new Map(queries.map((q, i) => [q.key, i]));
    return {
      gallery: await images(dataset, gallery, config, name, (k) => index.get(k) ?? -1, item),
      queries,
      excludeSource: true,
    };
  };
  const priors = new Float32Array(d);
  let positives = 0;
  for (let r = 0; r < trainIdx.length; r++) {
    for (let j = 0; j < d; j++) {
      priors[j] += train.attributes[r * d + j];
      positives += train.attributes[r * d + j];
    }
  }
  for (let j = 0; j < d; j++) priors[j] /= trainIdx.length;
  const groups = Object.values(dataset.attributeGroups).filter((g) => g.length > 1);
  const grouped = new Set(groups.flat());
  return {
    dataset,
    attributeNames: dataset.attributeNames,
    attrDim: d,
    groups,
    binaryDims: Array.from({ length: d }, (_, j) => j).filter((j) => !grouped.has(j)),
    train,
    numCategories: trainKeyList.length,
    trainKeys: trainKeyList,
    val: await evalSet("val", valGallery, valQuerySources),
    test: await evalSet("test", testGallery, testQuerySources),
    priors,
    meanPositives: positives / trainIdx.length,
  };
}

/** A short description of the data for notes and the notebook. */
export function describeData(data: SalData): Record<string, number> {
  const unseen = (s: SalEvalSet) => s.queries.filter((q) => !q.seen).length;
  return {
    attrDim: data.attrDim,
    trainImages: data.train.split.indices.length,
    trainCategories: data.numCategories,
    valImages: data.val.gallery.split.indices.length,
    valQueries: data.val.queries.length,
    testImages: data.test.gallery.split.indices.length,
    testQueries: data.test.queries.length,
    testUnseenQueries: unseen(data.test),
  };
}
