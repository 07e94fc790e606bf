/**
 * The cmGAN notebook's figures, each the analogue of one of the paper's: camera rows of
 * RGB and IR samples (Fig. 1), live generator/discriminator losses (Fig. 4), total loss
 * with and without the discriminator plus validation mAP (Fig. 5), the margin sweep
 * (Fig. 3), ranked galleries IR query → RGB gallery (Fig. 6), and a 2-D feature scatter.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import sharp from "sharp";
import { pca } from "../../eval/embed2d.ts";
import type { EvalResult } from "../../eval/evaluate.ts";
import { sysuMM01 } from "../../eval/protocols.ts";
import type { Rng } from "../../runtime/random.ts";
import type { HistoryJSON, LossHistory } from "../../train/history.ts";
import { type Chart, type FigureBundle, figureBundle, type LineTrace } from "../../viz/chart.ts";
import { DisplayHandle, type MimeBundle, pngBundle } from "../../runtime/display.ts";
import { rankedGallery } from "../../viz/gallery.ts";
import { featureScatter, lossCurves } from "../../viz/plots.ts";
import type { ReidSplit } from "../../data/split.ts";
import type { CmganData } from "./data.ts";
import type { CmganRun } from "./run.ts";

/** Pixels of one image of a set, as the gallery composer takes them. */
export function imageOf(set: ReidSplit, position: number) {
  const { height, width } = set.size;
  const per = height * width * 3;
  return {
    pixels: set.pixels.subarray(position * per, (position + 1) * per),
    width,
    height,
    channels: 3 as const,
  };
}

/**
 * Fig. 1's analogue: one row per camera (1, 2, 4, 5 RGB; 3, 6 IR, in camera order as the
 * paper's figure), one column per identity; a blank tile where an identity is not seen.
 */
export async function cameraGrid(
  data: CmganData,
  options: { ids?: number; rng: Rng; scale?: number },
): Promise<MimeBundle> {
  const set = data.test;
  const images = set.indices.map((i) => data.dataset.images[i]);
  const pids = [...new Set(images.map((im) => im.pid))].sort((a, b) => a - b);
  const chosen = options.rng.sample(pids, Math.min(options.ids ?? 8, pids.length))
    .sort((a, b) => a - b);
  const scale = options.scale ?? 2;
  const w = set.size.width * scale;
  const h = set.size.height * scale;
  const gap = 2;
  const tiles: sharp.OverlayOptions[] = [];
  for (let cam = 1; cam <= 6; cam++) {
    for (const [col, pid] of chosen.entries()) {
      const pos = images.findIndex((im) => im.pid === pid && im.camid === cam);
      if (pos < 0) continue;
      const img = imageOf(set, pos);
      const tile = await sharp(Buffer.from(img.pixels), {
        raw: { width: img.width, height: img.height, channels: 3 },
      }).resize(w, h, { kernel: "nearest" }).png().toBuffer();
      tiles.push({ input: tile, left: col * (w + gap), top: (cam - 1) * (h + gap) });
    }
  }
  const png = await sharp({
    create: {
      width: chosen.length * (w + gap) - gap,
      height: 6 * (h + gap) - gap,
      channels: 3,
      background: { r: 255, g: 255, b: 255 },
    },
  }).composite(tiles).png().toBuffer();
  return pngBundle(
    new Uint8Array(png),
    `rows: cameras 1–6 (3 and 6 infrared); columns: identities ${chosen.join(", ")}`,
  );
}

/** A live Fig. 4: the discriminator's and generator's losses, redrawn every `every` steps. */
export function liveLossPlot(history: LossHistory, options: { every?: number; title?: string }) {
  const handle = new DisplayHandle();
  const every = options.every ?? 25;
  return async (step: number) => {
    if (step % every !== 0 && step !== 1) return;
    await handle.show(lossCurves(history, {
      names: ["l_gen", "l_dis", "d_acc"],
      smooth: 0.9,
      title: options.title ?? `Generator and discriminator losses (step ${step})`,
    }));
  };
}

function line(name: string, s: { steps: number[]; values: (number | null)[] }, extra = {}) {
  return {
    kind: "line" as const,
    name,
    x: s.steps,
    y: s.values.map((v) => v ?? NaN),
    ...extra,
  } satisfies LineTrace;
}

function ema(values: number[], w = 0.95): number[] {
  let m = NaN;
  return values.map((v) => (m = Number.isNaN(m) ? v : w * m + (1 - w) * v));
}

/**
 * Fig. 5's analogue: the generator's total loss with the discriminator (l_gen − γ·l_dis,
 * `full`) and without it (γ = 0, `noAdv`), EMA-smoothed, and the validation mAP of each.
 */
export function totalLossFigure(
  withD: HistoryJSON,
  withoutD: HistoryJSON,
): { loss: FigureBundle; mAP: FigureBundle } {
  const smooth = (s: HistoryJSON["series"][string]) => ({
    steps: s.steps,
    values: ema(s.values.map((v) => v ?? NaN)),
  });
  const loss: Chart = {
    title: "Total loss with and without the discriminator (Fig. 5)",
    x: { label: "step" },
    y: { label: "l_gen − γ·l_dis (EMA)" },
    traces: [
      line("with D (full)", smooth(withD.series.l_total)),
      line("without D (γ = 0)", smooth(withoutD.series.l_total), { dash: "dash" }),
    ],
  };
  const mAP: Chart = {
    title: "Validation mAP during training (all-search, single-shot, 1 draw)",
    x: { label: "step" },
    y: { label: "mAP (%)" },
    traces: [
      line("with D (full)", withD.series.val_mAP, { markers: true }),
      line("without D (γ = 0)", withoutD.series.val_mAP, { markers: true, dash: "dash" }),
    ],
  };
  return { loss: figureBundle(loss), mAP: figureBundle(mAP) };
}

/** Fig. 3's analogue: all-search single-shot r1 and mAP against ξ (mean ± std over seeds). */
export function marginFigure(
  points: { xi: number; r1: number[]; mAP: number[] }[],
): FigureBundle {
  const sorted = points.slice().sort((a, b) => a.xi - b.xi);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return figureBundle({
    title: "Margin ξ of the cross-modality triplet loss (Fig. 3)",
    x: { label: "ξ" },
    y: { label: "%" },
    traces: [
      {
        kind: "line",
        name: "rank-1",
        x: sorted.map((p) => p.xi),
        y: sorted.map((p) => mean(p.r1)),
        markers: true,
      },
      {
        kind: "line",
        name: "mAP",
        x: sorted.map((p) => p.xi),
        y: sorted.map((p) => mean(p.mAP)),
        markers: true,
      },
    ],
    note: `seeds per point: ${sorted.map((p) => p.r1.length).join("/")}`,
  });
}

/**
 * Fig. 6's analogue: IR queries against the RGB gallery of the first gallery draw, top-k
 * with green (same person) and red borders; camera-3 queries skip camera 2 as the metrics
 * do. `queries` are positions among the run's IR queries.
 */
export async function sysuGallery(
  run: CmganRun,
  data: CmganData,
  options: { mode: "all" | "indoor"; queries: number[]; k?: number; title?: string },
) {
  const key = `${options.mode}_ss`;
  const result: EvalResult = run.results[key];
  const drawn = result.trials?.[0] && "galleryIndices" in result.trials[0]
    ? (result.trials[0] as { galleryIndices: number[] }).galleryIndices
    : run.split.gallery.map((_, i) => i);
  const { dist, query, gallery, queryRows, galleryRows } = run.split;
  const cols = new Float32Array(query.length * drawn.length);
  for (let q = 0; q < query.length; q++) {
    for (let j = 0; j < drawn.length; j++) {
      cols[q * drawn.length + j] = dist.data[q * dist.cols + drawn[j]];
    }
  }
  const protocol = sysuMM01({ mode: options.mode });
  return await rankedGallery({
    dist: { data: cols, rows: query.length, cols: drawn.length },
    query,
    gallery: drawn.map((j) => gallery[j]),
    rows: options.queries,
    k: options.k ?? 10,
    protocol,
    queryImage: (q) => imageOf(data.test, queryRows[q]),
    galleryImage: (j) => imageOf(data.test, galleryRows[drawn[j]]),
    tileWidth: 48,
    tileHeight: 96,
    title: options.title,
  });
}

/** 2-D PCA of the test features of `ids` identities: colour = identity, marker = modality. */
export async function featureMap(
  run: CmganRun,
  options: { ids: number; title: string },
): Promise<FigureBundle> {
  const pids = [...new Set(run.testItems.map((it) => it.pid))].sort((a, b) => a - b)
    .slice(0, options.ids);
  const rows = run.testItems.flatMap((it, i) => (pids.includes(it.pid) ? [i] : []));
  const { cols } = run.features;
  const data = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => data.set(run.features.data.subarray(r * cols, (r + 1) * cols), i * cols));
  const emb = await pca({ data, rows: rows.length, cols });
  return featureScatter(emb, {
    identity: rows.map((r) => run.testItems[r].pid),
    modality: rows.map((r) => (run.testItems[r].modality === "ir" ? "infrared" : "RGB")),
    title: options.title,
  });
}
