/**
 * The TJ-AIDL notebook's figures (lib/papers/tjaidl/README.md, 'Evaluation'): Fig. 3's analogue
 * (same-identity pairs of both domains with their attributes), live Step-I loss curves, ranked
 * target galleries, Fig. 2's discrepancy bars and Fig. 4's distance-ratio bars and PCA maps.
 *
 * @see notebooks/tjaidl.ipynb §2, §4, §7, §8
 * @module
 */
import { Buffer } from "node:buffer";
import sharp from "sharp";
import { type ReidSplit, splitImage } from "../../data/split.ts";
import { pca } from "../../eval/embed2d.ts";
import { market1501 } from "../../eval/protocols.ts";
import { DisplayHandle, type MimeBundle, pngBundle } from "../../runtime/display.ts";
import type { LossHistory } from "../../train/history.ts";
import { type Chart, type FigureBundle, figureBundle, paletteColor } from "../../viz/chart.ts";
import { type RankedGallery, rankedGallery } from "../../viz/gallery.ts";
import { lossCurves } from "../../viz/plots.ts";
import type { TjaidlData } from "./data.ts";

/**
 * Fig. 3's analogue: for `ids` training identities of a split, two images from two different
 * cameras, captioned with the attributes set to 1 (names from the release file).
 */
export async function identityPairs(
  split: ReidSplit,
  attributeNames: string[],
  options: { ids?: number; title: string; scale?: number },
): Promise<MimeBundle> {
  const scale = options.scale ?? 2;
  const w = split.size.width * scale, h = split.size.height * scale;
  const byPid = new Map<number, number[]>();
  split.items.forEach((it, row) => byPid.set(it.pid, [...(byPid.get(it.pid) ?? []), row]));
  const chosen: [number, number, number][] = [];
  for (const [pid, rows] of [...byPid].sort((a, b) => a[0] - b[0])) {
    const other = rows.find((r) => split.items[r].camid !== split.items[rows[0]].camid);
    if (other !== undefined) chosen.push([pid, rows[0], other]);
    if (chosen.length >= (options.ids ?? 6)) break;
  }
  const colW = 2 * w + 6, captionH = 70, top = 22, gap = 10;
  const tiles: sharp.OverlayOptions[] = [];
  const text: string[] = [];
  const font = `font-family="Helvetica, Arial, sans-serif"`;
  text.push(`<text x="4" y="15" font-size="13" ${font}>${esc(options.title)}</text>`);
  for (const [col, [pid, a, b]] of chosen.entries()) {
    const x = col * (colW + gap);
    for (const [k, row] of [a, b].entries()) {
      const img = splitImage(split, row);
      tiles.push({
        input: await sharp(Buffer.from(img.pixels), {
          raw: { width: img.width, height: img.height, channels: 3 },
        }).resize(w, h, { kernel: "nearest" }).png().toBuffer(),
        left: x + k * (w + 6),
        top,
      });
    }
    const attrs = split.dataset.images[split.indices[a]].attributes;
    const on = attributeNames.filter((_, j) => attrs?.[j] === 1);
    const lines = [`id ${pid} · cams ${split.items[a].camid}/${split.items[b].camid}`];
    for (let i = 0; i < on.length; i += 2) lines.push(on.slice(i, i + 2).join(", "));
    lines.slice(0, 5).forEach((line, i) =>
      text.push(
        `<text x="${x}" y="${top + h + 12 + 11 * i}" font-size="9" ${font}>${esc(line)}</text>`,
      )
    );
  }
  const width = Math.max(200, chosen.length * (colW + gap));
  const height = top + h + captionH;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" fill="white"/>${text.join("")}</svg>`;
  const png = await sharp(Buffer.from(svg)).composite(tiles).png().toBuffer();
  return pngBundle(new Uint8Array(png), options.title);
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A live plot of the training losses of a run, redrawn every `every` recorded steps. */
export function liveLossPlot(history: LossHistory, options: { every?: number; title: string }) {
  const handle = new DisplayHandle();
  const every = options.every ?? 50;
  let last = -Infinity;
  return {
    /** Makes the figure's output (a placeholder until the first losses arrive). */
    async start(): Promise<void> {
      await handle.show({ "text/plain": `${options.title}: waiting for the first steps…` });
    },
    /** Redraws when `every` steps have passed since the last drawing (or `force`). */
    async update(step: number, force = false): Promise<void> {
      if (!force && step - last < every) return;
      last = step;
      const names = history.names().filter((n) => !n.endsWith("att_acc"));
      await handle.show(
        lossCurves(history, { names, title: options.title, logY: true, smooth: 0.9 }),
      );
    },
  };
}

/**
 * A ranked target gallery (Market rules): each row a target query and its `k` nearest gallery
 * images under a row's deployed feature.
 */
export async function targetGallery(
  dist: { data: Float32Array; rows: number; cols: number },
  data: TjaidlData,
  options: { queries: number[]; title: string; k?: number; domain: string },
): Promise<RankedGallery> {
  return await rankedGallery({
    dist,
    query: data.query.items,
    gallery: data.gallery.items,
    rows: options.queries,
    k: options.k ?? 8,
    protocol: market1501(),
    queryImage: (q) => splitImage(data.query, q),
    galleryImage: (j) => splitImage(data.gallery, j),
    tileWidth: 48,
    tileHeight: 96,
    title: options.title,
    queryHeading: `${options.domain} query`,
    galleryHeading: `${options.domain} gallery, nearest first (Euclidean)`,
  });
}

/** Grouped bars: one group per category, one bar per series, with error bars. */
export function groupedBars(options: {
  title: string;
  categories: string[];
  series: { name: string; mean: number[]; std: number[] }[];
  yLabel: string;
}): FigureBundle {
  const chart: Chart = {
    title: options.title,
    x: { label: "", type: "category" },
    y: { label: options.yLabel },
    traces: options.series.map((s, i) => ({
      kind: "bar" as const,
      name: s.name,
      x: options.categories,
      y: s.mean,
      error: s.std.map((v) => (Number.isFinite(v) ? v : 0)),
      color: paletteColor(i),
      labels: s.mean.map((v) => (Number.isFinite(v) ? v.toFixed(3) : "")),
    })),
  };
  return figureBundle(chart);
}

/** Fig. 4's companion: a 2-D PCA of features of a few identities (colour = identity). */
export async function featurePca(
  features: { data: Float32Array; rows: number; cols: number },
  pids: number[],
  title: string,
): Promise<FigureBundle> {
  const points = await pca(features, { dims: 2 });
  const ids = [...new Set(pids)];
  const chart: Chart = {
    title,
    x: { label: "PC 1" },
    y: { label: "PC 2" },
    traces: ids.map((pid, i) => {
      const rows = pids.flatMap((p, r) => (p === pid ? [r] : []));
      return {
        kind: "scatter" as const,
        name: `id ${pid}`,
        x: rows.map((r) => points.data[2 * r]),
        y: rows.map((r) => points.data[2 * r + 1]),
        color: paletteColor(i),
        size: 7,
      };
    }),
    note: "colour: identity",
  };
  return figureBundle(chart);
}
