/**
 * One TJ-AIDL grid cell (lib/papers/tjaidl/README.md, 'Rows' and 'Sharing'): data → nets →
 * stages on the engine's loop → evaluation on the target → metrics. Rows of one seed share
 * their stages: ID-only's net after Stage 0 is TJ-AIDL's identity branch at the start of Step I
 * (with its optimizer state), Attr-only's after the warm start its attribute branch, and a
 * "w/o adaptation" cell's Step-I snapshot is where its "TJ-AIDL" cell's Step II starts. Each
 * snapshot is named by a hash of everything that decides it; a cell looks for it in its own
 * folder and those of the rows it needs, and trains it itself when absent.
 *
 * @see notebooks/tjaidl.ipynb §4
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import type { ReidSplit } from "../../data/split.ts";
import { pairwiseDistance } from "../../eval/distance.ts";
import { type EvalResult, evaluate } from "../../eval/evaluate.ts";
import { market1501 } from "../../eval/protocols.ts";
import { hashString, type Rng } from "../../runtime/random.ts";
import { loadCheckpoint, saveCheckpoint } from "../../train/checkpoint.ts";
import { LossHistory } from "../../train/history.ts";
import { forward } from "../../train/modes.ts";
import type { Player } from "../../train/players.ts";
import type { ProgressSink } from "../../train/progress.ts";
import type { TjaidlConfig } from "./config.ts";
import { INPUT_NORMALIZATION, type TjaidlData } from "./data.ts";
import {
  buildSingle,
  buildTjaidl,
  disposeSingle,
  disposeTjaidl,
  type SingleNet,
  type TjaidlNet,
} from "./model.ts";
import { imageBatch, playerOf, trainSingle, trainStepI, trainStepII } from "./train.ts";

/** Where a cell keeps and finds snapshots, and how it reports. */
export interface CellIO {
  /** The cell's own folder (snapshots are written here). */
  dir: string;
  /** Folders of the rows it needs (snapshots are looked for there first). */
  lookIn: string[];
  history: LossHistory;
  log: (line: string) => void;
  note: (key: string, value: unknown) => void;
  progress?: ProgressSink;
}

// ---------------------------------------------------------------- features and metrics

/** An embedding of a batch of images: [B, H, W, 3] → [B, D]. */
export type Embed = (x: tf.Tensor4D) => tf.Tensor2D;

/** Features of every row of a split (eval mode, no flip), as a row-major matrix. */
export async function embedSplit(
  embed: Embed,
  split: ReidSplit,
  batchSize = 128,
): Promise<{ data: Float32Array; rows: number; cols: number }> {
  const n = split.indices.length;
  let out: Float32Array | null = null;
  let cols = 0;
  for (let start = 0; start < n; start += batchSize) {
    const rows = Array.from({ length: Math.min(batchSize, n - start) }, (_, k) => start + k);
    const f = tf.tidy(() => embed(imageBatch(split, rows, rows.map(() => false))));
    cols = f.shape[1];
    out ??= new Float32Array(n * cols);
    out.set(await f.data() as Float32Array, start * cols);
    f.dispose();
  }
  return { data: out ?? new Float32Array(0), rows: n, cols };
}

/** Row-wise L2 normalisation of a feature matrix (in place copy). */
export function l2normRows(f: { data: Float32Array; rows: number; cols: number }) {
  const out = new Float32Array(f.data.length);
  for (let r = 0; r < f.rows; r++) {
    let s = 0;
    for (let c = 0; c < f.cols; c++) s += f.data[r * f.cols + c] ** 2;
    const k = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let c = 0; c < f.cols; c++) out[r * f.cols + c] = f.data[r * f.cols + c] * k;
  }
  return { ...f, data: out };
}

/** Column-wise concatenation of feature matrices with the same rows. */
export function concatCols(parts: { data: Float32Array; rows: number; cols: number }[]) {
  const rows = parts[0].rows, cols = parts.reduce((a, p) => a + p.cols, 0);
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let at = r * cols;
    for (const p of parts) {
      data.set(p.data.subarray(r * p.cols, (r + 1) * p.cols), at);
      at += p.cols;
    }
  }
  return { data, rows, cols };
}

type Features = { data: Float32Array; rows: number; cols: number };

/** R1, R5, R10, R20 and mAP in percent, Market-1501 single-query rules. */
export function tableMetrics(result: EvalResult, prefix = ""): Record<string, number> {
  const r = (k: number) => 100 * result.cmc[Math.min(k, result.cmc.length) - 1];
  return {
    [`${prefix}R1`]: r(1),
    [`${prefix}R5`]: r(5),
    [`${prefix}R10`]: r(10),
    [`${prefix}R20`]: r(20),
    [`${prefix}mAP`]: 100 * result.mAP,
  };
}

/** Euclidean ranking of `query` features against `gallery` features (README.md, 'Evaluation'). */
export async function rankFeatures(
  q: Features,
  g: Features,
  qs: ReidSplit,
  gs: ReidSplit,
  l2norm: boolean,
): Promise<{ result: EvalResult; dist: { data: Float32Array; rows: number; cols: number } }> {
  const dist = await pairwiseDistance(
    l2norm ? l2normRows(q) : q,
    l2norm ? l2normRows(g) : g,
    "euclidean",
  );
  return { result: evaluate(dist, qs.items, gs.items, market1501()), dist };
}

/**
 * Fig. 4's number: mean distance between images of the same identity over the mean distance
 * between images of different identities, on the target test images of the first `ids`
 * identities of the query split (lower: tighter identity clusters).
 */
export function distanceRatio(q: Features, g: Features, qs: ReidSplit, gs: ReidSplit, ids: number) {
  const pids = [...new Set(qs.items.map((i) => i.pid))].slice(0, ids);
  const keep = new Set(pids);
  const rows: { v: Float32Array; pid: number }[] = [];
  const add = (f: Features, s: ReidSplit) =>
    s.items.forEach((it, r) => {
      if (keep.has(it.pid)) {
        rows.push({ v: f.data.subarray(r * f.cols, (r + 1) * f.cols), pid: it.pid });
      }
    });
  add(q, qs);
  add(g, gs);
  let intra = 0, ni = 0, inter = 0, ne = 0;
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) {
      let s = 0;
      for (let c = 0; c < rows[i].v.length; c++) s += (rows[i].v[c] - rows[j].v[c]) ** 2;
      const d = Math.sqrt(s);
      if (rows[i].pid === rows[j].pid) (intra += d, ni++);
      else (inter += d, ne++);
    }
  }
  return ni && ne ? (intra / ni) / (inter / ne) : NaN;
}

// ---------------------------------------------------------------- snapshots

/** A hash of everything that decides a snapshot (the cell seed included). */
export function snapshotKey(kind: string, parts: unknown): string {
  const text = JSON.stringify([kind, parts]);
  return `${kind}-${hashString(text).toString(16)}${hashString(`s:${text}`).toString(16)}`;
}

async function findSnapshot(io: CellIO, key: string): Promise<string | null> {
  for (const dir of [io.dir, ...io.lookIn]) {
    const path = join(dir, key);
    try {
      await Deno.stat(join(path, "latest.json"));
      return path;
    } catch {
      // not there
    }
  }
  return null;
}

type Saved = { models: Record<string, tf.LayersModel>; players: Player[] };

/** Restores a snapshot into `state` when one exists; else runs `train` and saves it. */
async function withSnapshot(
  io: CellIO,
  key: string,
  state: Saved,
  train: () => Promise<void>,
): Promise<{ how: "loaded" | "trained"; path: string }> {
  const found = await findSnapshot(io, key);
  if (found) {
    await loadCheckpoint(found, state);
    io.log(`snapshot ${key}: loaded from ${found}`);
    return { how: "loaded", path: found };
  }
  await train();
  const path = join(io.dir, key);
  await saveCheckpoint(path, { step: 0, ...state }, { keep: 1 });
  return { how: "trained", path };
}

// ---------------------------------------------------------------- the stages, shared

/** The config parts that decide Stage 0 / the warm start of a seed. */
function stageParts(config: TjaidlConfig, seed: number) {
  const t = config.train;
  return {
    seed,
    data: config.data,
    model: config.model,
    bce: config.loss.bceReduction,
    train: { batch: t.batch, lr: t.lr, beta1: t.beta1, beta2: t.beta2, flip: t.flip },
  };
}

function sourceData(data: TjaidlData) {
  return {
    split: data.sourceTrain,
    attributes: data.sourceAttributes,
    m: data.attributeNames.length,
  };
}

/** A single net of supervision `kind` trained for `steps` steps (or restored). */
async function singleNet(
  kind: "id" | "attr",
  steps: number,
  snapshotAt: number,
  config: TjaidlConfig,
  data: TjaidlData,
  rng: Rng,
  seed: number,
  io: CellIO,
): Promise<{ net: SingleNet; player: Player }> {
  const net = await buildSingle(
    config,
    kind,
    data.sourceTrain.numClasses,
    data.attributeNames.length,
    rng,
  );
  const head = kind === "id" ? net.idHead! : net.attHead!;
  const player = playerOf(kind === "id" ? "id" : "att", [net.trunk, head], config.train);
  const models: Record<string, tf.LayersModel> = kind === "id"
    ? { idTrunk: net.trunk, idHead: head }
    : { attTrunk: net.trunk, attHead: head };
  const state = { models, players: [player] };
  const label = kind === "id" ? "idOnly" : "attrOnly";
  const train = (from: number, n: number) =>
    trainSingle(net, player, kind, sourceData(data), config, rng, from, n, {
      label,
      history: io.history,
      offset: from,
      progress: io.progress,
      log: io.log,
    });
  // The snapshot at `snapshotAt` is what TJ-AIDL's branch starts Step I from.
  const first = Math.min(snapshotAt, steps);
  await withSnapshot(
    io,
    snapshotKey(`${kind}-at${first}`, stageParts(config, seed)),
    state,
    async () => {
      if (first > 0) await train(0, first);
    },
  );
  if (steps > first) {
    await withSnapshot(
      io,
      snapshotKey(`${kind}-at${steps}`, stageParts(config, seed)),
      state,
      async () => {
        await train(first, steps - first);
      },
    );
  }
  return { net, player };
}

/** Copies the weights of one model into another of the same architecture. */
function copyWeights(from: tf.LayersModel, to: tf.LayersModel): void {
  to.setWeights(from.getWeights());
}

/** TJ-AIDL after Stage 0, the warm start (stabilised) and Step I: built, trained or restored. */
async function tjaidlAfterStepI(
  config: TjaidlConfig,
  data: TjaidlData,
  rng: Rng,
  seed: number,
  io: CellIO,
): Promise<{ net: TjaidlNet; notes: Record<string, number> }> {
  const t = config.train;
  const net = await buildTjaidl(
    config,
    data.sourceTrain.numClasses,
    data.attributeNames.length,
    rng,
  );
  const idPlayer = playerOf("id", [net.idTrunk, net.modules.idClassifier], t);
  const attPlayer = playerOf("att", [net.attTrunk, net.modules.attributeClassifier], t);
  const iiaPlayer = playerOf("iia", [net.modules.iiaEncoder, net.modules.iiaDecoder], t);
  const notes: Record<string, number> = {};
  try {
    const all: Saved = {
      models: {
        idTrunk: net.idTrunk,
        idHead: net.modules.idClassifier,
        attTrunk: net.attTrunk,
        attHead: net.modules.attributeClassifier,
        iiaEnc: net.modules.iiaEncoder,
        iiaDec: net.modules.iiaDecoder,
      },
      players: [idPlayer, attPlayer, iiaPlayer],
    };
    const stepIKey = snapshotKey("stepI", {
      ...stageParts(config, seed),
      loss: { ...config.loss, lambda2StepII: null },
      steps: [t.stage0Steps, config.method.attrWarmStart ? t.attrWarmStartSteps : 0, t.stepISteps],
    });
    const history = io.history;
    const how = await withSnapshot(io, stepIKey, all, async () => {
      // Stage 0: the identity branch alone (the ID-only net's first stage0Steps steps).
      const id = await singleNet("id", t.stage0Steps, t.stage0Steps, config, data, rng, seed, io);
      copyWeights(id.net.trunk, net.idTrunk);
      copyWeights(id.net.idHead!, net.modules.idClassifier);
      await moveOptimizer(id.player, idPlayer);
      disposeSingle(id.net);
      id.player.dispose();
      if (config.method.attrWarmStart && t.attrWarmStartSteps > 0) {
        const att = await singleNet(
          "attr",
          t.attrWarmStartSteps,
          t.attrWarmStartSteps,
          config,
          data,
          rng,
          seed,
          io,
        );
        copyWeights(att.net.trunk, net.attTrunk);
        copyWeights(att.net.attHead!, net.modules.attributeClassifier);
        await moveOptimizer(att.player, attPlayer);
        disposeSingle(att.net);
        att.player.dispose();
      }
      // Step I continues the same source batch stream where Stage 0 stopped.
      await trainStepI(
        net,
        { id: idPlayer, iia: iiaPlayer, att: attPlayer },
        sourceData(data),
        config,
        rng,
        t.stage0Steps,
        {
          label: "stepI",
          history,
          offset: t.stage0Steps,
          progress: io.progress,
          log: io.log,
        },
      );
    });
    // The collapse guard (claim C12): L_att over the second half of Step I against the prior level.
    const tail = (name: string) => {
      const s = history.series(`stepI/${name}`);
      const v = s.values.slice(Math.floor(s.values.length / 2));
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
    };
    // A restored snapshot carries the Step-I numbers of the cell that trained it.
    const notesFile = join(how.path, "stepI_notes.json");
    if (how.how === "loaded") {
      Object.assign(notes, JSON.parse(await Deno.readTextFile(notesFile)));
    } else {
      notes.stepI_Latt_tail = tail("L_att");
      notes.stepI_attAcc_tail = tail("att_acc");
      notes.stepI_Ltransfer_tail = tail("L_transfer");
      notes.stepI_Lrec_tail = tail("L_rec");
      await Deno.writeTextFile(notesFile, JSON.stringify(notes));
    }
    return { net, notes };
  } finally {
    idPlayer.dispose();
    attPlayer.dispose();
    iiaPlayer.dispose();
  }
}

/** Hands one player's Adam state to another with the same variable shapes (a checkpoint round trip). */
async function moveOptimizer(from: Player, to: Player): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tjaidl-opt-" });
  try {
    await saveCheckpoint(dir, { step: 0, players: [from] }, { keep: 1 });
    const meta = join(dir, "step-000000000", "checkpoint.json");
    const json = JSON.parse(await Deno.readTextFile(meta));
    if (from.name !== to.name) {
      json.players[to.name] = json.players[from.name];
      delete json.players[from.name];
      await Deno.writeTextFile(meta, JSON.stringify(json));
    }
    await loadCheckpoint(dir, { players: [to] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------- the cell

/** The prior level of L_att: the BCE (per image, summed over attributes) of predicting each attribute's source frequency. */
export function attributePriorLoss(attributes: Float32Array, m: number): number {
  const n = attributes.length / m;
  let total = 0;
  for (let j = 0; j < m; j++) {
    let p = 0;
    for (let i = 0; i < n; i++) p += attributes[i * m + j];
    p = Math.min(1 - 1e-6, Math.max(1e-6, p / n));
    total += -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
  }
  return total;
}

/**
 * Fig. 2's attribute-consistency discrepancy D = mean |σ(e_IIA) − σ(p̃_att)| over the images
 * and attributes of a split (how far the two attribute "perspectives" disagree).
 */
export async function discrepancy(net: TjaidlNet, split: ReidSplit): Promise<number> {
  const f = await embedSplit((x) =>
    tf.tidy(() => {
      const e = forward(
        net.modules.iiaEncoder,
        forward(net.idTrunk, x, "eval"),
        "eval",
      ) as tf.Tensor2D;
      const p = forward(
        net.modules.attributeClassifier,
        forward(net.attTrunk, x, "eval"),
        "eval",
      ) as tf.Tensor2D;
      return tf.sigmoid(e).sub(tf.sigmoid(p)).abs().mean(1, true) as tf.Tensor2D;
    }), split);
  return f.data.reduce((a, b) => a + b, 0) / Math.max(1, f.rows);
}

/** Scores a feature extractor on the target test and validation splits. */
async function scoreEmbed(
  embeds: Embed[],
  data: TjaidlData,
  config: TjaidlConfig,
  options: { l2normParts?: boolean; prefix?: string } = {},
): Promise<{ metrics: Record<string, number>; dist: Features; q: Features; g: Features }> {
  const feats = async (split: ReidSplit) => {
    const parts = [];
    for (const e of embeds) {
      const f = await embedSplit(e, split);
      parts.push(options.l2normParts ? l2normRows(f) : f);
    }
    return parts.length === 1 ? parts[0] : concatCols(parts);
  };
  const q = await feats(data.query), g = await feats(data.gallery);
  const test = await rankFeatures(q, g, data.query, data.gallery, config.eval.l2norm);
  const vq = await feats(data.valQuery), vg = await feats(data.valGallery);
  const val = await rankFeatures(vq, vg, data.valQuery, data.valGallery, config.eval.l2norm);
  const p = options.prefix ?? "";
  return {
    metrics: {
      ...tableMetrics(test.result, p),
      [`${p}val_R1`]: tableMetrics(val.result).R1,
      [`${p}val_mAP`]: tableMetrics(val.result).mAP,
      [`${p}ratio`]: distanceRatio(q, g, data.query, data.gallery, config.eval.ratioIds),
    },
    dist: test.dist,
    q,
    g,
  };
}

const trunkEmbed = (trunk: tf.LayersModel): Embed => (x) =>
  forward(trunk, x, "eval") as tf.Tensor2D;

/** What a cell returns beyond its metrics (the notebook keeps the nets for galleries). */
export interface CellOutcome {
  metrics: Record<string, number>;
  /** Target test query × gallery distances of the row's deployed feature. */
  dist: Features;
  /** The trained TJ-AIDL net (TJ-AIDL rows) when `keep` was asked for. */
  net: TjaidlNet | null;
}

/**
 * Trains and evaluates one row's cell. `keep`: return the TJ-AIDL net (the caller frees it
 * with `disposeTjaidl`).
 */
export async function runTjaidlCell(
  config: TjaidlConfig,
  data: TjaidlData,
  rng: Rng,
  seed: number,
  io: CellIO,
  keep = false,
): Promise<CellOutcome> {
  const t = config.train, method = config.method;
  const prior = attributePriorLoss(data.sourceAttributes, data.attributeNames.length);
  if (method.kind === "single") {
    const kind = method.supervision;
    const total = (kind === "id" ? t.stage0Steps : t.attrWarmStartSteps) + t.stepISteps;
    const snapAt = kind === "id" ? t.stage0Steps : t.attrWarmStartSteps;
    const { net, player } = await singleNet(kind, total, snapAt, config, data, rng, seed, io);
    try {
      const s = await scoreEmbed([trunkEmbed(net.trunk)], data, config);
      return { metrics: { ...s.metrics, attPrior: prior }, dist: s.dist, net: null };
    } finally {
      disposeSingle(net);
      player.dispose();
    }
  }
  if (method.kind === "independent") {
    const id = await singleNet(
      "id",
      t.stage0Steps + t.stepISteps,
      t.stage0Steps,
      config,
      data,
      rng,
      seed,
      io,
    );
    const att = await singleNet(
      "attr",
      t.attrWarmStartSteps + t.stepISteps,
      t.attrWarmStartSteps,
      config,
      data,
      rng,
      seed,
      io,
    );
    try {
      const s = await scoreEmbed(
        [trunkEmbed(id.net.trunk), trunkEmbed(att.net.trunk)],
        data,
        config,
        {
          l2normParts: method.l2normParts,
        },
      );
      return { metrics: s.metrics, dist: s.dist, net: null };
    } finally {
      for (const n of [id, att]) (disposeSingle(n.net), n.player.dispose());
    }
  }
  if (method.kind === "joint") {
    const net = await buildSingle(
      config,
      "joint",
      data.sourceTrain.numClasses,
      data.attributeNames.length,
      rng,
    );
    const player = playerOf("joint", [net.trunk, net.idHead!, net.attHead!], t);
    try {
      await trainSingle(net, player, "joint", sourceData(data), config, rng, 0, t.jointSteps, {
        label: "joint",
        history: io.history,
        offset: 0,
        progress: io.progress,
        log: io.log,
      });
      const s = await scoreEmbed([trunkEmbed(net.trunk)], data, config);
      return { metrics: s.metrics, dist: s.dist, net: null };
    } finally {
      disposeSingle(net);
      player.dispose();
    }
  }
  // TJ-AIDL.
  const { net, notes } = await tjaidlAfterStepI(config, data, rng, seed, io);
  try {
    const metrics: Record<string, number> = { ...notes, attPrior: prior };
    const idBranch = await scoreEmbed([trunkEmbed(net.idTrunk)], data, config, {
      prefix: "idBranch_",
    });
    metrics.idBranch_R1 = idBranch.metrics.idBranch_R1;
    metrics.idBranch_mAP = idBranch.metrics.idBranch_mAP;
    metrics.D_src_stepI = await discrepancy(net, data.sourceTest);
    metrics.D_tgt_stepI = await discrepancy(net, data.query);
    if (method.stepII) {
      const before = await scoreEmbed([trunkEmbed(net.attTrunk)], data, config, {
        prefix: "stepI_",
      });
      metrics.stepI_R1 = before.metrics.stepI_R1;
      metrics.stepI_mAP = before.metrics.stepI_mAP;
      const teacher = method.softLabels === "frozenStepI"
        ? await cloneAttributeBranch(config, net, data, rng)
        : null;
      const iia = playerOf("iia2", [net.modules.iiaEncoder, net.modules.iiaDecoder], t, t.stepIILr);
      const att = playerOf("att2", [net.attTrunk, net.modules.attributeClassifier], t, t.stepIILr);
      try {
        await trainStepII(
          net,
          { iia, att },
          teacher,
          data.targetTrain,
          config,
          rng.fork("stepII"),
          {
            label: "stepII",
            history: io.history,
            offset: t.stage0Steps + t.stepISteps,
            progress: io.progress,
            log: io.log,
          },
        );
      } finally {
        iia.dispose();
        att.dispose();
        if (teacher) (teacher.trunk.dispose(), teacher.head.dispose());
      }
      metrics.D_src_stepII = await discrepancy(net, data.sourceTest);
      metrics.D_tgt_stepII = await discrepancy(net, data.query);
    }
    const s = await scoreEmbed([trunkEmbed(net.attTrunk)], data, config);
    Object.assign(metrics, s.metrics);
    return { metrics, dist: s.dist, net: keep ? net : null };
  } finally {
    if (!keep) disposeTjaidl(net);
  }
}

/** A frozen copy of the attribute branch after Step I: Step II's soft-label teacher. */
async function cloneAttributeBranch(
  config: TjaidlConfig,
  net: TjaidlNet,
  data: TjaidlData,
  rng: Rng,
): Promise<{ trunk: tf.LayersModel; head: tf.LayersModel }> {
  const copy = await buildSingle(
    config,
    "attr",
    data.sourceTrain.numClasses,
    data.attributeNames.length,
    rng.fork("teacher"),
  );
  copyWeights(net.attTrunk, copy.trunk);
  copyWeights(net.modules.attributeClassifier, copy.attHead!);
  return { trunk: copy.trunk, head: copy.attHead! };
}

/** The ID-only and attribute-branch feature of a row, for galleries (notebook). */
export const DEPLOYED_FEATURE = "attribute-branch GAP (TJ-AIDL), the trunk's GAP (single models)";
void INPUT_NORMALIZATION;
