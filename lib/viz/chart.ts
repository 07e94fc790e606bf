/**
 * One small chart model rendered two ways: as a Plotly figure (interactive in
 * VS Code and in JupyterLab with the plotly extension) and as a self-contained
 * SVG drawn here (what nbconvert's HTML, plain JupyterLab and GitHub show; no
 * browser or network is needed to make it). Both come from the same
 * {@link Chart}, so the static fallback shows the same data as the plot.
 *
 * @module
 */
import sharp from "sharp";
import {
  DISPLAY_METADATA,
  type Displayable,
  displayable,
  type MimeBundle,
  toBase64,
} from "../runtime/display.ts";

/** How an axis maps values. `category`: evenly spaced labels (bar charts). */
export type AxisType = "linear" | "log" | "category";

/** One axis of a {@link Chart}. */
export interface Axis {
  label?: string;
  type?: AxisType;
  /** Fixed value range; default: the data's range, padded. */
  range?: [number, number];
  /** Values are fractions shown as percentages (CMC). */
  percent?: boolean;
  /** Category labels, in order (`category` axes). */
  categories?: string[];
}

/** Plotly's marker symbols that the SVG renderer also draws. */
export type MarkerSymbol = "circle" | "square" | "diamond" | "triangle-up" | "cross" | "x";

/** A line through (x, y) points; non-finite y values leave gaps. */
export interface LineTrace {
  kind: "line";
  name: string;
  x: number[];
  y: number[];
  color?: string;
  dash?: "solid" | "dash" | "dot";
  width?: number;
  markers?: boolean;
  /** Draw the line faintly (e.g. raw values under a smoothed curve). */
  opacity?: number;
  showInLegend?: boolean;
}

/** Bars over the x axis' categories, optionally with symmetric error bars. */
export interface BarTrace {
  kind: "bar";
  name: string;
  /** Category labels, one per value. */
  x: string[];
  /** Non-finite values draw no bar (e.g. a number the paper does not report). */
  y: number[];
  error?: number[];
  color?: string;
  /** Bar text shown above each bar (e.g. "41.2"). */
  labels?: string[];
}

/** Points; `colors` (one per point) overrides `color`. */
export interface ScatterTrace {
  kind: "scatter";
  name: string;
  x: number[];
  y: number[];
  color?: string;
  colors?: string[];
  symbol?: MarkerSymbol;
  size?: number;
  /** Hover text per point (Plotly only). */
  text?: string[];
}

/** Any trace. */
export type Trace = LineTrace | BarTrace | ScatterTrace;

/** A chart: axes, traces and a title. */
export interface Chart {
  title?: string;
  x: Axis;
  y: Axis;
  traces: Trace[];
  /** Pixel size of the static rendering (default 640 × 400). */
  width?: number;
  height?: number;
  /** A note under the legend (e.g. "colour: identity"). */
  note?: string;
}

/** Plotly's default colour sequence (D3 category10), used by both renderings. */
export const PALETTE: readonly string[] = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

/** The i-th palette colour (cycling). */
export function paletteColor(i: number): string {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

/** Colours of traces without an explicit one, in trace order. */
function traceColors(chart: Chart): string[] {
  let next = 0;
  return chart.traces.map((t) => t.color ?? paletteColor(next++));
}

// ---------------------------------------------------------------------------
// Plotly

/** A Plotly figure: the JSON Plotly.js (and Jupyter's plotly renderers) take. */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/**
 * A value rounded to 4 significant digits (null when not finite): what a figure needs to
 * draw, without the 16 digits of a float64 that bloat executed notebooks.
 */
export function roundForFigure(v: number): number | null {
  if (!Number.isFinite(v)) return null;
  if (v === 0 || Number.isInteger(v)) return v;
  return Number(v.toPrecision(4));
}
const finiteOrNull = roundForFigure;
const roundAll = (values: number[]) => values.map(roundForFigure);

function plotlyAxis(axis: Axis): Record<string, unknown> {
  const out: Record<string, unknown> = { title: { text: axis.label ?? "" }, zeroline: false };
  if (axis.type && axis.type !== "category") out.type = axis.type;
  if (axis.type === "category") {
    out.type = "category";
    if (axis.categories) out.categoryarray = axis.categories;
  }
  if (axis.range) {
    out.range = axis.type === "log" ? axis.range.map((v) => Math.log10(v)) : axis.range;
  }
  if (axis.percent) out.tickformat = ".0%";
  return out;
}

/** The Plotly figure of a chart. */
export function toPlotly(chart: Chart): PlotlyFigure {
  const colors = traceColors(chart);
  const data = chart.traces.map((t, i): Record<string, unknown> => {
    if (t.kind === "line") {
      return {
        type: "scatter",
        mode: t.markers ? "lines+markers" : "lines",
        name: t.name,
        x: roundAll(t.x),
        y: t.y.map(finiteOrNull),
        line: { color: colors[i], dash: t.dash ?? "solid", width: t.width ?? 2 },
        opacity: t.opacity ?? 1,
        showlegend: t.showInLegend ?? true,
      };
    }
    if (t.kind === "bar") {
      return {
        type: "bar",
        name: t.name,
        x: t.x,
        y: t.y.map(finiteOrNull),
        marker: { color: colors[i] },
        ...(t.error
          ? { error_y: { type: "data", array: t.error.map(finiteOrNull), visible: true } }
          : {}),
        ...(t.labels ? { text: t.labels, textposition: "outside" } : {}),
      };
    }
    return {
      type: "scatter",
      mode: "markers",
      name: t.name,
      x: roundAll(t.x),
      y: t.y.map(finiteOrNull),
      marker: {
        color: t.colors ?? colors[i],
        symbol: t.symbol ?? "circle",
        size: t.size ?? 7,
        line: { width: 0.5, color: "#333" },
      },
      ...(t.text ? { text: t.text, hoverinfo: "text+name" } : {}),
    };
  });
  const layout: Record<string, unknown> = {
    title: { text: chart.title ?? "" },
    xaxis: plotlyAxis(chart.x),
    yaxis: plotlyAxis(chart.y),
    width: chart.width ?? 640,
    height: chart.height ?? 400,
    template: "plotly_white",
    legend: { x: 1.02, y: 1, xanchor: "left" },
    margin: { t: 50, r: 20, b: 60, l: 70 },
  };
  if (chart.traces.some((t) => t.kind === "bar")) layout.barmode = "group";
  if (chart.note) {
    layout.annotations = [{
      text: chart.note,
      xref: "paper",
      yref: "paper",
      x: 1.02,
      y: 0,
      xanchor: "left",
      yanchor: "bottom",
      showarrow: false,
      font: { size: 11, color: "#555" },
    }];
  }
  return { data, layout };
}

// ---------------------------------------------------------------------------
// Scales and ticks

/** Escape text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );
}

/**
 * Ticks at round steps (1, 2, 2.5 or 5 × 10^k): the finest step giving at most
 * `count + 1` intervals over [lo, hi].
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [0.5, 1, 2, 2.5, 5, 10].map((m) => m * mag)
    .find((s) => (hi - lo) / s <= count + 1) ?? 10 * mag;
  const ticks: number[] = [];
  const first = Math.ceil(lo / step - 1e-9) * step;
  for (let v = first; v <= hi + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return ticks;
}

/** Decades (and 2, 5 × decades when the range is short) inside [lo, hi], lo > 0. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const decades = Math.log10(hi) - Math.log10(lo);
  const mults = decades < 2 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of mults) {
      const v = m * 10 ** e;
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(Number(v.toPrecision(12)));
    }
  }
  return ticks;
}

function formatTick(v: number, axis: Axis, step: number): string {
  if (axis.percent) {
    const digits = step * 100 >= 1 ? 0 : 1;
    return `${(v * 100).toFixed(digits)}%`;
  }
  if (axis.type === "log") {
    return Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(0) : String(v);
  }
  const digits = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  return Math.abs(v) >= 1e5 ? v.toExponential(1) : v.toFixed(digits);
}

interface Scale {
  map(v: number): number;
  ticks: { value: number; label: string }[];
}

function numericExtent(values: number[], axis: Axis, includeZero: boolean): [number, number] {
  if (axis.range) return axis.range;
  const finite = values.filter((v) => Number.isFinite(v) && (axis.type !== "log" || v > 0));
  if (includeZero && axis.type !== "log") finite.push(0);
  if (finite.length === 0) return axis.type === "log" ? [1, 10] : [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (axis.type === "log") {
    if (hi === lo) [lo, hi] = [lo / 2, hi * 2];
    return [lo, hi];
  }
  if (hi === lo) [lo, hi] = [lo - (Math.abs(lo) || 1) * 0.5, hi + (Math.abs(hi) || 1) * 0.5];
  const pad = (hi - lo) * 0.05;
  return [lo === 0 ? 0 : lo - pad, hi + pad];
}

function numericScale(
  values: number[],
  axis: Axis,
  pixelFrom: number,
  pixelTo: number,
  includeZero: boolean,
): Scale {
  const [lo, hi] = numericExtent(values, axis, includeZero);
  if (axis.type === "log") {
    const a = Math.log10(lo);
    const b = Math.log10(hi);
    const ticks = logTicks(lo, hi);
    return {
      map: (v) => pixelFrom + (Math.log10(v) - a) / (b - a) * (pixelTo - pixelFrom),
      ticks: ticks.map((value) => ({ value, label: formatTick(value, axis, value) })),
    };
  }
  const ticks = niceTicks(lo, hi);
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  return {
    map: (v) => pixelFrom + (v - lo) / (hi - lo) * (pixelTo - pixelFrom),
    ticks: ticks.map((value) => ({ value, label: formatTick(value, axis, step) })),
  };
}

// ---------------------------------------------------------------------------
// SVG

const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const textWidth = (text: string, size: number) => text.length * size * 0.58;
const fmt = (v: number) => Number.isFinite(v) ? String(Math.round(v * 100) / 100) : "0";

/** The SVG path of a marker centred at (cx, cy). */
function markerSvg(symbol: MarkerSymbol, cx: number, cy: number, size: number, fill: string) {
  const r = size / 2;
  const style = `fill="${fill}" stroke="#333" stroke-width="0.5"`;
  switch (symbol) {
    case "square":
      return `<rect x="${fmt(cx - r)}" y="${fmt(cy - r)}" width="${fmt(size)}" height="${
        fmt(size)
      }" ${style}/>`;
    case "diamond":
      return `<path d="M${fmt(cx)},${fmt(cy - r * 1.3)}L${fmt(cx + r * 1.3)},${fmt(cy)}L${
        fmt(cx)
      },${fmt(cy + r * 1.3)}L${fmt(cx - r * 1.3)},${fmt(cy)}Z" ${style}/>`;
    case "triangle-up":
      return `<path d="M${fmt(cx)},${fmt(cy - r * 1.3)}L${fmt(cx + r * 1.2)},${fmt(cy + r * 0.9)}L${
        fmt(cx - r * 1.2)
      },${fmt(cy + r * 0.9)}Z" ${style}/>`;
    case "cross":
    case "x": {
      const a = symbol === "x" ? Math.PI / 4 : 0;
      const arm = (t: number) =>
        `M${fmt(cx - Math.cos(a + t) * r * 1.2)},${fmt(cy - Math.sin(a + t) * r * 1.2)}L${
          fmt(cx + Math.cos(a + t) * r * 1.2)
        },${fmt(cy + Math.sin(a + t) * r * 1.2)}`;
      return `<path d="${arm(0)}${
        arm(Math.PI / 2)
      }" stroke="${fill}" stroke-width="2" fill="none"/>`;
    }
    default:
      return `<circle cx="${fmt(cx)}" cy="${fmt(cy)}" r="${fmt(r)}" ${style}/>`;
  }
}

const DASHES = { solid: "", dash: ` stroke-dasharray="6,4"`, dot: ` stroke-dasharray="2,3"` };

/**
 * Render a chart as a standalone SVG document: axes with ticks and grid lines,
 * lines (gaps at non-finite values), grouped bars with error bars, scatter
 * markers, a legend and the title. Each trace is a `<g class="trace">` with a
 * `data-name`, so tests (and readers of the file) can find the series.
 */
export function renderSvg(chart: Chart): string {
  const width = chart.width ?? 640;
  const height = chart.height ?? 400;
  const colors = traceColors(chart);
  const legendItems = chart.traces
    .map((t, i) => ({ t, color: colors[i] }))
    .filter(({ t }) => t.kind !== "line" || t.showInLegend !== false);
  const legendWidth = legendItems.length > 1 || chart.note
    ? Math.min(
      220,
      24 + Math.max(
        ...legendItems.map(({ t }) => textWidth(t.name, 11)),
        chart.note ? textWidth(chart.note, 10) : 0,
      ),
    )
    : 0;
  const bars = chart.traces.filter((t): t is BarTrace => t.kind === "bar");
  const categories = chart.x.categories ??
    [...new Set(bars.flatMap((b) => b.x))];
  const isCategory = chart.x.type === "category" || bars.length > 0;

  const left = 70;
  const top = chart.title ? 40 : 16;
  const right = 16 + legendWidth;
  const plotW = Math.max(50, width - left - right);
  // Category labels wider than their slot are drawn slanted, which needs room below.
  const longestLabel = Math.max(0, ...categories.map((c) => textWidth(c, 11)));
  const slanted = isCategory && longestLabel > (plotW / Math.max(1, categories.length)) * 0.95;
  const bottom = slanted ? Math.min(height * 0.45, 28 + longestLabel * 0.6) : 52;
  const plotH = Math.max(50, height - top - bottom);
  const x0 = left;
  const y0 = top + plotH;
  const parts: string[] = [];

  // y scale over every drawn value (bars include their error bars and zero).
  const yValues: number[] = [];
  for (const t of chart.traces) {
    t.y.forEach((v, i) => {
      yValues.push(v);
      if (t.kind === "bar" && t.error) yValues.push(v + (t.error[i] ?? 0), v - (t.error[i] ?? 0));
    });
  }
  const yScale = numericScale(yValues, chart.y, y0, top, bars.length > 0);

  let xMap: (v: number) => number;
  let xTicks: { value: number; label: string }[];
  const band = plotW / Math.max(1, categories.length);
  if (isCategory) {
    xMap = (i) => x0 + band * (i + 0.5);
    xTicks = categories.map((label, i) => ({ value: i, label }));
  } else {
    const xValues = chart.traces.flatMap((t) => (t as LineTrace | ScatterTrace).x);
    const s = numericScale(xValues, chart.x, x0, x0 + plotW, false);
    xMap = s.map;
    xTicks = s.ticks;
  }

  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`);
  // Grid and ticks.
  parts.push(`<g class="axis y-axis">`);
  for (const tick of yScale.ticks) {
    const y = yScale.map(tick.value);
    if (y < top - 0.5 || y > y0 + 0.5) continue;
    parts.push(
      `<line x1="${x0}" x2="${x0 + plotW}" y1="${fmt(y)}" y2="${fmt(y)}" stroke="#e5e5e5"/>`,
      `<text x="${x0 - 6}" y="${fmt(y + 4)}" text-anchor="end" font-size="11" ${FONT}>${
        escapeXml(tick.label)
      }</text>`,
    );
  }
  parts.push(`</g><g class="axis x-axis">`);
  for (const tick of xTicks) {
    const x = xMap(tick.value);
    if (x < x0 - 0.5 || x > x0 + plotW + 0.5) continue;
    if (!isCategory) {
      parts.push(
        `<line x1="${fmt(x)}" x2="${fmt(x)}" y1="${top}" y2="${y0}" stroke="#f0f0f0"/>`,
      );
    }
    const label = escapeXml(tick.label);
    parts.push(
      `<line x1="${fmt(x)}" x2="${fmt(x)}" y1="${y0}" y2="${y0 + 4}" stroke="#444"/>`,
      slanted
        ? `<text transform="translate(${fmt(x + 3)},${
          y0 + 10
        }) rotate(35)" font-size="11" ${FONT}>${label}</text>`
        : `<text x="${fmt(x)}" y="${
          y0 + 17
        }" text-anchor="middle" font-size="11" ${FONT}>${label}</text>`,
    );
  }
  parts.push(`</g>`);
  parts.push(
    `<rect x="${x0}" y="${top}" width="${fmt(plotW)}" height="${
      fmt(plotH)
    }" fill="none" stroke="#444"/>`,
  );

  // Traces, clipped to the plot area.
  parts.push(
    `<clipPath id="plot-area"><rect x="${x0}" y="${top - 8}" width="${fmt(plotW)}" height="${
      fmt(plotH + 8)
    }"/></clipPath>`,
  );
  parts.push(`<g clip-path="url(#plot-area)">`);
  const barWidth = band * 0.8 / Math.max(1, bars.length);
  chart.traces.forEach((t, i) => {
    const color = colors[i];
    parts.push(`<g class="trace ${t.kind}" data-name="${escapeXml(t.name)}">`);
    if (t.kind === "line") {
      let d = "";
      let pen = false;
      for (let k = 0; k < t.x.length; k++) {
        const ok = Number.isFinite(t.y[k]) && Number.isFinite(t.x[k]) &&
          (chart.y.type !== "log" || t.y[k] > 0);
        if (!ok) {
          pen = false;
          continue;
        }
        d += `${pen ? "L" : "M"}${fmt(xMap(t.x[k]))},${fmt(yScale.map(t.y[k]))}`;
        pen = true;
      }
      parts.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="${t.width ?? 2}"${
          DASHES[t.dash ?? "solid"]
        }${t.opacity !== undefined ? ` stroke-opacity="${t.opacity}"` : ""}/>`,
      );
      if (t.markers) {
        t.x.forEach((x, k) => {
          if (Number.isFinite(t.y[k])) {
            parts.push(markerSvg("circle", xMap(x), yScale.map(t.y[k]), 6, color));
          }
        });
      }
    } else if (t.kind === "bar") {
      const b = bars.indexOf(t);
      t.x.forEach((category, k) => {
        const v = t.y[k];
        if (!Number.isFinite(v)) return;
        const c = categories.indexOf(category);
        const bx = x0 + band * c + band * 0.1 + barWidth * b;
        const yv = yScale.map(v);
        // Bars grow from zero, or from the bottom edge when zero is off the axis.
        const base = chart.y.type === "log" ? y0 : Math.min(y0, Math.max(top, yScale.map(0)));
        parts.push(
          `<rect x="${fmt(bx)}" y="${fmt(Math.min(yv, base))}" width="${fmt(barWidth)}" height="${
            fmt(Math.abs(base - yv))
          }" fill="${color}"><title>${escapeXml(`${t.name} · ${category}: ${v}`)}</title></rect>`,
        );
        const err = t.error?.[k];
        if (err !== undefined && Number.isFinite(err) && err > 0) {
          const cx = bx + barWidth / 2;
          const hi = yScale.map(v + err);
          const lo = yScale.map(v - err);
          parts.push(
            `<path class="error-bar" d="M${fmt(cx)},${fmt(lo)}L${fmt(cx)},${fmt(hi)}M${
              fmt(cx - 4)
            },${fmt(hi)}L${fmt(cx + 4)},${fmt(hi)}M${fmt(cx - 4)},${fmt(lo)}L${fmt(cx + 4)},${
              fmt(lo)
            }" stroke="#222" stroke-width="1.2"/>`,
          );
        }
        const label = t.labels?.[k];
        if (label) {
          const ly = Math.min(yv, err ? yScale.map(v + err) : yv) - 3;
          parts.push(
            `<text x="${fmt(bx + barWidth / 2)}" y="${
              fmt(ly)
            }" text-anchor="middle" font-size="9" ${FONT}>${escapeXml(label)}</text>`,
          );
        }
      });
    } else {
      t.x.forEach((x, k) => {
        const y = t.y[k];
        if (!Number.isFinite(x) || !Number.isFinite(y)) return;
        parts.push(
          markerSvg(
            t.symbol ?? "circle",
            xMap(x),
            yScale.map(y),
            t.size ?? 7,
            t.colors?.[k] ?? color,
          ),
        );
      });
    }
    parts.push(`</g>`);
  });
  parts.push(`</g>`);

  // Axis labels and title.
  if (chart.x.label) {
    parts.push(
      `<text x="${fmt(x0 + plotW / 2)}" y="${
        height - 8
      }" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(chart.x.label)}</text>`,
    );
  }
  if (chart.y.label) {
    parts.push(
      `<text transform="translate(16,${
        fmt(top + plotH / 2)
      }) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${
        escapeXml(chart.y.label)
      }</text>`,
    );
  }
  if (chart.title) {
    parts.push(
      `<text x="${fmt(width / 2)}" y="24" text-anchor="middle" font-size="15" ${FONT}>${
        escapeXml(chart.title)
      }</text>`,
    );
  }
  // Legend.
  if (legendWidth > 0) {
    const lx = x0 + plotW + 12;
    let ly = top + 8;
    parts.push(`<g class="legend">`);
    for (const { t, color } of legendItems) {
      if (t.kind === "line") {
        parts.push(
          `<line x1="${fmt(lx)}" x2="${
            fmt(lx + 16)
          }" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${
            DASHES[t.dash ?? "solid"]
          }/>`,
        );
      } else if (t.kind === "bar") {
        parts.push(
          `<rect x="${fmt(lx + 2)}" y="${ly - 6}" width="12" height="12" fill="${color}"/>`,
        );
      } else {
        parts.push(markerSvg(t.symbol ?? "circle", lx + 8, ly, 8, t.colors ? "#bbb" : color));
      }
      parts.push(
        `<text x="${fmt(lx + 22)}" y="${ly + 4}" font-size="11" ${FONT}>${
          escapeXml(t.name)
        }</text>`,
      );
      ly += 18;
    }
    if (chart.note) {
      parts.push(
        `<text x="${fmt(lx)}" y="${ly + 6}" font-size="10" fill="#555" ${FONT}>${
          escapeXml(chart.note)
        }</text>`,
      );
    }
    parts.push(`</g>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<title>${escapeXml(chart.title ?? "chart")}</title>${parts.join("")}</svg>`;
}

// ---------------------------------------------------------------------------
// Bundles

/** A short text form of a chart (the `text/plain` of its bundle). */
export function chartText(chart: Chart): string {
  const names = chart.traces.map((t) => `${t.name} (${t.y.length} points)`).join(", ");
  return `[figure${chart.title ? ` "${chart.title}"` : ""}: ${names}]`;
}

/** The Plotly MIME type Jupyter frontends render interactively. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/**
 * A figure's MIME bundle. The object itself holds the Plotly figure, the SVG and a text
 * form (what code and tests read); what a notebook frontend receives — when the figure
 * ends a cell, or through `display` — is its display form ({@link figureDisplayData}):
 * Plotly JSON for VS Code and JupyterLab's plotly renderer, a PNG for everything else.
 */
export type FigureBundle = MimeBundle & Displayable;

/** Pixel density of a figure's PNG relative to its CSS size (sharp on HiDPI screens, small files). */
export const FIGURE_PNG_SCALE = 1.5;

/**
 * What a frontend receives for a chart: Plotly JSON (floats rounded), a palette PNG of the
 * static rendering and a text form. The PNG is what plain `jupyter nbconvert --to html`,
 * untrusted JupyterLab (which renders no SVG), GitHub's viewer and the text-only tools show.
 * No `image/svg+xml` on purpose: nbconvert's HTML export ranks SVG above PNG and the
 * nbconvert Debian ships (6.5) empties every SVG, and no `text/html`, which would need
 * plotly.js from the network.
 */
export async function figureDisplayData(chart: Chart): Promise<MimeBundle> {
  return {
    [PLOTLY_MIME]: toPlotly(chart),
    "image/png": toBase64(await chartPng(chart, FIGURE_PNG_SCALE)),
    "text/plain": chartText(chart),
  };
}

/**
 * The bundle of a chart, which renders itself (as {@link figureDisplayData}) when it ends a
 * notebook cell or is passed to `display`. VS Code and JupyterLab with the plotly extension
 * show the interactive figure; plain nbconvert, untrusted JupyterLab and GitHub the PNG.
 */
export function figureBundle(chart: Chart): FigureBundle {
  const bundle: MimeBundle = {
    [PLOTLY_MIME]: toPlotly(chart),
    "image/svg+xml": renderSvg(chart),
    "text/plain": chartText(chart),
  };
  Object.defineProperty(bundle, DISPLAY_METADATA, {
    value: { "image/png": { width: chart.width ?? 640 } },
    enumerable: false,
  });
  return displayable(bundle, () => figureDisplayData(chart));
}

/**
 * A PNG rendering of a chart's SVG (sharp/librsvg), at `scale` × its pixel size: 8-bit
 * palette, no alpha (a chart has a few flat colours and anti-aliased text).
 */
export async function chartPng(chart: Chart, scale = 2): Promise<Uint8Array> {
  const svg = renderSvg(chart);
  const out = await sharp(new TextEncoder().encode(svg), { density: 72 * scale })
    .flatten({ background: "#ffffff" })
    .png({ palette: true, compressionLevel: 9, effort: 7 })
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The bundle of {@link figureBundle} plus an `image/png` rendering. */
export async function figureBundleWithPng(chart: Chart): Promise<FigureBundle> {
  const bundle: MimeBundle = {
    ...figureBundle(chart),
    "image/png": toBase64(await chartPng(chart, FIGURE_PNG_SCALE)),
  };
  return displayable(bundle, () => figureDisplayData(chart));
}
