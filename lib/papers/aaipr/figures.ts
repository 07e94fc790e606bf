/**
 * The AAIPR notebook's figures (lib/papers/aaipr/README.md): the live loss curves of a training
 * run, ranked galleries for attribute queries (Fig. 1's analogue), the 2-D map of attribute and
 * image concepts (the alignment the adversary is meant to make), and sample images of a world.
 *
 * @see notebooks/aaipr.ipynb §2, §4, §5
 * @module
 */
import { splitImage } from "../../data/split.ts";
import { pca } from "../../eval/embed2d.ts";
import { attributeQuery, type EvalItem } from "../../eval/protocols.ts";
import { DisplayHandle } from "../../runtime/display.ts";
import type { LossHistory } from "../../train/history.ts";
import type { FigureBundle } from "../../viz/chart.ts";
import { type GalleryImage, rankedGallery } from "../../viz/gallery.ts";
import { featureScatter, lossCurves } from "../../viz/plots.ts";
import type { AaiprData } from "./data.ts";
import { generatedPixels } from "./images.ts";
import type { AaiprRun } from "./run.ts";

/**
 * A redraw function for live loss curves (l_I, l_A, and the adversary's l_D, l_G and D's
 * accuracy when present), updated in place every `every` steps.
 */
export function liveLossPlot(history: LossHistory, options: { every?: number; title?: string }) {
  const losses = new DisplayHandle();
  const every = options.every ?? 10;
  return async (step: number) => {
    if (step % every !== 0 && step !== 1) return;
    const names = ["l_I", "l_A", "l_D", "l_G", "d_acc"].filter((n) =>
      history.names().includes(n) && (history.series(n).values.some((v) => v !== 0))
    );
    await losses.show(lossCurves(history, {
      names,
      smooth: 0.8,
      title: options.title ?? `Stage-2 losses (step ${step})`,
      xLabel: "step",
      yLabel: "loss (d_acc: fraction)",
    }));
  };
}

/**
 * Fig. 1's analogue: attribute queries (written out, the attributes set to 1) and the top-k test
 * images by cosine similarity of the run's concepts, green when the image's attribute vector
 * equals the query's, red otherwise.
 */
export async function attributeGallery(
  run: AaiprRun,
  data: AaiprData,
  options: {
    queries: number[];
    k?: number;
    title: string;
    /** The query's image when it has one (the Images row's generated query). */
    queryImage?: (q: number) => GalleryImage | null;
  },
) {
  const score = run.test.score;
  const d = data.attrDim;
  const query: EvalItem[] = run.test.queries.keys.map((category, q) => ({
    pid: -1,
    camid: 0,
    category,
    attributes: run.test.queries.vectors.subarray(q * d, (q + 1) * d),
  }));
  const gallery: EvalItem[] = data.test.keys.map((category, i) => ({ pid: i, camid: 1, category }));
  return await rankedGallery({
    dist: score.dist,
    query,
    gallery,
    rows: options.queries,
    k: options.k ?? 8,
    protocol: attributeQuery(),
    queryImage: options.queryImage ?? (() => null),
    galleryImage: (j) => splitImage(data.test.split, j),
    attributeNames: data.attributeNames,
    tileWidth: 40,
    tileHeight: 80,
    title: options.title,
    queryHeading: options.queryImage ? "generated query image" : "attribute query",
    galleryHeading: "test images, most similar first (green: same attribute vector)",
    queryLabel: (q) => `test SID ${q}`,
  });
}

/**
 * The concepts of the test split in 2-D (PCA of C^A and C^I together): attribute concepts of
 * each image's own vector and image concepts, marker = modality, colour = the most common
 * test SIDs (others grey-ish by their SID's colour).
 */
export async function conceptMap(
  run: AaiprRun,
  data: AaiprData,
  options: { title: string; sids?: number },
): Promise<FigureBundle> {
  const a = run.test.pairedAttributeFeatures;
  const g = run.test.galleryFeatures;
  if (!a) throw new Error("conceptMap: this row has no attribute concepts");
  const counts = new Map<number, number>();
  for (const s of data.test.sids) counts.set(s, (counts.get(s) ?? 0) + 1);
  const top = [...counts.entries()].sort((x, y) => y[1] - x[1]).slice(0, options.sids ?? 6)
    .map(([s]) => s);
  const rows = [...data.test.sids.keys()].filter((i) => top.includes(data.test.sids[i]));
  const c = g.cols;
  const both = new Float32Array(2 * rows.length * c);
  rows.forEach((r, i) => {
    both.set(a.data.subarray(r * c, (r + 1) * c), i * c);
    both.set(g.data.subarray(r * c, (r + 1) * c), (rows.length + i) * c);
  });
  const emb = await pca({ data: both, rows: 2 * rows.length, cols: c });
  const identity = [...rows, ...rows].map((r) => top.indexOf(data.test.sids[r]));
  return featureScatter(emb, {
    identity,
    modality: [
      ...rows.map(() => "attribute concept C^A"),
      ...rows.map(() => "image concept C^I"),
    ],
    title: options.title,
    xLabel: "PC 1",
    yLabel: "PC 2",
  });
}

/**
 * The Images row's ranked galleries: each query's generated image (G of its attributes with the
 * fixed z the evaluation used) and the test images nearest its Φ_I concept.
 */
export async function generatedQueryGallery(
  run: AaiprRun,
  data: AaiprData,
  options: { queries: number[]; k?: number; title: string },
) {
  const gan = run.gan, noise = run.test.queryNoise?.[0];
  if (!gan || !noise) throw new Error("generatedQueryGallery: not a kept Images-row run");
  const d = data.attrDim, z = gan.noiseDim;
  const n = options.queries.length;
  const attrs = new Float32Array(n * d), zs = new Float32Array(n * z);
  options.queries.forEach((q, i) => {
    attrs.set(run.test.queries.vectors.subarray(q * d, (q + 1) * d), i * d);
    zs.set(noise.subarray(q * z, (q + 1) * z), i * z);
  });
  const pixels = await generatedPixels(gan, { data: attrs, rows: n, cols: d }, zs);
  const { height, width } = data.test.split.size;
  const per = height * width * 3;
  return await attributeGallery(run, data, {
    ...options,
    queryImage: (q) => {
      const i = options.queries.indexOf(q);
      return i < 0 ? null : { pixels: pixels.subarray(i * per, (i + 1) * per), width, height };
    },
  });
}
