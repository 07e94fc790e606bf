/**
 * Contact sheets of the synthetic datasets: 8 identities × 6 images per
 * block, composed with sharp, so a reader can see the world. Cross-modal sets
 * show RGB beside IR; the transfer sets (Market ↔ Duke) show the same people
 * rendered in both domain styles side by side.
 *
 * @module
 */
import { join } from "node:path";
import sharp from "sharp";
import { Rng } from "../runtime/random.ts";
import { type DatasetPlan, type ImageJob, jobRng } from "./writers/plan.ts";
import { readImageFile } from "./world/encode.ts";
import { renderImage, type RgbImage } from "./world/render.ts";
import { type DomainStyle, drawRgbCameras } from "./world/scene.ts";
import { DEFAULT_CONFIGS } from "./world/presets.ts";

const TILE_W = 64;
const TILE_H = 128;
const GAP = 2;
const BLOCK_GAP = 10;

function tile(img: RgbImage) {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(TILE_W, TILE_H, { fit: "fill" })
    .png()
    .toBuffer();
}

/** Groups a plan's jobs by identity key, in plan order. */
function byIdentity(jobs: ImageJob[]): ImageJob[][] {
  const groups = new Map<string, ImageJob[]>();
  for (const j of jobs) {
    const g = groups.get(j.identity.key) ?? [];
    g.push(j);
    groups.set(j.identity.key, g);
  }
  return [...groups.values()];
}

/** Up to `k` jobs taken round-robin over cameras, so a row shows the camera variation. */
function spread(jobs: ImageJob[], k: number): ImageJob[] {
  const byCam = new Map<number, ImageJob[]>();
  for (const j of jobs) byCam.set(j.camera.id, [...(byCam.get(j.camera.id) ?? []), j]);
  const queues = [...byCam.values()];
  const out: ImageJob[] = [];
  for (let i = 0; out.length < Math.min(k, jobs.length); i++) {
    const q = queues[i % queues.length];
    if (q.length) out.push(q.shift()!);
  }
  return out;
}

/** The other domain of a transfer preset (same people, the other dataset's style and cameras). */
function otherDomain(
  preset: string,
  seed: number,
): { style: DomainStyle; cameras: ReturnType<typeof drawRgbCameras> } | null {
  const other = preset === "market1501"
    ? "dukemtmc_reid"
    : preset === "dukemtmc_reid"
    ? "market1501"
    : null;
  if (!other) return null;
  const cfg = DEFAULT_CONFIGS[other];
  return {
    style: cfg.style,
    cameras: drawRgbCameras(new Rng(seed).fork(other).fork("cameras"), cfg.cameras, cfg.style),
  };
}

/**
 * Writes the contact sheet of a written dataset to `out` (PNG). Images are
 * read back from `releaseRoot`, so the sheet shows what is on disk.
 */
export async function writeContactSheet(
  plan: DatasetPlan,
  releaseRoot: string,
  out: string,
  seed: number,
): Promise<void> {
  const rows = 8;
  const groups = byIdentity(
    plan.jobs.filter((j) => !j.path.includes("/-1_") && !j.path.includes("/0000_")),
  );
  const crossModal = plan.jobs.some((j) => j.camera.modality === "ir");
  const other = otherDomain(plan.preset, seed);
  const blocks: RgbImage[][][] = []; // block → row → images
  const own: RgbImage[][] = [];
  const cells = 6;
  if (crossModal) {
    const rgb: RgbImage[][] = [];
    const ir: RgbImage[][] = [];
    for (
      const g of groups.filter((g) =>
        g.some((j) => j.camera.modality === "ir") && g.some((j) => j.camera.modality === "rgb")
      ).slice(0, rows)
    ) {
      rgb.push(
        await Promise.all(
          spread(g.filter((j) => j.camera.modality === "rgb"), 3).map((j) =>
            readImageFile(join(releaseRoot, j.path))
          ),
        ),
      );
      ir.push(
        await Promise.all(
          spread(g.filter((j) => j.camera.modality === "ir"), 3).map((j) =>
            readImageFile(join(releaseRoot, j.path))
          ),
        ),
      );
    }
    blocks.push(rgb, ir);
  } else {
    // Fill each row with whole identities (sets with 2 images per person show 3 people per row);
    // transfer sets show one person per row, preferring people with a full row of images.
    const pool = other
      ? [...groups.filter((g) => g.length >= cells), ...groups.filter((g) => g.length < cells)]
      : groups;
    const rowJobs: ImageJob[][] = [];
    let gi = 0;
    for (let r = 0; r < rows && gi < pool.length; r++) {
      const row: ImageJob[] = [];
      while (gi < pool.length && row.length + Math.min(cells, pool[gi].length) <= cells) {
        row.push(...spread(pool[gi], cells));
        gi++;
        if (other || pool[gi - 1].length >= cells) break;
      }
      rowJobs.push(row);
      own.push(await Promise.all(row.map((j) => readImageFile(join(releaseRoot, j.path)))));
    }
    blocks.push(own);
    if (other) {
      const twin: RgbImage[][] = [];
      for (const row of rowJobs) {
        const imgs: RgbImage[] = [];
        for (const [k, j] of row.entries()) {
          imgs.push(
            await renderImage({
              identity: j.identity,
              width: j.width,
              height: j.height,
              style: other.style,
              camera: other.cameras[k % other.cameras.length],
              rng: jobRng(j).fork("other-domain"),
            }),
          );
        }
        twin.push(imgs);
      }
      blocks.push(twin);
    }
  }
  const blockWidth = (n: number) => n * TILE_W + (n - 1) * GAP;
  const widths = blocks.map((b) => blockWidth(Math.max(1, ...b.map((row) => row.length))));
  const width = widths.reduce((a, b) => a + b, 0) + BLOCK_GAP * (blocks.length - 1);
  const height = rows * TILE_H + (rows - 1) * GAP;
  const composites: { input: Awaited<ReturnType<typeof tile>>; left: number; top: number }[] = [];
  let x0 = 0;
  for (let b = 0; b < blocks.length; b++) {
    for (let r = 0; r < blocks[b].length; r++) {
      for (let c = 0; c < blocks[b][r].length; c++) {
        composites.push({
          input: await tile(blocks[b][r][c]),
          left: x0 + c * (TILE_W + GAP),
          top: r * (TILE_H + GAP),
        });
      }
    }
    x0 += widths[b] + BLOCK_GAP;
  }
  await sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(composites)
    // A 256-colour palette keeps the committed sheets small; they are for looking, not for training.
    .png({ palette: true, quality: 90, effort: 4 })
    .toFile(out);
}
