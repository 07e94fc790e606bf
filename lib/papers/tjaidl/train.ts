/**
 * TJ-AIDL's losses and training steps (lib/papers/tjaidl/README.md, 'Losses' and 'Algorithm'):
 * Stage 0 (one branch on its own loss), Step I (transferable joint learning: identity branch,
 * IIA and attribute branch, each a player with its own variables and optimizer, one backward
 * pass), Step II (unsupervised target adaptation with soft attribute labels) and the joint
 * baseline. Batches are drawn per step index from the cell's seed, so every row of one seed
 * sees the same source batches at the same step (claim C10).
 *
 * @see notebooks/tjaidl.ipynb §1 and §4
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { imageBytes } from "../../data/images.ts";
import type { ReidSplit } from "../../data/split.ts";
import { runTraining, stepSource, type TrainLoopReport } from "../../engine/train_loop.ts";
import { attributeBce, crossEntropy, mseLoss } from "../../nn/losses/mod.ts";
import { stopGradient } from "../../nn/ops.ts";
import type { Rng } from "../../runtime/random.ts";
import { LossHistory } from "../../train/history.ts";
import { forward } from "../../train/modes.ts";
import { Player, stepTogether, trainableVariables } from "../../train/players.ts";
import type { ProgressSink } from "../../train/progress.ts";
import type { TjaidlConfig } from "./config.ts";
import { INPUT_NORMALIZATION } from "./data.ts";
import type { SingleNet, TjaidlNet } from "./model.ts";

// ---------------------------------------------------------------- batches

/** A labelled source batch. */
export interface SourceBatch {
  x: tf.Tensor4D;
  /** Identity class per image. */
  y: tf.Tensor1D;
  /** Attribute labels [B, m] in {0, 1}. */
  a: tf.Tensor2D;
}

/** Float NHWC in [−1, 1] of some rows of a split, each mirrored where `flips` says. */
export function imageBatch(split: ReidSplit, rows: readonly number[], flips: readonly boolean[]) {
  const { height: h, width: w } = split.size;
  const per = imageBytes(split.size);
  const out = new Float32Array(rows.length * per);
  const { mean, std } = INPUT_NORMALIZATION;
  rows.forEach((row, i) => {
    const src = row * per, dst = i * per;
    for (let yy = 0; yy < h; yy++) {
      for (let xx = 0; xx < w; xx++) {
        const sx = flips[i] ? w - 1 - xx : xx;
        const s = src + (yy * w + sx) * 3, d = dst + (yy * w + xx) * 3;
        for (let c = 0; c < 3; c++) out[d + c] = (split.pixels[s + c] / 255 - mean[c]) / std[c];
      }
    }
  });
  return tf.tensor4d(out, [rows.length, h, w, 3]);
}

/** Rows and flips of batch `index` of a stream: uniform draws from the stream's own fork. */
function draw(rng: Rng, stream: string, index: number, n: number, batch: number, flip: number) {
  const r = rng.fork(`${stream}:${index}`);
  const rows = Array.from({ length: batch }, () => r.int(n));
  const flips = rows.map(() => r.bernoulli(flip));
  return { rows, flips };
}

/** Source batch `index` (the same for every row of a seed). */
export function sourceBatch(
  split: ReidSplit,
  attributes: Float32Array,
  m: number,
  rng: Rng,
  index: number,
  train: TjaidlConfig["train"],
): SourceBatch {
  const { rows, flips } = draw(rng, "source", index, split.indices.length, train.batch, train.flip);
  const a = new Float32Array(rows.length * m);
  rows.forEach((row, i) => a.set(attributes.subarray(row * m, (row + 1) * m), i * m));
  return {
    x: imageBatch(split, rows, flips),
    y: tf.tensor1d(rows.map((row) => split.labels[row]), "int32"),
    a: tf.tensor2d(a, [rows.length, m]),
  };
}

/** Target batch `index` (unlabelled images). */
export function targetBatch(
  split: ReidSplit,
  rng: Rng,
  index: number,
  train: TjaidlConfig["train"],
): tf.Tensor4D {
  const { rows, flips } = draw(rng, "target", index, split.indices.length, train.batch, train.flip);
  return imageBatch(split, rows, flips);
}

/** Frees a source batch. */
export function releaseSource(b: SourceBatch): void {
  tf.dispose([b.x, b.y, b.a]);
}

// ---------------------------------------------------------------- losses

/** Eq. 2 / 5: sigmoid cross-entropy of attribute logits against (hard or soft) labels. */
export function attributeLoss(
  logits: tf.Tensor2D,
  labels: tf.Tensor2D,
  loss: TjaidlConfig["loss"],
): tf.Scalar {
  return attributeBce(logits, labels, { reduction: loss.bceReduction });
}

/** Eq. 3 / 4: squared error, mean over batch × dims or summed over dims. */
export function squaredLoss(a: tf.Tensor, b: tf.Tensor, loss: TjaidlConfig["loss"]): tf.Scalar {
  return mseLoss(a, b, loss.mseReduction);
}

/** Mean accuracy of thresholded attribute logits against binary labels. */
function attributeAccuracy(logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Scalar {
  return logits.greater(0).toFloat().equal(labels).toFloat().mean() as tf.Scalar;
}

/** The five loss terms of Step I (Eqs. 1–5) on one batch, and the total of the card's single objective. */
export interface StepITerms {
  total: tf.Scalar;
  /** L_id (Step I only), L_att, L_attrIIA, L_rec, L_transfer, att_acc. */
  terms: Record<string, tf.Scalar>;
}

/**
 * Step I's objective (README.md, 'Losses'): L_id + L_att + L_attr,IIA + λ1·L_rec + λ2·L_transfer,
 * with sg(x_id) as the IIA's input and reconstruction target so that no IIA loss reaches the
 * identity branch. `warmup`: the transfer term's gradient reaches only the IIA (sg on the
 * attribute logits), the stabilised configuration's IIA warm-up.
 */
export function stepITerms(
  net: TjaidlNet,
  batch: SourceBatch,
  loss: TjaidlConfig["loss"],
  warmup: boolean,
): StepITerms {
  const xId = forward(net.idTrunk, batch.x, "train") as tf.Tensor2D;
  const idLogits = forward(net.modules.idClassifier, xId, "train") as tf.Tensor2D;
  const xAtt = forward(net.attTrunk, batch.x, "train") as tf.Tensor2D;
  const pAtt = forward(net.modules.attributeClassifier, xAtt, "train") as tf.Tensor2D;
  const xIdSg = stopGradient(xId);
  const e = forward(net.modules.iiaEncoder, xIdSg, "train") as tf.Tensor2D;
  const xHat = forward(net.modules.iiaDecoder, e, "train") as tf.Tensor2D;
  const L_id = crossEntropy(idLogits, batch.y);
  const L_att = attributeLoss(pAtt, batch.a, loss);
  const L_attrIIA = attributeLoss(e, batch.a, loss);
  const L_rec = squaredLoss(xHat, xIdSg, loss);
  const L_transfer = squaredLoss(e, warmup ? stopGradient(pAtt) : pAtt, loss);
  const total = L_id.add(L_att).add(L_attrIIA).add(L_rec.mul(loss.lambda1))
    .add(L_transfer.mul(loss.lambda2)) as tf.Scalar;
  return {
    total,
    terms: {
      L_id,
      L_att,
      L_attrIIA,
      L_rec,
      L_transfer,
      att_acc: attributeAccuracy(pAtt, batch.a),
    },
  };
}

/** Reads named scalars back in one transfer, then frees them. */
async function readScalars(named: Record<string, tf.Scalar>): Promise<Record<string, number>> {
  const names = Object.keys(named);
  const stacked = tf.stack(names.map((n) => named[n]));
  try {
    const values = await stacked.data();
    return Object.fromEntries(names.map((n, i) => [n, values[i]]));
  } finally {
    stacked.dispose();
    tf.dispose(Object.values(named));
  }
}

/**
 * One simultaneous Step-I update: one backward pass of the single objective, each player
 * (identity, IIA, attribute) applying only its own variables' gradients with its own optimizer.
 */
export async function stepIUpdate(
  players: { id: Player; iia: Player; att: Player },
  net: TjaidlNet,
  batch: SourceBatch,
  loss: TjaidlConfig["loss"],
  warmup: boolean,
): Promise<Record<string, number>> {
  let kept: Record<string, tf.Scalar> = {};
  await stepTogether([players.id, players.iia, players.att], () => {
    const { total, terms } = stepITerms(net, batch, loss, warmup);
    kept = Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, tf.keep(v)]));
    return total;
  });
  return await readScalars(kept);
}

/** The Step-II terms on a target batch (README.md, 'Step II'). */
export function stepIITerms(
  net: TjaidlNet,
  x: tf.Tensor4D,
  teacher: { trunk: tf.LayersModel; head: tf.LayersModel } | null,
  loss: TjaidlConfig["loss"],
): StepITerms {
  const lambda2 = loss.lambda2StepII ?? loss.lambda2;
  // The identity branch is frozen: run forward only, its output held constant.
  const xId = stopGradient(forward(net.idTrunk, x, "eval") as tf.Tensor2D);
  const xAtt = forward(net.attTrunk, x, "train") as tf.Tensor2D;
  const pAtt = forward(net.modules.attributeClassifier, xAtt, "train") as tf.Tensor2D;
  const soft = stopGradient(
    teacher === null
      ? tf.sigmoid(pAtt)
      : tf.sigmoid(forward(teacher.head, forward(teacher.trunk, x, "eval"), "eval")),
  ) as tf.Tensor2D;
  const e = forward(net.modules.iiaEncoder, xId, "train") as tf.Tensor2D;
  const xHat = forward(net.modules.iiaDecoder, e, "train") as tf.Tensor2D;
  const L_att = attributeLoss(pAtt, soft, loss);
  const L_attrIIA = attributeLoss(e, soft, loss);
  const L_rec = squaredLoss(xHat, xId, loss);
  const L_transfer = squaredLoss(e, pAtt, loss);
  const total = L_att.add(L_attrIIA).add(L_rec.mul(loss.lambda1))
    .add(L_transfer.mul(lambda2)) as tf.Scalar;
  return {
    total,
    terms: {
      L_att,
      L_attrIIA,
      L_rec,
      L_transfer,
      att_acc: pAtt.greater(0).equal(soft.greater(0.5)).toFloat().mean() as tf.Scalar,
    },
  };
}

// ---------------------------------------------------------------- players

/** The Adam of the paper (β1 = 0.5 as written), one per player. */
export function adam(train: TjaidlConfig["train"], lr = train.lr): tf.Optimizer {
  return tf.train.adam(lr, train.beta1, train.beta2);
}

/** A player over some models' trainable variables with its own Adam. */
export function playerOf(
  name: string,
  models: tf.LayersModel[],
  train: TjaidlConfig["train"],
  lr?: number,
): Player {
  return new Player({ name, variables: trainableVariables(...models), optimizer: adam(train, lr) });
}

// ---------------------------------------------------------------- stages

/** What every stage runner takes. */
export interface StageOptions {
  /** The stage's name in progress lines and the history prefix. */
  label: string;
  history: LossHistory;
  /** Added to the history's step numbers (stages follow each other in one history). */
  offset: number;
  progress?: ProgressSink;
  log?: (line: string) => void;
}

async function runStage<B>(
  steps: number,
  make: (i: number) => B,
  release: (b: B) => void,
  step: (b: B, i: number) => Promise<Record<string, number>>,
  options: StageOptions,
): Promise<TrainLoopReport> {
  const local = new LossHistory();
  // Forwarded as they come, so a notebook's live plot sees every stage's losses.
  const stop = local.onRecord((step, values) => {
    options.history.record(
      options.offset + step,
      Object.fromEntries(Object.entries(values).map(([k, v]) => [`${options.label}/${k}`, v])),
    );
  });
  const report = await runTraining({
    source: stepSource(steps, make, { release }),
    step: ({ batch, index }) => step(batch, index),
    history: local,
    label: options.label,
    progress: options.progress,
    guard: Math.max(1, Math.min(100, steps)),
    log: options.log,
  }).finally(stop);
  return report;
}

/**
 * Trains one single-supervision net (Stage 0 of the identity branch, the attribute warm start,
 * ID-only, Attr-only) on source batches `from … from + steps − 1`.
 */
export async function trainSingle(
  net: SingleNet,
  player: Player,
  supervision: "id" | "attr" | "joint",
  data: { split: ReidSplit; attributes: Float32Array; m: number },
  config: TjaidlConfig,
  rng: Rng,
  from: number,
  steps: number,
  options: StageOptions,
): Promise<TrainLoopReport> {
  return await runStage(
    steps,
    (i) => sourceBatch(data.split, data.attributes, data.m, rng, from + i, config.train),
    releaseSource,
    async (b) => {
      let kept: Record<string, tf.Scalar> = {};
      await player.step(() => {
        const f = forward(net.trunk, b.x, "train") as tf.Tensor2D;
        const terms: Record<string, tf.Scalar> = {};
        if (supervision !== "attr") {
          terms.L_id = crossEntropy(forward(net.idHead!, f, "train") as tf.Tensor2D, b.y);
        }
        if (supervision !== "id") {
          const logits = forward(net.attHead!, f, "train") as tf.Tensor2D;
          terms.L_att = attributeLoss(logits, b.a, config.loss);
          terms.att_acc = attributeAccuracy(logits, b.a);
        }
        kept = Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, tf.keep(v)]));
        // A fresh tensor: the player frees the loss it is given, the kept terms are read later.
        return (terms.L_id && terms.L_att
          ? terms.L_id.add(terms.L_att)
          : (terms.L_id ?? terms.L_att).clone()) as tf.Scalar;
      });
      return await readScalars(kept);
    },
    options,
  );
}

/** Step I on source batches `from …` (README.md, 'Algorithm'). */
export async function trainStepI(
  net: TjaidlNet,
  players: { id: Player; iia: Player; att: Player },
  data: { split: ReidSplit; attributes: Float32Array; m: number },
  config: TjaidlConfig,
  rng: Rng,
  from: number,
  options: StageOptions,
): Promise<TrainLoopReport> {
  return await runStage(
    config.train.stepISteps,
    (i) => sourceBatch(data.split, data.attributes, data.m, rng, from + i, config.train),
    releaseSource,
    (b, i) => stepIUpdate(players, net, b, config.loss, i < config.loss.iiaWarmup),
    options,
  );
}

/** Step II on unlabelled target batches (README.md, 'Step II'). */
export async function trainStepII(
  net: TjaidlNet,
  players: { iia: Player; att: Player },
  teacher: { trunk: tf.LayersModel; head: tf.LayersModel } | null,
  target: ReidSplit,
  config: TjaidlConfig,
  rng: Rng,
  options: StageOptions,
): Promise<TrainLoopReport> {
  return await runStage(
    config.train.stepIISteps,
    (i) => targetBatch(target, rng, i, config.train),
    (x) => x.dispose(),
    async (x) => {
      let kept: Record<string, tf.Scalar> = {};
      await stepTogether([players.iia, players.att], () => {
        const { total, terms } = stepIITerms(net, x, teacher, config.loss);
        kept = Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, tf.keep(v)]));
        return total;
      });
      return await readScalars(kept);
    },
    options,
  );
}
