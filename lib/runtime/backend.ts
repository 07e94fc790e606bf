/**
 * Backend choice at start-up (docs/design.md, 'Backends').
 *
 * Order: `tensorflow` when `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`
 * loads (a user's machine after `deno task setup:gpu`), else `webgpu` when WebGPU
 * offers a hardware adapter (see {@link probeGpuAdapter}), else `wasm` with SIMD and
 * the project's gradient kernels, else the pure-JS `cpu` backend. The choice can
 * be forced with the environment variable `REID_BACKEND` or a `--backend` flag
 * (see {@link backendFromArgs}); the reason for the choice is said once.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount, setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { registerWasmGradientKernels } from "./wasm_kernels.ts";
import { readEnv } from "./env.ts";
import { chooseKernelPath, type KernelPathInfo, registerFastKernels } from "./fast_kernels.ts";
import { registerFusedBatchNorm } from "./fused_bn.ts";
import { installLayerPatches } from "./layer_patches.ts";
import { enableWasmThreads, MAX_THREADS } from "./wasm_threads.ts";

/** The backends the library runs on. */
export type BackendName = "tensorflow" | "webgpu" | "wasm" | "cpu";

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
  /** The WebGPU adapter the `webgpu` backend runs on (null on other backends). */
  adapter: GpuAdapterSummary | null;
  /** Threads the wasm backend computes with (1 unless {@link WASM_THREADS_ENV} asked for more). */
  threadCount: number;
  /** On wasm: which native kernel path its convolutions and batch norm took, and why. */
  kernels?: KernelPathInfo;
}

/** What WebGPU says about an adapter. */
export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /**
   * A software rasteriser on the CPU (Mesa's llvmpipe/lavapipe, SwiftShader, WARP):
   * correct, and what CI tests the webgpu path on, but slower than wasm on the same CPU.
   */
  software: boolean;
}

let current: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

/** Folder holding the wasm binaries of the installed `@tensorflow/tfjs-backend-wasm`. */
export function wasmBinaryDir(): string {
  return new URL("../../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url)
    .pathname;
}

function isBackendName(value: string): value is BackendName {
  return value === "tensorflow" || value === "webgpu" || value === "wasm" || value === "cpu";
}

function parseRequested(value: string | undefined, source: string): BackendName | undefined {
  if (value === undefined || value === "" || value === "auto") return undefined;
  if (!isBackendName(value)) {
    throw new Error(
      `${source}: unknown backend "${value}"; expected tensorflow, webgpu, wasm, cpu or auto`,
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

// Names of CPU rasterisers, for drivers that do not set isFallbackAdapter.
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|\bwarp\b/i;

/** What {@link probeGpuAdapter} found: an adapter, or why there is none. */
export type GpuProbe =
  | { adapter: GpuAdapterSummary; reason?: undefined }
  | { adapter: null; reason: string };

/**
 * Asks WebGPU for the adapter tfjs-backend-webgpu would get (it requests
 * "high-performance", as here) and says what it is, without starting tfjs on it.
 */
export async function probeGpuAdapter(): Promise<GpuProbe> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) return { adapter: null, reason: "this runtime has no WebGPU (navigator.gpu)" };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (error) {
    return { adapter: null, reason: `requestAdapter failed: ${messageOf(error)}` };
  }
  if (!adapter) {
    return {
      adapter: null,
      reason: "no WebGPU adapter (no GPU driver; Debian's mesa-vulkan-drivers gives a " +
        "software one)",
    };
  }
  // Deno 2.9 reports isFallbackAdapter on `info`; older WebGPU drafts put it on the adapter.
  const info = adapter.info as Partial<GPUAdapterInfo> & {
    isFallbackAdapter?: boolean;
    device?: string;
  };
  const fallback = info.isFallbackAdapter ??
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  const description = info.description ?? "";
  return {
    adapter: {
      vendor: info.vendor ?? "",
      architecture: info.architecture ?? "",
      device: info.device ?? "",
      description,
      software: fallback || SOFTWARE_ADAPTER.test(description),
    },
  };
}

/**
 * Whether this machine might have a GPU worth probing. On Linux a GPU driver exposes a
 * device node; without one auto skips the probe, which would load the Vulkan loader and
 * Mesa's CPU rasteriser (~60 ms, plus libwayland's complaint about XDG_RUNTIME_DIR on
 * stderr) in every process, for an adapter auto would not take anyway.
 */
async function mayHaveGpu(): Promise<boolean> {
  if (Deno.build.os !== "linux") return true;
  const missing = (error: unknown) => error instanceof Deno.errors.NotFound;
  try {
    for await (const entry of Deno.readDir("/dev/dri")) {
      if (entry.name.startsWith("renderD")) return true;
    }
  } catch (error) {
    if (!missing(error)) return true; // not allowed to look: probe rather than guess
  }
  for (const node of ["/dev/nvidia0", "/dev/nvidiactl", "/dev/dxg", "/dev/kfd"]) {
    try {
      await Deno.stat(node);
      return true;
    } catch (error) {
      if (!missing(error)) return true;
    }
  }
  return false;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}

/**
 * Starts tfjs-backend-webgpu; returns its adapter, or null with the reason in `skipped`.
 * With `hardwareOnly` a software adapter is refused (auto's rule).
 */
async function tryWebgpu(
  skipped: string[],
  hardwareOnly: boolean,
): Promise<GpuAdapterSummary | null> {
  const probe = await probeGpuAdapter();
  if (!probe.adapter) {
    skipped.push(`webgpu: ${probe.reason}`);
    return null;
  }
  if (hardwareOnly && probe.adapter.software) {
    skipped.push(
      `webgpu: only a software adapter (${probe.adapter.description}), slower than wasm on a CPU`,
    );
    return null;
  }
  try {
    // Imported here, not at the top: it registers a backend with a higher priority than
    // wasm's, and a process that never asks for WebGPU need not load it.
    await import("@tensorflow/tfjs-backend-webgpu");
    if (await tf.setBackend("webgpu")) return probe.adapter;
    skipped.push("webgpu: backend did not initialise");
  } catch (error) {
    skipped.push(`webgpu: ${messageOf(error)}`);
  }
  return null;
}

async function tryWasm(skipped: string[]): Promise<boolean> {
  const threads = wasmThreadsRequested(); // a malformed request fails here, loudly
  try {
    setWasmPaths(wasmBinaryDir());
    registerWasmGradientKernels(); // before start-up: kernels' setup runs when wasm starts
    registerFastKernels(); // after: falls back to the kernels registered above
    registerFusedBatchNorm();
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
  installLayerPatches(); // on every backend: see lib/runtime/layer_patches.ts
  const skipped: string[] = [];
  let adapter: GpuAdapterSummary | null = null;
  const info = (name: BackendName, reason: string): BackendInfo => ({
    name,
    reason,
    simd: name === "wasm" && tf.env().getBool("WASM_HAS_SIMD_SUPPORT"),
    threads: name === "wasm" && tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT"),
    skipped,
    threadCount: name === "wasm" ? getThreadsCount() : 1,
    adapter: name === "webgpu" ? adapter : null,
  });
  if (requested === "tensorflow") {
    if (await tryTensorflow(skipped)) return info("tensorflow", `requested by ${source}`);
    throw new Error(
      `${source} asks for the tensorflow backend, but ${skipped.join("; ")}. ` +
        "Run `deno task setup:gpu` on a machine with internet access (and CUDA for the GPU build).",
    );
  }
  // The wasm SIMD kernels need the running backend's memory: the path is chosen after start-up.
  const wasmInfo = async (reason: string): Promise<BackendInfo> => ({
    ...info("wasm", reason),
    kernels: await chooseKernelPath(),
  });
  if (requested === "webgpu") {
    adapter = await tryWebgpu(skipped, false);
    if (adapter) return info("webgpu", `requested by ${source}`);
    throw new Error(
      `${source} asks for the webgpu backend, but ${skipped.join("; ")}. ` +
        "WebGPU needs a Vulkan (Linux), Metal (macOS) or Direct3D 12 (Windows) driver.",
    );
  }
  if (requested === "wasm") {
    if (await tryWasm(skipped)) return wasmInfo(`requested by ${source}`);
    throw new Error(`${source} asks for the wasm backend, but ${skipped.join("; ")}`);
  }
  if (requested === "cpu") {
    await tf.setBackend("cpu");
    return info("cpu", `requested by ${source}`);
  }
  if (await tryTensorflow(skipped)) return info("tensorflow", "native TensorFlow bindings found");
  // Auto takes webgpu only on a hardware adapter: a software one (Mesa's lavapipe) is
  // correct but slower than wasm on the same cores, so it must be asked for by name.
  if (await mayHaveGpu()) {
    adapter = await tryWebgpu(skipped, true);
    if (adapter) return info("webgpu", "no native TensorFlow bindings; a GPU adapter was found");
  } else {
    skipped.push("webgpu: no GPU device node (/dev/dri/renderD*, /dev/nvidia*); not probed");
  }
  if (await tryWasm(skipped)) {
    return wasmInfo("no native TensorFlow bindings; wasm is the fastest backend available");
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
        : info.adapter
        ? ` (${describeAdapter(info.adapter)})`
        : "";
      console.error(`[reid] backend: ${info.name}${extras} — ${info.reason}`);
      if (info.kernels) {
        const k = info.kernels;
        const not = k.skipped.length > 0 ? ` (not ${k.skipped.join("; ")})` : "";
        console.error(`[reid] kernels: ${k.path} (${k.detail}) — ${k.reason}${not}`);
      }
    }
    return info;
  });
  return pending;
}

// PCI vendor ids (and Mesa's Khronos id) as Vulkan adapters report them, in decimal.
const VENDORS: Record<number, string> = {
  0x1002: "AMD",
  0x106b: "Apple",
  0x10de: "NVIDIA",
  0x13b5: "ARM",
  0x5143: "Qualcomm",
  0x8086: "Intel",
  0x10005: "Mesa",
};

function vendorName(vendor: string): string {
  if (!/^\d+$/.test(vendor)) return vendor; // Metal and D3D give a name already
  const id = Number(vendor);
  const hex = `0x${id.toString(16).padStart(4, "0")}`;
  return VENDORS[id] ? `${VENDORS[id]} (${hex})` : hex;
}

/** A one-line description of a WebGPU adapter, for the start-up line and logs. */
export function describeAdapter(adapter: GpuAdapterSummary): string {
  const parts = [adapter.description || "unnamed adapter"];
  if (adapter.vendor) parts.push(`vendor ${vendorName(adapter.vendor)}`);
  if (adapter.architecture) parts.push(`architecture ${adapter.architecture}`);
  if (adapter.software) parts.push("software: slower than wasm on a CPU");
  return parts.join(", ");
}

/** The backend chosen by {@link initBackend}, or null before it ran. */
export function backendInfo(): BackendInfo | null {
  return current;
}
