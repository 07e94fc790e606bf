/**
 * How long a `reproduce` run will take, said before it starts: each pending cell costs what the
 * stored cells of its row took (any seed, any earlier config: the closest record there is), or the
 * paper's median cell when its row has none; cells run `workers` at a time; each notebook costs
 * what its last executed copy recorded (nbclient's per-cell timestamps).
 *
 * @module
 */
import { dirname } from "node:path";
import { type CellKey, resultPath } from "./store.ts";
import { readNotebook } from "./notebooks.ts";

const median = (values: number[]) => {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The `timings.seconds` of every readable result file in `dir` (`seed<N>.json`). */
async function storedSeconds(dir: string): Promise<number[]> {
  const found: number[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !/^seed\d+\.json$/.test(entry.name)) continue;
      try {
        const cell = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`));
        const s = cell?.timings?.seconds;
        if (typeof s === "number" && Number.isFinite(s) && s >= 0) found.push(s);
      } catch {
        // A file cut short or of another schema says nothing about time.
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found;
}

/** Estimated seconds of each pending cell (NaN: nothing stored for its row or its paper). */
export async function cellEstimates(results: string, pending: CellKey[]): Promise<number[]> {
  const byRow = new Map<string, number>();
  const byPaper = new Map<string, number[]>();
  for (const key of pending) {
    const rowDir = dirname(resultPath(results, key));
    if (byRow.has(rowDir)) continue;
    const seconds = await storedSeconds(rowDir);
    byRow.set(rowDir, median(seconds));
    byPaper.set(key.paper, [...(byPaper.get(key.paper) ?? []), ...seconds]);
  }
  return pending.map((key) => {
    const own = byRow.get(dirname(resultPath(results, key)))!;
    return Number.isFinite(own) ? own : median(byPaper.get(key.paper) ?? []);
  });
}

/**
 * Seconds the cells take on `workers` workers: each cell goes to the worker free first, longest
 * first (the grid's order differs, so this is an estimate, not a schedule).
 */
export function wallSeconds(cells: number[], workers: number): number {
  const free = Array(Math.max(1, workers)).fill(0);
  for (const s of [...cells].sort((a, b) => b - a)) {
    const i = free.indexOf(Math.min(...free));
    free[i] += s;
  }
  return Math.max(...free);
}

/** Seconds an executed notebook's cells took (nbclient's timestamps); NaN without them. */
export async function notebookSeconds(executed: string): Promise<number> {
  let nb;
  try {
    nb = await readNotebook(executed);
  } catch {
    return NaN;
  }
  let total = 0;
  let timed = 0;
  for (const cell of nb.cells) {
    const t = cell.metadata?.execution as Record<string, string> | undefined;
    const start = Date.parse(t?.["iopub.execute_input"] ?? "");
    const end = Date.parse(t?.["shell.execute_reply"] ?? "");
    if (Number.isFinite(start) && Number.isFinite(end) && end >= start) {
      total += (end - start) / 1000;
      timed++;
    }
  }
  return timed > 0 ? total : NaN;
}

/** "1 h 05 min", "16 min", "45 s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "unknown";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60
    ? `${minutes} min`
    : `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/**
 * The plan line `reproduce` prints before training: cells to train and their estimated wall time,
 * cells reused, notebooks and their estimated time, the total.
 */
export async function estimateLine(options: {
  results: string;
  pending: CellKey[];
  reused: number;
  workers: number;
  /** Executed copies of the notebooks to run (their last run's timings). */
  notebooks: string[];
}): Promise<string> {
  const cells = await cellEstimates(options.results, options.pending);
  const known = cells.filter(Number.isFinite);
  const train = wallSeconds(known, options.workers);
  const nbs = await Promise.all(options.notebooks.map(notebookSeconds));
  const nbKnown = nbs.filter(Number.isFinite);
  const nbTotal = nbKnown.reduce((a, b) => a + b, 0);
  const unknown = (n: number, of: number) => (n < of ? ` (${of - n} without a stored timing)` : "");
  // "≈ ?" where nothing is known: a 0 would read as "no time at all".
  const about = (seconds: number, known: number, of: number) =>
    of > 0 && known === 0 ? "≈ ?" : `≈ ${formatDuration(seconds)}`;
  const anyUnknown = known.length < cells.length || nbKnown.length < nbs.length;
  const trainPart = `${options.pending.length} cells to train, ${
    about(train, known.length, cells.length)
  } on ${options.workers} workers${unknown(known.length, cells.length)}`;
  const notebookPart = `${options.notebooks.length} notebooks to execute, ${
    about(nbTotal, nbKnown.length, nbs.length)
  }${unknown(nbKnown.length, nbs.length)}`;
  return `[reproduce] plan: ${trainPart}; ${options.reused} reused; ${notebookPart}; ` +
    `total ≈ ${formatDuration(train + nbTotal)}${anyUnknown ? " and the untimed part" : ""}`;
}
