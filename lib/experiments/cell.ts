/**
 * Running one grid cell in this process: resolve its config, reuse a stored result with
 * the same config hash (unless forced), otherwise train through the paper's `runCell`
 * with a seeded context, sample peak memory, and store the result atomically. A failure
 * leaves a `seed<N>.failed.json` report beside where the result would go.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { backendInfo } from "../runtime/backend.ts";
import { Rng } from "../runtime/random.ts";
import { NonFiniteLossError } from "../train/finite.ts";
import { LossHistory } from "../train/history.ts";
import { resolveConfig } from "./config.ts";
import type { CellContext, Json, PaperSpec } from "./spec.ts";
import { findRow } from "./spec.ts";
import {
  type CellKey,
  type CellResult,
  failurePath,
  keyText,
  resultPath,
  reusableResult,
  workDir,
  writeResult,
} from "./store.ts";
import { writeFileAtomic } from "../runtime/fs.ts";
import { withLock } from "../runtime/lock.ts";
import { dirname } from "node:path";

/** Where results and scratch files go. */
export interface StoreRoots {
  /** Result JSON root (e.g. `results`). */
  results: string;
  /** Scratch root for checkpoints (e.g. `data/runs`). */
  work: string;
}

/** What {@link runCellAndStore} did. */
export interface CellOutcome {
  key: CellKey;
  status: "reused" | "done";
  result: CellResult;
  path: string;
}

/** Live peaks of process and tfjs memory, sampled on demand and by a timer. */
class MemoryPeaks {
  rss = 0;
  heap = 0;
  tfBytes = 0;
  tfTensors = 0;
  #timer: ReturnType<typeof setInterval>;
  constructor(intervalMs = 250) {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }
  sample(): void {
    const m = Deno.memoryUsage();
    const t = tf.memory();
    this.rss = Math.max(this.rss, m.rss);
    this.heap = Math.max(this.heap, m.heapUsed);
    this.tfBytes = Math.max(this.tfBytes, t.numBytes);
    this.tfTensors = Math.max(this.tfTensors, t.numTensors);
  }
  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }
}

function cpuCount(): number | null {
  try {
    return navigator.hardwareConcurrency ?? null;
  } catch {
    return null;
  }
}

/**
 * Throws when a metric is not a finite number or a recorded loss went non-finite: a diverged
 * run must be a failed cell, never a stored result (JSON would turn NaN into null and a
 * later read would reuse it).
 */
export function checkFinite(metrics: Record<string, unknown>, history: LossHistory): void {
  for (const [name, value] of Object.entries(metrics)) {
    if (typeof value !== "number") {
      throw new Error(`metric "${name}" is ${typeof value}, expected a number`);
    }
    if (!Number.isFinite(value)) {
      throw new Error(
        `metric "${name}" is ${value}, expected a finite number (training diverged?)`,
      );
    }
  }
  for (const [name, series] of Object.entries(history.toJSON().series)) {
    const i = series.values.findIndex((v) => v === null);
    if (i >= 0) {
      const last = series.values.slice(0, i).findLastIndex((v) => v !== null);
      throw new Error(
        `loss "${name}" is not finite at step ${series.steps[i]}` +
          (last >= 0
            ? `; last finite value ${series.values[last]} at step ${series.steps[last]}`
            : "; no finite value before"),
      );
    }
  }
}

/**
 * Records that cell `key` failed: its failure report is written and a result left by an
 * earlier run is moved aside (to `seed<N>.superseded.json`), so that tables show the cell as
 * failed instead of its previous value.
 */
async function recordFailure(root: string, key: CellKey, hash: string, err: Error): Promise<void> {
  const previous = resultPath(root, key);
  await Deno.rename(previous, previous.replace(/\.json$/, ".superseded.json")).catch(() => {});
  // The guard's error may arrive wrapped by the paper's code: look down the cause chain.
  let found: unknown = err;
  while (found instanceof Error && !(found instanceof NonFiniteLossError)) found = found.cause;
  const diagnostic = found instanceof NonFiniteLossError
    ? {
      loss: found.loss,
      step: found.step,
      value: String(found.value),
      kind: found.kind,
      lastFinite: found.lastFinite,
    }
    : null;
  await writeFileAtomic(
    failurePath(root, key),
    JSON.stringify(
      {
        ...key,
        configHash: hash,
        failedAt: new Date().toISOString(),
        error: err.message,
        diagnostic,
        stack: err.stack ?? null,
      },
      null,
      1,
    ),
  ).catch(() => {});
}

/**
 * Runs (or reuses) one cell and returns its result. Throws when the row does not run at
 * this scale or when training fails (after writing the failure report).
 */
export async function runCellAndStore(
  spec: PaperSpec,
  key: CellKey,
  roots: StoreRoots,
  options: { force?: boolean; log?: (line: string) => void } = {},
): Promise<CellOutcome> {
  const log = options.log ?? ((line: string) => console.error(line));
  const row = findRow(spec, key.row);
  if (row.scales && !row.scales.includes(key.scale)) {
    throw new Error(`${keyText(key)}: row "${row.id}" does not run at scale ${key.scale}`);
  }
  const { config, hash } = await resolveConfig(spec, key.scale, key.row, {
    quick: key.quick,
    worldSeed: key.worldSeed,
  });
  if (!options.force) {
    const stored = await reusableResult(roots.results, key, hash);
    if (stored) {
      return { key, status: "reused", result: stored, path: resultPath(roots.results, key) };
    }
  }

  const dir = workDir(roots.work, key);
  await Deno.mkdir(dir, { recursive: true });
  const history = new LossHistory();
  const extras: Record<string, Json> = {};
  const memory = new MemoryPeaks();
  const stopSampling = history.onRecord(() => memory.sample());
  const context: CellContext = {
    paper: key.paper,
    row: key.row,
    scale: key.scale,
    seed: key.seed,
    quick: key.quick,
    rng: new Rng(key.seed),
    history,
    dir,
    dirOf: (other) => workDir(roots.work, { ...key, row: findRow(spec, other).id }),
    note: (name, value) => {
      extras[name] = JSON.parse(JSON.stringify(value));
    },
    log: (message) => log(`[${keyText(key)}] ${message}`),
  };
  const startedAt = new Date();
  const t0 = performance.now();
  let metrics;
  try {
    metrics = await spec.runCell(config, key.seed, context);
    if (typeof metrics !== "object" || metrics === null) {
      throw new Error(`runCell returned ${metrics}, expected an object of metrics`);
    }
    checkFinite(metrics, history);
  } catch (error) {
    memory.stop();
    stopSampling();
    const err = error instanceof Error ? error : new Error(String(error));
    await recordFailure(roots.results, key, hash, err);
    throw new Error(`${keyText(key)} failed: ${err.message}`, { cause: err });
  }
  memory.stop();
  stopSampling();
  const info = backendInfo();
  const result: CellResult = {
    schema: 1,
    paper: key.paper,
    row: key.row,
    scale: key.scale,
    quick: key.quick,
    seed: key.seed,
    ...(key.worldSeed === undefined ? {} : { worldSeed: key.worldSeed }),
    config,
    configHash: hash,
    versions: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      tfjs: tf.version.tfjs,
    },
    backend: {
      name: info?.name ?? tf.getBackend(),
      simd: info?.simd ?? false,
      threads: info?.threads ?? false,
    },
    metrics,
    extras,
    history: history.toJSON(),
    timings: {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seconds: (performance.now() - t0) / 1000,
    },
    memory: {
      peakRssBytes: memory.rss,
      peakHeapUsedBytes: memory.heap,
      peakTfBytes: memory.tfBytes,
      peakTfTensors: memory.tfTensors,
      finalTfTensors: tf.memory().numTensors,
    },
    host: { os: Deno.build.os, arch: Deno.build.arch, cpus: cpuCount() },
  };
  const path = await writeResult(roots.results, result);
  await Deno.remove(failurePath(roots.results, key)).catch(() => {});
  return { key, status: "done", result, path };
}

/**
 * {@link runCellAndStore} under a lock of its own (`<result>.lock`), for cells started by
 * independent processes (Slurm array tasks, a second `deno task cell`): when two race on one
 * cell, the second waits for the first and reuses its result instead of training again.
 */
export async function runCellLocked(
  spec: PaperSpec,
  key: CellKey,
  roots: StoreRoots,
  options: { force?: boolean; log?: (line: string) => void; lockTimeoutMs?: number } = {},
): Promise<CellOutcome> {
  const path = resultPath(roots.results, key);
  await Deno.mkdir(dirname(path), { recursive: true });
  return await withLock(`${path}.lock`, () => runCellAndStore(spec, key, roots, options), {
    // A paper-scale cell can train for days; its twin waits as long.
    timeoutMs: options.lockTimeoutMs ?? 7 * 24 * 3600_000,
    purpose: `training ${keyText(key)}`,
    log: options.log,
  });
}
