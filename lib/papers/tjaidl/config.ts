/**
 * TJ-AIDL's configuration (lib/papers/tjaidl/README.md, 'Schedule' and 'Rows'): one type for
 * both scales, the two base configs, the quick delta and every ablation row of Tables 2–4,
 * in both directions, as a switch set over the base (docs/design.md, 'Experiments as data').
 *
 * @see notebooks/tjaidl.ipynb §3
 * @module
 */
import type { Delta, RowSpec } from "../../experiments/spec.ts";
import { worldFolder } from "../../runtime/paths.ts";

/** "AtoB": source Market-like A, target Duke-like B (the paper's M→D); "BtoA": the reverse. */
export type Direction = "AtoB" | "BtoA";

/**
 * Difficulty knobs of the two synthetic domains (README.md, 'Synthetic world'). Both domains
 * use the same person model; they differ in style only. Calibrated on the ID-only baseline,
 * scored on the target validation split (results/tjaidl/calibration.json), then frozen.
 */
export type WorldKnobs = {
  /** Training identities per domain (labelled in the source, unlabelled in the target). */
  trainIds: number;
  /** Test identities per domain (query + gallery). */
  testIds: number;
  /** Of the training identities, how many of the target's form its validation split. */
  valIds: number;
  /** Cameras per domain. */
  cameras: number;
  /** Training images per identity, [min, max]. */
  trainImages: [number, number];
  queriesPerId: number;
  galleryPerId: number;
  /** Gallery distractors: Market "0000" boxes in A, gallery-only persons in B. */
  distractors: number;
  /** B's style between A's (0) and the Duke-like preset (1); above 1 harsher still. */
  severity: number;
  /** Std of each identity's garment shade offset (identity-level non-attribute detail). */
  shadeStd: number;
  /** Persons per attribute vector in the training ids (1: every person its own vector). */
  personsPerVector: number;
};

/** The whole config of one TJ-AIDL cell. Every field is a switch some row or scale sets. */
export type TjaidlConfig = {
  data: {
    /** Folder the two synthetic domains are rendered into (or holding the real releases). */
    root: string;
    cache: string;
    synthetic: boolean;
    worldSeed: number;
    direction: Direction;
    world: WorldKnobs;
    /** Network input size. */
    height: number;
    width: number;
  };
  model: {
    /** "patch": the CPU-scale 2×2/stride-2 conv net (README.md, 'Architecture'); "mobilenet_v1": the paper's. */
    backbone: "patch" | "mobilenet_v1";
    /** Patch-conv widths (the last is the feature size D). */
    widths: number[];
    /** Hidden widths of the IIA encoder (the decoder mirrors them). */
    iiaWidths: number[];
    /** ImageNet weights of each MobileNet (model.json), or null (from scratch). */
    pretrained: string | null;
  };
  /**
   * Which model a row trains: "tjaidl" (two branches + IIA), "single" (one net, L_id or
   * L_att), "joint" (one net, both heads on a shared feature), "independent" (concat of the
   * ID-only and Attr-only nets' features).
   */
  method: {
    kind: "tjaidl" | "single" | "joint" | "independent";
    /** For "single": the one supervision. */
    supervision: "id" | "attr";
    /** TJ-AIDL: run Step II (target adaptation). */
    stepII: boolean;
    /** Step II soft labels: the frozen Step-I attribute branch, or the current one (README.md, 'Step II'). */
    softLabels: "frozenStepI" | "current";
    /** "independent": L2-normalise each part before concatenating. */
    l2normParts: boolean;
    /** TJ-AIDL: warm-start the attribute branch with L_att for `attrWarmStart` steps (stabilised). */
    attrWarmStart: boolean;
  };
  loss: {
    lambda1: number;
    lambda2: number;
    /** Step II's λ2 (null: the same as Step I's). */
    lambda2StepII: number | null;
    /** BCE summed over attributes (Eq. 2/5 as written) or the mean over all entries. */
    bceReduction: "sumOverAttributes" | "mean";
    /** L_rec and L_transfer: mean over batch × dims, or summed over dims. */
    mseReduction: "mean" | "sumOverDims";
    /** Steps of Step I whose transfer gradient reaches only the IIA (stabilised warm-up). */
    iiaWarmup: number;
  };
  train: {
    batch: number;
    lr: number;
    beta1: number;
    beta2: number;
    /** Stage 0: identity branch on L_id alone. */
    stage0Steps: number;
    /** Stage 0b (attrWarmStart): attribute branch on L_att alone. */
    attrWarmStartSteps: number;
    stepISteps: number;
    stepIISteps: number;
    stepIILr: number;
    /** Steps of the joint baseline (its whole budget). */
    jointSteps: number;
    /** Probability of a horizontal flip per training image. */
    flip: number;
    /** Target validation R1 every this many steps in Step II (0: never). */
    evalEvery: number;
  };
  eval: {
    /** L2-normalise features before the Euclidean distance (README.md, 'Evaluation'). */
    l2norm: boolean;
    /** Target identities in the Fig. 4 distance-ratio analogue. */
    ratioIds: number;
  };
};

/**
 * The synthetic domains' difficulty, frozen after the ID-only calibration
 * (results/tjaidl/calibration.json; README.md, 'Calibration'): with B at the Duke-like preset
 * (severity 1) source-only ID-only reached 13.4 % (A→B) and 10.2 % (B→A) validation R1; at
 * severity 0.5, 18.8 % and 18.0 %, inside the 15–40 % aimed at in both directions.
 */
export const CPU_WORLD: WorldKnobs = {
  trainIds: 160,
  testIds: 100,
  valIds: 40,
  cameras: 4,
  trainImages: [6, 8],
  queriesPerId: 2,
  galleryPerId: 4,
  distractors: 60,
  severity: 0.5,
  shadeStd: 0.1,
  personsPerVector: 2,
};

/** A tiny world for quick mode (tests, headless notebooks). */
export const QUICK_WORLD: WorldKnobs = {
  trainIds: 12,
  testIds: 6,
  valIds: 4,
  cameras: 4,
  trainImages: [4, 4],
  queriesPerId: 2,
  galleryPerId: 3,
  distractors: 4,
  severity: 1,
  shadeStd: 0.1,
  personsPerVector: 1,
};

/** CPU scale: the small patch-conv net, 64×32, batch 16 (README.md, 'Schedule'). */
export const CPU_BASE: TjaidlConfig = {
  data: {
    root: "data/tjaidl",
    cache: "data/cache",
    synthetic: true,
    worldSeed: 2018,
    direction: "AtoB",
    world: CPU_WORLD,
    height: 64,
    width: 32,
  },
  model: { backbone: "patch", widths: [16, 32, 64, 128], iiaWidths: [64, 32], pretrained: null },
  method: {
    kind: "tjaidl",
    supervision: "id",
    stepII: true,
    softLabels: "frozenStepI",
    l2normParts: false,
    attrWarmStart: true,
  },
  loss: {
    lambda1: 10,
    lambda2: 1,
    lambda2StepII: null,
    bceReduction: "sumOverAttributes",
    mseReduction: "mean",
    iiaWarmup: 150,
  },
  // README.md, 'Schedule' and 'Speed': half the small-scale plan's step counts (1,000 / 1,000 /
  // 600 / 400, Joint 1,600, IIA warm-up 300) at batch 16 (the plan: 32; the paper: 8): what the
  // 5-seed grid of 14 rows × 2 directions fits in 13 of the 15 minutes on two idle cores.
  train: {
    batch: 16,
    lr: 2e-3,
    beta1: 0.5,
    beta2: 0.999,
    stage0Steps: 500,
    attrWarmStartSteps: 500,
    stepISteps: 300,
    stepIISteps: 200,
    stepIILr: 2e-3,
    jointSteps: 800,
    flip: 0.5,
    evalEvery: 0,
  },
  eval: { l2norm: false, ratioIds: 10 },
};

/**
 * Paper scale (config values only; not run here): Market-1501 and DukeMTMC-reID in their
 * release layouts with their attribute files, two ImageNet MobileNet-v1s at 224×224, batch 8,
 * Stage 0 100k, Step I and Step II 20k iterations each, λ1 = λ2 = 10, no warm starts.
 */
export const PAPER_BASE: TjaidlConfig = {
  data: {
    root: "data/real",
    cache: "data/cache",
    synthetic: false,
    worldSeed: 2018,
    direction: "AtoB",
    world: CPU_WORLD,
    height: 224,
    width: 224,
  },
  model: {
    backbone: "mobilenet_v1",
    widths: [],
    iiaWidths: [512, 128],
    pretrained: "data/pretrained/mobilenet_v1_imagenet/model.json",
  },
  method: { ...CPU_BASE.method, attrWarmStart: false },
  loss: { ...CPU_BASE.loss, lambda2: 10, iiaWarmup: 0 },
  train: {
    batch: 8,
    lr: 2e-3,
    beta1: 0.5,
    beta2: 0.999,
    stage0Steps: 100_000,
    attrWarmStartSteps: 0,
    stepISteps: 20_000,
    stepIISteps: 20_000,
    stepIILr: 2e-3,
    jointSteps: 120_000,
    flip: 0.5,
    evalEvery: 0,
  },
  eval: { l2norm: false, ratioIds: 10 },
};

/** Quick mode: a tiny world in its own folder and a handful of steps per stage. */
export const QUICK_DELTA: Delta<TjaidlConfig> = {
  data: { root: "data/tjaidl-quick", world: QUICK_WORLD, height: 64, width: 32, synthetic: true },
  model: { backbone: "patch", widths: [8, 16, 16, 32], iiaWidths: [16, 8], pretrained: null },
  train: {
    batch: 8,
    stage0Steps: 3,
    attrWarmStartSteps: 3,
    stepISteps: 3,
    stepIISteps: 2,
    jointSteps: 4,
  },
  loss: { iiaWarmup: 1 },
  eval: { ratioIds: 3 },
};

/** The paper-faithful TJ-AIDL settings (README.md, 'Two configurations'). */
export const FAITHFUL: Delta<TjaidlConfig> = {
  method: { attrWarmStart: false },
  loss: { lambda2: 10, iiaWarmup: 0 },
};

/** Short prefixes of the directions in row ids. */
export const DIRECTION_PREFIX: Record<Direction, string> = { AtoB: "AB", BtoA: "BA" };

/** The λ2 values of the stabilised sweep besides the base's 1. */
export const LAMBDA2_SWEEP = [0, 0.1, 10] as const;

/** A row id: `<AB|BA>.<name>`. */
export function rowId(direction: Direction, name: string): string {
  return `${DIRECTION_PREFIX[direction]}.${name}`;
}

/** The row names of one direction, in table order (see {@link directionRows}). */
export const ROW_NAMES = [
  "attrOnly",
  "idOnly",
  "independent",
  "independentL2",
  "joint",
  "faithful.noAdapt",
  "faithful.full",
  "noAdapt",
  "full",
  ...LAMBDA2_SWEEP.map((l) => `lambda${l}.noAdapt`),
  "softCurrent",
  "stepIILr5e-4",
] as const;

/** One of {@link ROW_NAMES}. */
export type RowName = typeof ROW_NAMES[number];

const TJ = (stepII: boolean, extra: Delta<TjaidlConfig> = {}): Delta<TjaidlConfig> => ({
  ...extra,
  method: { kind: "tjaidl", stepII, ...(extra.method ?? {}) },
});

/** The paper's numbers (Tables 2–4) of each direction's rows. */
const PAPER_NUMBERS: Record<Direction, Partial<Record<RowName, number[]>>> = {
  // R1, R5, R10, R20, mAP; M→D
  AtoB: {
    attrOnly: [24.3, 38.3, 45.7, 53.0, 10.0],
    idOnly: [30.6, 44.9, 50.5, 59.3, 14.6],
    independent: [33.8, 49.5, 56.0, 63.8, 16.9],
    joint: [37.9, 52.1, 58.6, 65.3, 20.6],
    noAdapt: [39.6, 55.5, 62.2, 67.5, 22.0],
    full: [44.3, 59.6, 65.0, 70.0, 23.0],
    "faithful.noAdapt": [39.6, 55.5, 62.2, 67.5, 22.0],
    "faithful.full": [44.3, 59.6, 65.0, 70.0, 23.0],
  },
  BtoA: {
    attrOnly: [38.0, 59.2, 67.6, 75.7, 13.6],
    idOnly: [51.6, 69.8, 76.6, 81.6, 21.6],
    independent: [54.9, 72.9, 79.3, 85.2, 24.5],
    joint: [53.4, 71.2, 78.1, 83.3, 21.9],
    noAdapt: [57.1, 74.4, 80.4, 85.7, 26.2],
    full: [58.2, 74.8, 81.1, 86.5, 26.5],
    "faithful.noAdapt": [57.1, 74.4, 80.4, 85.7, 26.2],
    "faithful.full": [58.2, 74.8, 81.1, 86.5, 26.5],
  },
};

/** The table metrics in the paper's column order. */
export const TABLE_METRICS = ["R1", "R5", "R10", "R20", "mAP"] as const;

function rowsOf(direction: Direction): RowSpec<TjaidlConfig>[] {
  const id = (name: RowName) => rowId(direction, name);
  const dir: Delta<TjaidlConfig> = { data: { direction } };
  const with_ = (delta: Delta<TjaidlConfig>): Delta<TjaidlConfig> => ({
    ...delta,
    data: { ...(delta.data ?? {}), direction },
  });
  const spec = (
    name: RowName,
    label: string,
    table: string,
    delta: Delta<TjaidlConfig>,
    needs: RowName[] = [],
  ): RowSpec<TjaidlConfig> => {
    const numbers = PAPER_NUMBERS[direction][name];
    return {
      id: id(name),
      label: `${direction === "AtoB" ? "A→B" : "B→A"} ${label}`,
      table,
      delta: with_(delta),
      ...(numbers
        ? { paper: Object.fromEntries(TABLE_METRICS.map((m, i) => [m, numbers[i]])) }
        : {}),
      ...(needs.length ? { needs: needs.map(id) } : {}),
    };
  };
  void dir;
  return [
    spec("attrOnly", "Attribute only", "Table 3", {
      method: { kind: "single", supervision: "attr" },
    }),
    spec("idOnly", "ID only", "Table 3", { method: { kind: "single", supervision: "id" } }),
    spec("independent", "Independent supervision (raw concat)", "Table 2", {
      method: { kind: "independent" },
    }, ["idOnly", "attrOnly"]),
    spec("independentL2", "Independent supervision (per-part L2 concat)", "Table 2", {
      method: { kind: "independent", l2normParts: true },
    }, ["idOnly", "attrOnly"]),
    spec("joint", "Joint supervision", "Table 2", { method: { kind: "joint" } }),
    spec("faithful.noAdapt", "TJ-AIDL w/o adaptation (faithful)", "Table 4", TJ(false, FAITHFUL), [
      "idOnly",
    ]),
    spec("faithful.full", "TJ-AIDL (faithful)", "Table 2–4", TJ(true, FAITHFUL), [
      "faithful.noAdapt",
    ]),
    spec("noAdapt", "TJ-AIDL w/o adaptation (stabilised)", "Table 4", TJ(false), [
      "idOnly",
      "attrOnly",
    ]),
    spec("full", "TJ-AIDL (stabilised)", "Table 2–4", TJ(true), ["noAdapt"]),
    ...LAMBDA2_SWEEP.map((l) =>
      spec(
        `lambda${l}.noAdapt`,
        `TJ-AIDL w/o adaptation, λ2 = ${l}`,
        "λ2 sweep",
        TJ(false, {
          loss: { lambda2: l },
        }),
        ["idOnly", "attrOnly"],
      )
    ),
    spec(
      "softCurrent",
      "TJ-AIDL, soft labels from the current model",
      "sensitivity",
      TJ(true, {
        method: { softLabels: "current" },
      }),
      ["noAdapt"],
    ),
    spec(
      "stepIILr5e-4",
      "TJ-AIDL, Step-II lr 5e-4",
      "sensitivity",
      TJ(true, {
        train: { stepIILr: 5e-4 },
      }),
      ["noAdapt"],
    ),
  ];
}

/**
 * Every row, both directions, interleaved (A→B then B→A of each row name) and the main rows
 * first, so that a grid run that is stopped early has both directions of what it did.
 */
export const ROWS: RowSpec<TjaidlConfig>[] = (() => {
  const ab = rowsOf("AtoB"), ba = rowsOf("BtoA");
  const order: RowName[] = [
    "attrOnly",
    "idOnly",
    "independent",
    "independentL2",
    "noAdapt",
    "full",
    "joint",
    "faithful.noAdapt",
    "faithful.full",
    ...LAMBDA2_SWEEP.map((l) => `lambda${l}.noAdapt` as RowName),
    "softCurrent",
    "stepIILr5e-4",
  ];
  return order.flatMap((name) => {
    const i = ROW_NAMES.indexOf(name);
    return [ab[i], ba[i]];
  });
})();

/** `config` on the synthetic worlds drawn with seed `worldSeed` (`reproduce --world-seed`). */
export function withWorldSeed(config: TjaidlConfig, worldSeed: number): TjaidlConfig {
  if (!config.data.synthetic) {
    throw new Error(
      `TJ-AIDL: data at ${config.data.root} is real; --world-seed needs synthetic data`,
    );
  }
  return {
    ...config,
    data: {
      ...config.data,
      root: worldFolder(config.data.root, worldSeed),
      cache: worldFolder(config.data.cache, worldSeed),
      worldSeed,
    },
  };
}
