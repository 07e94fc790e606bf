/**
 * One config per dataset preset: sizes (CPU scale, from the papers' small-scale plans), the
 * domain style, camera models, attribute prior and appearance strength. All
 * plain data: a paper calibrates difficulty by editing a copy of a config on
 * its *baseline* (docs/design.md, 'Synthetic world'), never in code.
 *
 * @module
 */
import { type AttributePriors, DEFAULT_PRIORS } from "./attributes.ts";
import { type AppearanceConfig, DEFAULT_APPEARANCE } from "./identity.ts";
import type { AttributePoolConfig } from "./attribute_pool.ts";
import {
  type CameraModel,
  type CameraRanges,
  DomainStyle,
  DUKE_LIKE,
  MARKET_LIKE,
} from "./scene.ts";

/** The dataset presets `deno task data` generates. */
export const PRESET_NAMES = [
  "market1501",
  "dukemtmc_reid",
  "peta",
  "sysu_mm01",
  "regdb",
  "viper",
  "prid2011",
] as const;
/** One of {@link PRESET_NAMES}. */
export type PresetName = typeof PRESET_NAMES[number];

/** What every preset has. */
interface BaseConfig {
  style: DomainStyle;
  priors: AttributePriors;
  appearance: AppearanceConfig;
  /** Image size in pixels (height × width), as the release stores it. */
  height: number;
  width: number;
}

/** Market-1501 / DukeMTMC-reID style re-id set. */
export interface ReidSetConfig extends BaseConfig {
  cameras: CameraRanges;
  trainIds: number;
  testIds: number;
  /** Train images per identity: [min, max], over at least two cameras. */
  trainImages: [number, number];
  /** Query images per test identity (each from a different camera). */
  queriesPerId: number;
  /** Gallery images per test identity (at least one from a camera no query uses). */
  galleryPerId: number;
  /** Market: "0000" distractor boxes in bounding_box_test. */
  distractorImages: number;
  /** Market: "-1" junk boxes in bounding_box_test. */
  junkImages: number;
  /** Duke: identities that appear only in the gallery (one image each), with attributes. */
  galleryOnlyIds: number;
  /** Share attribute vectors between persons (lib/papers/aaipr/README.md SID pool); null draws each person's own. */
  attributePool: AttributePoolConfig | null;
}

/** PETA-like attribute set: categories (distinct attribute vectors) filled by persons. */
export interface PetaConfig extends BaseConfig {
  cameras: CameraRanges;
  /** Distinct PETA-105 attribute vectors. */
  categories: number;
  /** Persons per category: 1 + Poisson(mean). */
  extraPersonsMean: number;
  /** Images per person: 2 + Poisson(mean). */
  extraImagesMean: number;
}

/** SYSU-MM01-like RGB–IR set. */
export interface SysuConfig extends BaseConfig {
  /** Six cameras; 3 and 6 are IR. */
  cameras: CameraModel[];
  trainIds: number;
  valIds: number;
  testIds: number;
  /** Largest id number (ids are drawn from 1..maxId, so the numbering has gaps as in the release). */
  maxId: number;
  /** Images per (id, camera) for train/val and for test ids, RGB and IR. */
  trainRgbPerCam: number;
  trainIrPerCam: number;
  testRgbPerCam: number;
  testIrPerCam: number;
  /** Probability that an identity appears in the indoor cameras 1–2 (SYSU: 56 of 96). */
  indoorProb: number;
  /** Drop probability of an (id, camera) pair for the other cameras. */
  dropRgb: number;
  dropIr: number;
  /** Per (id, camera) flip probability of PAENet's view-dependent labels (SYSU: backpack 18–26 %, satchel 4–7 %). */
  labelNoise: { backpack: number; satchel: number };
  /**
   * Persons share PAENet's 8-bit attribute vectors through a pool (train + val persons draw
   * from `trainVectors`, test persons from `testVectors`): SYSU-MM01's ≈ 2.5 persons per
   * vector. Absent or null: each person draws its own (≈ 1.5 per vector; the default).
   */
  attributePool?: AttributePoolConfig | null;
}

/** RegDB-like aligned visible/thermal pairs. */
export interface RegdbConfig extends BaseConfig {
  cameras: [CameraModel, CameraModel];
  ids: number;
  imagesPerId: number;
  trials: number;
  /**
   * PAENet's RegDB-like world only (lib/papers/paenet/README.md, 'RegDB-like world'): persons
   * share pooled 8-bit PAENet attribute vectors and the writer adds `attribute/regdb_att.txt`
   * (the real RegDB has no attribute labels). Absent (every preset): no attributes, the same
   * files as before.
   */
  attributePool?: AttributePoolConfig | null;
}

/** Two-camera single-shot sets (VIPeR, PRID2011). */
export interface TwoCamConfig extends BaseConfig {
  cameras: CameraRanges;
  /** View weights (front, back, side) per camera: VIPeR's views differ by ~90° between cameras. */
  views: [[number, number, number], [number, number, number]];
  /** Identities seen by both cameras. */
  sharedIds: number;
  /** PRID: identities only in cam_a / only in cam_b (cam_b's extra ids are gallery distractors). */
  onlyA: number;
  onlyB: number;
}

/** Config type of each preset. */
export interface PresetConfigs {
  market1501: ReidSetConfig;
  dukemtmc_reid: ReidSetConfig;
  peta: PetaConfig;
  sysu_mm01: SysuConfig;
  regdb: RegdbConfig;
  viper: TwoCamConfig;
  prid2011: TwoCamConfig;
}

const RGB_CAMS: CameraRanges = {
  count: 6,
  gain: [0.88, 1.12],
  gamma: [0.88, 1.12],
  offset: 0.04,
  illumination: [0.8, 1.2],
  blur: [0, 0.4],
  noise: 0.015,
  clutter: [1, 3],
  personScale: [0.92, 1.0],
};

const g = (v: number): [number, number, number] => [v, v, v];

/** SYSU-MM01's six cameras as lib/papers/cmgan/README.md ('Synthetic world') describes them (gray levels for IR). */
const SYSU_CAMERAS: CameraModel[] = [
  {
    id: 1,
    modality: "rgb",
    background: {
      base: [0.75, 0.68, 0.55],
      gradient: 0.1,
      floor: [0.55, 0.5, 0.42],
      fixed: [],
      clutter: [0, 1],
      clutterColors: "muted",
    },
    gain: [1.05, 1.0, 0.92],
    gamma: [1, 1, 1],
    offset: [0, 0, 0],
    illumination: [0.9, 1.1],
    blur: 0,
    noise: 0.02,
    personScale: 1,
  },
  {
    id: 2,
    modality: "rgb",
    background: {
      base: [0.55, 0.6, 0.7],
      gradient: 0.1,
      floor: [0.45, 0.47, 0.5],
      fixed: [{ x: 40, y: 20, w: 16, h: 80, color: [0.4, 0.3, 0.25] }],
      clutter: [0, 1],
      clutterColors: "muted",
    },
    gain: [0.93, 1.0, 1.08],
    gamma: [1, 1, 1],
    offset: [0, 0, 0],
    illumination: [0.8, 1.0],
    blur: 0,
    noise: 0.02,
    personScale: 1,
  },
  {
    id: 3,
    modality: "ir",
    background: {
      base: g(0.18),
      gradient: 0.1,
      floor: null,
      fixed: [{ x: 40, y: 20, w: 16, h: 80, color: g(0.25) }],
      clutter: [0, 1],
      clutterColors: "warm",
    },
    gain: g(0.9),
    gamma: g(1),
    offset: g(0),
    illumination: [0.95, 1.05],
    blur: 0.8,
    noise: 0.03,
    personScale: 1,
  },
  {
    id: 4,
    modality: "rgb",
    background: {
      base: [0.5, 0.5, 0.5],
      gradient: 0.15,
      floor: [0.42, 0.42, 0.4],
      fixed: [],
      clutter: [3, 6],
      clutterColors: "palette",
    },
    gain: [1, 1, 1],
    gamma: [1, 1, 1],
    offset: [0, 0, 0],
    illumination: [1.0, 1.25],
    blur: 0.5,
    noise: 0.03,
    personScale: 0.9,
  },
  {
    id: 5,
    modality: "rgb",
    background: {
      base: [0.3, 0.5, 0.25],
      gradient: 0.2,
      floor: null,
      fixed: [],
      clutter: [3, 6],
      clutterColors: "palette",
    },
    gain: [0.92, 1.05, 0.9],
    gamma: [1, 1, 1],
    offset: [0, 0, 0],
    illumination: [0.75, 1.0],
    blur: 0.5,
    noise: 0.03,
    personScale: 0.9,
  },
  {
    id: 6,
    modality: "ir",
    background: {
      base: g(0.3),
      gradient: 0.15,
      floor: null,
      fixed: [],
      clutter: [2, 4],
      clutterColors: "warm",
    },
    gain: g(0.75),
    gamma: g(1),
    offset: g(0.08),
    illumination: [0.95, 1.05],
    blur: 1.1,
    noise: 0.04,
    personScale: 0.9,
  },
];

/** The style SYSU-MM01 and RegDB use on top of their cameras (mild: cameras carry the variation). */
const CROSS_MODAL_STYLE: DomainStyle = {
  ...MARKET_LIKE,
  name: "sysu-like",
  views: [0.45, 0.45, 0.1],
  extraClutter: [0, 1],
  occluder: { p: 0.1, area: [0.08, 0.16] },
  colorCast: 0,
  noise: [0.005, 0.015],
};

/** PETA's sources are ten different datasets, so its nuisance is the strongest (lib/papers/aaipr/README.md "high"). */
const PETA_STYLE: DomainStyle = {
  ...MARKET_LIKE,
  name: "peta-like",
  shift: [3, 3],
  occluder: { p: 0.2, area: [0.1, 0.2] },
  colorCast: 0.08,
  noise: [0.02, 0.06],
};

/** VIPeR/PRID: two outdoor cameras, strong illumination change, low resolution. */
const TWO_CAM_STYLE: DomainStyle = {
  ...MARKET_LIKE,
  name: "two-camera",
  colorCast: 0.12,
  resolutionLoss: 1,
  noise: [0.02, 0.04],
};

/** PETA's colours are its own 11; let the prior use them all. */
const PETA_PRIORS: AttributePriors = {
  ...DEFAULT_PRIORS,
  upperColor: {
    black: 0.22,
    white: 0.15,
    gray: 0.1,
    red: 0.1,
    blue: 0.1,
    green: 0.06,
    yellow: 0.05,
    purple: 0.05,
    pink: 0.05,
    brown: 0.07,
    orange: 0.05,
  },
  lowerColor: {
    black: 0.35,
    blue: 0.25,
    gray: 0.14,
    white: 0.06,
    brown: 0.1,
    green: 0.03,
    red: 0.03,
    pink: 0.02,
    purple: 0.02,
  },
};

/** The CPU-scale default config of every preset. */
export const DEFAULT_CONFIGS: PresetConfigs = {
  // lib/papers/tjaidl/README.md domain A; AAIPR's Market-like (240 persons); SAL's Market-like split.
  market1501: {
    style: MARKET_LIKE,
    priors: DEFAULT_PRIORS,
    appearance: DEFAULT_APPEARANCE,
    height: 128,
    width: 64,
    cameras: RGB_CAMS,
    trainIds: 240,
    testIds: 150,
    trainImages: [4, 8],
    queriesPerId: 2,
    galleryPerId: 4,
    distractorImages: 100,
    junkImages: 30,
    galleryOnlyIds: 0,
    // AAIPR's Market-like pool (160 train vectors for 240 persons; test pool half seen in training).
    attributePool: { trainVectors: 160, testVectors: 100, testOverlap: 0.5, zipf: 1.1 },
  },
  // lib/papers/tjaidl/README.md domain B (harsher); eight cameras as in DukeMTMC.
  dukemtmc_reid: {
    style: DUKE_LIKE,
    priors: DEFAULT_PRIORS,
    appearance: DEFAULT_APPEARANCE,
    height: 128,
    width: 64,
    cameras: { ...RGB_CAMS, count: 8, clutter: [2, 4] },
    trainIds: 240,
    testIds: 150,
    trainImages: [4, 8],
    queriesPerId: 2,
    galleryPerId: 4,
    distractorImages: 0,
    junkImages: 0,
    galleryOnlyIds: 100,
    // AAIPR's Duke-like pool (≈ 2.4 persons per vector in training, as Duke's 702 ids / 300 SIDs).
    attributePool: { trainVectors: 100, testVectors: 120, testOverlap: 0.5, zipf: 1.1 },
  },
  // lib/papers/sal/README.md (~200 categories, ~7 images each) and AAIPR's PETA-like (240 + 40 SIDs).
  peta: {
    style: PETA_STYLE,
    priors: PETA_PRIORS,
    appearance: DEFAULT_APPEARANCE,
    height: 128,
    width: 64,
    cameras: { ...RGB_CAMS, count: 10, illumination: [0.6, 1.35] },
    categories: 250,
    extraPersonsMean: 0.8,
    extraImagesMean: 1.8,
  },
  // cmGAN SynSYSU (64/16/32 ids) and lib/papers/paenet/README.md (100 train ids, 50 test): 80/20/48.
  sysu_mm01: {
    style: CROSS_MODAL_STYLE,
    priors: DEFAULT_PRIORS,
    appearance: DEFAULT_APPEARANCE,
    height: 128,
    width: 64,
    cameras: SYSU_CAMERAS,
    trainIds: 80,
    valIds: 20,
    testIds: 48,
    maxId: 170,
    trainRgbPerCam: 4,
    trainIrPerCam: 5,
    testRgbPerCam: 10,
    testIrPerCam: 6,
    indoorProb: 0.6,
    dropRgb: 0.15,
    dropIr: 0.1,
    labelNoise: { backpack: 0.2, satchel: 0.05 },
  },
  // lib/papers/paenet/README.md RegDB-like: aligned visible/thermal capture, 10 + 10 images per id, 10 trials.
  regdb: {
    style: CROSS_MODAL_STYLE,
    priors: DEFAULT_PRIORS,
    appearance: DEFAULT_APPEARANCE,
    height: 128,
    width: 64,
    cameras: [
      {
        ...SYSU_CAMERAS[1],
        id: 1,
        background: { ...SYSU_CAMERAS[3].background, clutter: [1, 3] },
        personScale: 0.95,
      },
      {
        ...SYSU_CAMERAS[5],
        id: 2,
        background: { ...SYSU_CAMERAS[5].background, clutter: [1, 3] },
        personScale: 0.95,
      },
    ],
    ids: 80,
    imagesPerId: 10,
    trials: 10,
  },
  // TJ-AIDL target: 632 → 200 ids, 128×48, cameras ~90° apart.
  viper: {
    style: TWO_CAM_STYLE,
    priors: DEFAULT_PRIORS,
    appearance: DEFAULT_APPEARANCE,
    height: 128,
    width: 48,
    cameras: { ...RGB_CAMS, count: 2, illumination: [0.6, 1.4], gain: [0.8, 1.2] },
    views: [[0.6, 0.2, 0.2], [0.15, 0.35, 0.5]],
    sharedIds: 200,
    onlyA: 0,
    onlyB: 0,
  },
  // TJ-AIDL target: PRID single-shot (385 / 749, persons 1–200 shared) → 220 / 350, keeping the
  // release's 200 shared persons so loaders that expect persons 1–200 in both cameras read it as is.
  prid2011: {
    style: TWO_CAM_STYLE,
    priors: DEFAULT_PRIORS,
    appearance: DEFAULT_APPEARANCE,
    height: 128,
    width: 64,
    cameras: { ...RGB_CAMS, count: 2, illumination: [0.6, 1.3], gain: [0.75, 1.25] },
    views: [[0.2, 0.2, 0.6], [0.2, 0.2, 0.6]],
    sharedIds: 200,
    onlyA: 20,
    onlyB: 150,
  },
};
