/**
 * The project's figures (docs/design.md, 'Display'): loss curves, CMC curves, ablation
 * bars (paper vs ours with error bars) and 2-D feature scatters. Each returns a
 * {@link FigureBundle}: Plotly JSON + SVG fallback + text, ready for
 * `display(...)` or to end a notebook cell with.
 *
 * @module
 */
import { smooth as emaSmooth } from "../train/history.ts";
import {
  type Chart,
  type FigureBundle,
  figureBundle,
  type LineTrace,
  type MarkerSymbol,
  PALETTE,
  paletteColor,
  type ScatterTrace,
  type Trace,
} from "./chart.ts";

/** A recorded series: steps and values (null / NaN for missing or diverged points). */
export interface SeriesLike {
  steps: number[];
  values: (number | null)[];
}

/** Loss series by name, as `LossHistory.toJSON().series` holds them, or a history itself. */
export type LossInput =
  | Record<string, SeriesLike>
  | { series: Record<string, SeriesLike> }
  | { toJSON(): { series: Record<string, SeriesLike> } };

/** Options of {@link lossCurves}. */
export interface LossCurveOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Log-scaled y axis (losses spanning decades). */
  logY?: boolean;
  /** EMA weight in [0, 1): draw the smoothed curve over the faint raw one (0: raw only). */
  smooth?: number;
  /** Which series, in which order (default: all, in insertion order). */
  names?: string[];
  /**
   * Horizontal reference lines, dashed grey (e.g. `{ name: "ln 2 (D at chance)", value:
   * Math.LN2 }`), so that a curve can be read against the value a claim names.
   */
  reference?: { name: string; value: number }[];
  width?: number;
  height?: number;
}

function lossSeries(input: LossInput): Record<string, SeriesLike> {
  if ("toJSON" in input && typeof input.toJSON === "function") return input.toJSON().series;
  if ("series" in input && typeof input.series === "object" && !Array.isArray(input.series)) {
    const inner = input.series as Record<string, unknown>;
    if (!("steps" in inner)) return inner as Record<string, SeriesLike>;
  }
  return input as Record<string, SeriesLike>;
}

/**
 * Loss curves: one line per series (e.g. generator vs discriminator), against
 * the training step.
 *
 * @see notebooks/00_introduction.ipynb §4 (training, live loss curve)
 */
export function lossCurves(input: LossInput, options: LossCurveOptions = {}): FigureBundle {
  const all = lossSeries(input);
  const names = options.names ?? Object.keys(all);
  const traces: LineTrace[] = [];
  names.forEach((name, i) => {
    const s = all[name];
    if (!s) {
      throw new Error(`lossCurves: no series "${name}" (have ${Object.keys(all).join(", ")})`);
    }
    if (s.steps.length !== s.values.length) {
      throw new Error(
        `lossCurves: series "${name}" has ${s.steps.length} steps but ${s.values.length} values`,
      );
    }
    const values = s.values.map((v) => (v === null ? NaN : v));
    const color = paletteColor(i);
    if (options.smooth && options.smooth > 0) {
      traces.push({
        kind: "line",
        name: `${name} (raw)`,
        x: s.steps,
        y: values,
        color,
        width: 1,
        opacity: 0.3,
        showInLegend: false,
      });
      traces.push({ kind: "line", name, x: s.steps, y: emaSmooth(values, options.smooth), color });
    } else {
      traces.push({ kind: "line", name, x: s.steps, y: values, color });
    }
  });
  const steps = names.flatMap((n) => all[n].steps);
  if (options.reference && steps.length > 0) {
    const span = [Math.min(...steps), Math.max(...steps)];
    for (const [i, ref] of options.reference.entries()) {
      traces.push({
        kind: "line",
        name: ref.name,
        x: span,
        y: [ref.value, ref.value],
        color: ["#555555", "#999999", "#bbbbbb"][i % 3],
        dash: "dash",
        width: 1.5,
      });
    }
  }
  return figureBundle({
    title: options.title ?? "Training losses",
    x: { label: options.xLabel ?? "step" },
    y: { label: options.yLabel ?? "loss", type: options.logY ? "log" : "linear" },
    traces,
    width: options.width,
    height: options.height,
  });
}

/** A CMC curve: `cmc[k-1]` is the rank-k accuracy as a fraction (as `evaluate` returns). */
export interface CmcCurve {
  name: string;
  cmc: number[];
}

/** Options of {@link cmcCurves}. */
export interface CmcOptions {
  title?: string;
  /** Ranks shown (default 20, or fewer when the curves are shorter). */
  maxRank?: number;
  /**
   * Rank-k accuracy of a random ranking (`chance[k-1]`, a fraction; {@link chanceCmc}), drawn
   * as a dashed grey line so the curves can be read against it.
   */
  chance?: number[];
  width?: number;
  height?: number;
}

/**
 * The CMC of a random ranking: for each query with `m` true matches among `n` ranked
 * gallery items (after the protocol's exclusions), P(a match in the first k) =
 * 1 − C(n−m, k) / C(n, k), averaged over the queries that have a match.
 *
 * @param counts per query: `matches` and `candidates` after exclusions
 */
export function chanceCmc(
  counts: readonly { matches: number; candidates: number }[],
  maxRank: number,
): number[] {
  const valid = counts.filter((c) => c.matches > 0 && c.candidates > 0);
  if (valid.length === 0) return Array(maxRank).fill(0);
  return Array.from({ length: maxRank }, (_, i) => {
    const k = i + 1;
    let sum = 0;
    for (const { matches: m, candidates: n } of valid) {
      // P(no match in the first k) = prod_{j<k} (n − m − j) / (n − j).
      let miss = 1;
      for (let j = 0; j < k && miss > 0; j++) miss *= Math.max(0, n - m - j) / (n - j);
      sum += 1 - miss;
    }
    return sum / valid.length;
  });
}

/**
 * CMC curves (rank-k accuracy against k), in percent, one line per method or row.
 *
 * @see notebooks/00_introduction.ipynb §5 (evaluation)
 */
export function cmcCurves(
  curves: CmcCurve[] | Record<string, number[]>,
  options: CmcOptions = {},
): FigureBundle {
  const list: CmcCurve[] = Array.isArray(curves)
    ? curves
    : Object.entries(curves).map(([name, cmc]) => ({ name, cmc }));
  if (list.length === 0) throw new Error("cmcCurves: no curves given");
  const longest = Math.max(...list.map((c) => c.cmc.length));
  const maxRank = Math.min(options.maxRank ?? 20, longest);
  for (const c of list) {
    if (c.cmc.some((v) => v > 1 + 1e-9 || v < 0)) {
      throw new Error(`cmcCurves: "${c.name}" has values outside [0, 1]; pass fractions`);
    }
  }
  const ranks = Array.from({ length: maxRank }, (_, k) => k + 1);
  return figureBundle({
    title: options.title ?? "CMC",
    x: { label: "rank", range: [0.5, maxRank + 0.5] },
    y: { label: "matching rate", percent: true, range: [0, 1] },
    traces: list.map((c, i) => ({
      kind: "line",
      name: `${c.name} (R1 ${(c.cmc[0] * 100).toFixed(1)}%)`,
      x: ranks.slice(0, Math.min(maxRank, c.cmc.length)),
      y: c.cmc.slice(0, maxRank),
      color: paletteColor(i),
      markers: maxRank <= 30,
    } as LineTrace)).concat(
      options.chance
        ? [{
          kind: "line",
          name: `chance (R1 ${(options.chance[0] * 100).toFixed(1)}%)`,
          x: ranks.slice(0, Math.min(maxRank, options.chance.length)),
          y: options.chance.slice(0, maxRank),
          color: "#9e9e9e",
          dash: "dash",
        }]
        : [],
    ),
    width: options.width,
    height: options.height,
  });
}

/** One paired comparison of a forest plot: the mean difference and its spread over seeds. */
export interface ForestItem {
  /** e.g. "C1 full − triplet-only, r1". */
  label: string;
  mean: number;
  /** Standard deviation of the paired differences (the error bar). */
  std: number;
  /** ✓ holds, ✗ contradicted beyond noise, ~ inconclusive. */
  verdict: "✓" | "✗" | "~" | "—";
  /** The paper's difference, when it reports one. */
  paper?: number;
}

const VERDICT_COLORS = { "✓": "#2ca02c", "✗": "#d62728", "~": "#7f7f7f", "—": "#bbbbbb" };
const VERDICT_NAMES = {
  "✓": "✓ holds",
  "✗": "✗ contradicted",
  "~": "~ inconclusive",
  "—": "— no data",
};

/**
 * A forest plot of paired differences (one bar per claim part: mean ± std over seeds,
 * coloured by verdict), with the paper's difference as a marker: what each verdict rests on,
 * against zero. The paper's own difference, where it reports one, is the light bar beside.
 */
export function forestPlot(
  items: ForestItem[],
  options: { title?: string; unit?: string; width?: number; height?: number } = {},
): FigureBundle {
  if (items.length === 0) throw new Error("forestPlot: no items given");
  const labels = items.map((it) => it.label);
  const traces: Trace[] = (["✓", "✗", "~", "—"] as const).flatMap((v): Trace[] => {
    const mine = items.filter((it) => it.verdict === v);
    if (mine.length === 0) return [];
    return [{
      kind: "bar",
      name: VERDICT_NAMES[v],
      x: mine.map((it) => it.label),
      y: mine.map((it) => it.mean),
      error: mine.map((it) => it.std),
      color: VERDICT_COLORS[v],
    }];
  });
  const paper = items.filter((it) => it.paper !== undefined && Number.isFinite(it.paper));
  if (paper.length > 0) {
    traces.unshift({
      kind: "bar",
      name: "paper's difference",
      x: paper.map((it) => it.label),
      y: paper.map((it) => it.paper!),
      color: "#d9d9d9",
    });
  }
  return figureBundle({
    title: options.title ?? "Paired differences (mean ± std over seeds)",
    x: { type: "category", categories: labels },
    y: { label: `difference${options.unit ? ` (${options.unit})` : ""}` },
    traces,
    width: options.width ?? Math.min(1100, Math.max(640, 220 + items.length * 30)),
    height: options.height ?? 440,
    note: "error bars: ± 1 std over seeds",
  });
}

/** Our result for one ablation row: per-seed values, or their summary. */
export type OursValue = number[] | { mean: number; std: number; n?: number };

/** One bar group of {@link ablationBars}. */
export interface AblationBar {
  /** Row label, e.g. "w/o MMD". */
  label: string;
  /** The paper's number (omit / null when it reports none). */
  paper?: number | null;
  ours?: OursValue | null;
}

/** Mean and sample standard deviation (n − 1; 0 for one value). */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

function summarise(value: OursValue | null | undefined) {
  if (value === null || value === undefined) return { mean: NaN, std: NaN, n: 0 };
  if (Array.isArray(value)) return meanStd(value);
  return { mean: value.mean, std: value.std, n: value.n ?? 0 };
}

/** Options of {@link ablationBars}. */
export interface AblationOptions {
  /** The metric and its unit, e.g. "Rank-1 (%)" — both sides must use it. */
  metric: string;
  title?: string;
  /** Decimals of the bar labels (default 1). */
  decimals?: number;
  width?: number;
  height?: number;
}

/**
 * Ablation bars: per row, the paper's number beside ours (mean over seeds with
 * a ± 1 std error bar). Values are plotted as given; pass both in the same unit.
 */
export function ablationBars(rows: AblationBar[], options: AblationOptions): FigureBundle {
  if (rows.length === 0) throw new Error("ablationBars: no rows given");
  const labels = rows.map((r) => r.label);
  if (new Set(labels).size !== labels.length) {
    throw new Error(`ablationBars: duplicate row labels in ${labels.join(", ")}`);
  }
  const ours = rows.map((r) => summarise(r.ours));
  const seeds = [...new Set(ours.filter((o) => o.n > 0).map((o) => o.n))];
  const decimals = options.decimals ?? 1;
  const show = (v: number) => (Number.isFinite(v) ? v.toFixed(decimals) : "");
  const paper = rows.map((r) => r.paper ?? NaN);
  return figureBundle({
    title: options.title ?? options.metric,
    x: { type: "category", categories: labels },
    y: { label: options.metric },
    traces: [
      {
        kind: "bar",
        name: "paper",
        x: labels,
        y: paper,
        color: "#9e9e9e",
        labels: paper.map(show),
      },
      {
        kind: "bar",
        name: `ours (mean ± std${seeds.length === 1 ? `, ${seeds[0]} seeds` : ""})`,
        x: labels,
        y: ours.map((o) => o.mean),
        error: ours.map((o) => o.std),
        color: PALETTE[0],
        labels: ours.map((o) => show(o.mean)),
      },
    ],
    width: options.width ?? Math.max(560, 300 + rows.length * 90),
    height: options.height,
  });
}

/** 2-D points: separate coordinate arrays, or a row-major embedding with `dims` ≥ 2. */
export type Points2D =
  | { x: ArrayLike<number>; y: ArrayLike<number> }
  | { data: ArrayLike<number>; rows: number; dims: number };

/** Options of {@link featureScatter}. */
export interface ScatterOptions {
  /** Identity per point: the colour. */
  identity: ArrayLike<number>;
  /** Modality (or domain, or any second factor) per point: the marker. */
  modality?: readonly string[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
}

const SYMBOLS: MarkerSymbol[] = ["circle", "triangle-up", "square", "diamond", "x", "cross"];

/** Distinct colours for n classes: the palette, then golden-angle hues. */
export function classColors(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    if (n <= PALETTE.length) return PALETTE[i];
    const hue = (i * 137.508) % 360;
    const light = [45, 60, 35][i % 3];
    return `hsl(${hue.toFixed(1)}, 65%, ${light}%)`;
  });
}

/**
 * A 2-D feature scatter (PCA / t-SNE output): colour by identity, marker by
 * modality — the picture of whether identities cluster across modalities.
 *
 * @see notebooks/00_introduction.ipynb §5 (the feature space)
 */
export function featureScatter(points: Points2D, options: ScatterOptions): FigureBundle {
  let xs: number[];
  let ys: number[];
  if ("data" in points) {
    if (points.dims < 2) throw new Error(`featureScatter: need ≥ 2 dims, got ${points.dims}`);
    xs = Array.from({ length: points.rows }, (_, i) => points.data[i * points.dims]);
    ys = Array.from({ length: points.rows }, (_, i) => points.data[i * points.dims + 1]);
  } else {
    xs = Array.from(points.x);
    ys = Array.from(points.y);
  }
  const n = xs.length;
  if (ys.length !== n || options.identity.length !== n) {
    throw new Error(
      `featureScatter: ${n} x, ${ys.length} y and ${options.identity.length} identities differ`,
    );
  }
  if (options.modality && options.modality.length !== n) {
    throw new Error(`featureScatter: ${options.modality.length} modalities for ${n} points`);
  }
  const ids = [...new Set(Array.from(options.identity))].sort((a, b) => a - b);
  const colorOf = new Map(classColors(ids.length).map((c, i) => [ids[i], c]));
  const modalities = options.modality ? [...new Set(options.modality)] : ["points"];
  const traces: ScatterTrace[] = modalities.map((m, mi) => {
    const idx = [...Array(n).keys()].filter((i) => !options.modality || options.modality[i] === m);
    return {
      kind: "scatter",
      name: m,
      x: idx.map((i) => xs[i]),
      y: idx.map((i) => ys[i]),
      colors: idx.map((i) => colorOf.get(options.identity[i]) as string),
      symbol: SYMBOLS[mi % SYMBOLS.length],
      text: idx.map((i) => `id ${options.identity[i]} · ${m}`),
    };
  });
  const chart: Chart = {
    title: options.title ?? "Features (2-D)",
    x: { label: options.xLabel ?? "component 1" },
    y: { label: options.yLabel ?? "component 2" },
    traces,
    note: `colour: identity (${ids.length})`,
    width: options.width ?? 640,
    height: options.height ?? 480,
  };
  return figureBundle(chart);
}
