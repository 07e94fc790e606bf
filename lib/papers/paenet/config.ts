/**
 * PAENet's configuration (lib/papers/paenet/README.md): one type for both scales, the two base
 * configs (preset `paper`), the `code` preset as a delta, the quick delta, and every ablation
 * row as a switch set over the base (docs/design.md, 'Experiments as data').
 *
 * @module
 */
import type { Delta, RowSpec } from "../../experiments/spec.ts";

/**
 * Difficulty knobs of the synthetic SYSU-like world, applied over the `sysu_mm01` preset
 * (lib/data/world/presets.ts). Calibrated on the baseline row (a) only, scored on the
 * validation identities (`calibrate.ts`, results/paenet/calibration.json); then frozen.
 */
export type PaenetWorld = {
  trainIds: number;
  valIds: number;
  testIds: number;
  maxId: number;
  trainRgbPerCam: number;
  trainIrPerCam: number;
  testRgbPerCam: number;
  testIrPerCam: number;
  /** Gaussian blur σ (px at 128×64) of IR cameras 3 and 6. */
  irBlur: [number, number];
  /** Pixel noise σ of IR cameras 3 and 6. */
  irNoise: [number, number];
  /** Std of each identity's garment shade offset (larger = identities easier to tell apart). */
  shadeStd: number;
  /**
   * How far a garment's thermal level follows its visible colour (0: independent, the shared
   * world's default; 1: dark clothes glow brighter), i.e. how much the two modalities share.
   */
  thermalCoupling: number;
  /** Extra background clutter rectangles per image [min, max] (the style's). */
  clutter: [number, number];
  /**
   * Distinct PAENet attribute vectors of the training (train + val) and test persons: the
   * README's 'Synthetic world' pool that gives ≈ 2.5 persons per vector, as in SYSU-MM01.
   */
  trainVectors: number;
  testVectors: number;
};

/**
 * The RegDB-like world (README, 'RegDB-like world'): the `regdb` preset (one visible and one
 * thermal camera, aligned simultaneous capture) with the SYSU-like world's difficulty knobs
 * (`PaenetWorld`: IR blur and noise of camera 6, shades, thermal coupling, clutter), persons
 * sharing a pool of attribute vectors, and the release's random identity halves per trial.
 */
export type PaenetRegdbWorld = {
  ids: number;
  imagesPerId: number;
  /** Random train / test halves written to `idx/` (the release has 10); seed s reads trial s mod n + 1. */
  trials: number;
  /** Distinct attribute vectors over all persons (≈ 2.5 persons each). */
  vectors: number;
};

/** The whole config of one PAENet cell. Every field is a switch some row, preset or scale sets. */
export type PaenetConfig = {
  data: {
    /** Folder holding `sysu_mm01/SYSU-MM01/` (synthetic) or a real release. */
    root: string;
    cache: string;
    /** Render the synthetic world into `root` when missing or stale. */
    synthetic: boolean;
    worldSeed: number;
    world: PaenetWorld;
    /** Which dataset the cell trains and tests on: SYSU-MM01 (the default) or RegDB. */
    dataset: "sysu" | "regdb";
    /** Folder holding `regdb/RegDB/` (synthetic) or a real RegDB release (with attribute labels). */
    regdbRoot: string;
    regdb: PaenetRegdbWorld;
    height: number;
    width: number;
  };
  model: {
    /** "small": the CPU two-stream net of README 'Architecture'; "resnet50": the paper's. */
    backbone: "small" | "resnet50";
    /** Channel widths of the small net's five stages (the last is C). */
    widths: number[];
    /** First shared stage: 3 = stem, stage 1, stage 2 per modality (the code's `share_net 3`). */
    sharedFrom: number;
    /** Which baseline the head implements (README, 'Table 6 baselines'). */
    baseline: "mmd" | "agw" | "hct";
    /** Local pretrained backbone weights (model.json), or null (from scratch). */
    pretrained: string | null;
  };
  pae: {
    on: boolean;
    emb1: boolean;
    emb2: boolean;
    emb3: boolean;
    /** "code": the official (identity) Embedding-II; "spatial": the non-degenerate one. */
    emb2Mode: "code" | "spatial";
    /** Gates of Embedding-III: 1 (the code's, copied n times) or 8 (the paper's n = 8). */
    nGates: number;
    /** L2-normalise the gate (the code's `atr_feat`). */
    l2normGate: boolean;
    /** A second sigmoid on F ⊙ W2 before pooling (the code's `Region`). */
    doubleSigmoid: boolean;
  };
  aal: {
    on: boolean;
    /** "fatr": the paper's f_atr branch; "gate": the code's heads on the (L2-normalised) gate. */
    input: "fatr" | "gate";
  };
  loss: {
    /** λ of L_atr (Fig. 7). */
    lambdaAtr: number;
    /** Weight of the hetero-centre triplet (the code's 2.0). */
    wCenter: number;
    /** Margin ρ of the hetero-centre triplet. */
    centerMargin: number;
    /** Weight of margin-MMD-ID (the code's 0.25). */
    wMmd: number;
    /** Margin m of margin-MMD-ID. */
    mmdMargin: number;
  };
  train: {
    steps: number;
    /** Identities per batch. */
    P: number;
    /** Images per identity and modality. */
    K: number;
    lr: number;
    momentum: number;
    weightDecay: number;
    /** Linear warm-up, then the two decays, as fractions of `steps` (the code's 10/20/50 of 61 epochs). */
    warmupFrac: number;
    decayFracs: [number, number];
    /** Zero padding (px) before the random crop back to size. */
    pad: number;
    flip: number;
    /**
     * Table 4: from step `warmupFrac · steps` on, these modules stop updating (their BN and
     * SwitchNorm statistics frozen too). Empty: joint training.
     */
    freeze: ("PAE" | "AAL")[];
    /** Evaluate the warm-up snapshot (Table 4, row 1) inside the run. */
    snapshot: boolean;
  };
  eval: {
    /** SYSU gallery draws per setting. */
    trials: number;
  };
  /** "train": a model; "oracle": the attribute-only Hamming ranking (no training). */
  kind: "train" | "oracle";
};

type SysuBase = `${"all" | "indoor"}_${"r1" | "r5" | "r10" | "r20" | "mAP" | "mINP"}`;
type ModePrefix = "" | "pred_" | "shuf_" | "zero_";
type RegdbBase = `${"v2t" | "t2v"}_${"r1" | "r5" | "r10" | "r20" | "mAP" | "mINP"}`;
/** Every metric a cell reports (README, 'Evaluation'). */
export type Metric =
  | `${ModePrefix | `snap_${ModePrefix}` | "val_"}${SysuBase}`
  | `${ModePrefix}${RegdbBase}`
  | "probe_acc"
  | "snap_probe_acc"
  | "l_id_tail"
  | "l_atr_tail"
  | "l_probe_tail"
  | "seconds_per_step";

const SYSU_BASES: SysuBase[] = (["all", "indoor"] as const).flatMap((s) =>
  (["r1", "r5", "r10", "r20", "mAP", "mINP"] as const).map((k) => `${s}_${k}` as SysuBase)
);

const REGDB_BASES: RegdbBase[] = (["v2t", "t2v"] as const).flatMap((s) =>
  (["r1", "r5", "r10", "r20", "mAP", "mINP"] as const).map((k) => `${s}_${k}` as RegdbBase)
);

/** {@link Metric} as a list, in table order. */
export const METRICS: readonly Metric[] = [
  ...([
    "",
    "pred_",
    "shuf_",
    "zero_",
    "snap_",
    "snap_pred_",
    "snap_shuf_",
    "snap_zero_",
    "val_",
  ] as const)
    .flatMap((p) => SYSU_BASES.map((b) => `${p}${b}` as Metric)),
  ...(["", "pred_", "shuf_", "zero_"] as const)
    .flatMap((p) => REGDB_BASES.map((b) => `${p}${b}` as Metric)),
  "probe_acc",
  "snap_probe_acc",
  "l_id_tail",
  "l_atr_tail",
  "l_probe_tail",
  "seconds_per_step",
];

/** The metrics of the tables, in column order (percent). */
export const TABLE_METRICS = [
  "all_r1",
  "all_r10",
  "all_r20",
  "all_mAP",
  "all_mINP",
  "indoor_r1",
  "indoor_r10",
  "indoor_mAP",
  "indoor_mINP",
] as const;

/** Test-attribute modes of every PAE row (README, 'Attributes at test time'). */
export const TEST_ATTR_MODES = ["gt", "predicted", "shuffled", "zeros"] as const;
/** One of {@link TEST_ATTR_MODES}. */
export type TestAttrMode = typeof TEST_ATTR_MODES[number];

/**
 * The synthetic world, frozen after the calibration of the baseline row (a) on the validation
 * identities (results/paenet/calibration.json, README 'Calibration'): SYSU's six cameras with
 * 32 / 32 / 32 train / validation / test identities, a pool of attribute vectors that makes ≈ 2.5
 * persons share each one, and the easiest of the worlds tried: no extra clutter, mild IR blur and
 * noise, distinct garment shades, and garment thermal levels that follow their visible colour
 * (`thermalCoupling: 1`, the one cue both modalities share besides shape and bags).
 */
export const CPU_WORLD: PaenetWorld = {
  trainIds: 32,
  valIds: 32,
  testIds: 32,
  maxId: 140,
  trainRgbPerCam: 3,
  trainIrPerCam: 4,
  testRgbPerCam: 4,
  testIrPerCam: 4,
  irBlur: [0.3, 0.4],
  irNoise: [0.01, 0.015],
  shadeStd: 0.25,
  thermalCoupling: 1,
  clutter: [0, 0],
  trainVectors: 26,
  testVectors: 10,
};

/**
 * The RegDB-like world of the CPU scale (README, 'RegDB-like world'): the card's 60 identities
 * (30 / 30 per trial), 10 visible + 10 thermal images each, 10 trials, 24 vectors (2.5 persons
 * each). Not calibrated on its own: its difficulty knobs are the frozen SYSU-like ones.
 */
export const CPU_REGDB: PaenetRegdbWorld = { ids: 60, imagesPerId: 10, trials: 10, vectors: 24 };

/** A tiny RegDB-like world for quick mode. */
export const QUICK_REGDB: PaenetRegdbWorld = { ids: 8, imagesPerId: 2, trials: 2, vectors: 3 };

/** A tiny world for quick mode (tests, headless notebooks). */
export const QUICK_WORLD: PaenetWorld = {
  trainIds: 8,
  valIds: 4,
  testIds: 6,
  maxId: 30,
  trainRgbPerCam: 2,
  trainIrPerCam: 2,
  testRgbPerCam: 2,
  testIrPerCam: 2,
  irBlur: [0.6, 0.8],
  irNoise: [0.02, 0.03],
  shadeStd: 0.06,
  thermalCoupling: 0,
  clutter: [0, 1],
  trainVectors: 5,
  testVectors: 3,
};

const PAPER_PRESET_PAE: PaenetConfig["pae"] = {
  on: false,
  emb1: true,
  emb2: true,
  emb3: true,
  emb2Mode: "spatial",
  nGates: 8,
  l2normGate: false,
  doubleSigmoid: false,
};

/** CPU scale: the synthetic SYSU-like world, the small two-stream net, 64×32 (README, 'Scales'). */
export const CPU_BASE: PaenetConfig = {
  data: {
    root: "data/paenet",
    cache: "data/cache",
    synthetic: true,
    worldSeed: 2022,
    world: CPU_WORLD,
    dataset: "sysu",
    regdbRoot: "data/paenet",
    regdb: CPU_REGDB,
    height: 64,
    width: 32,
  },
  model: {
    backbone: "small",
    widths: [16, 32, 32, 64, 64],
    sharedFrom: 3,
    baseline: "mmd",
    pretrained: null,
  },
  pae: PAPER_PRESET_PAE,
  aal: { on: false, input: "fatr" },
  loss: { lambdaAtr: 1, wCenter: 2, centerMargin: 0.3, wMmd: 0.25, mmdMargin: 1.4 },
  train: {
    // Bound by the budget (15 rows × 5 seeds in ≤ 15 min on 2 idle cores), not by results; the
    // paper's batch of P = 8 identities (the code's MMD needs P = 4; ours does not).
    steps: 80,
    P: 8,
    K: 4,
    lr: 0.05,
    momentum: 0.9,
    weightDecay: 5e-4,
    warmupFrac: 1 / 6,
    decayFracs: [1 / 3, 5 / 6],
    pad: 3,
    flip: 0.5,
    freeze: [],
    snapshot: false,
  },
  eval: { trials: 10 },
  kind: "train",
};

/**
 * Paper scale: the real SYSU-MM01 layout, two-stream ResNet-50 (last stride 1, stages up to
 * layer2 per modality), 288×144, P = 4 × K = 4, 61 epochs of ⌊22,258 / 16⌋ + 1 batches.
 */
export const PAPER_BASE: PaenetConfig = {
  ...CPU_BASE,
  data: {
    ...CPU_BASE.data,
    root: "data/real/SYSU-MM01",
    regdbRoot: "data/real/RegDB",
    synthetic: false,
    height: 288,
    width: 144,
  },
  model: { ...CPU_BASE.model, backbone: "resnet50", widths: [], pretrained: null },
  train: { ...CPU_BASE.train, steps: 61 * 1392, lr: 0.1, pad: 10 },
};

/** Quick mode: the tiny world and a handful of steps. */
export const QUICK_DELTA: Delta<PaenetConfig> = {
  data: {
    world: QUICK_WORLD,
    root: "data/paenet-quick",
    regdbRoot: "data/paenet-quick",
    regdb: QUICK_REGDB,
  },
  model: { widths: [4, 8, 8, 8, 8] },
  train: { steps: 6, P: 2, K: 2 },
  eval: { trials: 2 },
};

/** The official code's switches (README, 'Presets'), as a delta over the `paper` preset. */
export const CODE_PRESET: Delta<PaenetConfig> = {
  pae: { emb2Mode: "code", nGates: 1, l2normGate: true, doubleSigmoid: true },
  aal: { input: "gate" },
};

const PAE_ON = { pae: { on: true } } as const;
const AAL_ON = { aal: { on: true } } as const;
const FULL = { pae: { on: true }, aal: { on: true } } as const;

/** λ values of the Fig. 7 sweep besides λ = 1 (row d). */
export const LAMBDAS = [0, 4] as const;
/** Row id of the λ sweep. */
export const lambdaRow = (l: typeof LAMBDAS[number]) => `lambda-${l}` as const;

/** The row ids. */
export type RowId =
  | "a"
  | "b"
  | "c"
  | "d"
  | "emb1"
  | "emb12"
  | "fixAAL"
  | "fixPAE"
  | `lambda-${typeof LAMBDAS[number]}`
  | "agw"
  | "agw-ours"
  | "hct"
  | "hct-ours"
  | "code-b"
  | "code-d"
  | "oracle"
  | "regdb-a"
  | "regdb-d"
  | "regdb-oracle";

/** The rows (README, 'Rows'), each a switch set over the base. */
export const ROWS: RowSpec<PaenetConfig, RowId, Metric>[] = [
  {
    id: "a",
    label: "(a) baseline (MMD-ReID)",
    table: "Table 3",
    delta: {},
    paper: { all_r1: 66.75, all_r10: 94.16, all_r20: 97.38, all_mAP: 62.25, all_mINP: 46.08 },
  },
  {
    id: "b",
    label: "(b) + PAE",
    table: "Table 3",
    delta: PAE_ON,
    paper: { all_r1: 60.67, all_r10: 92.97, all_r20: 97.25, all_mAP: 56.97, all_mINP: 42.0 },
  },
  {
    id: "c",
    label: "(c) + AAL",
    table: "Table 3",
    delta: AAL_ON,
    paper: { all_r1: 69.32, all_r10: 96.83, all_r20: 99.11, all_mAP: 66.55, all_mINP: 53.43 },
  },
  {
    id: "d",
    label: "(d) + PAE + AAL (PAENet)",
    table: "Table 3",
    delta: { ...FULL, train: { snapshot: true } },
    paper: { all_r1: 74.22, all_r10: 99.03, all_r20: 99.97, all_mAP: 73.9, all_mINP: 64.29 },
  },
  {
    id: "code-d",
    label: "`code` preset: (d) PAENet",
    table: "Table 3 (code)",
    delta: { pae: { ...CODE_PRESET.pae, on: true }, aal: { ...CODE_PRESET.aal, on: true } },
  },
  {
    id: "oracle",
    label: "attribute-only oracle (Hamming distance of GT attributes)",
    table: "Table 3",
    delta: { kind: "oracle" },
  },
  {
    id: "regdb-a",
    label: "RegDB-like: (a) baseline",
    table: "Table 2 (RegDB)",
    delta: { data: { dataset: "regdb" } },
    paper: { v2t_r1: 95.06, v2t_mAP: 88.95, t2v_r1: 93.65, t2v_mAP: 87.3 },
  },
  {
    id: "regdb-d",
    label: "RegDB-like: (d) PAENet",
    table: "Table 2 (RegDB)",
    delta: { ...FULL, data: { dataset: "regdb" } },
    paper: { v2t_r1: 97.57, v2t_mAP: 91.41, t2v_r1: 95.35, t2v_mAP: 89.98 },
  },
  {
    id: "regdb-oracle",
    label: "RegDB-like: attribute-only oracle",
    table: "Table 2 (RegDB)",
    delta: { kind: "oracle", data: { dataset: "regdb" } },
  },
  {
    id: "emb1",
    label: "Table 5 (b): AAL + Emb-I",
    table: "Table 5",
    delta: { pae: { on: true, emb2: false, emb3: false }, aal: { on: true } },
    paper: { all_r1: 71.95, all_r10: 97.62, all_r20: 99.22, all_mAP: 68.23, all_mINP: 54.77 },
  },
  {
    id: "emb12",
    label: "Table 5 (c): AAL + Emb-I + Emb-II (spatial, a deviation)",
    table: "Table 5",
    delta: { pae: { on: true, emb3: false }, aal: { on: true } },
    paper: { all_r1: 72.73, all_r10: 97.6, all_r20: 99.45, all_mAP: 69.55, all_mINP: 56.73 },
  },
  {
    id: "fixAAL",
    label: "Table 4: optimise PAE, AAL fixed after warm-up",
    table: "Table 4",
    delta: { ...FULL, train: { freeze: ["AAL"] } },
    paper: { all_r1: 71.89, all_mAP: 69.42, all_mINP: 57.58 },
  },
  {
    id: "fixPAE",
    label: "Table 4: optimise AAL, PAE fixed after warm-up",
    table: "Table 4",
    delta: { ...FULL, train: { freeze: ["PAE"] } },
    paper: { all_r1: 73.0, all_mAP: 68.8, all_mINP: 55.23 },
  },
  ...LAMBDAS.map((l): RowSpec<PaenetConfig, RowId, Metric> => ({
    id: lambdaRow(l),
    label: `Fig. 7: (d) with λ = ${l}`,
    table: "Fig. 7",
    delta: { ...FULL, loss: { lambdaAtr: l } },
  })),
  {
    id: "agw",
    label: "Table 6: agw-lite",
    table: "Table 6",
    delta: { model: { baseline: "agw", sharedFrom: 1 } },
    paper: { all_r1: 47.5, all_mAP: 47.65, indoor_r1: 54.17, indoor_mAP: 62.97 },
  },
  {
    id: "agw-ours",
    label: "Table 6: agw-lite + ours",
    table: "Table 6",
    delta: { model: { baseline: "agw", sharedFrom: 1 }, ...FULL },
    paper: { all_r1: 69.8, all_mAP: 68.75, indoor_r1: 74.76, indoor_mAP: 81.55 },
  },
  {
    id: "hct",
    label: "Table 6: hct-lite",
    table: "Table 6",
    delta: { model: { baseline: "hct", sharedFrom: 2 } },
    paper: { all_r1: 61.68, all_mAP: 57.51, indoor_r1: 63.41, indoor_mAP: 68.17 },
  },
  {
    id: "hct-ours",
    label: "Table 6: hct-lite + ours",
    table: "Table 6",
    delta: { model: { baseline: "hct", sharedFrom: 2 }, ...FULL },
    paper: { all_r1: 70.7, all_mAP: 69.23, indoor_r1: 75.56, indoor_mAP: 82.06 },
  },
  {
    id: "code-b",
    label: "`code` preset: (b) + PAE",
    table: "Table 3 (code)",
    delta: { pae: { ...CODE_PRESET.pae, on: true }, aal: CODE_PRESET.aal },
  },
];

/**
 * The config moved to the world drawn with another seed: the world seed set and the data
 * folder moved to `world<N>/` (docs/design.md, 'World seeds').
 */
export function withWorldSeed(config: PaenetConfig, worldSeed: number): PaenetConfig {
  if (!config.data.synthetic) {
    throw new Error("PAENet: --world-seed applies to the synthetic world only (data.synthetic)");
  }
  return {
    ...config,
    data: {
      ...config.data,
      worldSeed,
      root: `${config.data.root}/world${worldSeed}`,
      regdbRoot: `${config.data.regdbRoot}/world${worldSeed}`,
    },
  };
}
