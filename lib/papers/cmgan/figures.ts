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
import { featureScatter, lossCurves, meanStd } from "../../viz/plots.ts";
import { splitImage } from "../../data/split.ts";
import type { CmganData } from "./data.ts";
import type { CmganRun } from "./run.ts";

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
  // A label column names each camera row and its modality.
  const labelWidth = 96;
  const top = 18;
  const tiles: sharp.OverlayOptions[] = [];
  for (let cam = 1; cam <= 6; cam++) {
    for (const [col, pid] of chosen.entries()) {
      const pos = images.findIndex((im) => im.pid === pid && im.camid === cam);
      if (pos < 0) continue;
      const img = splitImage(set, pos);
      const tile = await sharp(Buffer.from(img.pixels), {
        raw: { width: img.width, height: img.height, channels: 3 },
      }).resize(w, h, { kernel: "nearest" }).png().toBuffer();
      tiles.push({
        input: tile,
        left: labelWidth + col * (w + gap),
        top: top + (cam - 1) * (h + gap),
      });
    }
  }
  const width = labelWidth + chosen.length * (w + gap) - gap;
  const height = top + 6 * (h + gap) - gap;
  const font = `font-family="Helvetica, Arial, sans-serif" font-size="11"`;
  const rows = [1, 2, 3, 4, 5, 6].map((cam) => {
    const ir = cam === 3 || cam === 6;
    const place = cam <= 3 ? "indoor" : "outdoor";
    const y = top + (cam - 1) * (h + gap) + h / 2;
    return `<text x="4" y="${y}" ${font} font-weight="bold">cam ${cam}</text>` +
      `<text x="4" y="${y + 14}" ${font} fill="${ir ? "#b34700" : "#1f4e99"}">${
        ir ? "infrared" : "RGB"
      }, ${place}</text>`;
  }).join("");
  const header = `<text x="${labelWidth}" y="12" ${font}>columns: test identities ${
    chosen.join(", ")
  } (a blank tile: not seen by that camera)</text>`;
  const labels = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${
    header + rows
  }</svg>`;
  const png = await sharp({
    create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } },
  }).composite([{ input: Buffer.from(labels), left: 0, top: 0 }, ...tiles])
    .flatten({ background: "#ffffff" })
    .png({ palette: true, colours: 128, compressionLevel: 9, effort: 7, dither: 0 })
    .toBuffer();
  return pngBundle(
    new Uint8Array(png),
    `rows: cameras 1–6 (3 and 6 infrared); columns: identities ${chosen.join(", ")}`,
  );
}

/**
 * Fig. 4's two panels from a history: the generator's and discriminator's losses against
 * ln 2 (the loss of a discriminator at chance, which the paper says ℓ_dis settles near), and
 * the discriminator's modality accuracy against 0.5 (chance) — on its own axis, since it is
 * not a loss.
 */
export function adversaryFigures(
  history: LossHistory | HistoryJSON,
  options: { title?: string } = {},
): { losses: FigureBundle; accuracy: FigureBundle } {
  return {
    losses: lossCurves(history, {
      names: ["l_gen", "l_dis"],
      smooth: 0.9,
      reference: [{ name: "ln 2 ≈ 0.69 (D at chance)", value: Math.LN2 }],
      title: options.title ?? "Generator and discriminator losses (Fig. 4)",
    }),
    accuracy: lossCurves(history, {
      names: ["d_acc"],
      smooth: 0.9,
      yLabel: "modality accuracy of D",
      reference: [{ name: "0.5 (chance)", value: 0.5 }],
      title: "Can the discriminator still tell RGB from IR?",
    }),
  };
}

/**
 * A live Fig. 4: {@link adversaryFigures}, redrawn every `every` steps in place (two
 * outputs: the losses and D's accuracy).
 */
export function liveLossPlot(history: LossHistory, options: { every?: number; title?: string }) {
  const losses = new DisplayHandle();
  const accuracy = new DisplayHandle();
  const every = options.every ?? 25;
  return async (step: number) => {
    if (step % every !== 0 && step !== 1) return;
    const figs = adversaryFigures(history, {
      title: options.title ?? `Generator and discriminator losses (step ${step})`,
    });
    await losses.show(figs.losses);
    await accuracy.show(figs.accuracy);
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

/**
 * Fig. 3's analogue: all-search single-shot r1 and mAP against ξ, mean over seeds with ± 1 std
 * error bars (the spread decides whether a rise with ξ is more than noise).
 */
export function marginFigure(
  points: { xi: number; r1: number[]; mAP: number[] }[],
): FigureBundle {
  const sorted = points.slice().sort((a, b) => a.xi - b.xi);
  const summary = (v: number[]) => meanStd(v);
  const labels = sorted.map((p) => `ξ = ${p.xi}`);
  return figureBundle({
    title: "Margin ξ of the cross-modality triplet loss (Fig. 3)",
    x: { type: "category", categories: labels },
    y: { label: "all-search single-shot (%)" },
    traces: [
      {
        kind: "bar",
        name: "rank-1",
        x: labels,
        y: sorted.map((p) => summary(p.r1).mean),
        error: sorted.map((p) => summary(p.r1).std),
        labels: sorted.map((p) => summary(p.r1).mean.toFixed(1)),
      },
      {
        kind: "bar",
        name: "mAP",
        x: labels,
        y: sorted.map((p) => summary(p.mAP).mean),
        error: sorted.map((p) => summary(p.mAP).std),
        labels: sorted.map((p) => summary(p.mAP).mean.toFixed(1)),
      },
    ],
    note: `± 1 std over seeds (${sorted.map((p) => p.r1.length).join("/")} per ξ)`,
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
    queryImage: (q) => splitImage(data.test, queryRows[q]),
    galleryImage: (j) => splitImage(data.test, galleryRows[drawn[j]]),
    tileWidth: 48,
    tileHeight: 96,
    title: options.title,
    queryHeading: "IR query",
    galleryHeading: `RGB gallery (${options.mode}-search, first draw), nearest first`,
    queryLabel: (q) => `id ${query[q].pid} · IR cam ${query[q].camid}`,
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
