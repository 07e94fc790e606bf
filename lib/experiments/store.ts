/**
 * The result store: one JSON file per grid cell,
 * `<results>/<paper>/<scale>/<row>/seed<N>.json` (quick runs under `<scale>-quick`, so
 * they never overwrite full results). Files are written under a temporary name and
 * renamed, so a killed run leaves either the old result or the new one, never half of
 * one; readers look only at `seed<N>.json`, so stray temporary files are ignored.
 *
 * A failed cell leaves `seed<N>.failed.json` (its error, and for a diverged run the loss,
 * step and last finite values); an earlier result of that cell is moved to
 * `seed<N>.superseded.json`, so that it cannot stand in for the failure. Tables, summaries
 * and claims read through {@link loadGridResults}, which counts only results of the current
 * grid definition and names every other file as stale.
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
  /** `reproduce --world-seed N`: the cell runs on the world drawn with seed N (absent: the default world). */
  worldSeed?: number;
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
  /** Present when the cell ran on another synthetic world (see {@link CellKey.worldSeed}). */
  worldSeed?: number;
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

/**
 * The folder name of a scale in the store (`cpu`, `cpu-quick`, and with a world seed
 * `cpu-world1`, `cpu-quick-world1`, …).
 */
export function scaleDir(scale: Scale, quick: boolean, worldSeed?: number): string {
  const base = quick ? `${scale}-quick` : scale;
  return worldSeed === undefined ? base : `${base}-world${worldSeed}`;
}

/** Where a cell's result lives. */
export function resultPath(root: string, key: CellKey): string {
  return `${root}/${key.paper}/${
    scaleDir(key.scale, key.quick, key.worldSeed)
  }/${key.row}/seed${key.seed}.json`;
}

/** Where a cell's failure report lives (removed when the cell later succeeds). */
export function failurePath(root: string, key: CellKey): string {
  return resultPath(root, key).replace(/\.json$/, ".failed.json");
}

/** A cell's scratch folder under the work root (checkpoints; not committed). */
export function workDir(workRoot: string, key: CellKey): string {
  return `${workRoot}/${key.paper}/${
    scaleDir(key.scale, key.quick, key.worldSeed)
  }/${key.row}/seed${key.seed}`;
}

/** A short text form of a key, for logs: `sal/cpu/embed/seed0`. */
export function keyText(key: CellKey): string {
  return `${key.paper}/${scaleDir(key.scale, key.quick, key.worldSeed)}/${key.row}/seed${key.seed}`;
}

/** Stores a result atomically. */
export async function writeResult(root: string, result: CellResult): Promise<string> {
  const path = resultPath(root, result);
  await writeFileAtomic(path, JSON.stringify(result, null, 1) + "\n");
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
  // A result stored before non-finite metrics were refused (null in JSON) is redone.
  return result && result.configHash === hash && !nonFiniteMetric(result) ? result : null;
}

/** The name of a metric of `result` that is not finite, or null. */
function nonFiniteMetric(result: CellResult): string | null {
  return Object.entries(result.metrics).find(([, v]) => !Number.isFinite(v))?.[0] ?? null;
}

/**
 * All stored results of a paper at a scale, unfiltered: row → seed → result; an unreadable
 * file is an error. Tables and claims use {@link loadGridResults} instead.
 */
export async function loadResults(
  root: string,
  paper: string,
  scale: Scale,
  quick = false,
  worldSeed?: number,
): Promise<Map<string, Map<number, CellResult>>> {
  const out = new Map<string, Map<number, CellResult>>();
  const base = `${root}/${paper}/${scaleDir(scale, quick, worldSeed)}`;
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

/** A stored file that does not belong to the current grid definition, and why. */
export interface StaleFile {
  path: string;
  reason: string;
}

/** A cell of the current grid whose last run failed (its failure report). */
export interface FailedCell {
  row: string;
  seed: number;
  path: string;
  error: string;
  failedAt: string | null;
}

/** The stored results of the current grid definition, and what was left out. */
export interface GridResults {
  /** row → seed → result: only rows of the grid, seeds asked for, current config hashes. */
  results: Map<string, Map<number, CellResult>>;
  /** Cells of the grid whose last run failed (and that have no current result). */
  failed: FailedCell[];
  /** Files not counted: other config hash, seed not asked for, row not in the grid, unreadable. */
  stale: StaleFile[];
}

/** What the current grid is: the rows, the seeds asked for and each row's config hash. */
export interface GridDefinition {
  /** Row id → the config hash a result must carry. */
  hashes: ReadonlyMap<string, string>;
  seeds: readonly number[];
}

/**
 * The stored results of a paper at a scale that belong to the grid `grid`: a result counts
 * only when its row is in the grid, its seed is asked for and its config hash is the row's
 * current one. Everything else under the paper's folder is listed in `stale` (with the
 * reason), never counted; an unreadable file is stale too, so one bad file does not abort a
 * summary. A cell whose failure report carries the current hash, and that has no current
 * result, is listed in `failed`.
 */
export async function loadGridResults(
  root: string,
  paper: string,
  scale: Scale,
  quick: boolean,
  grid: GridDefinition,
  worldSeed?: number,
): Promise<GridResults> {
  const out: GridResults = { results: new Map(), failed: [], stale: [] };
  const base = `${root}/${paper}/${scaleDir(scale, quick, worldSeed)}`;
  let rows: Deno.DirEntry[];
  try {
    rows = [...Deno.readDirSync(base)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return out;
    throw error;
  }
  const seeds = new Set(grid.seeds);
  for (
    const rowEntry of rows.filter((e) => e.isDirectory).sort((a, b) => a.name.localeCompare(b.name))
  ) {
    const row = rowEntry.name;
    const hash = grid.hashes.get(row);
    const files = [...Deno.readDirSync(`${base}/${row}`)].sort((a, b) =>
      a.name.localeCompare(b.name)
    );
    const failures: FailedCell[] = [];
    for (const file of files) {
      const m = /^seed(\d+)(\.failed)?\.json$/.exec(file.name);
      if (!m) continue;
      const path = `${base}/${row}/${file.name}`;
      const seed = Number(m[1]);
      const isFailure = m[2] !== undefined;
      const what = isFailure ? "failure report" : "result";
      if (hash === undefined) {
        out.stale.push({ path, reason: `${what} of row "${row}", which is not in the grid` });
        continue;
      }
      if (!seeds.has(seed)) {
        out.stale.push({
          path,
          reason: `${what} of seed ${seed}, not among the seeds asked for (${
            grid.seeds.join(", ")
          })`,
        });
        continue;
      }
      if (isFailure) {
        let report: { configHash?: string; error?: string; failedAt?: string };
        try {
          report = JSON.parse(await Deno.readTextFile(path));
        } catch (error) {
          out.stale.push({
            path,
            reason: `unreadable failure report (${(error as Error).message})`,
          });
          continue;
        }
        if (report.configHash !== hash) {
          out.stale.push({ path, reason: "failure report of another config (hash differs)" });
          continue;
        }
        failures.push({
          row,
          seed,
          path,
          error: String(report.error ?? "unknown error"),
          failedAt: report.failedAt ?? null,
        });
        continue;
      }
      let result: CellResult | null;
      try {
        result = await readResult(path);
      } catch (error) {
        out.stale.push({ path, reason: `unreadable (${(error as Error).message})` });
        continue;
      }
      if (!result) continue;
      if (result.configHash !== hash) {
        out.stale.push({
          path,
          reason: `config hash ${result.configHash.slice(0, 12)} ≠ current ${hash.slice(0, 12)}`,
        });
        continue;
      }
      const bad = nonFiniteMetric(result);
      if (bad !== null) {
        out.stale.push({ path, reason: `metric "${bad}" is not finite (a diverged run)` });
        continue;
      }
      if (!out.results.has(row)) out.results.set(row, new Map());
      out.results.get(row)!.set(seed, result);
    }
    for (const failure of failures) {
      // A result written after the failure (a later success) wins; the report is then stale.
      if (out.results.get(row)?.has(failure.seed)) {
        out.stale.push({ path: failure.path, reason: "failure report older than the result" });
      } else out.failed.push(failure);
    }
  }
  return out;
}

/** One line per stale file, for logs and summaries (at most `limit` named). */
export function describeStale(stale: readonly StaleFile[], limit = 10): string[] {
  if (stale.length === 0) return [];
  const lines = [`${stale.length} stored file(s) not counted (stale):`];
  for (const s of stale.slice(0, limit)) lines.push(`  ${s.path}: ${s.reason}`);
  if (stale.length > limit) lines.push(`  … and ${stale.length - limit} more`);
  return lines;
}
