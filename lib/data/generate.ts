/**
 * `deno task data`: generates every CPU-scale synthetic dataset under
 * `data/<preset>/` in its release's layout, idempotently, on all cores.
 *
 * ```
 * deno task data [--preset market1501,peta] [--root data] [--seed 0] [--force]
 *                [--workers 2] [--sheets results/data] [--no-sheets]
 * ```
 *
 * A finished preset folder holds `_synthetic_complete.json` with the hash of
 * (generator version, preset, config, seed). A folder whose marker is missing
 * or differs (interrupted run, changed config or seed) is deleted and
 * regenerated, never partly reused. The marker is written last.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { hashString } from "../runtime/random.ts";
import { type DatasetPlan, planPreset, writeAnnotations } from "./writers/mod.ts";
import {
  DEFAULT_CONFIGS,
  PRESET_NAMES,
  type PresetConfigs,
  type PresetName,
} from "./world/presets.ts";
import type { ShardReply, ShardRequest } from "./render_worker.ts";
import { writeContactSheet } from "./contact_sheet.ts";

/** Bump when rendering or layouts change, so stale datasets are regenerated. */
export const GENERATOR_VERSION = "1";

/** Name of the completion marker in a preset folder. */
export const MARKER_FILE = "_synthetic_complete.json";
/** Written before the first image, so an interrupted folder is known to be ours. */
export const STARTED_FILE = "_synthetic_started.json";

/**
 * Removes a preset folder before regenerating it — only when the generator
 * made it (its start or completion marker is there) or it is empty, so that a
 * user's real dataset placed at `data/<preset>` is never deleted.
 */
async function removeOwnFolder(presetRoot: string): Promise<void> {
  const entries: string[] = [];
  try {
    for await (const entry of Deno.readDir(presetRoot)) entries.push(entry.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  if (entries.length > 0 && !entries.includes(MARKER_FILE) && !entries.includes(STARTED_FILE)) {
    throw new Error(
      `${presetRoot} holds files the generator did not write (${entries.slice(0, 3).join(", ")}` +
        `${entries.length > 3 ? ", …" : ""}); refusing to delete it. Real datasets belong under ` +
        `data/real/<name>/ (see lib/data/README.md); move or delete this folder yourself.`,
    );
  }
  await Deno.remove(presetRoot, { recursive: true });
}

/** Hash identifying a generated dataset: generator version, preset, config and seed. */
export function configHash(preset: PresetName, config: unknown, seed: number): string {
  const text = JSON.stringify({ v: GENERATOR_VERSION, preset, config, seed });
  // Two independent 32-bit hashes: collisions between configs must not make a stale folder look fresh.
  return hashString(text).toString(16).padStart(8, "0") +
    hashString(`salt:${text}`).toString(16).padStart(8, "0");
}

/** True when `presetRoot` holds a completed dataset with this hash. */
export async function isComplete(presetRoot: string, hash: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await Deno.readTextFile(join(presetRoot, MARKER_FILE)));
    return marker.hash === hash;
  } catch {
    return false;
  }
}

/** A pool of render workers that live across presets. */
class RenderPool {
  #workers: Worker[];
  constructor(n: number) {
    this.#workers = Array.from(
      { length: n },
      () => new Worker(new URL("./render_worker.ts", import.meta.url), { type: "module" }),
    );
  }
  get size(): number {
    return this.#workers.length;
  }
  /** Renders all of a preset's images, one shard per worker. */
  async render(
    preset: PresetName,
    config: PresetConfigs[PresetName],
    seed: number,
    releaseRoot: string,
  ): Promise<number> {
    const replies = await Promise.all(
      this.#workers.map((w, shard) =>
        new Promise<ShardReply>((resolve) => {
          w.onmessage = (e: MessageEvent<ShardReply>) => resolve(e.data);
          w.onerror = (e) => {
            e.preventDefault();
            resolve({ ok: false, error: e.message });
          };
          const req: ShardRequest = {
            preset,
            config,
            seed,
            releaseRoot,
            shard,
            shards: this.#workers.length,
          };
          w.postMessage(req);
        })
      ),
    );
    let count = 0;
    for (const r of replies) {
      if (!r.ok) throw new Error(`rendering ${preset} failed in a worker:\n${r.error}`);
      count += r.count;
    }
    return count;
  }
  close(): void {
    for (const w of this.#workers) w.terminate();
  }
}

async function dirBytes(path: string): Promise<number> {
  let total = 0;
  for await (const e of Deno.readDir(path)) {
    const p = join(path, e.name);
    if (e.isDirectory) total += await dirBytes(p);
    else if (e.isFile) total += (await Deno.stat(p)).size;
  }
  return total;
}

function summary(plan: DatasetPlan): string {
  const ids = new Set(plan.jobs.map((j) => j.identity.key)).size;
  const cams = new Set(plan.truth.images.map((im) => `${im.modality}${im.camid}`)).size;
  const ir = plan.truth.images.filter((im) => im.modality === "ir").length;
  return `${plan.truth.images.length} images (${ir} IR), ${ids} people, ${cams} cameras`;
}

/** Options of {@link generate}. */
export interface GenerateOptions {
  presets: PresetName[];
  root: string;
  seed: number;
  force: boolean;
  workers: number;
  /** Folder for contact sheets, or null for none. */
  sheets: string | null;
  /** Config overrides per preset (tests and calibration); defaults are {@link DEFAULT_CONFIGS}. */
  configs?: Partial<PresetConfigs>;
  log?: (line: string) => void;
}

/** Generates the requested presets; returns per-preset seconds (0 when already up to date). */
export async function generate(opts: GenerateOptions): Promise<Record<string, number>> {
  const log = opts.log ?? console.log;
  const times: Record<string, number> = {};
  // Workers start only when something must be rendered (a fully cached run starts none).
  let pool: RenderPool | null = null;
  const sheetsInFlight: Promise<void>[] = [];
  try {
    for (const preset of opts.presets) {
      const config = opts.configs?.[preset] ?? DEFAULT_CONFIGS[preset];
      const hash = configHash(preset, config, opts.seed);
      const presetRoot = join(opts.root, preset);
      const t0 = performance.now();
      const plan = planPreset(preset, config, opts.seed);
      const releaseRoot = join(presetRoot, plan.releaseDir);
      const sheet = opts.sheets ? join(opts.sheets, `${preset}.png`) : null;
      if (!opts.force && await isComplete(presetRoot, hash)) {
        times[preset] = 0;
        log(`${preset}: up to date (${summary(plan)}) in ${presetRoot}`);
      } else {
        await removeOwnFolder(presetRoot);
        await Deno.mkdir(releaseRoot, { recursive: true });
        await Deno.writeTextFile(join(presetRoot, STARTED_FILE), JSON.stringify({ hash }));
        pool ??= new RenderPool(Math.max(1, opts.workers));
        await pool.render(preset, config, opts.seed, releaseRoot);
        await writeAnnotations(plan, presetRoot);
        await Deno.writeTextFile(
          join(presetRoot, MARKER_FILE),
          JSON.stringify(
            {
              hash,
              preset,
              seed: opts.seed,
              version: GENERATOR_VERSION,
              images: plan.jobs.length,
              config,
            },
            null,
            1,
          ),
        );
        times[preset] = (performance.now() - t0) / 1000;
        const mb = (await dirBytes(presetRoot)) / 1e6;
        log(
          `${preset}: ${summary(plan)}, ${mb.toFixed(1)} MB in ${releaseRoot}, ${
            times[preset].toFixed(1)
          } s`,
        );
      }
      if (sheet && (times[preset] > 0 || !(await Deno.stat(sheet).catch(() => null)))) {
        await Deno.mkdir(opts.sheets!, { recursive: true });
        // The main thread is idle while the workers render the next preset: draw the sheet meanwhile.
        sheetsInFlight.push(writeContactSheet(plan, releaseRoot, sheet, opts.seed));
      }
    }
    await Promise.all(sheetsInFlight);
  } finally {
    // A failed preset must not leave sheet promises unobserved.
    await Promise.allSettled(sheetsInFlight);
    pool?.close();
  }
  return times;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      preset: { type: "string", multiple: true },
      root: { type: "string", default: "data" },
      seed: { type: "string", default: "0" },
      force: { type: "boolean", default: false },
      workers: { type: "string", default: "2" },
      sheets: { type: "string", default: "results/data" },
      "no-sheets": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      `deno task data [--preset NAME[,NAME]] [--root data] [--seed 0] [--force] [--workers 2] [--sheets results/data] [--no-sheets]\npresets: ${
        PRESET_NAMES.join(", ")
      }`,
    );
    Deno.exit(0);
  }
  const requested = (values.preset ?? []).flatMap((p) => p.split(",")).filter(Boolean);
  for (const p of requested) {
    if (!(PRESET_NAMES as readonly string[]).includes(p)) {
      console.error(`unknown preset "${p}"; expected one of ${PRESET_NAMES.join(", ")}`);
      Deno.exit(2);
    }
  }
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed)) {
    console.error(`--seed must be an integer, got "${values.seed}"`);
    Deno.exit(2);
  }
  const t0 = performance.now();
  const times = await generate({
    presets: requested.length ? requested as PresetName[] : [...PRESET_NAMES],
    root: values.root!,
    seed,
    force: values.force!,
    workers: Math.max(1, Number(values.workers) || 2),
    sheets: values["no-sheets"] ? null : values.sheets!,
  });
  const rendered = Object.values(times).reduce((a, b) => a + b, 0);
  console.log(
    `done: ${((performance.now() - t0) / 1000).toFixed(1)} s total (${
      rendered.toFixed(1)
    } s rendering)`,
  );
}
