/**
 * One PAENet cell end to end (README, 'Evaluation'): data → networks → `runTraining` with the
 * step of `train.ts` (Table 4's freezing and warm-up snapshot as hooks) → test features in
 * every test-attribute mode from one trained model (`gt`, `predicted`, `shuffled`, `zeros`)
 * → SYSU-MM01 all- and indoor-search numbers (10 gallery trials, mINP too); validation
 * numbers for the calibration. The attribute-only oracle needs no training.
 *
 * @see notebooks/paenet.ipynb §4
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { crossModalBatches } from "../../data/samplers.ts";
import type { DenseMatrix } from "../../eval/distance.ts";
import { type EvalResult, evaluate, rankK } from "../../eval/evaluate.ts";
import { sysuMM01 } from "../../eval/protocols.ts";
import { regdbDistances, regdbNumbers } from "../../eval/regdb.ts";
import { sysuDistances, type SysuSplit } from "../../eval/sysu.ts";
import { Rng } from "../../runtime/random.ts";
import { LossHistory } from "../../train/history.ts";
import type { ProgressSink } from "../../train/progress.ts";
import { scheduleFrom } from "../../train/schedule.ts";
import { type Hook, runTraining, stepSource } from "../../engine/train_loop.ts";
import { type PaenetConfig, TEST_ATTR_MODES, type TestAttrMode } from "./config.ts";
import {
  type AttributedSplit,
  INPUT_NORMALIZATION,
  NUM_ATTRIBUTES,
  type PaenetData,
} from "./data.ts";
import { PaenetNet } from "./model.ts";
import { type PaenetBatch, PaenetTrainer, type StepValues } from "./train.ts";

/** Metric-name prefix of each test-attribute mode (`gt` has none: the paper's numbers). */
export const MODE_PREFIX: Record<TestAttrMode, string> = {
  gt: "",
  predicted: "pred_",
  shuffled: "shuf_",
  zeros: "zero_",
};

/**
 * Float NHWC images of some rows: zero-padded by `pad` px, randomly cropped back and flipped
 * with probability `flip` (README, 'Schedule'); no augmentation when `rng` is null.
 */
export function augmentRows(
  split: AttributedSplit,
  rows: readonly number[],
  pad: number,
  flip: number,
  rng: Rng | null,
): tf.Tensor4D {
  const { height: H, width: W } = split.size;
  const per = H * W * 3;
  const out = new Float32Array(rows.length * per);
  const { mean, std } = INPUT_NORMALIZATION;
  rows.forEach((row, i) => {
    const dy = rng && pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
    const dx = rng && pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
    const mirror = rng ? rng.bernoulli(flip) : false;
    const src = row * per;
    for (let y = 0; y < H; y++) {
      const sy = y + dy;
      for (let x = 0; x < W; x++) {
        const xx = mirror ? W - 1 - x : x;
        const sx = xx + dx;
        const inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
        for (let c = 0; c < 3; c++) {
          const v = inside ? split.pixels[src + (sy * W + sx) * 3 + c] / 255 : 0;
          out[i * per + (y * W + x) * 3 + c] = (v - mean[c]) / std[c];
        }
      }
    }
  });
  return tf.tensor4d(out, [rows.length, H, W, 3]);
}

function attributeRows(attrs: Float32Array, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * NUM_ATTRIBUTES);
  rows.forEach((r, i) =>
    out.set(attrs.subarray(r * NUM_ATTRIBUTES, (r + 1) * NUM_ATTRIBUTES), i * NUM_ATTRIBUTES)
  );
  return out;
}

/** Options of {@link trainPaenet}. */
export interface TrainOptions {
  history?: LossHistory;
  log?: (line: string) => void;
  progress?: ProgressSink;
  /** Called after every step (live plots). */
  onStep?: (step: number, values: StepValues) => void | Promise<void>;
  /** Called once at the end of warm-up (Table 4's snapshot), before any freezing. */
  onWarmupEnd?: (trainer: PaenetTrainer) => Promise<void>;
  /** Score the validation identities only (the calibration never sees the test split). */
  validationOnly?: boolean;
}

/** Steps of the linear warm-up (also Table 4's snapshot and freeze point). */
export function warmupSteps(config: PaenetConfig): number {
  return Math.max(1, Math.round(config.train.warmupFrac * config.train.steps));
}

/** Trains one model; the caller owns the returned trainer and net (free with {@link disposeRun}). */
export async function trainPaenet(
  config: PaenetConfig,
  data: PaenetData,
  rng: Rng,
  options: TrainOptions = {},
): Promise<
  { net: PaenetNet; trainer: PaenetTrainer; history: LossHistory; secondsPerStep: number }
> {
  const history = options.history ?? new LossHistory();
  const t = config.train;
  const net = new PaenetNet(config, data.train.numClasses, rng.fork("init"));
  const trainer = new PaenetTrainer(net, config);
  const batches = crossModalBatches(
    data.dataset,
    { p: t.P, k: t.K, batches: t.steps },
    rng.fork("batches"),
    data.train.indices,
  );
  const aug = rng.fork("augment");
  const warm = warmupSteps(config);
  const schedule = scheduleFrom({
    kind: "multistep",
    lr: t.lr,
    milestones: t.decayFracs.map((f) => Math.round(f * t.steps)),
    gamma: 0.1,
    warmup: warm,
  });
  const rowsOf = (indices: number[]) => indices.map((i) => data.train.rowOf.get(i)!);
  const source = stepSource(t.steps, (i): PaenetBatch => {
    const b = batches[i];
    const rgbRows = rowsOf(b.rgb), irRows = rowsOf(b.ir);
    return {
      rgb: augmentRows(data.train, rgbRows, t.pad, t.flip, aug),
      ir: augmentRows(data.train, irRows, t.pad, t.flip, aug),
      labels: rgbRows.map((r) => data.train.labels[r]),
      attributes: tf.tensor2d(
        attributeRows(data.train.attributes, [...rgbRows, ...irRows]),
        [rgbRows.length + irRows.length, NUM_ATTRIBUTES],
      ),
    };
  }, { release: (b) => tf.dispose([b.rgb, b.ir, b.attributes]) });
  const warmupHook: Hook<PaenetBatch> = {
    name: "warm-up end",
    async afterStep({ index }) {
      if (index !== warm - 1) return;
      if (options.onWarmupEnd) await options.onWarmupEnd(trainer);
      for (const m of t.freeze) trainer.freeze(m);
    },
  };
  let report;
  try {
    report = await runTraining({
      source,
      label: `paenet`,
      history,
      progress: options.progress ?? "auto",
      guard: Math.max(1, Math.min(50, t.steps - 1)),
      schedules: trainer.players.map((player) => ({ player, schedule, unit: "step" as const })),
      hooks: [
        warmupHook,
        {
          name: "log",
          afterStep({ step, loop }, v) {
            if ((step + 1) % 100 !== 0 && step + 1 !== t.steps) return;
            options.log?.(
              `step ${step + 1}/${t.steps}: l_total ${v.l_total.toFixed(3)} l_id ${
                v.l_id.toFixed(3)
              } ` +
                `l_atr ${v.l_atr.toFixed(3)} (${loop.secondsPerStep.toFixed(3)} s/step)`,
            );
          },
        },
        {
          name: "onStep",
          afterStep: ({ step }, v) => options.onStep?.(step, v as unknown as StepValues),
        },
      ],
      step: async ({ batch }) => ({ ...(await trainer.step(batch)) }),
    });
  } catch (error) {
    trainer.dispose();
    net.dispose();
    throw error;
  }
  return { net, trainer, history, secondsPerStep: report.secondsPerStep };
}

/** Test features of a split in each attribute mode, from one backbone pass per chunk. */
export async function embedModes(
  net: PaenetNet,
  split: AttributedSplit,
  modes: readonly TestAttrMode[],
  rng: Rng,
  chunk = 96,
): Promise<{ features: Record<string, DenseMatrix>; probeAccuracy: number | null }> {
  const n = split.indices.length;
  const A = NUM_ATTRIBUTES;
  const perm = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const shuffled = attributeRows(split.attributes, perm);
  const parts: Record<string, Float32Array[]> = Object.fromEntries(modes.map((m) => [m, []]));
  let cols = 0, correct = 0, scored = 0;
  for (let start = 0; start < n; start += chunk) {
    const rows = Array.from({ length: Math.min(chunk, n - start) }, (_, i) => start + i);
    const rgb = rows.filter((r) => split.items[r].modality === "rgb");
    const ir = rows.filter((r) => split.items[r].modality === "ir");
    // Both streams need a batch; an empty one gets a stand-in row, dropped below.
    const rgbIn = rgb.length ? rgb : [ir[0]];
    const irIn = ir.length ? ir : [rgb[0]];
    const order = [...rgbIn, ...irIn];
    const keep = order.map((_, i) => (i < rgbIn.length ? rgb.length > 0 : ir.length > 0));
    const F = tf.tidy(() =>
      net.features(
        augmentRows(split, rgbIn, 0, 0, null),
        augmentRows(split, irIn, 0, 0, null),
        false,
      )
    );
    try {
      const gt = attributeRows(split.attributes, order);
      let predicted: Float32Array | null = null;
      if (net.config.pae.on) {
        const probe = tf.tidy(() =>
          tf.sigmoid(
            net.heads(F, tf.tensor2d(gt, [order.length, A]), { training: false }).probeLogits!,
          )
        );
        const p = await probe.data();
        probe.dispose();
        predicted = Float32Array.from(p, (x) => (x > 0.5 ? 1 : 0));
        order.forEach((_, i) => {
          if (!keep[i]) return;
          for (let j = 0; j < A; j++) {
            correct += predicted![i * A + j] === gt[i * A + j] ? 1 : 0;
            scored++;
          }
        });
      }
      for (const mode of modes) {
        const a = mode === "gt"
          ? gt
          : mode === "predicted"
          ? (predicted ?? gt)
          : mode === "shuffled"
          ? attributeRows(shuffled, order)
          : new Float32Array(order.length * A);
        const f = tf.tidy(() => {
          const out = net.heads(F, tf.tensor2d(a, [order.length, A]), { training: false });
          return out.fTest.div(out.fTest.norm("euclidean", 1, true).add(1e-12));
        });
        cols = f.shape[1] as number;
        const values = await f.data() as Float32Array;
        f.dispose();
        // Back to split order.
        const chunkOut = new Float32Array(rows.length * cols);
        order.forEach((r, i) => {
          if (!keep[i]) return;
          chunkOut.set(values.subarray(i * cols, (i + 1) * cols), (r - start) * cols);
        });
        parts[mode].push(chunkOut);
      }
    } finally {
      F.dispose();
    }
  }
  const features: Record<string, DenseMatrix> = {};
  for (const mode of modes) {
    const data = new Float32Array(n * cols);
    parts[mode].reduce((o, p) => (data.set(p, o), o + p.length), 0);
    features[mode] = { data, rows: n, cols };
  }
  return { features, probeAccuracy: scored ? correct / scored : null };
}

/** All- and indoor-search single-shot numbers (percent) of one distance split. */
export function sysuNumbers(
  split: SysuSplit,
  trials: number,
): { metrics: Record<string, number>; results: Record<string, EvalResult> } {
  const metrics: Record<string, number> = {};
  const results: Record<string, EvalResult> = {};
  for (const mode of ["all", "indoor"] as const) {
    const r = evaluate(split.dist, split.query, split.gallery, sysuMM01({ mode, trials, seed: 0 }));
    results[mode] = r;
    for (const k of [1, 5, 10, 20]) metrics[`${mode}_r${k}`] = 100 * rankK(r, k);
    metrics[`${mode}_mAP`] = 100 * r.mAP;
    metrics[`${mode}_mINP`] = 100 * r.mINP;
  }
  return { metrics, results };
}

function attributeFeatures(split: AttributedSplit): DenseMatrix {
  return { data: split.attributes, rows: split.indices.length, cols: NUM_ATTRIBUTES };
}

function jitter(dist: { data: Float32Array }, rng: Rng): void {
  // Euclidean distance of 0/1 vectors is √Hamming (same order); jitter breaks the ties.
  const j = rng.uniformArray(dist.data.length, 0, 1e-3);
  for (let i = 0; i < dist.data.length; i++) dist.data[i] += j[i];
}

/**
 * The attribute-only oracle (README, 'Attributes at test time'): IR queries ranked against
 * the RGB gallery by the Hamming distance of their ground-truth attribute vectors, ties
 * broken at random.
 */
export async function oracleSplit(split: AttributedSplit, rng: Rng): Promise<SysuSplit> {
  const s = await sysuDistances(attributeFeatures(split), split.items);
  jitter(s.dist, rng);
  return s;
}

/** The attribute-only oracle on a RegDB trial's test half, both directions (percent). */
export async function regdbOracle(
  split: AttributedSplit,
  rng: Rng,
): Promise<Record<string, number>> {
  const s = await regdbDistances(attributeFeatures(split), split.items);
  jitter(s.dist, rng);
  return regdbNumbers(s).metrics;
}

/** What one cell's evaluation produced. */
export interface PaenetRun {
  metrics: Record<string, number>;
  /** Test distances of each attribute mode (gt first), for galleries and figures. */
  splits: Record<string, SysuSplit>;
  trained: { net: PaenetNet; trainer: PaenetTrainer; history: LossHistory } | null;
}

/**
 * Evaluates a trained net on a split in every mode; metric names prefixed per
 * {@link MODE_PREFIX}. SYSU-MM01: all- and indoor-search over `trials` gallery draws, the
 * distances kept for galleries and figures; RegDB: both directions of the split (one trial).
 */
export async function evaluateNet(
  net: PaenetNet,
  split: AttributedSplit,
  trials: number,
  rng: Rng,
  prefix = "",
  protocol: "sysu" | "regdb" = "sysu",
): Promise<{ metrics: Record<string, number>; splits: Record<string, SysuSplit> }> {
  const modes = net.config.pae.on ? TEST_ATTR_MODES : (["gt"] as const);
  const { features, probeAccuracy } = await embedModes(net, split, modes, rng);
  const metrics: Record<string, number> = {};
  const splits: Record<string, SysuSplit> = {};
  if (protocol === "regdb") {
    for (const mode of TEST_ATTR_MODES) {
      // Without PAE every mode is the same model: its numbers are the GT ones.
      const m = regdbNumbers(await regdbDistances(features[mode] ?? features.gt, split.items))
        .metrics;
      for (const [k, v] of Object.entries(m)) metrics[`${prefix}${MODE_PREFIX[mode]}${k}`] = v;
    }
    if (probeAccuracy !== null) metrics[`${prefix}probe_acc`] = 100 * probeAccuracy;
    return { metrics, splits };
  }
  for (const mode of TEST_ATTR_MODES) {
    // Without PAE the attributes are not an input: every mode is the same model.
    const s = features[mode] ? await sysuDistances(features[mode], split.items) : splits.gt;
    splits[mode] = s;
    for (const [k, v] of Object.entries(sysuNumbers(s, trials).metrics)) {
      metrics[`${prefix}${MODE_PREFIX[mode]}${k}`] = v;
    }
  }
  if (probeAccuracy !== null) metrics[`${prefix}probe_acc`] = 100 * probeAccuracy;
  return { metrics, splits };
}

/** Trains (unless the oracle) and evaluates one cell. The caller frees `trained` ({@link disposeRun}). */
export async function runPaenet(
  config: PaenetConfig,
  data: PaenetData,
  rng: Rng,
  options: TrainOptions = {},
): Promise<PaenetRun> {
  const trials = config.eval.trials;
  if (options.validationOnly && !data.val) {
    throw new Error(`PAENet: ${data.dataset.name} has no validation split to calibrate on`);
  }
  if (config.kind === "oracle" && data.protocol === "regdb") {
    const metrics: Record<string, number> = {};
    const m = await regdbOracle(data.test, rng.fork("oracle"));
    for (const mode of TEST_ATTR_MODES) {
      for (const [k, v] of Object.entries(m)) metrics[`${MODE_PREFIX[mode]}${k}`] = v;
    }
    return { metrics, splits: {}, trained: null };
  }
  if (config.kind === "oracle" && !options.validationOnly) {
    const metrics: Record<string, number> = {};
    const split = await oracleSplit(data.test, rng.fork("oracle"));
    const m = sysuNumbers(split, trials).metrics;
    for (const mode of TEST_ATTR_MODES) {
      for (const [k, v] of Object.entries(m)) metrics[`${MODE_PREFIX[mode]}${k}`] = v;
    }
    const val = sysuNumbers(await oracleSplit(data.val!, rng.fork("oracle-val")), trials).metrics;
    for (const [k, v] of Object.entries(val)) metrics[`val_${k}`] = v;
    return { metrics, splits: { gt: split }, trained: null };
  }
  const snapshot: Record<string, number> = {};
  const trained = await trainPaenet(config, data, rng, {
    ...options,
    onWarmupEnd: async (trainer) => {
      if (config.train.snapshot) {
        const m = await evaluateNet(
          trainer.net,
          data.test,
          trials,
          rng.fork("eval-snapshot"),
          "snap_",
          data.protocol,
        );
        Object.assign(snapshot, m.metrics);
      }
      await options.onWarmupEnd?.(trainer);
    },
  });
  try {
    const test = options.validationOnly
      ? { metrics: {}, splits: {} }
      : await evaluateNet(trained.net, data.test, trials, rng.fork("eval"), "", data.protocol);
    const metrics: Record<string, number> = { ...test.metrics, ...snapshot };
    if (options.validationOnly) {
      // The calibration's score: the validation identities, GT mode (rows there read none).
      const val = await evaluateNet(trained.net, data.val!, trials, rng.fork("eval-val"), "val_");
      for (const [k, v] of Object.entries(val.metrics)) {
        if (/^val_(all|indoor)_/.test(k)) metrics[k] = v;
      }
    }
    const series = trained.history.toJSON().series;
    const tail = (name: string) => {
      const values = (series[name]?.values ?? []).filter((x): x is number => x !== null);
      const k = Math.max(1, Math.round(values.length * 0.1));
      return values.slice(-k).reduce((a, b) => a + b, 0) / Math.max(1, Math.min(k, values.length));
    };
    metrics.l_id_tail = tail("l_id");
    metrics.l_atr_tail = tail("l_atr");
    metrics.l_probe_tail = tail("l_probe");
    metrics.seconds_per_step = trained.secondsPerStep;
    return { metrics, splits: test.splits, trained };
  } catch (error) {
    disposeRun(trained);
    throw error;
  }
}

/** Frees a trained model. */
export function disposeRun(trained: { net: PaenetNet; trainer: PaenetTrainer } | null): void {
  if (!trained) return;
  trained.trainer.dispose();
  trained.net.dispose();
}
