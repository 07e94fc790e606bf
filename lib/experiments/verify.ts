/**
 * `deno task reproduce --verify`: retrains stored cells into a scratch folder and compares
 * their metrics with the stored ones. The store reuses a cell when its config hash matches
 * (lib/experiments/store.ts), so a code change that moves the numbers without touching any
 * config goes unseen until something retrains: this is that something. A session found
 * exactly that case in cmGAN's committed grid (README.md, 'Checking stored results').
 *
 * The same seed gives the same result on the same backend, so the default tolerance is 0:
 * any difference is reported. Metrics that measure time ({@link TIMING_METRIC}) are left
 * out. A stored cell from another backend is compared all the same and says so.
 *
 * @module
 */
import { resolve } from "node:path";
import { type PaperEntry, selectPapers } from "./papers.ts";
import { importSpec } from "./cell_runner.ts";
import { planGrid, runGrid } from "./grid.ts";
import { seedList } from "./config.ts";
import type { Scale } from "./spec.ts";
import { type CellKey, keyText, readResult, resultPath } from "./store.ts";
import { repoPath } from "../runtime/paths.ts";

/**
 * Metric names that measure time, not the model, never compared: those with "seconds" in
 * them or an "ms" word (`seconds_per_step`, `stage2_seconds`, SAL's `ms_per_iter`).
 */
export const TIMING_METRIC = /seconds|(^|_)ms(_|$)/i;

/** Options of {@link verifyStored}. */
export interface VerifyOptions {
  papers?: string[];
  scale?: Scale;
  /** Seeds 0 … seeds−1 to retrain (default 1: seed 0 of every row). */
  seeds?: number;
  quick?: boolean;
  worldSeed?: number;
  /** Largest |stored − retrained| that still counts as equal (default 0). */
  tolerance?: number;
  workers?: number;
  backend?: string;
  /** Where the stored results are (default `<repo>/results`). */
  results?: string;
  /** Scratch root of the retrained cells; default a fresh temporary folder, removed after. */
  scratch?: string;
  registry: readonly PaperEntry[];
  log?: (line: string) => void;
}

/** One metric that differs. */
export interface MetricDiff {
  metric: string;
  stored: number | null;
  retrained: number | null;
}

/** The verdict on one stored cell. */
export interface CellCheck {
  key: CellKey;
  status: "identical" | "differs" | "failed";
  diffs: MetricDiff[];
  /** The stored cell ran on another backend than the retrained one. */
  otherBackend?: string;
  error?: string;
}

/** What {@link verifyStored} found. */
export interface VerifyReport {
  checks: CellCheck[];
  /** Cells of the grid with no stored result: nothing to compare. */
  notStored: CellKey[];
  ok: boolean;
}

/** The metrics of two results that differ by more than `tolerance` (timings left out). */
export function compareMetrics(
  stored: Record<string, unknown>,
  retrained: Record<string, unknown>,
  tolerance = 0,
): MetricDiff[] {
  const diffs: MetricDiff[] = [];
  const names = [...new Set([...Object.keys(stored), ...Object.keys(retrained)])].sort();
  for (const metric of names) {
    if (TIMING_METRIC.test(metric)) continue;
    const a = stored[metric];
    const b = retrained[metric];
    const num = (v: unknown) => (typeof v === "number" ? v : null);
    const same = typeof a === "number" && typeof b === "number"
      ? (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= tolerance
      : JSON.stringify(a) === JSON.stringify(b);
    if (!same) diffs.push({ metric, stored: num(a), retrained: num(b) });
  }
  return diffs;
}

/**
 * Retrains the stored cells of the chosen papers' grids (seeds 0 … `seeds`−1, every row)
 * into a scratch folder and compares each with its stored result. Never writes into
 * `results`. `ok` is false when any cell differs or fails to retrain.
 */
export async function verifyStored(options: VerifyOptions): Promise<VerifyReport> {
  const log = options.log ?? ((line: string) => console.error(line));
  const scale = options.scale ?? "cpu";
  const quick = options.quick ?? false;
  const results = resolve(options.results ?? repoPath("results"));
  const ownScratch = options.scratch === undefined;
  const scratch = options.scratch ?? await Deno.makeTempDir({ prefix: "reid-verify-" });
  const report: VerifyReport = { checks: [], notStored: [], ok: true };
  try {
    for (const entry of selectPapers(options.papers ?? [], options.registry)) {
      const spec = await importSpec(entry.module);
      const seeds = seedList(spec, options.seeds ?? 1);
      const plan = await planGrid(spec, {
        scale,
        seeds,
        quick,
        worldSeed: options.worldSeed,
        roots: { results, work: `${scratch}/work` },
      });
      report.notStored.push(...plan.pending);
      if (plan.reused.length === 0) {
        log(`[verify] ${spec.paper}: no stored cells of the current grid to check`);
        continue;
      }
      log(
        `[verify] ${spec.paper}: retraining ${plan.reused.length} stored cell(s) into ${scratch}`,
      );
      // The whole grid of those seeds runs, so rows that need other rows find them.
      const grid = await runGrid({
        specModule: entry.module,
        scale,
        seeds,
        quick,
        worldSeed: options.worldSeed,
        workers: options.workers,
        backend: options.backend,
        roots: { results: `${scratch}/results`, work: `${scratch}/work` },
        log,
        echo: false,
      });
      const failed = new Map(
        grid.cells.filter((c) => c.status !== "done").map((c) => [keyText(c.key), c]),
      );
      for (const key of plan.reused) {
        const stored = await readResult(resultPath(results, key));
        const rerun = failed.has(keyText(key))
          ? null
          : await readResult(resultPath(`${scratch}/results`, key));
        if (!stored || !rerun) {
          const error = failed.get(keyText(key))?.error ?? "no retrained result";
          report.checks.push({ key, status: "failed", diffs: [], error });
          continue;
        }
        const diffs = compareMetrics(stored.metrics, rerun.metrics, options.tolerance ?? 0);
        const otherBackend = stored.backend.name !== rerun.backend.name
          ? `stored on ${stored.backend.name}, retrained on ${rerun.backend.name}`
          : undefined;
        report.checks.push({
          key,
          status: diffs.length ? "differs" : "identical",
          diffs,
          ...(otherBackend ? { otherBackend } : {}),
        });
      }
    }
  } finally {
    if (ownScratch) await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
  report.ok = report.checks.every((c) => c.status === "identical");
  for (const line of describeVerify(report)) log(line);
  return report;
}

/** The report as lines: a count per paper, then every cell that differs or failed. */
export function describeVerify(report: VerifyReport): string[] {
  const lines: string[] = [];
  const papers = [...new Set(report.checks.map((c) => c.key.paper))];
  for (const paper of papers) {
    const mine = report.checks.filter((c) => c.key.paper === paper);
    const count = (s: CellCheck["status"]) => mine.filter((c) => c.status === s).length;
    lines.push(
      `[verify] ${paper}: ${count("identical")} identical, ${count("differs")} differ, ` +
        `${count("failed")} failed to retrain (of ${mine.length} stored)`,
    );
    for (const c of mine.filter((c) => c.status !== "identical")) {
      const what = c.status === "failed" ? `failed: ${c.error?.split("\n")[0]}` : c.diffs
        .slice(0, 4)
        .map((d) => `${d.metric} ${d.stored} → ${d.retrained}`)
        .join(", ") + (c.diffs.length > 4 ? `, … (${c.diffs.length} metrics)` : "");
      lines.push(`  ${keyText(c.key)}: ${what}${c.otherBackend ? ` (${c.otherBackend})` : ""}`);
    }
  }
  if (report.notStored.length) {
    lines.push(
      `[verify] ${report.notStored.length} cell(s) of the grid are not stored: not checked`,
    );
  }
  return lines;
}
