/**
 * The baseline experiment: which losses a plain re-id backbone needs. Three rows — identity
 * cross-entropy only, batch-hard triplet only, both (the BoT recipe without its extra
 * tricks) — on the Market-1501 layout, scored R1/R5/R10/mAP/mINP under the Market-1501
 * protocol. It is no paper's table: it calibrates the shared engine and gives the paper
 * notebooks a reference point; no paper numbers are attached.
 *
 * CPU scale: the synthetic Market-1501 preset at 64×32, the small ResNet, batches of
 * 16 identities × 4 images, a few minutes of wasm training per cell. Paper scale: a real
 * Market-1501 under `data/real/market1501`, ResNet-50 (last stride 1) at 256×128 and the
 * BoT schedule (Adam 3.5e-4, 10 warm-up epochs, ×0.1 at epochs 40 and 70, 120 epochs).
 *
 * @see notebooks/00_introduction.ipynb §4–§6
 * @module
 */
import { gt } from "../../experiments/claims.ts";
import { definePaperSpec } from "../../experiments/spec.ts";
import { type BaselineConfig, runBaseline, withWorldSeed } from "./run.ts";

/**
 * CPU scale: minutes per cell on the wasm backend (8 epochs of 17 P×K batches, ~1.3 CPU-s a
 * step). Calibrated on seed 0 only: Adam at 1e-3 left the 240-way identity loss near its
 * starting value (ID + triplet mAP 12.5); 3e-3 roughly doubled what the ID loss learned.
 */
export const CPU_CONFIG: BaselineConfig = {
  data: {
    dataset: "market1501",
    source: "synthetic",
    root: "data",
    tiny: false,
    height: 64,
    width: 32,
  },
  model: { backbone: "small_resnet", widths: null, lastStride: 1, neck: true },
  train: {
    epochs: 8,
    stepsPerEpoch: null,
    p: 16,
    k: 4,
    schedule: { kind: "piecewise", lr: 3e-3, milestones: [6], factors: [1, 0.1], warmup: 2 },
    weightDecay: 5e-4,
    idWeight: 1,
    labelSmoothing: 0.1,
    tripletWeight: 1,
    margin: 0.3,
    augment: { flip: 0.5, padCrop: 4, erasing: 0.5 },
  },
  eval: { feature: "neck", flip: false, metric: "sqeuclidean" },
};

/** Paper scale: BoT's recipe (Luo et al. 2019) on a real Market-1501 (config values only). */
export const PAPER_CONFIG: BaselineConfig = {
  data: {
    dataset: "market1501",
    source: "real",
    root: "data/real/market1501",
    tiny: false,
    height: 256,
    width: 128,
  },
  model: { backbone: "resnet50", widths: null, lastStride: 1, neck: true },
  train: {
    epochs: 120,
    stepsPerEpoch: null,
    p: 16,
    k: 4,
    schedule: {
      kind: "piecewise",
      lr: 3.5e-4,
      milestones: [40, 70],
      factors: [1, 0.1, 0.01],
      warmup: 10,
    },
    weightDecay: 5e-4,
    idWeight: 1,
    labelSmoothing: 0.1,
    tripletWeight: 1,
    margin: 0.3,
    augment: { flip: 0.5, padCrop: 10, erasing: 0.5 },
  },
  eval: { feature: "neck", flip: false, metric: "sqeuclidean" },
};

/** Quick runs read a tiny synthetic copy under `data/quick/` (`TINY_PRESET` in lib/engine/synthetic.ts). */
export const QUICK_DATA: BaselineConfig["data"] = {
  ...CPU_CONFIG.data,
  root: "data/quick",
  tiny: true,
};

/** The baseline spec. */
export const spec = definePaperSpec({
  paper: "baseline",
  title: "Baseline: identity cross-entropy and batch-hard triplet on Market-1501",
  version: "1",
  base: { cpu: CPU_CONFIG, paper: PAPER_CONFIG },
  quick: {
    data: QUICK_DATA,
    train: { epochs: 1, stepsPerEpoch: 2, p: 4, k: 4 },
  },
  metrics: ["R1", "R5", "R10", "mAP", "mINP"],
  withWorldSeed,
  rows: [
    {
      id: "id",
      label: "ID only (CE, label smoothing 0.1)",
      table: "Baseline",
      delta: { train: { tripletWeight: 0 } },
    },
    {
      id: "triplet",
      label: "Triplet only (batch-hard, margin 0.3)",
      table: "Baseline",
      // Without an ID loss the BN neck is never trained: retrieve with the pooled feature.
      delta: { train: { idWeight: 0 }, eval: { feature: "pool" } },
    },
    { id: "id-triplet", label: "ID + triplet (BoT-style)", table: "Baseline", delta: {} },
  ],
  claims: [
    {
      id: "C1",
      text: "ID + triplet is at least as good as ID only on mAP",
      source: "BoT (Luo et al. 2019), Hermans et al. 2017",
      parts: [gt("id-triplet", "id", "mAP")],
    },
    {
      id: "C2",
      text: "ID + triplet is at least as good as triplet only on mAP",
      source: "BoT (Luo et al. 2019)",
      parts: [gt("id-triplet", "triplet", "mAP")],
    },
  ],
  async runCell(config, _seed, context) {
    const run = await runBaseline(config, {
      rng: context.rng,
      history: context.history,
      log: context.log,
    });
    const t = run.train;
    context.note("train", {
      epochs: t.epochs,
      steps: t.steps,
      seconds: t.seconds,
      secondsPerStep: t.secondsPerStep,
      tensorCountsPerEpoch: t.tensorCounts,
      learningRates: t.learningRates,
      peakRssBytes: t.memory.peakRssBytes,
      peakTfBytes: t.memory.peakTfBytes,
      peakTfTensors: t.memory.peakTfTensors,
    });
    context.note("eval", {
      numQueries: run.evaluation.result.numQueries,
      numValidQueries: run.evaluation.result.numValidQueries,
      numGallery: run.evaluation.result.numGallery,
      cmc: run.evaluation.result.cmc.slice(0, 20),
    });
    context.log(
      Object.entries(run.metrics).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(" · "),
    );
    return run.metrics;
  },
});
