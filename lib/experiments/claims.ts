/**
 * Claims evaluated over seeds. Each part of a claim is a per-seed quantity (usually the
 * difference of two rows' metric for the same seed — a paired comparison, so seed-level
 * noise shared by both rows cancels); the verdict compares its mean over seeds with the
 * margin and the spread of the paired values. Also per-row summaries (mean ± std) for
 * tables.
 *
 * @module
 */
import type { ClaimPart, ClaimRule, ClaimSpec, MetricLookup, PaperSpec } from "./spec.ts";
import type { CellResult } from "./store.ts";

/** Stored results: row → seed → result (as `loadResults` returns them). */
export type ResultTable = Map<string, Map<number, Pick<CellResult, "metrics">>>;

/** ✓ holds, ✗ contradicted (wrong side of the margin), ~ inconclusive, — no data. */
export type Verdict = "✓" | "✗" | "~" | "—";

/** Mean, sample standard deviation and standard error of some numbers. */
export interface Stats {
  n: number;
  mean: number;
  std: number;
  se: number;
}

/** The evaluation of one claim part. */
export interface PartResult {
  label: string;
  margin: number;
  paper?: number;
  /** The per-seed values, by seed. */
  values: { seed: number; value: number }[];
  stats: Stats;
  verdict: Verdict;
  /** Seeds skipped for missing cells, with the first missing cell's name. */
  missing: { seed: number; cell: string }[];
}

/** The evaluation of one claim. */
export interface ClaimResult {
  id: string;
  text: string;
  source?: string;
  rule: ClaimRule;
  parts: PartResult[];
  verdict: Verdict;
}

/** Mean, std (n − 1) and standard error; NaN where undefined. */
export function stats(values: readonly number[]): Stats {
  const n = values.length;
  if (n === 0) return { n, mean: NaN, std: NaN, se: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : NaN;
  return { n, mean, std, se: std / Math.sqrt(n) };
}

class MissingCell extends Error {}

/**
 * The part's verdict from its values under `rule`: ✓ when the mean exceeds `margin` by
 * more than both `minGap` and the rule's noise band, ✗ when it is on the wrong side
 * (beyond the band too, under `reversal: "beyondNoise"`), ~ otherwise.
 */
export function verdictOf(s: Stats, margin: number, rule: ClaimRule, minGap = 0): Verdict {
  if (s.n === 0 || Number.isNaN(s.mean)) return "—";
  const excess = s.mean - margin;
  if (rule.test === "mean") return excess <= 0 ? "✗" : excess > minGap ? "✓" : "~";
  const spread = rule.test === "se" ? s.se : s.std;
  const band = (rule.k ?? 1) * spread;
  if (excess <= 0) {
    // One seed has no spread: any reversal counts.
    const beyond = rule.reversal !== "beyondNoise" || !Number.isFinite(band) || -excess > band;
    return beyond ? "✗" : "~";
  }
  if (!Number.isFinite(spread)) return "~"; // one seed: no spread to judge by
  return excess > Math.max(band, minGap) ? "✓" : "~";
}

function seedsOf(results: ResultTable): number[] {
  const seeds = new Set<number>();
  for (const bySeed of results.values()) for (const seed of bySeed.keys()) seeds.add(seed);
  return [...seeds].sort((a, b) => a - b);
}

function evaluatePart(part: ClaimPart, results: ResultTable, rule: ClaimRule): PartResult {
  const values: PartResult["values"] = [];
  const missing: PartResult["missing"] = [];
  for (const seed of seedsOf(results)) {
    const m: MetricLookup = (row, metric) => {
      const value = results.get(row)?.get(seed)?.metrics[metric];
      if (typeof value !== "number") throw new MissingCell(`${row}/seed${seed}.${metric}`);
      return value;
    };
    try {
      values.push({ seed, value: part.value(m) });
    } catch (error) {
      if (!(error instanceof MissingCell)) throw error;
      missing.push({ seed, cell: error.message });
    }
  }
  const margin = part.margin ?? 0;
  const s = stats(values.map((v) => v.value));
  return {
    label: part.label,
    margin,
    paper: part.paper,
    values,
    stats: s,
    verdict: verdictOf(s, margin, rule, part.minGap ?? 0),
    missing,
  };
}

/** The default rule: the mean exceeds the margin by one standard error of the paired values. */
export const DEFAULT_RULE: ClaimRule = { test: "se", k: 1 };

/** Evaluates every claim of `spec` on stored results. */
export function evaluateClaims(
  spec: Pick<PaperSpec, "claims" | "claimRule">,
  results: ResultTable,
): ClaimResult[] {
  return spec.claims.map((claim) => evaluateClaim(claim, results, spec.claimRule ?? DEFAULT_RULE));
}

/** Evaluates one claim: ✓ if every part holds, ✗ if any is contradicted, — if any lacks data, else ~. */
export function evaluateClaim(
  claim: ClaimSpec,
  results: ResultTable,
  defaultRule = DEFAULT_RULE,
): ClaimResult {
  const rule = claim.rule ?? defaultRule;
  const parts = claim.parts.map((p) => evaluatePart(p, results, rule));
  const verdicts = parts.map((p) => p.verdict);
  const verdict: Verdict = verdicts.includes("✗")
    ? "✗"
    : verdicts.includes("—")
    ? "—"
    : verdicts.every((v) => v === "✓")
    ? "✓"
    : "~";
  return { id: claim.id, text: claim.text, source: claim.source, rule, parts, verdict };
}

// ---- helpers to write claims ----

/** `a − b` on `metric` (paired per seed) must exceed `margin`. */
export function gt<R extends string, M extends string>(
  a: R,
  b: R,
  metric: M,
  options: { margin?: number; paper?: number; minGap?: number } = {},
): ClaimPart<R, M> {
  return {
    label: `${a} − ${b}, ${metric}`,
    value: (m) => m(a, metric) - m(b, metric),
    margin: options.margin,
    paper: options.paper,
    ...(options.minGap === undefined ? {} : { minGap: options.minGap }),
  };
}

/** `a − max(others)` on `metric` must exceed `margin` ("A beats the best of B, C"). */
export function gtMax<R extends string, M extends string>(
  a: R,
  others: R[],
  metric: M,
  options: { margin?: number; paper?: number } = {},
): ClaimPart<R, M> {
  return {
    label: `${a} − max(${others.join(", ")}), ${metric}`,
    value: (m) => m(a, metric) - Math.max(...others.map((o) => m(o, metric))),
    margin: options.margin,
    paper: options.paper,
  };
}

/** An ordering `rows[0] < rows[1] < …` on `metric`, as one part per consecutive pair. */
export function chain<R extends string, M extends string>(
  rowsAscending: R[],
  metric: M,
  options: { margin?: number; minGap?: number } = {},
): ClaimPart<R, M>[] {
  return rowsAscending.slice(1).map((row, i) => gt(row, rowsAscending[i], metric, options));
}

/** The paper's value of `row`'s `metric` in `spec`, for `paper:` fields of parts. */
export function paperValue<R extends string, M extends string>(
  spec: { rows: readonly { id: R; paper?: Partial<Record<M, number>> }[] },
  row: NoInfer<R>,
  metric: NoInfer<M>,
): number | undefined {
  return spec.rows.find((r) => r.id === row)?.paper?.[metric];
}

// ---- row summaries for tables ----

/** One row of a results table: the paper's numbers beside ours (mean ± std over seeds). */
export interface RowSummary {
  row: string;
  label: string;
  table?: string;
  paper: Record<string, number>;
  ours: Record<string, Stats>;
  seeds: number[];
  /** Seeds whose cell of this row failed on its last run (not counted in `ours`). */
  failedSeeds: number[];
}

/**
 * Per-row mean ± std of every metric (or of `metrics`), in the spec's row order; `failed`
 * cells are listed per row so that a table can show them as failed.
 */
export function summarizeRows(
  spec: Pick<PaperSpec, "rows" | "metrics">,
  results: ResultTable,
  metrics?: string[],
  failed: readonly { row: string; seed: number }[] = [],
): RowSummary[] {
  return spec.rows.map((row) => {
    const bySeed = results.get(row.id) ?? new Map();
    const seeds = [...bySeed.keys()].sort((a, b) => a - b);
    const names = metrics ?? spec.metrics ??
      [...new Set(seeds.flatMap((s) => Object.keys(bySeed.get(s)!.metrics)))];
    const ours: Record<string, Stats> = {};
    for (const name of names) {
      ours[name] = stats(
        seeds.map((s) => bySeed.get(s)!.metrics[name]).filter((v): v is number =>
          typeof v === "number"
        ),
      );
    }
    return {
      row: row.id,
      label: row.label,
      table: row.table,
      paper: Object.fromEntries(
        Object.entries(row.paper ?? {}).filter((e): e is [string, number] => e[1] !== undefined),
      ),
      ours,
      seeds,
      failedSeeds: failed.filter((f) => f.row === row.id).map((f) => f.seed).sort((a, b) => a - b),
    };
  });
}

/** `12.3 ± 0.4` (or `12.3` for one seed, `—` for none). */
export function formatStats(s: Stats, digits = 1): string {
  if (s.n === 0 || Number.isNaN(s.mean)) return "—";
  return s.n > 1 ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : s.mean.toFixed(digits);
}
