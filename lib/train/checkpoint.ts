/**
 * Checkpoints that let an interrupted run resume: model weights, optimizer state per
 * player, the step number, the loss history and caller data.
 *
 * Each model is written in the tfjs layout, `model.json` + `weights.bin`, through a
 * tfjs IOHandler ({@link directoryHandler}), so a saved LayersModel can also be opened
 * with `tf.loadLayersModel(directoryHandler(dir))`. A checkpoint directory holds
 *
 * ```
 * latest.json                       {"step": 120, "path": "step-000000120"}
 * step-000000120/checkpoint.json    step, models, players (optimizer class, config, slots)
 * step-000000120/history.json       the loss history (optional)
 * step-000000120/models/<name>/model.json + weights.bin
 * step-000000120/optimizers/model.json + weights.bin   slots as "<player>/<k>"
 * ```
 *
 * Every step directory is written under a temporary name and renamed into place, and
 * `latest.json` is replaced by rename, so a run killed mid-save leaves the previous
 * checkpoint intact. Loading is strict: a missing, unexpected or misshapen weight fails
 * naming the file and the weight.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { LossHistory } from "./history.ts";
import type { HistoryJSON } from "./history.ts";
import { getLearningRate, type Player, setLearningRate } from "./players.ts";
import { pathExists } from "../runtime/fs.ts";
import { writeFileAtomic } from "../runtime/fs.ts";

/** A set of named variables that is not a LayersModel (functional modules). */
export type VariableSet = Record<string, tf.Variable>;

/** What a checkpoint holds. */
export interface CheckpointState {
  /** The number of completed steps (what a resumed run continues from). */
  step: number;
  /** Models by name: tfjs-layers models or plain variable sets. */
  models?: Record<string, tf.LayersModel | VariableSet>;
  /** Players whose optimizer state (and learning rate) is saved. */
  players?: readonly Player[];
  /** The loss history so far. */
  history?: LossHistory;
  /** Any JSON data the caller needs to resume (epoch, sampler position, …). */
  extra?: unknown;
}

/** What {@link loadCheckpoint} restored. */
export interface LoadedCheckpoint {
  step: number;
  /** The step directory that was read. */
  path: string;
  history?: LossHistory;
  extra?: unknown;
}

const FORMAT = "reid-checkpoint/1";

function join(...parts: string[]): string {
  return parts.join("/").replace(/\/+/g, "/");
}

function isLayersModel(m: unknown): m is tf.LayersModel {
  return m instanceof tf.LayersModel;
}

function toBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

/**
 * A tfjs IOHandler reading and writing `model.json` + `weights.bin` in a directory
 * with Deno's file APIs (`model.save(directoryHandler(dir))`,
 * `tf.loadLayersModel(directoryHandler(dir))`). Saving writes both files atomically.
 */
export function directoryHandler(
  dir: string,
): Required<Pick<tf.io.IOHandler, "save" | "load">> {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await Deno.mkdir(dir, { recursive: true });
      const weights = toBytes(artifacts.weightData);
      const json: Record<string, unknown> = {
        modelTopology: artifacts.modelTopology ?? null,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
      await writeFileAtomic(join(dir, "weights.bin"), weights);
      await writeFileAtomic(join(dir, "model.json"), JSON.stringify(json));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: "JSON",
          weightDataBytes: weights.byteLength,
        },
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const { json, specs, data } = await readWeightsFile(dir);
      return {
        modelTopology: json.modelTopology as tf.io.ModelArtifacts["modelTopology"],
        format: json.format as string | undefined,
        generatedBy: json.generatedBy as string | undefined,
        convertedBy: json.convertedBy as string | null | undefined,
        weightSpecs: specs,
        weightData: data,
        userDefinedMetadata: json
          .userDefinedMetadata as tf.io.ModelArtifacts["userDefinedMetadata"],
      };
    },
  };
}

async function readWeightsFile(dir: string): Promise<{
  json: Record<string, unknown>;
  specs: tf.io.WeightsManifestEntry[];
  data: ArrayBuffer;
}> {
  const jsonPath = join(dir, "model.json");
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await Deno.readTextFile(jsonPath));
  } catch (error) {
    throw new Error(`${jsonPath}: cannot read model.json (${(error as Error).message})`);
  }
  const manifest = json.weightsManifest as tf.io.WeightsManifestConfig | undefined;
  if (!Array.isArray(manifest)) throw new Error(`${jsonPath}: no weightsManifest array`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const bytes = await Deno.readFile(join(dir, p)).catch((error) => {
        throw new Error(`${join(dir, p)}: cannot read weights (${error.message})`);
      });
      buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
  }
  const data = tf.io.CompositeArrayBuffer.join(buffers);
  const expected = specs.reduce(
    (sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * bytesPer(s.dtype),
    0,
  );
  if (data.byteLength !== expected) {
    throw new Error(
      `${join(dir, "weights.bin")}: ${data.byteLength} bytes, but model.json's manifest ` +
        `describes ${expected}`,
    );
  }
  return { json, specs, data };
}

function bytesPer(dtype: string): number {
  if (dtype === "float32" || dtype === "int32") return 4;
  if (dtype === "bool" || dtype === "uint8") return 1;
  if (dtype === "float16") return 2;
  throw new Error(`unsupported weight dtype ${dtype}`);
}

/** The named tensors of a model as they are saved (LayersModel: its weights' original names). */
function namedVariables(model: tf.LayersModel | VariableSet): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  if (isLayersModel(model)) {
    for (const w of model.weights) out.set(w.originalName, w.read() as tf.Variable);
  } else {
    for (const [name, v] of Object.entries(model)) out.set(name, v);
  }
  return out;
}

async function saveVariables(dir: string, named: Map<string, tf.Tensor>, format: string) {
  const { data, specs } = await tf.io.encodeWeights(Object.fromEntries(named));
  await directoryHandler(dir).save({
    modelTopology: undefined,
    format,
    generatedBy: FORMAT,
    weightSpecs: specs,
    weightData: data,
  });
}

/**
 * Reads `dir`'s weights and checks them against `expected` (name → shape); throws one
 * error listing every missing, unexpected and misshapen weight, naming the file.
 */
async function readStrict(
  dir: string,
  expected: Map<string, readonly number[]>,
): Promise<tf.NamedTensorMap> {
  const { specs, data } = await readWeightsFile(dir);
  const file = join(dir, "model.json");
  const problems: string[] = [];
  const saved = new Map(specs.map((s) => [s.name, s.shape]));
  for (const [name, shape] of expected) {
    const got = saved.get(name);
    if (!got) problems.push(`missing weight "${name}" (shape [${shape}])`);
    else if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      problems.push(`weight "${name}" has shape [${got}], expected [${shape}]`);
    }
  }
  for (const name of saved.keys()) {
    if (!expected.has(name)) problems.push(`unexpected weight "${name}" (not in the model)`);
  }
  if (problems.length > 0) throw new Error(`${file}: ${problems.join("; ")}`);
  return tf.io.decodeWeights(data, specs);
}

/** The bias-correction powers β^t that Adam (accBeta1, accBeta2) and Adamax (accBeta1) keep. */
const ACCUMULATED = ["accBeta1", "accBeta2"] as const;

/**
 * The optimizer's accumulated powers, by field name. Saved because `setWeights` recomputes
 * them as `pow(β, t + 1)`, while training accumulates them by repeated float32 products:
 * the two differ in the last bits, and a resumed run would drift from an uninterrupted one.
 */
async function accumulatedPowers(optimizer: tf.Optimizer): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const fields = optimizer as unknown as Record<string, unknown>;
  for (const name of ACCUMULATED) {
    const v = fields[name];
    if (v instanceof tf.Variable) out[name] = (await v.data())[0];
  }
  return out;
}

function restoreAccumulatedPowers(
  optimizer: tf.Optimizer,
  saved: Record<string, number> | undefined,
): void {
  const fields = optimizer as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(saved ?? {})) {
    const v = fields[name];
    if (v instanceof tf.Variable) tf.tidy(() => v.assign(tf.scalar(value)));
  }
}

function stepDirName(step: number): string {
  return `step-${String(step).padStart(9, "0")}`;
}

/**
 * Writes a checkpoint of `state` under `dir` (see the module comment for the layout) and
 * returns the step directory. Keeps the newest `keep` checkpoints (default 2).
 */
export async function saveCheckpoint(
  dir: string,
  state: CheckpointState,
  options: { keep?: number } = {},
): Promise<string> {
  if (!Number.isInteger(state.step) || state.step < 0) {
    throw new Error(`saveCheckpoint: step must be a non-negative integer, got ${state.step}`);
  }
  await Deno.mkdir(dir, { recursive: true });
  const name = stepDirName(state.step);
  const tmp = join(dir, `.tmp-${name}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
  try {
    const models: Record<string, { kind: "layers" | "variables"; weights: number }> = {};
    for (const [modelName, model] of Object.entries(state.models ?? {})) {
      if (!/^[\w.-]+$/.test(modelName)) throw new Error(`bad model name "${modelName}"`);
      const modelDir = join(tmp, "models", modelName);
      if (isLayersModel(model)) await model.save(directoryHandler(modelDir));
      else await saveVariables(modelDir, namedVariables(model), "reid-variables");
      models[modelName] = {
        kind: isLayersModel(model) ? "layers" : "variables",
        weights: namedVariables(model).size,
      };
    }
    const players: Record<string, unknown> = {};
    const slots = new Map<string, tf.Tensor>();
    const transient: tf.Tensor[] = [];
    for (const player of state.players ?? []) {
      if (players[player.name]) throw new Error(`two players named "${player.name}"`);
      const weights = await player.optimizer.getWeights();
      transient.push(weights[0].tensor); // the iteration count is a fresh scalar
      const iterations = (await weights[0].tensor.data())[0];
      weights.slice(1).forEach((w, k) => slots.set(`${player.name}/${k}`, w.tensor));
      players[player.name] = {
        accumulated: await accumulatedPowers(player.optimizer),
        optimizer: player.optimizer.getClassName(),
        config: player.optimizer.getConfig(),
        learningRate: getLearningRate(player.optimizer),
        variables: player.variables.length,
        slots: weights.length - 1,
        iterations,
        steps: player.steps,
      };
    }
    if (slots.size > 0 || (state.players ?? []).length > 0) {
      await saveVariables(join(tmp, "optimizers"), slots, "reid-optimizer-slots");
    }
    tf.dispose(transient);
    if (state.history) {
      await Deno.writeTextFile(join(tmp, "history.json"), JSON.stringify(state.history));
    }
    const meta = {
      format: FORMAT,
      step: state.step,
      savedAt: new Date().toISOString(),
      models,
      players,
      extra: state.extra ?? null,
    };
    await Deno.writeTextFile(join(tmp, "checkpoint.json"), JSON.stringify(meta, null, 1));
    const final = join(dir, name);
    if (await pathExists(final)) await Deno.remove(final, { recursive: true });
    await Deno.rename(tmp, final);
  } catch (error) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw error;
  }
  await writeFileAtomic(join(dir, "latest.json"), JSON.stringify({ step: state.step, path: name }));
  await prune(dir, options.keep ?? 2);
  return join(dir, name);
}

async function prune(dir: string, keep: number): Promise<void> {
  const steps: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory && /^step-\d+$/.test(entry.name)) steps.push(entry.name);
  }
  steps.sort();
  for (const old of steps.slice(0, Math.max(0, steps.length - Math.max(1, keep)))) {
    await Deno.remove(join(dir, old), { recursive: true });
  }
}

/** The step of the latest checkpoint under `dir`, or null when there is none. */
export async function latestCheckpoint(
  dir: string,
): Promise<{ step: number; path: string } | null> {
  const file = join(dir, "latest.json");
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  const latest = JSON.parse(text);
  if (!Number.isInteger(latest?.step) || typeof latest?.path !== "string") {
    throw new Error(`${file}: expected {"step": <int>, "path": "step-…"}`);
  }
  return { step: latest.step, path: join(dir, latest.path) };
}

/**
 * Restores the latest checkpoint under `dir` into the given models and players (which
 * must be built as when saving), strictly: every model and player named in `state` must
 * be in the checkpoint with exactly the same weights and shapes, and vice versa.
 * Returns null when `dir` holds no checkpoint (a fresh run).
 */
export async function loadCheckpoint(
  dir: string,
  state: Omit<CheckpointState, "step" | "history" | "extra">,
): Promise<LoadedCheckpoint | null> {
  const latest = await latestCheckpoint(dir);
  if (!latest) return null;
  const metaPath = join(latest.path, "checkpoint.json");
  const meta = JSON.parse(await Deno.readTextFile(metaPath));
  if (meta.format !== FORMAT) {
    throw new Error(`${metaPath}: format ${meta.format}, expected ${FORMAT}`);
  }

  const wanted = Object.keys(state.models ?? {}).sort();
  const saved = Object.keys(meta.models ?? {}).sort();
  if (wanted.join() !== saved.join()) {
    throw new Error(`${metaPath}: holds models [${saved}], but the run has [${wanted}]`);
  }
  const wantedPlayers = (state.players ?? []).map((p) => p.name).sort();
  const savedPlayers = Object.keys(meta.players ?? {}).sort();
  if (wantedPlayers.join() !== savedPlayers.join()) {
    throw new Error(
      `${metaPath}: holds players [${savedPlayers}], but the run has [${wantedPlayers}]`,
    );
  }

  // Read and check everything before assigning anything, so a failed load changes nothing.
  const assignments: [tf.Variable, tf.Tensor][] = [];
  const decoded: tf.Tensor[] = [];
  try {
    for (const [modelName, model] of Object.entries(state.models ?? {})) {
      const vars = namedVariables(model);
      const expected = new Map([...vars].map(([n, v]) => [n, v.shape]));
      const tensors = await readStrict(join(latest.path, "models", modelName), expected);
      decoded.push(...Object.values(tensors));
      for (const [n, v] of vars) assignments.push([v, tensors[n]]);
    }
    const optimizerSlots = new Map<Player, tf.Tensor[]>();
    if ((state.players ?? []).length > 0) {
      const expected = new Map<string, readonly number[]>();
      for (const p of state.players ?? []) {
        const info = meta.players[p.name];
        const className = p.optimizer.getClassName();
        if (info.optimizer !== className || info.variables !== p.variables.length) {
          throw new Error(
            `${metaPath}: player "${p.name}" was saved with ${info.optimizer} over ` +
              `${info.variables} variables, but the run has ${className} over ${p.variables.length}`,
          );
        }
        // Slot k belongs to variable k mod n (Adam: first moments, then second moments).
        for (let k = 0; k < info.slots; k++) {
          expected.set(`${p.name}/${k}`, p.variables[k % p.variables.length].shape);
        }
      }
      const tensors = await readStrict(join(latest.path, "optimizers"), expected);
      decoded.push(...Object.values(tensors));
      for (const p of state.players ?? []) {
        const info = meta.players[p.name];
        optimizerSlots.set(
          p,
          Array.from({ length: info.slots }, (_, k) => tensors[`${p.name}/${k}`]),
        );
      }
    }
    for (const [v, t] of assignments) v.assign(t);
    for (const [p, slotTensors] of optimizerSlots) {
      const info = meta.players[p.name];
      const old = await p.optimizer.getWeights();
      tf.dispose(old.map((w) => w.tensor)); // setWeights replaces (and would leak) them
      const iter = tf.scalar(info.iterations, "int32");
      decoded.push(iter);
      await p.optimizer.setWeights([
        { name: "iter", tensor: iter },
        ...slotTensors.map((tensor, k) => ({ name: `${p.name}/${k}`, tensor })),
      ]);
      setLearningRate(p.optimizer, info.learningRate);
      restoreAccumulatedPowers(p.optimizer, info.accumulated);
    }
  } finally {
    tf.dispose(decoded); // variables made from them hold their own references
  }

  let history: LossHistory | undefined;
  const historyPath = join(latest.path, "history.json");
  if (await pathExists(historyPath)) {
    const json = JSON.parse(await Deno.readTextFile(historyPath)) as HistoryJSON;
    history = LossHistory.fromJSON(json, historyPath);
  }
  return { step: meta.step, path: latest.path, history, extra: meta.extra ?? undefined };
}
