/**
 * Config resolution: base config + row delta (+ quick delta) → the resolved config, its
 * canonical JSON and a SHA-256 hash that identifies the cell's work (docs/design.md, 'Experiments as data'). Deltas
 * may only set keys the base has, so a misspelt switch fails instead of being ignored.
 *
 * @module
 */
import type { Config, Delta, Json, PaperSpec, Scale } from "./spec.ts";
import { findRow } from "./spec.ts";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * `base` with `delta` merged in: objects merge recursively, everything else (arrays
 * included) is replaced, and so is a null base value; `undefined` in the delta leaves the
 * base value. Keys absent
 * from `base` are an error naming their path and `source`. Neither input is modified.
 */
export function deepMerge<C extends Config>(
  base: C,
  delta: Delta<C> | undefined,
  source = "delta",
): C {
  return mergeAt(base, delta, "", source) as C;
}

function mergeAt(base: unknown, delta: unknown, path: string, source: string): unknown {
  if (delta === undefined) return clone(base);
  if (isPlainObject(delta)) {
    // A section that is off (null, e.g. cmGAN's `pretrain` at paper scale) is switched on by
    // a whole object, as an object may be switched off by null.
    if (base === null) return clone(delta);
    if (!isPlainObject(base)) {
      throw new Error(
        `${source}: "${path || "."}" is an object in the delta but not in the base config`,
      );
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(base)) out[key] = clone(base[key]);
    for (const [key, value] of Object.entries(delta)) {
      const at = path ? `${path}.${key}` : key;
      if (!(key in base)) {
        throw new Error(
          `${source}: unknown key "${at}" (the base config has ${
            Object.keys(base).map((k) => (path ? `${path}.${k}` : k)).join(", ")
          })`,
        );
      }
      out[key] = mergeAt(base[key], value, at, source);
    }
    return out;
  }
  if (isPlainObject(base) && delta !== null) {
    throw new Error(`${source}: "${path}" replaces an object with ${JSON.stringify(delta)}`);
  }
  return clone(delta);
}

function clone(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/**
 * JSON with object keys sorted at every depth and no whitespace: equal configs give equal
 * text whatever their key order. Rejects values JSON cannot hold exactly (NaN, ±Infinity,
 * undefined, functions), naming their path.
 */
export function canonicalJson(value: unknown): string {
  return canon(value, "");
}

function canon(value: unknown, path: string): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`canonicalJson: ${path || "value"} is ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v, i) => canon(v, `${path}[${i}]`)).join(",")}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${
      keys.map((k) => `${JSON.stringify(k)}:${canon(value[k], path ? `${path}.${k}` : k)}`).join(
        ",",
      )
    }}`;
  }
  throw new Error(`canonicalJson: ${path || "value"} has unsupported type ${typeof value}`);
}

/** Hex SHA-256 of a string's UTF-8 bytes. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A resolved cell config and its identity. */
export interface ResolvedConfig<C extends Config = Config> {
  config: C;
  /** SHA-256 of the canonical JSON of `{paper, version, config}`. */
  hash: string;
}

/**
 * The config of `row` at `scale`: base, then the row's delta, then (in quick mode) the
 * spec's quick delta; with its hash. The paper name and spec version are part of the
 * hashed text, so a version bump invalidates stored results.
 *
 * @see notebooks/00_introduction.ipynb §2 (a row's config, shrunk in quick mode)
 */
export async function resolveConfig<C extends Config>(
  spec: PaperSpec<C>,
  scale: Scale,
  rowId: string,
  options: { quick?: boolean; worldSeed?: number } = {},
): Promise<ResolvedConfig<C>> {
  const row = findRow(spec, rowId);
  let config = deepMerge(spec.base[scale], row.delta, `${spec.paper} row "${row.id}"`);
  if (options.quick && spec.quick) {
    config = deepMerge(config, spec.quick, `${spec.paper} quick delta`);
  }
  const worldSeed = options.worldSeed;
  if (worldSeed !== undefined) {
    checkWorldSeed(worldSeed);
    if (!spec.withWorldSeed) {
      throw new Error(`paper ${spec.paper} cannot regenerate its world (no withWorldSeed)`);
    }
    config = spec.withWorldSeed(config, worldSeed);
  }
  // The world seed is hashed besides the config (absent by default: default hashes stay).
  const text = canonicalJson(
    { paper: spec.paper, version: spec.version ?? "", config, worldSeed } as Json,
  );
  return { config, hash: await sha256Hex(text) };
}

/**
 * The current definition of a paper's grid at a scale: each row that runs there (or only
 * `rows`) with its config hash, and the seeds asked for. Summaries, tables and claims count
 * only stored results that match it (see `loadGridResults`).
 */
export async function gridDefinition(
  spec: PaperSpec,
  scale: Scale,
  options: {
    quick?: boolean;
    seeds: readonly number[];
    rows?: readonly string[];
    worldSeed?: number;
  },
): Promise<{ hashes: Map<string, string>; seeds: readonly number[] }> {
  const hashes = new Map<string, string>();
  for (const row of spec.rows) {
    const wanted = options.rows ? options.rows.includes(row.id) : true;
    if (!wanted || (row.scales && !row.scales.includes(scale))) continue;
    const { hash } = await resolveConfig(spec, scale, row.id, {
      quick: options.quick,
      worldSeed: options.worldSeed,
    });
    hashes.set(row.id, hash);
  }
  return { hashes, seeds: options.seeds };
}

/** Seeds 0 … n − 1 for a seed count (the spec's `seeds`, default 3, unless `n` is given). */
export function seedList(spec: Pick<PaperSpec, "seeds">, n?: number): number[] {
  const count = n ?? spec.seeds ?? 3;
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new Error(`the number of seeds must be a positive integer, got ${count}`);
  }
  return Array.from({ length: count }, (_, i) => i);
}

/** Throws unless `worldSeed` is a world seed: a non-negative safe integer. */
export function checkWorldSeed(worldSeed: number): void {
  if (!Number.isSafeInteger(worldSeed) || worldSeed < 0) {
    throw new Error(`the world seed must be a non-negative integer, got ${worldSeed}`);
  }
}
