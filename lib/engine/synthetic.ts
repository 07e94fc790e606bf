/**
 * Making sure a synthetic dataset exists before a run reads it: the generator is called
 * (idempotent: a finished preset with the same config and seed is reused) under a lock, so
 * that two grid workers starting at once on a fresh clone do not both delete and rewrite
 * the same folder.
 *
 * @see notebooks/00_introduction.ipynb §1 (the synthetic world)
 * @module
 */
import { join } from "node:path";
import { generate } from "../data/generate.ts";
import { loadSysuMM01 } from "../data/loaders/sysu_mm01.ts";
import { loadSplit, type ReidSplit } from "../data/split.ts";
import type { ReidDataset } from "../data/types.ts";
import {
  DEFAULT_CONFIGS,
  type PresetConfigs,
  type PresetName,
  type SysuConfig,
} from "../data/world/presets.ts";
import { withLock } from "../runtime/lock.ts";
import { repoPath } from "../runtime/paths.ts";

/** Options of {@link ensureSyntheticPreset}. */
export interface EnsurePresetOptions {
  /** Folder holding `<preset>/` (e.g. `data`, or `data/quick` for tiny copies). */
  root: string;
  /** World seed (default 0, the one `deno task data` uses). */
  seed?: number;
  /** Fields replacing the preset's default config (e.g. fewer identities in quick mode). */
  overrides?: Record<string, unknown> | null;
  /** Render workers (default 1: grid workers already fill the cores). */
  workers?: number;
  /** Give up waiting for another process's lock after this long (default 30 min). */
  lockTimeoutMs?: number;
  log?: (line: string) => void;
}

/**
 * Generates preset `preset` under `options.root` unless an identical copy is there, and
 * returns the preset folder (the loaders accept it as their root).
 */
export async function ensureSyntheticPreset(
  preset: PresetName,
  options: EnsurePresetOptions,
): Promise<string> {
  await Deno.mkdir(options.root, { recursive: true });
  const config = { ...DEFAULT_CONFIGS[preset], ...(options.overrides ?? {}) };
  const lock = join(options.root, `.${preset}.lock`);
  const log = options.log ?? (() => {});
  await withLock(lock, async () => {
    await generate({
      presets: [preset],
      root: options.root,
      seed: options.seed ?? 0,
      force: false,
      workers: options.workers ?? 1,
      sheets: null,
      configs: { [preset]: config } as Partial<PresetConfigs>,
      log,
    });
  }, {
    timeoutMs: options.lockTimeoutMs ?? 30 * 60_000,
    purpose: `generating ${preset}`,
    // Waiting and broken-lock notes go to stderr even when generation is quiet.
    log: options.log ?? ((line) => console.error(line)),
  });
  return join(options.root, preset);
}

/**
 * The tiny synthetic Market-1501 (or Duke) of quick runs (16 training persons, 8 test persons, a few
 * distractors and junk boxes): the headless notebook tests and `--quick` generate it in
 * seconds, under a root of its own so it never replaces the full-size copy.
 */
export const TINY_PRESET: Record<string, number | number[]> = {
  trainIds: 16,
  testIds: 8,
  trainImages: [4, 6],
  distractorImages: 4,
  junkImages: 2,
  galleryOnlyIds: 0,
};

/** The committed contact sheets of `deno task data` (`results/data/<preset>.png`). */
export const SHEETS_DIR: string = `${repoPath("results", "data")}/`;

/**
 * Presets small enough to render a contact sheet on the fly (a few seconds) when the
 * committed sheets are missing: 8 people, as the sheet shows 8 rows.
 */
export const TINY_SHEET_CONFIGS: Partial<PresetConfigs> = {
  market1501: {
    ...DEFAULT_CONFIGS.market1501,
    trainIds: 8,
    testIds: 2,
    distractorImages: 0,
    junkImages: 0,
  },
  regdb: { ...DEFAULT_CONFIGS.regdb, ids: 8, imagesPerId: 3, trials: 1 },
};

/**
 * Paths of the contact sheets of `presets` (8 people × 6 images; Market-1501 shows each
 * person in the Market-like and the Duke-like domain, RegDB / SYSU-MM01 RGB beside IR):
 * the committed ones under `dir` when present, else rendered from tiny copies generated
 * in `scratch` (only presets of {@link TINY_SHEET_CONFIGS}).
 *
 * @see notebooks/00_introduction.ipynb §1 (the synthetic world)
 */
export async function contactSheets(
  presets: PresetName[],
  options: { dir?: string; scratch?: string; seed?: number } = {},
): Promise<Record<string, string>> {
  const dir = options.dir ?? SHEETS_DIR;
  const out: Record<string, string> = {};
  const missing: PresetName[] = [];
  for (const preset of presets) {
    const path = join(dir, `${preset}.png`);
    if (await Deno.stat(path).then(() => true, () => false)) out[preset] = path;
    else missing.push(preset);
  }
  if (missing.length === 0) return out;
  const unknown = missing.filter((p) => !(p in TINY_SHEET_CONFIGS));
  if (unknown.length > 0) {
    throw new Error(
      `no contact sheet for ${unknown.join(", ")} in ${dir}; run \`deno task data\` first`,
    );
  }
  const scratch = options.scratch ?? await Deno.makeTempDir({ prefix: "reid-sheets-" });
  const sheets = join(scratch, "sheets");
  await generate({
    presets: missing,
    root: join(scratch, "data"),
    seed: options.seed ?? 0,
    force: false,
    workers: 1,
    sheets,
    configs: TINY_SHEET_CONFIGS,
    log: () => {},
  });
  for (const preset of missing) out[preset] = join(sheets, `${preset}.png`);
  return out;
}

/** Where a SYSU-MM01-layout dataset comes from: a synthetic world rendered here, or a release. */
export interface SysuSource {
  /** True: render the world under `root` (once); false: a real SYSU-MM01 at `root`. */
  synthetic: boolean;
  /** Folder relative to the repository (or absolute). */
  root: string;
  /** The pixel cache folder. */
  cache: string;
  worldSeed: number;
  height: number;
  width: number;
}

/** SYSU-MM01's three parts as splits (the loader puts test identities in split "all"). */
export interface SysuSplits {
  dataset: ReidDataset;
  train: ReidSplit;
  val: ReidSplit;
  test: ReidSplit;
}

/**
 * Renders (once, under the generation lock: two grid workers may start at once) the SYSU-like
 * world `world` when `source` is synthetic, loads the release layout with the SYSU-MM01 loader
 * and decodes its train / val / test identities at the source's size, each through the pixel
 * cache as `<cacheTag>-<part>`. cmGAN and PAENet read their data through it.
 */
export async function loadSysuSplits(
  source: SysuSource,
  world: SysuConfig,
  cacheTag: string,
  log: (line: string) => void = () => {},
): Promise<SysuSplits> {
  const root = source.synthetic
    ? await ensureSyntheticPreset("sysu_mm01", {
      root: repoPath(source.root),
      seed: source.worldSeed,
      overrides: { ...world },
      lockTimeoutMs: 15 * 60_000,
      log,
    })
    : repoPath(source.root);
  const dataset = loadSysuMM01(root, { verbose: false });
  const size = { height: source.height, width: source.width };
  const cacheDir = repoPath(source.cache);
  const [train, val, test] = await Promise.all(
    ([["train", "train"], ["val", "val"], ["all", "test"]] as const).map(([split, part]) =>
      loadSplit(dataset, split, size, { cacheDir, cacheName: `${cacheTag}-${part}` })
    ),
  );
  return { dataset, train, val, test };
}
