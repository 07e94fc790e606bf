/**
 * Builds the project's two native artifacts from the C sources beside this file, once per
 * source version, into `.cache/native/` (ignored by git; nothing compiled is committed):
 *
 * - `onednn`: `onednn_shim.c` as a shared library over Debian's oneDNN 2.x (`libdnnl-dev`),
 *   loaded through Deno FFI (lib/runtime/onednn.ts);
 * - `wasm`: `wasm_kernels.c` as a WebAssembly module with SIMD that imports the tfjs wasm
 *   backend's memory (lib/runtime/wasm_simd.ts), built with Debian's clang and lld.
 *
 * `deno task setup` builds both ahead of time; a library load builds what is missing (a second
 * or two) unless `REID_NATIVE_BUILD=0`. Without a compiler the build reports why, and the
 * backend falls back to the next kernel path with that reason (lib/runtime/native/README.md).
 *
 * @module
 */
import { readEnv } from "../env.ts";
import { pathExists } from "../fs.ts";
import { REPO_ROOT } from "../paths.ts";
/** The two artifacts. */
export type NativeArtifact = "onednn" | "wasm";

/** Where an artifact is, or why there is none. */
export type BuildResult = { ok: true; path: string; built: boolean } | {
  ok: false;
  reason: string;
};

/** Set to 0 to never compile at load time (use only what `deno task setup` built). */
export const NATIVE_BUILD_ENV = "REID_NATIVE_BUILD";

const here = new URL(".", import.meta.url).pathname;
const repoRoot = `${REPO_ROOT}/`;

/** Overrides the cache folder (tests of a machine where nothing is built yet). */
export const NATIVE_DIR_ENV = "REID_NATIVE_DIR";

/** The folder compiled artifacts are cached in. */
export function nativeCacheDir(): string {
  const dir = readEnv(NATIVE_DIR_ENV);
  if (dir) return dir.endsWith("/") ? dir : `${dir}/`;
  return `${repoRoot}.cache/native/`;
}

interface Recipe {
  source: string;
  /** File name stem; the source hash is appended. */
  stem: string;
  extension: string;
  compiler: string;
  args(source: string, out: string): string[];
  /** What to install when the compiler or a header is missing. */
  packages: string;
}

const RECIPES: Record<NativeArtifact, Recipe> = {
  onednn: {
    source: "onednn_shim.c",
    stem: "libreid_onednn",
    extension: "so",
    compiler: "cc",
    // -lgomp: the shim sets OpenMP's thread count, which is how Debian's oneDNN threads.
    args: (src, out) => ["-O2", "-shared", "-fPIC", src, "-o", out, "-ldnnl", "-lgomp"],
    packages: "gcc libdnnl-dev",
  },
  wasm: {
    source: "wasm_kernels.c",
    stem: "reid_kernels",
    extension: "wasm",
    compiler: "clang",
    // No libc, no entry point, no data segment: the module runs on tfjs's own memory.
    // -fno-builtin: zeroing loops stay loops (there is no memset to call). A stack of size 0
    // placed first: the stack pointer starts at 0, so code that used a stack frame would trap
    // (out of bounds) instead of writing into low addresses of tfjs's heap; the kernels use
    // none (wasm_kernels.c explains how, wasm_simd_test.ts checks it).
    args: (src, out) => [
      "--target=wasm32",
      "-O3",
      "-msimd128",
      "-fno-builtin",
      "-nostdlib",
      "-Wl,--no-entry",
      "-Wl,--import-memory",
      "-Wl,--export-dynamic",
      "-Wl,--stack-first",
      "-Wl,-z,stack-size=0",
      "-o",
      out,
      src,
    ],
    packages: "clang lld",
  },
};

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The artifact's cached path for the current source (whether or not it is built yet). */
export async function artifactPath(artifact: NativeArtifact): Promise<string> {
  const recipe = RECIPES[artifact];
  const source = await Deno.readFile(here + recipe.source);
  const hash = (await sha256(source)).slice(0, 16);
  return `${nativeCacheDir()}${recipe.stem}-${hash}.${recipe.extension}`;
}

/** Deletes the builds of earlier sources of the same artifact (a process using one keeps it). */
async function removeOtherVersions(recipe: Recipe, keep: string): Promise<void> {
  const dir = nativeCacheDir();
  for await (const entry of Deno.readDir(dir)) {
    const name = entry.name;
    const stale = name.startsWith(`${recipe.stem}-`) && name.endsWith(`.${recipe.extension}`) &&
      `${dir}${name}` !== keep;
    if (stale) await Deno.remove(`${dir}${name}`).catch(() => {});
  }
}

function relative(path: string): string {
  return path.startsWith(repoRoot) ? path.slice(repoRoot.length) : path;
}

const inFlight = new Map<NativeArtifact, Promise<BuildResult>>();

/**
 * The artifact for the current source: the cached one, or a fresh build when missing (or when
 * `force`). Two processes building at once each write a temporary file and rename it into
 * place, so a reader never sees half a file.
 */
export function buildNative(
  artifact: NativeArtifact,
  options: { force?: boolean; allowBuild?: boolean } = {},
): Promise<BuildResult> {
  const key = artifact;
  if (!options.force) {
    const pending = inFlight.get(key);
    if (pending) return pending;
  }
  const run = build(artifact, options);
  inFlight.set(key, run);
  return run;
}

async function build(
  artifact: NativeArtifact,
  options: { force?: boolean; allowBuild?: boolean },
): Promise<BuildResult> {
  const recipe = RECIPES[artifact];
  let out: string;
  try {
    out = await artifactPath(artifact);
  } catch (error) {
    return { ok: false, reason: `cannot read ${recipe.source}: ${(error as Error).message}` };
  }
  if (!options.force && await pathExists(out)) return { ok: true, path: out, built: false };
  const allowBuild = options.allowBuild ?? readEnv(NATIVE_BUILD_ENV) !== "0";
  if (!allowBuild) {
    return {
      ok: false,
      reason: `${relative(out)} is not built and ${NATIVE_BUILD_ENV}=0 forbids ` +
        "building it now (run `deno task setup`)",
    };
  }
  await Deno.mkdir(nativeCacheDir(), { recursive: true });
  const tmp = `${out}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(recipe.compiler, {
      args: recipe.args(here + recipe.source, tmp),
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? `${recipe.compiler} is not installed`
      : error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ? `running ${recipe.compiler} needs --allow-run`
      : (error as Error).message;
    return { ok: false, reason: `${why} (Debian: apt-get install ${recipe.packages})` };
  }
  if (!output.success) {
    await Deno.remove(tmp).catch(() => {});
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").slice(0, 3);
    return {
      ok: false,
      reason: `${recipe.compiler} could not build ${recipe.source}: ${stderr.join(" / ")} ` +
        `(Debian: apt-get install ${recipe.packages})`,
    };
  }
  // Same folder: the rename is atomic, so a concurrent loader sees no file or a whole one.
  await Deno.rename(tmp, out);
  await removeOtherVersions(recipe, out);
  return { ok: true, path: out, built: true };
}

if (import.meta.main) {
  // `deno task setup`: build both, say what each gave.
  let failed = false;
  for (const artifact of Object.keys(RECIPES) as NativeArtifact[]) {
    const result = await buildNative(artifact, { force: Deno.args.includes("--force") });
    if (result.ok) {
      const where = relative(result.path);
      console.log(`${artifact}: ${result.built ? "built" : "up to date"} (${where})`);
    } else {
      failed = true;
      console.log(`${artifact}: not built: ${result.reason}`);
    }
  }
  if (failed) {
    console.log(
      "The library still runs: without oneDNN it uses the wasm SIMD kernels, without those the " +
        "composed kernels (slower). See lib/runtime/native/README.md.",
    );
  }
}
