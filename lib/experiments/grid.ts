/**
 * The grid runner: every (row × seed) cell of a paper at one scale, finished cells
 * reused, the rest queued over worker processes (two by default, one per core: each
 * process runs the single-threaded wasm backend). A worker is `cell_runner.ts` started
 * with `Deno.Command` for one cell; a failing cell is reported and the others go on.
 * Rows that start from another row's artifacts (`needs`) wait for that row's cell with
 * the same seed.
 *
 * @module
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "../runtime/paths.ts";
import { ensureWritableDir } from "../runtime/fs.ts";
import { THREADS_ENV } from "../runtime/onednn.ts";
import { resolveConfig } from "./config.ts";
import type { StoreRoots } from "./cell.ts";
import { importSpec } from "./cell_runner.ts";
import type { PaperSpec, Scale } from "./spec.ts";
import { type CellKey, keyText, resultPath, reusableResult } from "./store.ts";

/** The repository root. */
const RUNNER = fileURLToPath(new URL("./cell_runner.ts", import.meta.url));

/** Options of {@link runGrid}. */
export interface GridOptions {
  /** Import specifier (file URL) of the paper's spec module; workers import it too. */
  specModule: string;
  scale: Scale;
  seeds: number[];
  quick?: boolean;
  /** Run on the synthetic world of this seed (see {@link CellKey.worldSeed}); default: the spec's own. */
  worldSeed?: number;
  /** Retrain cells even when a result with the same config hash exists. */
  force?: boolean;
  /** Only these rows (plus the rows they need). Default: all rows that run at the scale. */
  rows?: string[];
  /** Worker processes at a time (default 2). */
  workers?: number;
  roots: StoreRoots;
  /** Backend for the workers (default: their own choice / REID_BACKEND). */
  backend?: string;
  /** Progress and worker output (default: stderr). */
  log?: (line: string) => void;
  /** Forward the workers' stderr lines to `log` (default true). */
  echo?: boolean;
}

/** What happened to one cell. */
export interface CellReport {
  key: CellKey;
  status: "reused" | "done" | "failed" | "skipped";
  seconds: number;
  path?: string;
  error?: string;
}

/** What {@link runGrid} did. */
export interface GridReport {
  paper: string;
  cells: CellReport[];
  seconds: number;
  failed: number;
}

async function pipeLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, i).replace(/\r?$/, "").replace(/^.*\r/, ""));
      buffer = buffer.slice(i + 1);
    }
  }
  if (buffer) onLine(buffer);
}

/** Runs one cell in a worker process; resolves with its report (never rejects). */
async function runInWorker(key: CellKey, options: GridOptions): Promise<CellReport> {
  const log = options.log ?? ((line: string) => console.error(line));
  const args = [
    "run",
    "-A",
    "--config",
    `${REPO_ROOT}/deno.json`,
    RUNNER,
    "--spec",
    options.specModule,
    "--row",
    key.row,
    "--seed",
    String(key.seed),
    "--scale",
    key.scale,
    "--results",
    resolve(options.roots.results),
    "--work",
    resolve(options.roots.work),
  ];
  if (key.quick) args.push("--quick");
  if (key.worldSeed !== undefined) args.push("--world-seed", String(key.worldSeed));
  if (options.force) args.push("--force");
  if (options.backend) args.push("--backend", options.backend);
  const t0 = performance.now();
  const tail: string[] = [];
  const stdout: string[] = [];
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: REPO_ROOT,
      // One compute thread per worker, one worker per core: OpenMP threads of two workers
      // would contend for the cores (the prototype saw oneDNN calls take 1 s under load).
      env: { [THREADS_ENV]: "1", OMP_WAIT_POLICY: "PASSIVE" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await Promise.all([
      pipeLines(child.stderr, (line) => {
        tail.push(line);
        if (tail.length > 30) tail.shift();
        // The cell's own log lines already carry its key; other output gets it here.
        const tag = `[${keyText(key)}]`;
        if (options.echo ?? true) log(line.startsWith(tag) ? line : `${tag} ${line}`);
      }),
      pipeLines(child.stdout, (line) => stdout.push(line)),
    ]);
    const status = await child.status;
    const seconds = (performance.now() - t0) / 1000;
    let report: { status?: string; path?: string; error?: string } = {};
    try {
      report = JSON.parse(stdout.at(-1) ?? "{}");
    } catch {
      report = {};
    }
    if (status.success && (report.status === "done" || report.status === "reused")) {
      return { key, status: report.status, seconds, path: report.path };
    }
    return {
      key,
      status: "failed",
      seconds,
      error: report.error ??
        `worker exited with code ${status.code}${status.signal ? ` (${status.signal})` : ""}: ` +
          tail.slice(-10).join("\n"),
    };
  } catch (error) {
    return {
      key,
      status: "failed",
      seconds: (performance.now() - t0) / 1000,
      error: (error as Error).message,
    };
  }
}

/** The rows to run: the requested ones (default all at this scale) and those they need. */
function selectRows(spec: PaperSpec, scale: Scale, requested?: string[]): string[] {
  const known = new Set(spec.rows.map((r) => r.id));
  for (const id of requested ?? []) {
    if (!known.has(id)) {
      throw new Error(`paper ${spec.paper} has no row "${id}"; rows: ${[...known].join(", ")}`);
    }
  }
  const chosen = new Set<string>();
  const add = (id: string) => {
    if (chosen.has(id)) return;
    chosen.add(id);
    for (const need of spec.rows.find((r) => r.id === id)?.needs ?? []) add(need);
  };
  for (const row of spec.rows) {
    const runsHere = !row.scales || row.scales.includes(scale);
    if ((requested ? requested.includes(row.id) : runsHere)) add(row.id);
  }
  return spec.rows.map((r) => r.id).filter((id) => chosen.has(id));
}

/**
 * Throws on options that would make the grid do nothing or the wrong thing (`workers` not a
 * positive integer, seeds not distinct non-negative integers), before any work starts.
 */
export function validateGridOptions(options: Pick<GridOptions, "workers" | "seeds">): void {
  const w = options.workers;
  if (w !== undefined && (!Number.isSafeInteger(w) || w < 1)) {
    throw new Error(`workers must be a positive integer, got ${w}`);
  }
  if (options.seeds.length === 0) throw new Error("no seeds given: nothing to run");
  for (const seed of options.seeds) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`seeds must be non-negative integers, got ${seed}`);
    }
  }
  if (new Set(options.seeds).size !== options.seeds.length) {
    throw new Error(`seeds must be distinct, got ${options.seeds.join(", ")}`);
  }
}

/** A grid's cells in row-major order: those stored for the current definition, and the rest. */
export interface GridPlan {
  rows: string[];
  reused: CellKey[];
  pending: CellKey[];
}

/**
 * Which cells of a grid are done (a stored result of the current config hash) and which are
 * pending (all of them with `force`); also checks the world seed against the spec.
 */
export async function planGrid(
  spec: PaperSpec,
  options: Pick<
    GridOptions,
    "scale" | "seeds" | "quick" | "worldSeed" | "force" | "rows" | "roots"
  >,
): Promise<GridPlan> {
  const quick = options.quick ?? false;
  const { worldSeed } = options;
  const rows = selectRows(spec, options.scale, options.rows);
  const plan: GridPlan = { rows, reused: [], pending: [] };
  for (const row of rows) {
    for (const seed of options.seeds) {
      const key: CellKey = { paper: spec.paper, scale: options.scale, row, seed, quick, worldSeed };
      // Resolving also checks the world seed (and the spec's support for it) before any work.
      const { hash } = await resolveConfig(spec, options.scale, row, { quick, worldSeed });
      const done = !options.force && await reusableResult(options.roots.results, key, hash);
      (done ? plan.reused : plan.pending).push(key);
    }
  }
  return plan;
}

/**
 * Runs a paper's grid at one scale and returns what happened to every cell. Cells are
 * started row-major (all seeds of the first row first) so that early results cover
 * whole rows.
 */
export async function runGrid(options: GridOptions): Promise<GridReport> {
  validateGridOptions(options);
  const spec = await importSpec(options.specModule);
  const log = options.log ?? ((line: string) => console.error(line));
  const workers = options.workers ?? 2;
  const quick = options.quick ?? false;
  const worldSeed = options.worldSeed;
  await ensureWritableDir(options.roots.results, "results folder");
  await ensureWritableDir(options.roots.work, "work folder");
  const t0 = performance.now();
  const plan = await planGrid(spec, options);
  const { rows } = plan;
  const reports = new Map<string, CellReport>();
  for (const key of plan.reused) {
    reports.set(keyText(key), {
      key,
      status: "reused",
      seconds: 0,
      path: resultPath(options.roots.results, key),
    });
  }
  const pending = [...plan.pending];
  log(
    `[grid] ${spec.paper} ${options.scale}${quick ? " (quick)" : ""}` +
      `${worldSeed === undefined ? "" : ` (world seed ${worldSeed})`}: ${rows.length} rows × ` +
      `${options.seeds.length} seeds; ${reports.size} reused, ${pending.length} to run on ${workers} workers`,
  );

  const needsOf = (key: CellKey) =>
    (spec.rows.find((r) => r.id === key.row)?.needs ?? []).map((row) => keyText({ ...key, row }));
  const running = new Map<string, Promise<CellReport>>();
  while (pending.length > 0 || running.size > 0) {
    for (let i = 0; i < pending.length; i++) {
      const key = pending[i];
      const blocked = needsOf(key).map((k) => reports.get(k)).find((r) =>
        r && (r.status === "failed" || r.status === "skipped")
      );
      if (blocked) {
        pending.splice(i--, 1);
        reports.set(keyText(key), {
          key,
          status: "skipped",
          seconds: 0,
          error: `needs ${keyText(blocked.key)}, which ${
            blocked.status === "failed" ? "failed" : "was skipped"
          }`,
        });
      }
    }
    while (running.size < workers) {
      const index = pending.findIndex((key) =>
        needsOf(key).every((k) => {
          const r = reports.get(k);
          return r && (r.status === "done" || r.status === "reused");
        })
      );
      if (index < 0) break;
      const [key] = pending.splice(index, 1);
      log(`[grid] start ${keyText(key)}`);
      running.set(keyText(key), runInWorker(key, options));
    }
    if (running.size === 0) {
      for (const key of pending.splice(0)) {
        reports.set(keyText(key), {
          key,
          status: "skipped",
          seconds: 0,
          error: "its needs never finished (a cycle?)",
        });
      }
      break;
    }
    const report = await Promise.race(running.values());
    running.delete(keyText(report.key));
    reports.set(keyText(report.key), report);
    log(
      `[grid] ${report.status} ${keyText(report.key)} (${report.seconds.toFixed(1)} s)` +
        (report.error ? `: ${report.error.split("\n")[0]}` : ""),
    );
  }
  const cells = rows.flatMap((row) =>
    options.seeds.map((seed) =>
      reports.get(keyText({ paper: spec.paper, scale: options.scale, row, seed, quick, worldSeed }))
    )
  ).filter((r): r is CellReport => r !== undefined);
  return {
    paper: spec.paper,
    cells,
    seconds: (performance.now() - t0) / 1000,
    failed: cells.filter((c) => c.status === "failed").length,
  };
}
