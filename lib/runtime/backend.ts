/**
 * Backend choice at start-up (DESIGN decision 2).
 *
 * Order: `tensorflow` when `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`
 * loads (a user's machine after `deno task setup:gpu`), else `wasm` with SIMD and
 * the project's gradient kernels, else the pure-JS `cpu` backend. The choice can
 * be forced with the environment variable `REID_BACKEND` or a `--backend` flag
 * (see {@link backendFromArgs}); the reason for the choice is said once.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount, setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { registerWasmGradientKernels } from "./wasm_kernels.ts";
import { enableWasmThreads, MAX_THREADS } from "./wasm_threads.ts";

/** The backends the library runs on. */
export type BackendName = "tensorflow" | "wasm" | "cpu";

/** The environment variable that forces a backend. */
export const BACKEND_ENV = "REID_BACKEND";

/**
 * The environment variable asking for wasm threads (1 to 8; default 1, off).
 * Opt-in: on this 2-core machine under load the threaded build made a training
 * step 0.7–0.9× as fast (every small op pays for waking the pool), and the
 * grid runner uses the second core with a second process instead. See
 * lib/runtime/wasm_threads.ts.
 */
export const WASM_THREADS_ENV = "REID_WASM_THREADS";

/** What {@link initBackend} chose and why. */
export interface BackendInfo {
  name: BackendName;
  reason: string;
  /** Whether the wasm build in use has SIMD / threads (false on other backends). */
  simd: boolean;
  threads: boolean;
  /** Attempts that failed on the way, e.g. "tfjs-node-gpu: not installed". */
  skipped: string[];
  /** Threads the wasm backend computes with (1 unless {@link WASM_THREADS_ENV} asked for more). */
  threadCount: number;
}

let current: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

/** Folder holding the wasm binaries of the installed `@tensorflow/tfjs-backend-wasm`. */
export function wasmBinaryDir(): string {
  return new URL("../../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url)
    .pathname;
}

function isBackendName(value: string): value is BackendName {
  return value === "tensorflow" || value === "wasm" || value === "cpu";
}

function parseRequested(value: string | undefined, source: string): BackendName | undefined {
  if (value === undefined || value === "" || value === "auto") return undefined;
  if (!isBackendName(value)) {
    throw new Error(
      `${source}: unknown backend "${value}"; expected tensorflow, wasm, cpu or auto`,
    );
  }
  return value;
}

/**
 * The backend asked for by `--backend NAME` / `--backend=NAME` in `args`, if any.
 * Command lines pass `Deno.args`; the flag wins over {@link BACKEND_ENV}.
 */
export function backendFromArgs(args: readonly string[]): BackendName | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--backend") return parseRequested(args[i + 1], "--backend");
    if (arg.startsWith("--backend=")) {
      return parseRequested(arg.slice("--backend=".length), "--backend");
    }
  }
  return undefined;
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

function envRequested(): BackendName | undefined {
  return parseRequested(readEnv(BACKEND_ENV), BACKEND_ENV);
}

function wasmThreadsRequested(): number {
  const value = readEnv(WASM_THREADS_ENV);
  if (value === undefined || value === "") return 1;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > MAX_THREADS) {
    throw new Error(
      `${WASM_THREADS_ENV}: expected an integer from 1 to ${MAX_THREADS}, got "${value}"`,
    );
  }
  return count;
}

/** Tries the native TensorFlow bindings; returns the failures when none loads. */
async function tryTensorflow(skipped: string[]): Promise<boolean> {
  // Specifiers held in variables so that `deno check` does not require the
  // optional packages; they resolve only after `deno task setup:gpu`.
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      await import(pkg);
      if (await tf.setBackend("tensorflow")) return true;
      skipped.push(`${pkg}: loaded, but the tensorflow backend did not initialise`);
    } catch (error) {
      const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
      skipped.push(`${pkg}: not available (${message})`);
    }
  }
  return false;
}

async function tryWasm(skipped: string[]): Promise<boolean> {
  const threads = wasmThreadsRequested(); // a malformed request fails here, loudly
  try {
    setWasmPaths(wasmBinaryDir());
    registerWasmGradientKernels(); // before start-up: kernels' setup runs when wasm starts
    if (threads > 1) {
      const started = await enableWasmThreads(threads);
      if (started.started) return true;
      skipped.push(`wasm threads: ${started.reason}`); // falls back to the single-threaded build
    }
    setThreadsCount(1);
    if (await tf.setBackend("wasm")) return true;
    skipped.push("wasm: backend did not initialise");
  } catch (error) {
    skipped.push(`wasm: ${error instanceof Error ? error.message : String(error)}`);
  }
  return false;
}

async function choose(requested: BackendName | undefined, source: string): Promise<BackendInfo> {
  const skipped: string[] = [];
  const info = (name: BackendName, reason: string): BackendInfo => ({
    name,
    reason,
    simd: name === "wasm" && tf.env().getBool("WASM_HAS_SIMD_SUPPORT"),
    threads: name === "wasm" && tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT"),
    skipped,
    threadCount: name === "wasm" ? getThreadsCount() : 1,
  });
  if (requested === "tensorflow") {
    if (await tryTensorflow(skipped)) return info("tensorflow", `requested by ${source}`);
    throw new Error(
      `${source} asks for the tensorflow backend, but ${skipped.join("; ")}. ` +
        "Run `deno task setup:gpu` on a machine with internet access (and CUDA for the GPU build).",
    );
  }
  if (requested === "wasm") {
    if (await tryWasm(skipped)) return info("wasm", `requested by ${source}`);
    throw new Error(`${source} asks for the wasm backend, but ${skipped.join("; ")}`);
  }
  if (requested === "cpu") {
    await tf.setBackend("cpu");
    return info("cpu", `requested by ${source}`);
  }
  if (await tryTensorflow(skipped)) return info("tensorflow", "native TensorFlow bindings found");
  if (await tryWasm(skipped)) {
    return info("wasm", "no native TensorFlow bindings; wasm is the fastest backend available");
  }
  await tf.setBackend("cpu");
  return info("cpu", "neither native TensorFlow nor wasm could start (last resort: slow)");
}

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Forces a backend; otherwise `--backend` in `args`, then `REID_BACKEND`, then auto. */
  backend?: BackendName | "auto";
  /** Command-line arguments to read `--backend` from (default: none). */
  args?: readonly string[];
  /** Print the choice (once per process). Default true. */
  announce?: boolean;
}

/**
 * Chooses and initialises the backend once per process; later calls return the
 * same choice (and fail if they ask for a different one).
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const fromOption = options.backend === "auto" ? undefined : options.backend;
  const fromArgs = backendFromArgs(options.args ?? []);
  const requested = fromOption ?? fromArgs ?? envRequested();
  const source = fromOption ? "the caller" : fromArgs ? "--backend" : BACKEND_ENV;
  if (pending) {
    return pending.then((info) => {
      if (requested && requested !== info.name) {
        throw new Error(
          `backend already initialised as ${info.name}; cannot switch to ${requested} in one process`,
        );
      }
      return info;
    });
  }
  pending = choose(requested, source).then((info) => {
    current = info;
    if (options.announce ?? true) {
      const extras = info.name === "wasm"
        ? ` (SIMD ${info.simd ? "on" : "off"}, ${info.threadCount} thread${
          info.threadCount > 1 ? "s" : ""
        })`
        : "";
      console.error(`[reid] backend: ${info.name}${extras} — ${info.reason}`);
    }
    return info;
  });
  return pending;
}

/** The backend chosen by {@link initBackend}, or null before it ran. */
export function backendInfo(): BackendInfo | null {
  return current;
}
