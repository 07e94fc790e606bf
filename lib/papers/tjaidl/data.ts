/**
 * TJ-AIDL's data (lib/papers/tjaidl/README.md, 'Synthetic world' and 'Splits'): two synthetic
 * pedestrian domains that differ only in style — A Market-like, B Duke-like — rendered in the
 * Market-1501 and DukeMTMC-reID release layouts with their attribute files (or real copies),
 * loaded through the release loaders and decoded once into the pixel cache. The source gives
 * labelled training images (identity + attributes); the target gives unlabelled training
 * images, a validation split carved from its training identities, and its test query/gallery.
 *
 * @see notebooks/tjaidl.ipynb §2
 * @module
 */
import { join } from "node:path";
import { generate } from "../../data/generate.ts";
import { loadDataset } from "../../data/loaders/index.ts";
import { isIdentity, type ReidDataset } from "../../data/types.ts";
import {
  DEFAULT_CONFIGS,
  type PresetConfigs,
  type ReidSetConfig,
} from "../../data/world/presets.ts";
import { type DomainStyle, DUKE_LIKE, MARKET_LIKE } from "../../data/world/scene.ts";
import { loadSplit, type ReidSplit } from "../../data/split.ts";
import type { Normalization } from "../../data/images.ts";
import { acquireLock } from "../../runtime/lock.ts";
import { repoPath } from "../../runtime/paths.ts";
import type { Direction, TjaidlConfig, WorldKnobs } from "./config.ts";

/** Network inputs are scaled to [−1, 1] (README.md, 'Architecture'). */
export const INPUT_NORMALIZATION: Normalization = {
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
};

/** The release layouts of the two domains. */
export const DOMAIN_PRESET = { A: "market1501", B: "dukemtmc_reid" } as const;

const lerp = (a: number, b: number, t: number) => a + (b - a) * t;
const lerp2 = (a: [number, number], b: [number, number], t: number): [number, number] => [
  lerp(a[0], b[0], t),
  lerp(a[1], b[1], t),
];

/**
 * B's style at `severity`: every numeric nuisance of the Market-like style moved towards the
 * Duke-like preset's by that fraction (1: the preset; above 1: extrapolated, harsher; counts
 * and probabilities are clipped to valid ranges).
 */
export function domainBStyle(severity: number): DomainStyle {
  const t = severity;
  const a = MARKET_LIKE, b = DUKE_LIKE;
  const clip01 = (v: number) => Math.min(1, Math.max(0, v));
  const clutter = lerp2(a.extraClutter, b.extraClutter, t).map((v) => Math.max(0, Math.round(v)));
  return {
    ...b,
    name: `duke-like@${severity}`,
    shift: lerp2(a.shift, b.shift, t).map((v) => Math.max(0, v)) as [number, number],
    scale: lerp2(a.scale, b.scale, t),
    blurProb: clip01(lerp(a.blurProb, b.blurProb, t)),
    occluder: {
      p: clip01(lerp(a.occluder.p, b.occluder.p, t)),
      area: lerp2(a.occluder.area, b.occluder.area, t),
    },
    extraClutter: [clutter[0], Math.max(clutter[0], clutter[1])],
    colorCast: Math.max(0, lerp(a.colorCast, b.colorCast, t)),
    contrast: lerp2(a.contrast, b.contrast, t),
    resolutionLoss: Math.max(1, Math.round(lerp(a.resolutionLoss, b.resolutionLoss, t))),
    noise: lerp2(a.noise, b.noise, t).map((v) => Math.max(0, v)) as [number, number],
    shadeJitter: Math.max(0, lerp(a.shadeJitter, b.shadeJitter, t)),
  };
}

/** The preset config of domain `domain` under the knobs. */
export function domainConfig(domain: "A" | "B", knobs: WorldKnobs): ReidSetConfig {
  const base = DEFAULT_CONFIGS[DOMAIN_PRESET[domain]];
  const vectors = Math.max(1, Math.round(knobs.trainIds / knobs.personsPerVector));
  return {
    ...base,
    style: domain === "A" ? MARKET_LIKE : domainBStyle(knobs.severity),
    appearance: { ...base.appearance, shadeStd: knobs.shadeStd },
    cameras: { ...base.cameras, count: knobs.cameras },
    trainIds: knobs.trainIds,
    testIds: knobs.testIds,
    trainImages: knobs.trainImages,
    queriesPerId: knobs.queriesPerId,
    galleryPerId: knobs.galleryPerId,
    distractorImages: domain === "A" ? knobs.distractors : 0,
    junkImages: 0,
    galleryOnlyIds: domain === "B" ? knobs.distractors : 0,
    attributePool: knobs.personsPerVector <= 1 ? null : {
      trainVectors: vectors,
      testVectors: Math.max(1, Math.round(knobs.testIds / knobs.personsPerVector)),
      testOverlap: 0.5,
      zipf: 1.1,
    },
  };
}

/** The source and target domain of a direction. */
export function domainsOf(direction: Direction): { source: "A" | "B"; target: "A" | "B" } {
  return direction === "AtoB" ? { source: "A", target: "B" } : { source: "B", target: "A" };
}

/**
 * Renders both domains into `data.root` unless they are already there with this config
 * (idempotent), under a lock so that two grid workers do not render at once.
 */
export async function ensureWorlds(
  data: TjaidlConfig["data"],
  log: (line: string) => void = () => {},
): Promise<void> {
  const root = repoPath(data.root);
  await Deno.mkdir(root, { recursive: true });
  const lock = await acquireLock(join(root, "tjaidl.lock"), {
    timeoutMs: 15 * 60_000,
    purpose: "rendering the TJ-AIDL domains",
  });
  try {
    const configs: Partial<PresetConfigs> = {
      market1501: domainConfig("A", data.world),
      dukemtmc_reid: domainConfig("B", data.world),
    };
    await generate({
      presets: ["market1501", "dukemtmc_reid"],
      root,
      seed: data.worldSeed,
      force: false,
      workers: 1,
      sheets: null,
      configs,
      log,
    });
  } finally {
    await lock.release();
  }
}

/** Everything a TJ-AIDL cell reads. */
export interface TjaidlData {
  source: ReidDataset;
  target: ReidDataset;
  /** Labelled source training images (identities only). */
  sourceTrain: ReidSplit;
  /** Attribute labels of `sourceTrain`, row-major [rows × m], in {0, 1}. */
  sourceAttributes: Float32Array;
  /** Attribute names of the source release (m of them). */
  attributeNames: string[];
  /** Source test queries (for the Fig. 2 discrepancy on the source). */
  sourceTest: ReidSplit;
  /** Unlabelled target training images (validation identities excluded). */
  targetTrain: ReidSplit;
  /** Target validation queries and gallery, from held-out target training identities. */
  valQuery: ReidSplit;
  valGallery: ReidSplit;
  /** Target test query and gallery. */
  query: ReidSplit;
  gallery: ReidSplit;
}

const cachedData = new Map<string, Promise<TjaidlData>>();

/** Loads (rendering first when synthetic) both domains and decodes every split a cell reads. */
export function loadTjaidlData(
  data: TjaidlConfig["data"],
  log: (line: string) => void = () => {},
): Promise<TjaidlData> {
  // One worker runs many cells on the same world: decode once per process.
  const key = JSON.stringify(data);
  let hit = cachedData.get(key);
  if (!hit) {
    hit = loadUncached(data, log);
    cachedData.set(key, hit);
    hit.catch(() => cachedData.delete(key));
  }
  return hit;
}

async function loadUncached(
  data: TjaidlConfig["data"],
  log: (line: string) => void,
): Promise<TjaidlData> {
  if (data.synthetic) await ensureWorlds(data, log);
  const root = repoPath(data.root);
  const { source: s, target: t } = domainsOf(data.direction);
  const dataset = (d: "A" | "B") =>
    loadDataset(DOMAIN_PRESET[d], join(root, DOMAIN_PRESET[d]), { verbose: false });
  const source = dataset(s), target = dataset(t);
  const size = { height: data.height, width: data.width };
  const cacheDir = repoPath(data.cache);
  const sourceTrain = await loadSplit(source, "train", size, { identitiesOnly: true, cacheDir });
  const m = source.attributeNames.length;
  if (m === 0) {
    throw new Error(`${source.root}: no attribute annotation; TJ-AIDL's source needs one`);
  }
  const sourceAttributes = new Float32Array(sourceTrain.indices.length * m);
  sourceTrain.indices.forEach((index, row) => {
    const a = source.images[index].attributes;
    if (!a) throw new Error(`${source.root}: image ${source.images[index].path} has no attributes`);
    for (let j = 0; j < m; j++) sourceAttributes[row * m + j] = a[j] === 1 ? 1 : 0;
  });
  const { train, valQuery, valGallery } = carveValidation(target, data.world.valIds);
  return {
    source,
    target,
    sourceTrain,
    sourceAttributes,
    attributeNames: source.attributeNames,
    sourceTest: await loadSplit(source, "query", size, { cacheDir }),
    targetTrain: await loadSplit(target, train, size, { cacheDir }),
    valQuery: await loadSplit(target, valQuery, size, { cacheDir }),
    valGallery: await loadSplit(target, valGallery, size, { cacheDir }),
    query: await loadSplit(target, "query", size, { cacheDir }),
    gallery: await loadSplit(target, "gallery", size, { cacheDir }),
  };
}

/**
 * The target's validation split (README.md, 'Splits'): the `valIds` highest-numbered training
 * identities; per identity and camera its first image is a query, and every image of these
 * identities is in the gallery (the Market-1501 rule drops same-identity same-camera matches,
 * the query itself included). These identities are left out of Step II's unlabelled pool.
 */
export function carveValidation(
  target: ReidDataset,
  valIds: number,
): { train: number[]; valQuery: number[]; valGallery: number[] } {
  const trainIdx = target.images.flatMap((im, i) =>
    im.split === "train" && isIdentity(im) ? [i] : []
  );
  const pids = [...new Set(trainIdx.map((i) => target.images[i].pid))].sort((a, b) => a - b);
  if (valIds >= pids.length) {
    throw new Error(`${target.root}: ${valIds} validation ids of ${pids.length} training ids`);
  }
  const val = new Set(pids.slice(pids.length - valIds));
  const valGallery = trainIdx.filter((i) => val.has(target.images[i].pid));
  const seen = new Set<string>();
  const valQuery = valGallery.filter((i) => {
    const key = `${target.images[i].pid}/${target.images[i].camid}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  return { train: trainIdx.filter((i) => !val.has(target.images[i].pid)), valQuery, valGallery };
}
