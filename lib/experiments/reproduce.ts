/**
 * `deno task reproduce`: trains the grids of the registered papers, writes per-paper
 * summaries (rows mean ± std beside the paper's numbers, claim verdicts), executes the
 * notebooks headless into `results/notebooks/` (`results/notebooks-quick/` with `--quick`),
 * and says where everything is.
 *
 * ```
 * deno task reproduce [--paper P]... [--scale cpu|paper] [--seeds N] [--quick] [--force]
 *                     [--workers 2] [--backend wasm|cpu|tensorflow] [--skip-notebooks]
 *                     [--world-seed N]
 * ```
 *
 * `--world-seed N` regenerates every synthetic world with seed N, in folders of its own
 * (each spec's `withWorldSeed`), and stores the results under `results/<paper>/<scale>-worldN/`,
 * so a claim can be checked on data its calibration never saw. The notebooks are not
 * executed then: they show the default world. See docs/design.md, 'World seeds'.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { nonNegativeInt, positiveInt, UsageError } from "../runtime/cli.ts";
import { resolve } from "node:path";
import { type PaperEntry, selectPapers } from "./papers.ts";
import { evaluateClaims, formatStats, summarizeRows } from "./claims.ts";
import type { ClaimResult, RowSummary } from "./claims.ts";
import { importSpec } from "./cell_runner.ts";
import {
  type CellReport,
  type GridReport,
  planGrid,
  runGrid,
  validateGridOptions,
} from "./grid.ts";
import { executeNotebook } from "./notebooks.ts";
import { estimateLine } from "./estimate.ts";
import { gridDefinition, seedList } from "./config.ts";
import type { PaperSpec, Scale } from "./spec.ts";
import {
  describeStale,
  type FailedCell,
  loadGridResults,
  scaleDir,
  type StaleFile,
} from "./store.ts";
import { ensureWritableDir } from "../runtime/fs.ts";
import { repoPath } from "../runtime/paths.ts";
import { writeFileAtomic } from "../runtime/fs.ts";

/** Options of {@link reproduce}. */
export interface ReproduceOptions {
  papers?: string[];
  scale?: Scale;
  /** Seeds 0 … seeds−1; default: each spec's `seeds` (3). */
  seeds?: number;
  quick?: boolean;
  /** Regenerate every synthetic world with this seed (results in their own folder). */
  worldSeed?: number;
  force?: boolean;
  workers?: number;
  backend?: string;
  /** Result root (default `<repo>/results`). */
  results?: string;
  /** Scratch root for checkpoints (default `<repo>/data/runs`). */
  work?: string;
  skipNotebooks?: boolean;
  /**
   * Train nothing: summaries (and notebooks) from the cells already stored, a missing cell
   * reported as not run (the finishing job of `--emit slurm`).
   */
  summarizeOnly?: boolean;
  /** The papers it knows (`lib/papers/registry.ts`'s `PAPERS`; tests pass their own). */
  registry: readonly PaperEntry[];
  /** Extra notebooks to run when no paper is named (the introduction; default none). */
  extraNotebooks?: readonly string[];
  log?: (line: string) => void;
}

/** A paper's summary file, `results/<paper>/<scale>/summary.json`. */
export interface PaperSummary {
  paper: string;
  title: string;
  scale: Scale;
  quick: boolean;
  /** Present when the grid ran on another synthetic world. */
  worldSeed?: number;
  generatedAt: string;
  rows: RowSummary[];
  claims: Omit<ClaimResult, "rule">[];
  cells: { row: string; seed: number; status: string; error?: string }[];
  /** Cells of the grid whose last run failed: shown as failed, not counted. */
  failed: FailedCell[];
  /** Stored files left out of the rows and claims (other config, seed or row; unreadable). */
  stale: StaleFile[];
}

/** What {@link reproduce} did. */
export interface ReproduceReport {
  grids: GridReport[];
  summaries: string[];
  notebooks: { path: string; output?: string; error?: string }[];
  ok: boolean;
}

/** A grid's report from the store alone: stored cells reused, the rest not run. */
async function storedGrid(
  spec: PaperSpec,
  options: Parameters<typeof planGrid>[1],
): Promise<GridReport> {
  const plan = await planGrid(spec, options);
  const cells: CellReport[] = [
    ...plan.reused.map((key) => ({ key, status: "reused" as const, seconds: 0 })),
    ...plan.pending.map((key) => ({
      key,
      status: "skipped" as const,
      seconds: 0,
      error: "no stored result (--summarize-only trains nothing)",
    })),
  ];
  return { paper: spec.paper, cells, seconds: 0, failed: plan.pending.length };
}

function table(summary: PaperSummary): string {
  const metrics = [...new Set(summary.rows.flatMap((r) => Object.keys(r.ours)))];
  const lines = [`| row | ${metrics.map((m) => `${m} paper | ${m} ours`).join(" | ")} |`];
  lines.push(`|---|${metrics.map(() => "---|---").join("|")}|`);
  for (const r of summary.rows) {
    const cells = metrics.map((m) =>
      `${r.paper[m] ?? "—"} | ${r.ours[m] ? formatStats(r.ours[m]) : "—"}`
    );
    const failed = r.failedSeeds.length ? ` (FAILED: seed ${r.failedSeeds.join(", ")})` : "";
    lines.push(`| ${r.label}${failed} | ${cells.join(" | ")} |`);
  }
  if (summary.stale.length) {
    lines.push(`(${summary.stale.length} stale result file(s) not counted; see summary.json)`);
  }
  for (const c of summary.claims) {
    const parts = c.parts.map((p) => `${p.label}: ${formatStats(p.stats, 2)} (n=${p.stats.n})`);
    lines.push(`${c.verdict} ${c.id} ${c.text} — ${parts.join("; ")}`);
  }
  return lines.join("\n");
}

/**
 * Runs the reproduction; never throws for a failed cell or notebook (see `ok`). Bad options
 * (seeds, workers, scale, an unwritable results folder, unknown papers) throw before any
 * paper trains.
 */
export async function reproduce(options: ReproduceOptions): Promise<ReproduceReport> {
  const log = options.log ?? ((line: string) => console.error(line));
  const { registry } = options;
  const entries = selectPapers(options.papers ?? [], registry);
  const scale = options.scale ?? "cpu";
  if (scale !== "cpu" && scale !== "paper") {
    throw new Error(`scale must be cpu or paper, got ${scale}`);
  }
  const quick = options.quick ?? false;
  const worldSeed = options.worldSeed;
  const dirName = scaleDir(scale, quick, worldSeed);
  const results = resolve(options.results ?? repoPath("results"));
  const work = resolve(options.work ?? repoPath("data", "runs"));
  const report: ReproduceReport = { grids: [], summaries: [], notebooks: [], ok: true };
  if (entries.length === 0) log("[reproduce] no papers are registered yet: nothing to train");

  // Everything that can be wrong with the options is checked before the first cell trains.
  const planned: { entry: PaperEntry; spec: PaperSpec; seeds: number[] }[] = [];
  for (const entry of entries) {
    const spec = await importSpec(entry.module);
    planned.push({ entry, spec, seeds: seedList(spec, options.seeds) });
    validateGridOptions({ workers: options.workers, seeds: planned.at(-1)!.seeds });
    // Resolves every row: a bad world seed, or a paper that cannot reseed its world, fails here.
    if (worldSeed !== undefined) {
      await gridDefinition(spec, scale, { quick, seeds: planned.at(-1)!.seeds, worldSeed });
    }
  }
  if (entries.length > 0) {
    await ensureWritableDir(results, "results folder");
    await ensureWritableDir(work, "work folder");
  }
  if (entries.length > 0 && !options.summarizeOnly) {
    // The plan and its estimated time, said before anything trains (lib/experiments/estimate.ts).
    const pending = [];
    let reused = 0;
    for (const { spec, seeds } of planned) {
      const plan = await planGrid(spec, {
        scale,
        seeds,
        quick,
        worldSeed,
        force: options.force,
        roots: { results, work },
      });
      pending.push(...plan.pending);
      reused += plan.reused.length;
    }
    const toExecute = options.skipNotebooks || worldSeed !== undefined ? [] : [
      ...((options.papers ?? []).length === 0 ? options.extraNotebooks ?? [] : []),
      ...entries.flatMap((e) => (e.notebook ? [e.notebook] : [])),
    ];
    log(
      await estimateLine({
        results,
        pending,
        reused,
        workers: options.workers ?? 2,
        notebooks: toExecute.map((nb) =>
          `${results}/notebooks${quick ? "-quick" : ""}/${nb.split("/").at(-1)}`
        ),
      }),
    );
  }

  for (const { entry, spec, seeds } of planned) {
    const grid = options.summarizeOnly
      ? await storedGrid(spec, { scale, seeds, quick, worldSeed, roots: { results, work } })
      : await runGrid({
        specModule: entry.module,
        scale,
        seeds,
        quick,
        worldSeed,
        force: options.force,
        workers: options.workers,
        roots: { results, work },
        backend: options.backend,
        log,
      });
    report.grids.push(grid);
    if (grid.failed > 0) report.ok = false;
    const stored = await loadGridResults(
      results,
      spec.paper,
      scale,
      quick,
      await gridDefinition(spec, scale, { quick, seeds, worldSeed }),
      worldSeed,
    );
    const summary: PaperSummary = {
      paper: spec.paper,
      title: spec.title,
      scale,
      quick,
      ...(worldSeed === undefined ? {} : { worldSeed }),
      generatedAt: new Date().toISOString(),
      rows: summarizeRows(spec, stored.results, undefined, stored.failed),
      claims: evaluateClaims(spec, stored.results).map(({ rule: _rule, ...rest }) => rest),
      cells: grid.cells.map((c) => ({
        row: c.key.row,
        seed: c.key.seed,
        status: c.status,
        error: c.error,
      })),
      failed: stored.failed,
      stale: stored.stale,
    };
    for (const line of describeStale(stored.stale)) log(`[reproduce] ${line}`);
    const path = `${results}/${spec.paper}/${dirName}/summary.json`;
    await writeFileAtomic(path, JSON.stringify(summary, null, 1) + "\n");
    report.summaries.push(path);
    const world = worldSeed === undefined ? "" : `, world seed ${worldSeed}`;
    log(`\n${spec.paper} (${scale}${quick ? ", quick" : ""}${world}):\n${table(summary)}\n`);
  }

  if (!options.skipNotebooks && worldSeed !== undefined) {
    log("[reproduce] --world-seed: notebooks not executed (they show the default world)");
  } else if (!options.skipNotebooks) {
    const notebooks = [
      ...((options.papers ?? []).length === 0 ? options.extraNotebooks ?? [] : []),
      ...entries.flatMap((e) => (e.notebook ? [e.notebook] : [])),
    ];
    for (const nb of notebooks) {
      const path = repoPath(nb);
      try {
        await Deno.stat(path);
      } catch {
        log(`[reproduce] notebook ${nb} does not exist yet: skipped`);
        continue;
      }
      log(`[reproduce] executing ${nb}`);
      try {
        const out = await executeNotebook(path, {
          // Quick copies go beside, never over, the committed full executions.
          outDir: `${results}/notebooks${quick ? "-quick" : ""}`,
          quick,
          env: options.backend ? { REID_BACKEND: options.backend } : undefined,
          timeoutSec: quick ? 600 : 6 * 3600,
        });
        report.notebooks.push({ path: nb, output: out.outputPath });
      } catch (error) {
        report.ok = false;
        report.notebooks.push({ path: nb, error: (error as Error).message });
        log(`[reproduce] ${(error as Error).message}`);
      }
    }
  }

  const failedCells = report.grids.flatMap((g) =>
    g.cells.filter((c) => c.status === "failed" || c.status === "skipped")
  );
  log("[reproduce] results:");
  for (const path of report.summaries) log(`  summary   ${path}`);
  for (const g of report.grids) {
    log(`  cells     ${results}/${g.paper}/${dirName}/<row>/seed<N>.json`);
  }
  for (const nb of report.notebooks) log(`  notebook  ${nb.output ?? `${nb.path}: FAILED`}`);
  for (const c of failedCells) {
    log(`  ${c.status.toUpperCase()} ${c.key.row}/seed${c.key.seed}: ${c.error?.split("\n")[0]}`);
  }
  return report;
}

/** The command line of `deno task reproduce`. */
export const USAGE =
  "usage: deno task reproduce [--paper P]... [--scale cpu|paper] [--seeds N] [--quick] [--force]\n" +
  "                           [--workers N] [--backend wasm|cpu|webgpu|tensorflow] [--results DIR]\n" +
  "                           [--work DIR] [--skip-notebooks] [--world-seed N] [--summarize-only]\n" +
  "                           [--emit slurm [--partition NAME] [--max-parallel N]]\n" +
  "                           [--verify [--tolerance X]]  (retrain stored cells, compare)";

/** Parses the command line; every mistake is a {@link UsageError}, found before any work. */
export function parseReproduceArgs(
  args: string[],
): Omit<ReproduceOptions, "registry"> & {
  help: boolean;
  emit?: "slurm";
  partition?: string;
  maxParallel?: number;
  verify: boolean;
  tolerance?: number;
} {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        paper: { type: "string", multiple: true },
        scale: { type: "string", default: "cpu" },
        seeds: { type: "string" },
        quick: { type: "boolean", default: false },
        force: { type: "boolean", default: false },
        workers: { type: "string", default: "2" },
        backend: { type: "string" },
        results: { type: "string" },
        "skip-notebooks": { type: "boolean", default: false },
        "world-seed": { type: "string" },
        work: { type: "string" },
        "summarize-only": { type: "boolean", default: false },
        emit: { type: "string" },
        partition: { type: "string" },
        "max-parallel": { type: "string" },
        verify: { type: "boolean", default: false },
        tolerance: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.scale !== "cpu" && values.scale !== "paper") {
    throw new UsageError(`--scale must be cpu or paper, got "${values.scale}"`);
  }
  if (values.emit !== undefined && values.emit !== "slurm") {
    throw new UsageError(`--emit knows only "slurm", got "${values.emit}"`);
  }
  if (values.emit === undefined && (values.partition || values["max-parallel"])) {
    throw new UsageError("--partition and --max-parallel go with --emit slurm");
  }
  if (values.tolerance !== undefined && !values.verify) {
    throw new UsageError("--tolerance goes with --verify");
  }
  const tolerance = values.tolerance === undefined ? undefined : Number(values.tolerance);
  if (tolerance !== undefined && !(tolerance >= 0)) {
    throw new UsageError(`--tolerance must be a number ≥ 0, got "${values.tolerance}"`);
  }
  if (values.verify && values.emit !== undefined) {
    throw new UsageError("--verify trains here; it does not go with --emit");
  }
  return {
    help: values.help,
    verify: values.verify,
    tolerance,
    papers: values.paper ?? [],
    scale: values.scale,
    seeds: values.seeds === undefined ? undefined : positiveInt("--seeds", values.seeds),
    quick: values.quick,
    worldSeed: values["world-seed"] === undefined
      ? undefined
      : nonNegativeInt("--world-seed", values["world-seed"]),
    force: values.force,
    workers: positiveInt("--workers", values.workers),
    backend: values.backend,
    results: values.results,
    skipNotebooks: values["skip-notebooks"],
    work: values.work,
    summarizeOnly: values["summarize-only"],
    emit: values.emit as "slurm" | undefined,
    partition: values.partition,
    maxParallel: values["max-parallel"] === undefined
      ? undefined
      : positiveInt("--max-parallel", values["max-parallel"]),
  };
}
