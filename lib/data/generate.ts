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
 * (generator version, preset, config, seed) and `_synthetic_files.json`, the list
 * of files the generator wrote. A folder whose marker is missing or differs
 * (interrupted run, changed config or seed) or `--force` is cleared of those files
 * and regenerated, never partly reused; files a user put inside are kept. The
 * marker is written last.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { nonNegativeInt, positiveInt, UsageError } from "../runtime/cli.ts";
import { join } from "node:path";
import { ensureWritableDir } from "../runtime/fs.ts";
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

/** Lists, in a generated folder, every file the generator wrote (relative paths). */
export const MANIFEST_FILE = "_synthetic_files.json";

/** Every file under `root` (relative paths; links are listed, not followed). */
async function listFiles(root: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(join(root, prefix)));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return out;
    throw e;
  }
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await listFiles(root, rel));
    else out.push(rel);
  }
  return out;
}

/** Removes the empty folders under `root` (deepest first), keeping `root` itself. */
async function pruneEmptyDirs(root: string, prefix = ""): Promise<void> {
  for await (const e of Deno.readDir(join(root, prefix))) {
    if (!e.isDirectory) continue;
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    await pruneEmptyDirs(root, rel);
    await Deno.remove(join(root, rel)).catch(() => {}); // fails while not empty: kept
  }
}

/** Files the loaders derive from a generated folder (seeded split draws): redone with it. */
const DERIVED = /(^|\/)splits_seed\d+\.json$/;

/**
 * Clears a preset folder before regenerating it — only what the generator wrote (its
 * manifest; for a folder made before manifests, files not newer than its completion
 * marker), so that files a user placed inside are kept (and named in the log). A folder
 * without the generator's markers that is not empty is refused, so that a user's real
 * dataset placed at `data/<preset>` is never deleted.
 */
async function removeOwnFolder(presetRoot: string, log: (line: string) => void): Promise<void> {
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
  const files = await listFiles(presetRoot);
  let ours: (rel: string) => boolean;
  const manifest = await Deno.readTextFile(join(presetRoot, MANIFEST_FILE)).then(
    (t) => new Set<string>(JSON.parse(t).files),
    () => null,
  );
  // The manifest describes a finished run; an interrupted one (no marker) wrote after it.
  const complete = entries.includes(MARKER_FILE);
  if (complete && manifest) ours = (rel) => manifest.has(rel);
  else if (complete) {
    // Before manifests: what the generator wrote is not newer than its last file, the marker.
    const done = (await Deno.stat(join(presetRoot, MARKER_FILE))).mtime?.getTime() ?? Infinity;
    const newer = new Set<string>();
    for (const rel of files) {
      const info = await Deno.lstat(join(presetRoot, rel));
      const t = Math.max(info.mtime?.getTime() ?? 0, info.ctime?.getTime() ?? 0);
      if (t > done + 1000) newer.add(rel);
    }
    ours = (rel) => !newer.has(rel);
  } else {
    // An interrupted run: everything but the user files it found (listed when it started).
    const started = await Deno.readTextFile(join(presetRoot, STARTED_FILE)).then(
      (t) => new Set<string>(JSON.parse(t).userFiles ?? []),
      () => new Set<string>(),
    );
    ours = (rel) => !started.has(rel);
  }
  const kept: string[] = [];
  for (const rel of files) {
    const generated = ours(rel) || DERIVED.test(rel) ||
      [MARKER_FILE, STARTED_FILE, MANIFEST_FILE].includes(rel);
    if (generated) await Deno.remove(join(presetRoot, rel));
    else kept.push(rel);
  }
  await pruneEmptyDirs(presetRoot);
  if (kept.length) {
    log(
      `${presetRoot}: kept ${kept.length} file(s) the generator did not write: ` +
        `${kept.slice(0, 5).join(", ")}${kept.length > 5 ? ", …" : ""}`,
    );
  }
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
        await removeOwnFolder(presetRoot, log);
        await Deno.mkdir(releaseRoot, { recursive: true });
        const before = new Set(await listFiles(presetRoot));
        await Deno.writeTextFile(
          join(presetRoot, STARTED_FILE),
          JSON.stringify({ hash, userFiles: [...before] }),
        );
        pool ??= new RenderPool(Math.max(1, opts.workers));
        await pool.render(preset, config, opts.seed, releaseRoot);
        await writeAnnotations(plan, presetRoot);
        const written = (await listFiles(presetRoot)).filter((f) => !before.has(f));
        await Deno.writeTextFile(
          join(presetRoot, MANIFEST_FILE),
          JSON.stringify({ files: [...written, MANIFEST_FILE, MARKER_FILE].sort() }) + "\n",
        );
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

const USAGE = `usage: deno task data [--preset NAME[,NAME]] [--root data] [--seed 0] [--force] ` +
  `[--workers 2] [--sheets results/data] [--no-sheets]\npresets: ${PRESET_NAMES.join(", ")}`;

/** The options of `deno task data` from its command line; any mistake is a {@link UsageError}. */
export function parseGenerateArgs(args: string[]): GenerateOptions & { help: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
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
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const requested = (values.preset ?? []).flatMap((p) => p.split(",")).filter(Boolean);
  for (const p of requested) {
    if (!(PRESET_NAMES as readonly string[]).includes(p)) {
      throw new UsageError(`unknown preset "${p}"; expected one of ${PRESET_NAMES.join(", ")}`);
    }
  }
  return {
    help: values.help,
    presets: requested.length ? requested as PresetName[] : [...PRESET_NAMES],
    root: values.root,
    seed: nonNegativeInt("--seed", values.seed),
    force: values.force,
    workers: positiveInt("--workers", values.workers),
    sheets: values["no-sheets"] ? null : values.sheets,
  };
}

if (import.meta.main) {
  let options;
  try {
    options = parseGenerateArgs(Deno.args);
    if (!options.help) {
      await ensureWritableDir(options.root, "data root");
      if (options.sheets) await ensureWritableDir(options.sheets, "contact-sheet folder");
    }
  } catch (error) {
    console.error(`data: ${(error as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const { help: _help, ...opts } = options;
  const t0 = performance.now();
  const times = await generate(opts);
  const rendered = Object.values(times).reduce((a, b) => a + b, 0);
  console.log(
    `done: ${((performance.now() - t0) / 1000).toFixed(1)} s total (${
      rendered.toFixed(1)
    } s rendering)`,
  );
}
