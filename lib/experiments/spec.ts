/**
 * What a paper supplies to the experiment engine (docs/design.md, 'Experiments as data'): base configs per
 * scale, ablation rows as switch sets over the base (fast-reid style: a base config plus
 * per-row deltas), the paper's reported numbers, the claims as executable checks over
 * seed-paired results, and the function that trains and evaluates one grid cell.
 *
 * @module
 */
import type { Rng } from "../runtime/random.ts";
import type { LossHistory } from "../train/history.ts";

/** A JSON value (configs and notes must survive a JSON round trip). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A config: a JSON object. */
export type Config = { [key: string]: Json };

/** The two scales (docs/design.md, 'Scales'). */
export type Scale = "cpu" | "paper";

/** The scales, in order. */
export const SCALES: readonly Scale[] = ["cpu", "paper"];

/** A partial config: objects may be partial at any depth; arrays and values are replaced. */
export type Delta<C> = C extends readonly unknown[] ? C
  : C extends object ? { [K in keyof C]?: Delta<C[K]> }
  : C;

/** A cell's metrics, e.g. `{ R1: 41.2, mAP: 35.0 }` (percent, as the papers report). */
export type CellMetrics = Record<string, number>;

/**
 * One ablation row: a switch set over the base config and what the paper reports for it. `R`
 * is the union of the paper's row ids and `M` of its metric names ({@link definePaperSpec}).
 */
export interface RowSpec<
  C extends Config = Config,
  R extends string = string,
  M extends string = string,
> {
  /** A short, directory-safe id, e.g. "embed-adv". */
  id: R;
  /** The row's name in the paper, e.g. "Embed + adv". */
  label: string;
  /** Which table it belongs to, e.g. "Table 2". */
  table?: string;
  /** The switches this row changes relative to the base config. */
  delta: Delta<C>;
  /** The paper's numbers for this row, keyed by our metric names. */
  paper?: Partial<Record<NoInfer<M>, number>>;
  /**
   * Rows whose cell with the same seed must finish first, because this row starts from
   * their artifacts (e.g. PAENet's freeze continuations from the step-100 snapshot).
   */
  needs?: NoInfer<R>[];
  /** Scales at which the row runs (default: all). */
  scales?: Scale[];
}

/** `m(row, metric)`: a metric of one seed's cell; throws when that cell is missing. */
export type MetricLookup<R extends string = string, M extends string = string> = (
  row: R,
  metric: M,
) => number;

/**
 * One paired comparison of a claim: a number computed per seed from that seed's cells
 * (usually a difference of two rows' metric); the part holds when it exceeds `margin`.
 */
export interface ClaimPart<R extends string = string, M extends string = string> {
  /** What is compared, e.g. "SAL − Embed, mAP". */
  label: string;
  /** The per-seed value. */
  value: (m: MetricLookup<R, M>) => number;
  /** The value must exceed this (default 0). */
  margin?: number;
  /**
   * The smallest excess over `margin` that counts as a real gap (default 0): below it the
   * part is at best inconclusive however small the spread (lib/papers/cmgan/README.md, 'Claims': "every gap
   * ≥ max(2 points, 1 std)").
   */
  minGap?: number;
  /** The same quantity computed from the paper's numbers, for reference. */
  paper?: number;
}

/**
 * How a part's per-seed values decide: `mean` — the mean exceeds the margin;
 * `se` / `sd` — the mean exceeds the margin by `k` standard errors / standard
 * deviations of the paired values (k default 1); within that band the verdict is
 * inconclusive. `reversal` says when a mean on the wrong side is ✗: "any" (default) —
 * always; "beyondNoise" — only when it is past the margin by more than that band too
 * (a reversal within the noise is inconclusive).
 */
export type ClaimRule =
  | { test: "mean" }
  | { test: "se" | "sd"; k?: number; reversal?: "any" | "beyondNoise" };

/** A claim of the paper as an executable check. */
export interface ClaimSpec<R extends string = string, M extends string = string> {
  /** A short id, e.g. "C1". */
  id: string;
  /** The claim in words. */
  text: string;
  /** Where the paper makes it, e.g. "Table 2". */
  source?: string;
  /** All parts must hold for the claim to hold. */
  parts: ClaimPart<R, M>[];
  /** Overrides the paper's default rule. */
  rule?: ClaimRule;
}

/** What a cell's training code gets besides its config and seed. */
export interface CellContext {
  paper: string;
  row: string;
  scale: Scale;
  seed: number;
  /** True in quick mode (the config already has the quick delta applied). */
  quick: boolean;
  /** The cell's random source, `new Rng(seed)`: fork it per purpose. */
  rng: Rng;
  /** Record losses here; the history is stored in the cell's result. */
  history: LossHistory;
  /** A scratch folder for this cell's checkpoints and snapshots (not committed). */
  dir: string;
  /** The scratch folder of another row's cell with the same seed (see {@link RowSpec.needs}). */
  dirOf(row: string): string;
  /** Stores a JSON diagnostic in the result (`extras`). */
  note(key: string, value: Json): void;
  /** Writes a line to the cell's log (stderr). */
  log(message: string): void;
}

/** A paper's experiments. */
export interface PaperSpec<
  C extends Config = Config,
  R extends string = string,
  M extends string = string,
> {
  /** Registry name and results folder, e.g. "sal". */
  paper: string;
  title: string;
  /** Bump when the training code changes in a way that invalidates stored results. */
  version?: string;
  /** The base config of each scale. */
  base: Record<Scale, C>;
  /** A delta applied on top in quick mode (few steps, tiny data). */
  quick?: Delta<C>;
  rows: RowSpec<C, R, M>[];
  claims: ClaimSpec<NoInfer<R>, NoInfer<M>>[];
  /** The default claim rule (default `{ test: "se", k: 1 }`). */
  claimRule?: ClaimRule;
  /** Seeds per cell when the command line does not say (default 3). */
  seeds?: number;
  /**
   * Every metric a cell reports, in table order, e.g. ["mAP", "R1", "R5", "R10"]; claims and
   * the rows' paper numbers may name only these (checked when compiling a spec written with
   * {@link definePaperSpec}, and by lib/experiments/conformance_test.ts).
   */
  metrics?: readonly M[];
  /**
   * The config moved to the synthetic world drawn with another seed (`reproduce
   * --world-seed N`): every world seed the config holds set to N, and every folder the
   * worlds are rendered into (and anything derived from them) moved to one of its own, so
   * no file of the default world is overwritten or reused. Throws for a config that reads
   * real data. Absent: the paper cannot be run on another world. See docs/design.md,
   * 'World seeds'.
   */
  withWorldSeed?(config: C, worldSeed: number): C;
  /** Trains and evaluates one cell. */
  runCell(config: C, seed: number, context: CellContext): Promise<CellMetrics>;
}

/**
 * A paper's spec with its row ids and metric names as literal types, inferred from `rows[].id`
 * and `metrics`: a claim's `m("row", "metric")` or a row's paper number that names a row or a
 * metric the spec lacks fails to compile.
 *
 * ```ts
 * export const spec = definePaperSpec({ ..., rows: [{ id: "embed", ... }], metrics: ["mAP"],
 *   claims: [{ ..., parts: [{ value: (m) => m("sal", "mAP") - m("embed", "mAP") }] }] });
 * ```
 */
export function definePaperSpec<C extends Config, const R extends string, const M extends string>(
  spec: PaperSpec<C, R, M> & { metrics: readonly M[] },
): PaperSpec<C, R, M> {
  return spec;
}

/** Checks a spec's shape once, so mistakes surface before any training starts. */
export function validateSpec(spec: PaperSpec, source = spec.paper): void {
  const where = `paper spec ${source}`;
  if (!/^[a-z0-9][\w-]*$/i.test(spec.paper)) {
    throw new Error(`${where}: bad paper name "${spec.paper}"`);
  }
  for (const scale of SCALES) {
    if (!spec.base?.[scale] || typeof spec.base[scale] !== "object") {
      throw new Error(`${where}: base config for scale "${scale}" missing`);
    }
  }
  const ids = new Set<string>();
  for (const row of spec.rows) {
    if (!/^[a-z0-9][\w.-]*$/i.test(row.id)) throw new Error(`${where}: bad row id "${row.id}"`);
    if (ids.has(row.id)) throw new Error(`${where}: row id "${row.id}" used twice`);
    ids.add(row.id);
  }
  for (const row of spec.rows) {
    for (const need of row.needs ?? []) {
      if (!ids.has(need)) throw new Error(`${where}: row "${row.id}" needs unknown row "${need}"`);
    }
  }
  const claimIds = new Set<string>();
  for (const claim of spec.claims) {
    if (claimIds.has(claim.id)) throw new Error(`${where}: claim id "${claim.id}" used twice`);
    claimIds.add(claim.id);
    if (claim.parts.length === 0) throw new Error(`${where}: claim "${claim.id}" has no parts`);
  }
  if (typeof spec.runCell !== "function") throw new Error(`${where}: runCell is not a function`);
}

/** The row with this id, or an error listing the known ones. */
export function findRow<C extends Config>(spec: PaperSpec<C>, id: string): RowSpec<C> {
  const row = spec.rows.find((r) => r.id === id);
  if (!row) {
    throw new Error(
      `paper ${spec.paper} has no row "${id}"; rows: ${spec.rows.map((r) => r.id).join(", ")}`,
    );
  }
  return row;
}
