/**
 * The SAL notebook's figures: live loss curves of the six players, the Fig. 2 analogue
 * (synthesised unseen visual features beside the real ones, in a PCA of the middle-level
 * visual space), the Fig. 4 analogue (intra-class variation of the synthetic world) and the
 * Fig. 5 analogue (top-10 strips of a few models for unseen queries, with the attributes the
 * false matches violate most written in bold).
 *
 * @see notebooks/sal.ipynb §2, §5, §8
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Buffer } from "node:buffer";
import sharp from "sharp";
import { gatherImages } from "../../data/images.ts";
import { splitBatch } from "../../data/split.ts";
import type { DenseMatrix } from "../../eval/distance.ts";
import { pca } from "../../eval/embed2d.ts";
import { attributeQuery } from "../../eval/protocols.ts";
import { DisplayHandle, type MimeBundle } from "../../runtime/display.ts";
import type { Rng } from "../../runtime/random.ts";
import type { LossHistory } from "../../train/history.ts";
import { forward } from "../../train/modes.ts";
import type { FigureBundle } from "../../viz/chart.ts";
import { type RankedGallery, rankedGallery } from "../../viz/gallery.ts";
import { pageImage } from "../../viz/image.ts";
import { featureScatter, lossCurves } from "../../viz/plots.ts";
import type { SalData, SalImages } from "./data.ts";
import { type SalNetworks, sampleNoise } from "./model.ts";
import { NORMALIZATION, type SalEvaluation } from "./run.ts";

/** The stage-3 losses of the six steps, in the order they run. */
export const STAGE3_LOSSES = ["l_D1", "l_GV", "l_GA", "l_cyc", "l_D2", "l_E", "l_X", "l_A"];

/**
 * A redraw function for live loss curves: the GAN players' losses and the classifiers'
 * losses in two figures, and validation mAP when recorded.
 */
export function liveLossPlot(history: LossHistory, options: { every?: number } = {}) {
  const gans = new DisplayHandle();
  const embed = new DisplayHandle();
  const every = options.every ?? 8;
  let last = -1;
  return async (final = false) => {
    const names = history.names();
    const n = Math.max(0, ...names.map((k) => history.series(k).steps.at(-1) ?? 0));
    if (!final && n - last < every) return;
    last = n;
    const present = (ks: string[]) => ks.filter((k) => names.includes(k));
    const gan = present(["l_D1", "l_GV", "l_GA", "l_cyc", "l_D2", "l_E"]);
    if (gan.length > 0) {
      await gans.show(lossCurves(history, {
        names: gan,
        title: "Stage 3: the GAN players' losses (official criterion: a narrow band is expected)",
        xLabel: "iteration (stages 1–3 counted together)",
        smooth: 0.6,
      }));
    }
    await embed.show(lossCurves(history, {
      names: present(["s1_l_image", "s2_l_image", "s2_l_attribute", "l_X", "l_A", "val_mAP"]),
      title: "Classification losses (stages 1–2, then ⑤ ⑥) and validation mAP (%)",
      xLabel: "iteration",
      smooth: 0.6,
    }));
  };
}

/** Rows of `images` whose category is `c`. */
function rowsOf(images: SalImages, c: number): number[] {
  return Array.from(images.categories).flatMap((x, r) => (x === c ? [r] : []));
}

/** f_v of some rows of an image set (F_I in eval mode), row-major. */
async function visual(nets: SalNetworks, images: SalImages, rows: number[]): Promise<Float32Array> {
  const t = tf.tidy(() =>
    forward(nets.imageExtractor, splitBatch(images.split, rows, NORMALIZATION), "eval")
  );
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/** G_V's synthetic f̃_v for `n` draws of z for each attribute vector (rows of `attrs`). */
async function synthetic(
  nets: SalNetworks,
  attrs: Float32Array[],
  n: number,
  noiseDim: number,
  rng: Rng,
): Promise<Float32Array> {
  const d = attrs[0].length;
  const a = tf.tensor2d(Float32Array.from(attrs.flatMap((x) => Array(n).fill([...x]).flat())), [
    attrs.length * n,
    d,
  ]);
  const z = sampleNoise(rng, attrs.length * n, noiseDim);
  const t = tf.tidy(() =>
    forward(nets.generatorV, [forward(nets.attributeExtractor, a, "eval"), z], "eval")
  );
  try {
    return (await t.data()) as Float32Array;
  } finally {
    tf.dispose([a, z, t]);
  }
}

/** What {@link fig2Analogue} returns. */
export interface Fig2Analogue {
  figure: FigureBundle;
  /**
   * Of the synthesised features of the unseen categories, the fraction whose nearest real
   * unseen-category centroid (in f_v space) is their own category (chance: 1 / #unseen).
   */
  nearestOwnCentroid: number;
  unseenCategories: number;
}

/**
 * Fig. 2's analogue: a PCA of the middle-level visual space with real f_v of a few seen
 * (training) categories, G_V's synthesis for them, G_V's synthesis for a few unseen (test)
 * categories and the real f_v of those categories from the gallery. If the synthesis GAN
 * generalises, each synthetic unseen cloud lands near its real unseen points.
 */
export async function fig2Analogue(
  nets: SalNetworks,
  data: SalData,
  rng: Rng,
  options: { seen?: number; unseen?: number; perCategory?: number; noiseDim: number },
): Promise<Fig2Analogue> {
  const per = options.perCategory ?? 12;
  const test = data.test;
  // The unseen test categories with the most gallery images, and the largest training ones.
  const byCount = (images: SalImages, ids: number[]) =>
    ids.map((c) => ({ c, rows: rowsOf(images, c) })).sort((a, b) => b.rows.length - a.rows.length);
  const unseenIds = test.queries.flatMap((q, i) => (q.seen ? [] : [i]));
  const unseen = byCount(test.gallery, unseenIds).slice(0, options.unseen ?? 3);
  const seen = byCount(data.train, Array.from({ length: data.numCategories }, (_, c) => c))
    .slice(0, options.seen ?? 3);
  const f = nets.imageExtractor.outputs[0].shape[1] as number;
  const d = data.attrDim;
  const trainAttr = (c: number) =>
    data.train.attributes.slice(rowsOf(data.train, c)[0] * d, (rowsOf(data.train, c)[0] + 1) * d);
  const parts: { x: Float32Array; category: number; kind: string }[] = [];
  for (const [i, s] of seen.entries()) {
    parts.push({ x: await visual(nets, data.train, s.rows), category: i, kind: "real (seen)" });
    parts.push({
      x: await synthetic(nets, [trainAttr(s.c)], per, options.noiseDim, rng),
      category: i,
      kind: "synthetic (seen)",
    });
  }
  const unseenReal: Float32Array[] = [];
  const unseenSynth: Float32Array[] = [];
  for (const [j, u] of unseen.entries()) {
    const real = await visual(nets, test.gallery, u.rows);
    const synth = await synthetic(nets, [test.queries[u.c].attributes], per, options.noiseDim, rng);
    unseenReal.push(real);
    unseenSynth.push(synth);
    parts.push({ x: real, category: seen.length + j, kind: "real (unseen)" });
    parts.push({ x: synth, category: seen.length + j, kind: "synthetic (unseen)" });
  }
  const rows = parts.reduce((s, p) => s + p.x.length / f, 0);
  const all = new Float32Array(rows * f);
  let o = 0;
  const category: number[] = [];
  const kind: string[] = [];
  for (const p of parts) {
    all.set(p.x, o);
    o += p.x.length;
    for (let r = 0; r < p.x.length / f; r++) {
      category.push(p.category);
      kind.push(p.kind);
    }
  }
  const matrix: DenseMatrix = { data: all, rows, cols: f };
  const projected = await pca(matrix, { dims: 2 });
  const figure = featureScatter(projected, {
    identity: category,
    modality: kind,
    title: "Fig. 2 analogue: middle-level visual features f_v (PCA), colour = attribute category",
    xLabel: "PC 1",
    yLabel: "PC 2",
  });
  // Nearest real unseen centroid of each synthetic unseen feature.
  const centroid = (x: Float32Array) => {
    const c = new Float64Array(f);
    const n = x.length / f;
    for (let r = 0; r < n; r++) for (let j = 0; j < f; j++) c[j] += x[r * f + j] / n;
    return c;
  };
  const centroids = unseenReal.map(centroid);
  let hits = 0;
  let total = 0;
  unseenSynth.forEach((x, own) => {
    for (let r = 0; r < x.length / f; r++) {
      let best = -1;
      let bestD = Infinity;
      centroids.forEach((c, k) => {
        let dd = 0;
        for (let j = 0; j < f; j++) dd += (x[r * f + j] - c[j]) ** 2;
        if (dd < bestD) [bestD, best] = [dd, k];
      });
      hits += best === own ? 1 : 0;
      total++;
    }
  });
  return { figure, nearestOwnCentroid: total ? hits / total : 0, unseenCategories: unseen.length };
}

/**
 * Fig. 4's analogue: rows of images of a few training categories and a few unseen test
 * categories (intra-class variation: one attribute vector, many looks), each row labelled.
 */
export async function categoryGrid(
  data: SalData,
  options: { seen?: number; unseen?: number; per?: number; scale?: number } = {},
): Promise<MimeBundle> {
  const per = options.per ?? 8;
  const scale = options.scale ?? 2;
  const pick = (images: SalImages, ids: number[], n: number) =>
    ids.map((c) => rowsOf(images, c)).filter((r) => r.length >= 3).slice(0, n)
      .map((r) => ({ images, rows: r.slice(0, per) }));
  const rows = [
    ...pick(data.train, Array.from({ length: data.numCategories }, (_, c) => c), options.seen ?? 3)
      .map((r) => ({ ...r, label: "seen (train)" })),
    ...pick(data.test.gallery, data.test.queries.map((_, c) => c), options.unseen ?? 2)
      .map((r) => ({ ...r, label: "unseen (test)" })),
  ];
  const size = data.train.split.size;
  const w = size.width * scale;
  const h = size.height * scale;
  const gap = 2;
  const left = 110;
  const top = 20;
  const tiles: sharp.OverlayOptions[] = [];
  const svg: string[] = [];
  for (const [i, r] of rows.entries()) {
    const y = top + i * (h + gap);
    svg.push(
      `<text x="4" y="${
        y + h / 2
      }" font-size="12" font-family="Helvetica, Arial">${r.label}</text>`,
      `<text x="4" y="${
        y + h / 2 + 15
      }" font-size="10" fill="#555" font-family="Helvetica, Arial">` +
        `category ${i + 1}</text>`,
    );
    for (const [j, row] of r.rows.entries()) {
      const pixels = gatherImages(r.images.split.pixels, size, [row]);
      const tile = await sharp(Buffer.from(pixels), {
        raw: { width: size.width, height: size.height, channels: 3 },
      })
        .resize(w, h, { kernel: "nearest" }).png().toBuffer();
      tiles.push({ input: tile, left: left + j * (w + gap), top: y });
    }
  }
  const width = left + per * (w + gap);
  const height = top + rows.length * (h + gap);
  svg.unshift(
    `<text x="4" y="14" font-size="12" font-family="Helvetica, Arial">` +
      `One row = one attribute vector</text>`,
  );
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${
    svg.join("")
  }</svg>`;
  const png = await sharp({
    create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } },
  }).composite([...tiles, { input: Buffer.from(overlay), left: 0, top: 0 }]).png()
    .toBuffer();
  return pageImage(new Uint8Array(png.buffer, png.byteOffset, png.byteLength), {
    width: Math.min(720, width),
    alt: `${rows.length} attribute categories × ${per} images`,
  });
}

/** The attribute names where the top-k false matches of a query disagree with it most. */
export function violatedAttributes(
  evaluation: SalEvaluation,
  data: SalData,
  query: number,
  k = 10,
  top = 3,
): { name: string; count: number }[] {
  const set = data.test;
  const g = set.gallery;
  const d = data.attrDim;
  const row = evaluation.dist.data.subarray(query * g.items.length, (query + 1) * g.items.length);
  const order = Array.from(row.keys()).sort((a, b) => row[a] - row[b]).slice(0, k);
  const q = set.queries[query].attributes;
  const counts = new Array(d).fill(0);
  for (const j of order) {
    if (g.items[j].category === set.queries[query].key) continue;
    for (let a = 0; a < d; a++) if (g.attributes[j * d + a] !== q[a]) counts[a]++;
  }
  return counts
    .map((count, a) => ({ name: data.attributeNames[a], count }))
    .filter((x) => x.count > 0)
    .sort((a, b) => b.count - a.count)
    .slice(0, top);
}

/** One model of a Fig. 5 strip. */
export interface StripModel {
  label: string;
  evaluation: SalEvaluation;
}

/**
 * Fig. 5's analogue: for each query, the top-10 of each model (green: same attribute
 * category, red: another), and the query's attributes with the ones its false matches
 * violate most in bold (per model).
 */
export async function fig5Strips(
  models: StripModel[],
  data: SalData,
  queries: number[],
): Promise<{ galleries: RankedGallery[]; captions: MimeBundle[] }> {
  const set = data.test;
  const protocol = attributeQuery({ excludeSourceCamera: set.excludeSource });
  const galleries: RankedGallery[] = [];
  const captions: MimeBundle[] = [];
  for (const m of models) {
    galleries.push(
      await rankedGallery({
        dist: m.evaluation.dist,
        query: set.queries.map((q) => ({ ...q.item, attributes: q.attributes })),
        gallery: set.gallery.items,
        rows: queries,
        k: 10,
        protocol,
        queryImage: () => null,
        galleryImage: (j) => ({
          pixels: gatherImages(set.gallery.split.pixels, set.gallery.split.size, [j]),
          width: set.gallery.split.size.width,
          height: set.gallery.split.size.height,
        }),
        attributeNames: data.attributeNames,
        title: `${m.label}: top-10 for unseen attribute queries`,
        queryHeading: "attribute query",
        galleryHeading: "gallery images, nearest first (green: same attribute vector)",
      }),
    );
    const lines = queries.map((qi) => {
      const bold = new Set(violatedAttributes(m.evaluation, data, qi).map((v) => v.name));
      const words = data.attributeNames.filter((_, a) => set.queries[qi].attributes[a] === 1);
      const missing = [...bold].filter((b) => !words.includes(b)).map((b) => `**not ${b}**`);
      return `- query ${qi}: ` +
        [...words.map((w) => (bold.has(w) ? `**${w}**` : w)), ...missing].join(", ");
    });
    captions.push({
      "text/markdown": `_${m.label}_ — attributes the false matches in the top-10 violate most ` +
        `are in bold ("not X": the query lacks X, the false matches have it):\n\n${
          lines.join("\n")
        }`,
      "text/plain": lines.join("\n"),
    });
  }
  return { galleries, captions };
}
