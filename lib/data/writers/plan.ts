/**
 * A writer first *plans* a dataset — every image to render (who, camera,
 * style, size, file name) and every annotation file — without touching the
 * disk; {@link executePlan} then renders (optionally one shard of the images,
 * so several workers can share the work) and writes. Plans are pure functions
 * of (config, seed), which is what makes sharding and the idempotency marker
 * safe.
 *
 * @module
 */
import { dirname, join } from "node:path";
import type { DatasetTrial, ReidDataset, ReidImage } from "../types.ts";
import { Rng } from "../../runtime/random.ts";
import type { Identity } from "../world/identity.ts";
import type { CameraModel, DomainStyle, Shot } from "../world/scene.ts";
import { renderImage, type RgbImage, shotFor } from "../world/render.ts";
import { encodeImage, type ImageFormat } from "../world/encode.ts";

/** One image to render. */
export interface ImageJob {
  /** Path relative to the release folder. */
  path: string;
  identity: Identity;
  camera: CameraModel;
  style: DomainStyle;
  width: number;
  height: number;
  format: ImageFormat;
  /** Seed of the image's own random stream (a fork of the dataset seed by the path). */
  seed: number;
  /** A shot fixed at plan time (aligned RegDB pairs, VIPeR's view-named files). */
  shot?: Shot;
}

/** A non-image file of the layout (annotations, split lists). */
export interface TextFile {
  path: string;
  content: string | Uint8Array;
}

/**
 * The ground truth of a written dataset in {@link ReidDataset} terms, as JSON:
 * attributes are plain number arrays, paths are relative to {@link root}.
 */
export interface SyntheticTruth {
  name: string;
  /** Release folder, relative to the preset folder (e.g. "Market-1501-v15.09.15"). */
  root: string;
  attributeNames: string[];
  attributeGroups: Record<string, number[]>;
  images: (Omit<ReidImage, "attributes"> & { attributes?: number[] })[];
  trials?: DatasetTrial[];
  seed: number;
  /** The world attributes of each identity, keyed by `identityKey` in `meta`. */
  identities?: Record<string, unknown>;
}

/** A planned dataset. */
export interface DatasetPlan {
  preset: string;
  /** Release folder name inside the preset folder. */
  releaseDir: string;
  jobs: ImageJob[];
  files: TextFile[];
  truth: SyntheticTruth;
}

/** The per-image random stream of a job. */
export function jobRng(job: ImageJob): Rng {
  return new Rng(job.seed);
}

/** Seed of the random stream of the image at `path` in a dataset with seed `datasetRng`. */
export function imageSeed(datasetRng: Rng, path: string): number {
  return datasetRng.fork(`image:${path}`).seed;
}

/** The shot a job will be rendered with (the planned one or the one its stream draws). */
export function jobShot(job: ImageJob): Shot {
  return job.shot ?? shotFor({ ...job, rng: jobRng(job) });
}

/** Renders one job to pixels. */
export function renderJob(job: ImageJob): Promise<RgbImage> {
  return renderImage({ ...job, rng: jobRng(job), shot: job.shot });
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function pool<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(runners);
}

/** Renders and writes the jobs of shard `shard` of `shards` (job index mod shards) under `releaseRoot`. */
export async function renderShard(
  jobs: ImageJob[],
  releaseRoot: string,
  shard = 0,
  shards = 1,
  concurrency = 3,
): Promise<number> {
  const mine = jobs.filter((_, i) => i % shards === shard);
  const made = new Set<string>();
  await pool(mine, concurrency, async (job) => {
    const full = join(releaseRoot, job.path);
    const dir = dirname(full);
    if (!made.has(dir)) {
      await Deno.mkdir(dir, { recursive: true });
      made.add(dir);
    }
    const img = await renderJob(job);
    await Deno.writeFile(full, await encodeImage(img, job.format));
  });
  return mine.length;
}

/** Writes a plan's annotation files and its `_synthetic_truth.json` (beside the release folder). */
export async function writeAnnotations(plan: DatasetPlan, presetRoot: string): Promise<void> {
  const releaseRoot = join(presetRoot, plan.releaseDir);
  for (const f of plan.files) {
    const full = join(releaseRoot, f.path);
    await Deno.mkdir(dirname(full), { recursive: true });
    if (typeof f.content === "string") await Deno.writeTextFile(full, f.content);
    else await Deno.writeFile(full, f.content);
  }
  await Deno.writeTextFile(join(presetRoot, TRUTH_FILE), JSON.stringify(plan.truth));
}

/** Name of the ground-truth file written in the preset folder, beside the release folder. */
export const TRUTH_FILE = "_synthetic_truth.json";

/** Renders every job and writes every file of a plan (single process). */
export async function executePlan(plan: DatasetPlan, presetRoot: string): Promise<void> {
  await renderShard(plan.jobs, join(presetRoot, plan.releaseDir));
  await writeAnnotations(plan, presetRoot);
}

/** Reads a `_synthetic_truth.json` back into a {@link ReidDataset} (attributes as Int8Array, absolute paths). */
export async function readTruth(presetRoot: string): Promise<ReidDataset & { seed: number }> {
  const file = join(presetRoot, TRUTH_FILE);
  let t: SyntheticTruth;
  try {
    t = JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    throw new Error(`readTruth: cannot read ${file}: ${(e as Error).message}`);
  }
  const root = join(presetRoot, t.root);
  return {
    name: t.name,
    root,
    attributeNames: t.attributeNames,
    attributeGroups: t.attributeGroups,
    trials: t.trials,
    seed: t.seed,
    images: t.images.map((im) => ({
      ...im,
      path: join(root, im.path),
      attributes: im.attributes ? Int8Array.from(im.attributes) : undefined,
    })),
  };
}

/** Zero-padded decimal. */
export function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** A Poisson draw (Knuth; fine for the small means used here). */
export function poisson(rng: Rng, mean: number): number {
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rng.float();
  } while (p > l);
  return k - 1;
}
