/**
 * The PAENet notebook's figures: a camera grid of the synthetic world, line charts (Fig. 7),
 * t-SNE maps of test features (Figs. 1 and 4: colour = identity, marker = modality) and W2
 * heat maps over the image (Fig. 6).
 *
 * @see notebooks/paenet.ipynb §2, §6, §8
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import sharp from "sharp";
import { tsne } from "../../eval/embed2d.ts";
import type { DenseMatrix } from "../../eval/distance.ts";
import type { Rng } from "../../runtime/random.ts";
import { type FigureBundle, figureBundle, type LineTrace, paletteColor } from "../../viz/chart.ts";
import { pageImage } from "../../viz/image.ts";
import { featureScatter, lossCurves } from "../../viz/plots.ts";
import { type Displayable, DisplayHandle, type MimeBundle } from "../../runtime/display.ts";
import type { LossHistory } from "../../train/history.ts";
import type { AttributedSplit } from "./data.ts";
import { NUM_ATTRIBUTES } from "./data.ts";
import { augmentRows, embedModes } from "./run.ts";
import type { PaenetNet } from "./model.ts";

/** A line chart of a few series over a shared x axis (null = no value). */
export function lineChartBundle(options: {
  title: string;
  xTitle: string;
  yTitle: string;
  series: { name: string; x: number[]; y: (number | null)[] }[];
}): FigureBundle {
  const traces: LineTrace[] = options.series.map((s, i) => {
    const keep = s.x.map((_, j) => s.y[j] !== null);
    return {
      kind: "line",
      name: s.name,
      x: s.x.filter((_, j) => keep[j]),
      y: s.y.filter((_, j) => keep[j]) as number[],
      color: paletteColor(i),
      markers: true,
      dash: s.name.includes("predicted") ? "dash" : "solid",
    };
  });
  return figureBundle({
    title: options.title,
    x: { label: options.xTitle },
    y: { label: options.yTitle },
    traces,
  });
}

/** Rows of up to `ids` test identities, one image per camera (cameras 1–6, 3 and 6 infrared). */
export async function cameraGrid(
  split: AttributedSplit,
  ids = 6,
): Promise<MimeBundle & Displayable> {
  const pids = [...new Set(split.items.map((it) => it.pid))].sort((a, b) => a - b).slice(0, ids);
  const { height: h, width: w } = split.size;
  const cams = [1, 2, 4, 5, 3, 6];
  const canvas = new Uint8Array(cams.length * h * pids.length * w * 3).fill(255);
  const W = pids.length * w;
  pids.forEach((pid, c) => {
    cams.forEach((cam, r) => {
      const row = split.items.findIndex((it) => it.pid === pid && it.camid === cam);
      if (row < 0) return;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          for (let k = 0; k < 3; k++) {
            canvas[((r * h + y) * W + c * w + x) * 3 + k] =
              split.pixels[(row * h * w + y * w + x) * 3 + k];
          }
        }
      }
    });
  });
  const png = await sharp(canvas, { raw: { width: W, height: cams.length * h, channels: 3 } })
    .resize({ width: W * 3, kernel: "nearest" }).png().toBuffer();
  return pageImage(new Uint8Array(png), {
    width: Math.min(720, W * 3),
    alt:
      `columns: ${pids.length} test identities; rows: RGB cameras 1, 2, 4, 5 then IR cameras 3, 6 ` +
      "(blank: the person never walked past that camera)",
  });
}

/** t-SNE of the GT-mode test features of `ids` identities (Figs. 1 and 4). */
export async function tsneFigure(
  net: PaenetNet,
  split: AttributedSplit,
  rng: Rng,
  options: { ids: number; title: string },
): Promise<FigureBundle> {
  const pids = [...new Set(split.items.map((it) => it.pid))].sort((a, b) => a - b).slice(
    0,
    options.ids,
  );
  const rows = split.items.flatMap((it, i) => (pids.includes(it.pid) ? [i] : []));
  const { features } = await embedModes(net, split, ["gt"], rng.fork("shuffle"));
  const f = features.gt;
  const data = new Float32Array(rows.length * f.cols);
  rows.forEach((r, i) => data.set(f.data.subarray(r * f.cols, (r + 1) * f.cols), i * f.cols));
  const x: DenseMatrix = { data, rows: rows.length, cols: f.cols };
  const points = await tsne(x, rng.fork("tsne"), {
    perplexity: Math.min(12, (rows.length - 1) / 3),
  });
  return featureScatter(points, {
    identity: rows.map((r) => split.items[r].pid),
    modality: rows.map((r) => (split.items[r].modality === "rgb" ? "RGB" : "IR")),
    title: options.title,
  });
}

/**
 * Fig. 6's analogue: for some test images, the channel mean of F (the baseline's attention)
 * and of F ⊙ W2 (PAENet's gated map), upsampled to the image and min-max scaled.
 */
export async function heatmaps(
  net: PaenetNet,
  split: AttributedSplit,
  rows: number[],
  names: string[],
): Promise<MimeBundle & Displayable> {
  const { height: H, width: W } = split.size;
  const per = H * W * 3;
  const tiles: Uint8Array[] = [];
  for (const row of rows) {
    const rgb = split.items[row].modality === "rgb";
    const maps = tf.tidy(() => {
      const x = augmentRows(split, [row], 0, 0, null);
      const F = rgb
        ? net.features(x, x, false).slice([0], [1])
        : net.features(x, x, false).slice([1], [1]);
      const a = tf.tensor2d(
        split.attributes.subarray(row * NUM_ATTRIBUTES, (row + 1) * NUM_ATTRIBUTES),
        [1, NUM_ATTRIBUTES],
      );
      const out = net.heads(F as tf.Tensor4D, a, { training: false });
      const gated = out.w2 ? F.mul(out.w2) : F;
      const up = (m: tf.Tensor) => {
        const mean = m.mean(3, true) as tf.Tensor4D;
        const r = tf.image.resizeBilinear(mean, [H, W]);
        const lo = r.min(), hi = r.max();
        return r.sub(lo).div(hi.sub(lo).add(1e-9)).reshape([H, W]);
      };
      return tf.stack([up(F), up(gated)]);
    });
    const m = await maps.data();
    maps.dispose();
    const tile = new Uint8Array(H * W * 3 * 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let k = 0; k < 3; k++) {
          const src = split.pixels[row * per + (y * W + x) * 3 + k];
          tile[(y * 3 * W + x) * 3 + k] = src;
          for (const [j, off] of [[0, W], [1, 2 * W]] as const) {
            const v = m[j * H * W + y * W + x];
            const heat = k === 0
              ? 255 * v
              : k === 1
              ? 255 * (1 - Math.abs(v - 0.5) * 2) * 0.6
              : 255 * (1 - v);
            tile[(y * 3 * W + off + x) * 3 + k] = Math.round(0.45 * src + 0.55 * heat);
          }
        }
      }
    }
    tiles.push(tile);
  }
  const canvas = new Uint8Array(rows.length * H * 3 * W * 3);
  tiles.forEach((t, i) => canvas.set(t, i * t.length));
  const png = await sharp(canvas, { raw: { width: 3 * W, height: rows.length * H, channels: 3 } })
    .resize({ width: 3 * W * 3, kernel: "nearest" }).png().toBuffer();
  return pageImage(new Uint8Array(png), {
    width: Math.min(540, 3 * W * 3),
    alt:
      "each row: the image, the channel mean of F (baseline-style attention), the channel mean " +
      `of F ⊙ W2 (PAENet's gated map); red = high. Rows: ${names.join("; ")}`,
  });
}

/** A loss plot that redraws itself in place every `every` steps (the notebook's live curves). */
export function liveLossPlot(
  history: LossHistory,
  options: { every?: number; title: string; names?: string[] },
): (step: number) => Promise<void> {
  const handle = new DisplayHandle();
  const every = options.every ?? 20;
  return async (step: number) => {
    if ((step + 1) % every !== 0) return;
    await handle.show(
      lossCurves(history, {
        title: `${options.title} (step ${step + 1})`,
        names: options.names ?? ["l_total", "l_id", "l_tri", "l_mmd", "l_atr"],
        smooth: 0.8,
      }),
    );
  };
}
