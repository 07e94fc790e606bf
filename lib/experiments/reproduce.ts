/**
 * `deno task reproduce`: trains the grids of the registered papers, writes per-paper
 * summaries (rows mean ± std beside the paper's numbers, claim verdicts), executes the
 * notebooks headless into `results/notebooks/` (`results/notebooks-quick/` with `--quick`),
 * and says where everything is.
 *
 * ```
 * deno task reproduce [--paper P]... [--scale cpu|paper] [--seeds N] [--quick] [--force]
 *                     [--workers 2] [--backend wasm|cpu|tensorflow] [--skip-notebooks]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EXTRA_NOTEBOOKS, type PaperEntry, PAPERS, selectPapers } from "../papers/registry.ts";
import { evaluateClaims, formatStats, summarizeRows } from "./claims.ts";
import type { ClaimResult, RowSummary } from "./claims.ts";
import { importSpec } from "./cell_runner.ts";
import { type GridReport, runGrid } from "./grid.ts";
import { executeNotebook } from "./notebooks.ts";
import type { Scale } from "./spec.ts";
import { loadResults, scaleDir, writeTextAtomic } from "./store.ts";

const PROJECT_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** Options of {@link reproduce}. */
export interface ReproduceOptions {
  papers?: string[];
  scale?: Scale;
  /** Seeds 0 … seeds−1; default: each spec's `seeds` (3). */
  seeds?: number;
  quick?: boolean;
  force?: boolean;
  workers?: number;
  backend?: string;
  /** Result root (default `<repo>/results`). */
  results?: string;
  /** Scratch root for checkpoints (default `<repo>/data/runs`). */
  work?: string;
  skipNotebooks?: boolean;
  /** The registry to use (tests pass their own). */
  registry?: readonly PaperEntry[];
  /** Extra notebooks to run when no paper is named (default: the introduction). */
  extraNotebooks?: readonly string[];
  log?: (line: string) => void;
}

/** A paper's summary file, `results/<paper>/<scale>/summary.json`. */
export interface PaperSummary {
  paper: string;
  title: string;
  scale: Scale;
  quick: boolean;
  generatedAt: string;
  rows: RowSummary[];
  claims: Omit<ClaimResult, "rule">[];
  cells: { row: string; seed: number; status: string; error?: string }[];
}

/** What {@link reproduce} did. */
export interface ReproduceReport {
  grids: GridReport[];
  summaries: string[];
  notebooks: { path: string; output?: string; error?: string }[];
  ok: boolean;
}

function table(summary: PaperSummary): string {
  const metrics = [...new Set(summary.rows.flatMap((r) => Object.keys(r.ours)))];
  const lines = [`| row | ${metrics.map((m) => `${m} paper | ${m} ours`).join(" | ")} |`];
  lines.push(`|---|${metrics.map(() => "---|---").join("|")}|`);
  for (const r of summary.rows) {
    const cells = metrics.map((m) =>
      `${r.paper[m] ?? "—"} | ${r.ours[m] ? formatStats(r.ours[m]) : "—"}`
    );
    lines.push(`| ${r.label} | ${cells.join(" | ")} |`);
  }
  for (const c of summary.claims) {
    const parts = c.parts.map((p) => `${p.label}: ${formatStats(p.stats, 2)} (n=${p.stats.n})`);
    lines.push(`${c.verdict} ${c.id} ${c.text} — ${parts.join("; ")}`);
  }
  return lines.join("\n");
}

/** Runs the reproduction; never throws for a failed cell or notebook (see `ok`). */
export async function reproduce(options: ReproduceOptions = {}): Promise<ReproduceReport> {
  const log = options.log ?? ((line: string) => console.error(line));
  const registry = options.registry ?? PAPERS;
  const entries = selectPapers(options.papers ?? [], registry);
  const scale = options.scale ?? "cpu";
  const quick = options.quick ?? false;
  const results = resolve(options.results ?? `${PROJECT_ROOT}/results`);
  const work = resolve(options.work ?? `${PROJECT_ROOT}/data/runs`);
  const report: ReproduceReport = { grids: [], summaries: [], notebooks: [], ok: true };
  if (entries.length === 0) log("[reproduce] no papers are registered yet: nothing to train");

  for (const entry of entries) {
    const spec = await importSpec(entry.module);
    const n = options.seeds ?? spec.seeds ?? 3;
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`--seeds must be a positive integer, got ${n}`);
    }
    const grid = await runGrid({
      specModule: entry.module,
      scale,
      seeds: Array.from({ length: n }, (_, i) => i),
      quick,
      force: options.force,
      workers: options.workers,
      roots: { results, work },
      backend: options.backend,
      log,
    });
    report.grids.push(grid);
    if (grid.failed > 0) report.ok = false;
    const stored = await loadResults(results, spec.paper, scale, quick);
    const summary: PaperSummary = {
      paper: spec.paper,
      title: spec.title,
      scale,
      quick,
      generatedAt: new Date().toISOString(),
      rows: summarizeRows(spec, stored),
      claims: evaluateClaims(spec, stored).map(({ rule: _rule, ...rest }) => rest),
      cells: grid.cells.map((c) => ({
        row: c.key.row,
        seed: c.key.seed,
        status: c.status,
        error: c.error,
      })),
    };
    const path = `${results}/${spec.paper}/${scaleDir(scale, quick)}/summary.json`;
    await writeTextAtomic(path, JSON.stringify(summary, null, 1) + "\n");
    report.summaries.push(path);
    log(`\n${spec.paper} (${scale}${quick ? ", quick" : ""}):\n${table(summary)}\n`);
  }

  if (!options.skipNotebooks) {
    const notebooks = [
      ...((options.papers ?? []).length === 0 ? options.extraNotebooks ?? EXTRA_NOTEBOOKS : []),
      ...entries.flatMap((e) => (e.notebook ? [e.notebook] : [])),
    ];
    for (const nb of notebooks) {
      const path = resolve(PROJECT_ROOT, nb);
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
    log(`  cells     ${results}/${g.paper}/${scaleDir(scale, quick)}/<row>/seed<N>.json`);
  }
  for (const nb of report.notebooks) log(`  notebook  ${nb.output ?? `${nb.path}: FAILED`}`);
  for (const c of failedCells) {
    log(`  ${c.status.toUpperCase()} ${c.key.row}/seed${c.key.seed}: ${c.error?.split("\n")[0]}`);
  }
  return report;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
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
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "deno task reproduce [--paper P]... [--scale cpu|paper] [--seeds N] [--quick] [--force]\n" +
        "                    [--workers N] [--backend wasm|cpu|tensorflow] [--results DIR] [--skip-notebooks]",
    );
    return 0;
  }
  if (values.scale !== "cpu" && values.scale !== "paper") {
    throw new Error(`--scale must be cpu or paper, got ${values.scale}`);
  }
  const report = await reproduce({
    papers: values.paper ?? [],
    scale: values.scale,
    seeds: values.seeds === undefined ? undefined : Number(values.seeds),
    quick: values.quick,
    force: values.force,
    workers: Number(values.workers),
    backend: values.backend,
    results: values.results,
    skipNotebooks: values["skip-notebooks"],
  });
  return report.ok ? 0 : 1;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(`reproduce: ${(error as Error).message}`);
    Deno.exit(2);
  }
}
