/**
 * The result store: one JSON file per grid cell,
 * `<results>/<paper>/<scale>/<row>/seed<N>.json` (quick runs under `<scale>-quick`, so
 * they never overwrite full results). Files are written under a temporary name and
 * renamed, so a killed run leaves either the old result or the new one, never half of
 * one; readers look only at `seed<N>.json`, so stray temporary files are ignored.
 *
 * @module
 */
import { writeFileAtomic } from "../runtime/fs.ts";
import type { HistoryJSON } from "../train/history.ts";
import type { CellMetrics, Config, Json, Scale } from "./spec.ts";

/** Identifies one grid cell. */
export interface CellKey {
  paper: string;
  scale: Scale;
  row: string;
  seed: number;
  quick: boolean;
}

/** Versions of what produced a result. */
export interface Versions {
  deno: string;
  v8: string;
  typescript: string;
  tfjs: string;
}

/** One cell's stored result. */
export interface CellResult {
  schema: 1;
  paper: string;
  row: string;
  scale: Scale;
  quick: boolean;
  seed: number;
  config: Config;
  configHash: string;
  versions: Versions;
  backend: { name: string; simd: boolean; threads: boolean };
  metrics: CellMetrics;
  /** Diagnostics the cell noted (context.note). */
  extras: Record<string, Json>;
  history: HistoryJSON;
  timings: { startedAt: string; finishedAt: string; seconds: number };
  /** Peaks sampled during the run. */
  memory: {
    peakRssBytes: number;
    peakHeapUsedBytes: number;
    peakTfBytes: number;
    peakTfTensors: number;
    finalTfTensors: number;
  };
  host: { os: string; arch: string; cpus: number | null };
}

/** The folder name of a scale in the store (`cpu`, `cpu-quick`, …). */
export function scaleDir(scale: Scale, quick: boolean): string {
  return quick ? `${scale}-quick` : scale;
}

/** Where a cell's result lives. */
export function resultPath(root: string, key: CellKey): string {
  return `${root}/${key.paper}/${scaleDir(key.scale, key.quick)}/${key.row}/seed${key.seed}.json`;
}

/** Where a cell's failure report lives (removed when the cell later succeeds). */
export function failurePath(root: string, key: CellKey): string {
  return resultPath(root, key).replace(/\.json$/, ".failed.json");
}

/** A cell's scratch folder under the work root (checkpoints; not committed). */
export function workDir(workRoot: string, key: CellKey): string {
  return `${workRoot}/${key.paper}/${scaleDir(key.scale, key.quick)}/${key.row}/seed${key.seed}`;
}

/** A short text form of a key, for logs: `sal/cpu/embed/seed0`. */
export function keyText(key: CellKey): string {
  return `${key.paper}/${scaleDir(key.scale, key.quick)}/${key.row}/seed${key.seed}`;
}

/** Writes text atomically: the project's one writer (lib/runtime/fs.ts), under the store's name. */
export const writeTextAtomic: (path: string, text: string) => Promise<void> = writeFileAtomic;

/** Stores a result atomically. */
export async function writeResult(root: string, result: CellResult): Promise<string> {
  const path = resultPath(root, result);
  await writeTextAtomic(path, JSON.stringify(result, null, 1) + "\n");
  return path;
}

function checkResult(value: unknown, path: string): CellResult {
  const r = value as CellResult;
  const problems: string[] = [];
  if (r?.schema !== 1) problems.push("schema is not 1");
  if (typeof r?.configHash !== "string") problems.push("no configHash");
  if (typeof r?.metrics !== "object" || r.metrics === null) problems.push("no metrics");
  if (!Number.isInteger(r?.seed)) problems.push("no integer seed");
  if (problems.length) throw new Error(`${path}: not a cell result (${problems.join(", ")})`);
  // JSON cannot hold NaN: metrics stored as null come back as NaN.
  for (const [k, v] of Object.entries(r.metrics)) if (v === null) r.metrics[k] = NaN;
  return r;
}

/** Reads a stored result; null when there is none. Malformed files are an error naming the file. */
export async function readResult(path: string): Promise<CellResult | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: invalid JSON (${(error as Error).message})`);
  }
  return checkResult(json, path);
}

/**
 * The stored result of `key` if it can be reused for a config with hash `hash`; null
 * when it is missing, stale (another config) or unreadable (then it is redone).
 */
export async function reusableResult(
  root: string,
  key: CellKey,
  hash: string,
): Promise<CellResult | null> {
  let result: CellResult | null;
  try {
    result = await readResult(resultPath(root, key));
  } catch {
    return null;
  }
  return result && result.configHash === hash ? result : null;
}

/** All stored results of a paper at a scale: row → seed → result. */
export async function loadResults(
  root: string,
  paper: string,
  scale: Scale,
  quick = false,
): Promise<Map<string, Map<number, CellResult>>> {
  const out = new Map<string, Map<number, CellResult>>();
  const base = `${root}/${paper}/${scaleDir(scale, quick)}`;
  let rows: Deno.DirEntry[] = [];
  try {
    rows = [...Deno.readDirSync(base)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return out;
    throw error;
  }
  for (
    const rowEntry of rows.filter((e) => e.isDirectory).sort((a, b) => a.name.localeCompare(b.name))
  ) {
    const seeds = new Map<number, CellResult>();
    for await (const file of Deno.readDir(`${base}/${rowEntry.name}`)) {
      const m = /^seed(\d+)\.json$/.exec(file.name);
      if (!m || !file.isFile) continue;
      const result = await readResult(`${base}/${rowEntry.name}/${file.name}`);
      if (result) seeds.set(Number(m[1]), result);
    }
    if (seeds.size > 0) out.set(rowEntry.name, seeds);
  }
  return out;
}
