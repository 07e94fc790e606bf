/**
 * oneDNN (Debian `libdnnl2`, the library PyTorch runs its CPU convolutions on) as a
 * {@link KernelProvider}, called through Deno FFI on views of the wasm heap: the fastest of
 * the wasm backend's kernel paths (lib/runtime/native/README.md has the measurements).
 *
 * @module
 */
import { buildNative } from "./native/build.ts";
import { readEnv } from "./env.ts";
import type { BatchNormShape, ConvGeometry, ConvKind, KernelProvider } from "./kernel_provider.ts";

/** Threads for oneDNN in this process (default 1; the grid runner's workers keep 1). */
export const THREADS_ENV = "REID_THREADS";

const SYMBOLS = {
  reid_onednn_version: { parameters: [], result: "i32" },
  reid_onednn_last_error: { parameters: [], result: "pointer" },
  reid_onednn_set_threads: { parameters: ["i32"], result: "void" },
  reid_onednn_threads: { parameters: [], result: "i32" },
  reid_onednn_conv: {
    parameters: ["i32", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  reid_onednn_bn_forward: {
    parameters: [
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
    ],
    result: "i32",
  },
  reid_onednn_bn_backward: {
    parameters: [
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
    ],
    result: "i32",
  },
  reid_onednn_impl: { parameters: ["i32", "buffer"], result: "pointer" },
} as const;

type Library = Deno.DynamicLibrary<typeof SYMBOLS>;

const KIND_CODE: Record<ConvKind, number> = { forward: 0, inputGradient: 1, filterGradient: 2 };

/** Threads asked for by {@link THREADS_ENV}: an integer from 1 to 64, default 1. */
export function requestedThreads(): number {
  const value = readEnv(THREADS_ENV);
  if (value === undefined || value === "") return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new Error(`${THREADS_ENV}: expected an integer from 1 to 64, got "${value}"`);
  }
  return n;
}

/** The geometry as the shim's int32 array (its `enum geom`). */
function packGeometry(g: ConvGeometry, into: Int32Array): Int32Array {
  into[0] = g.batch;
  into[1] = g.inHeight;
  into[2] = g.inWidth;
  into[3] = g.inChannels;
  into[4] = g.outHeight;
  into[5] = g.outWidth;
  into[6] = g.outChannels;
  into[7] = g.filterHeight;
  into[8] = g.filterWidth;
  into[9] = g.strideHeight;
  into[10] = g.strideWidth;
  into[11] = g.dilationHeight;
  into[12] = g.dilationWidth;
  into[13] = g.padTop;
  into[14] = g.padLeft;
  into[15] = g.groups;
  return into;
}

function cString(pointer: Deno.PointerValue): string {
  return pointer === null ? "" : new Deno.UnsafePointerView(pointer).getCString();
}

class OneDnnKernels implements KernelProvider {
  readonly name = "onednn";
  readonly batchNorm = true;
  readonly detail: string;
  readonly #lib: Library;
  readonly #geometry = new Int32Array(16);

  constructor(lib: Library, threads: number) {
    this.#lib = lib;
    lib.symbols.reid_onednn_set_threads(threads);
    const v = lib.symbols.reid_onednn_version();
    this.detail = `oneDNN ${Math.floor(v / 10000)}.${Math.floor(v / 100) % 100}.${v % 100}`;
  }

  #check(rc: number, what: string): void {
    if (rc !== 0) {
      throw new Error(`oneDNN ${what}: ${cString(this.#lib.symbols.reid_onednn_last_error())}`);
    }
  }

  supportsConv(_kind: ConvKind, g: ConvGeometry): boolean {
    return g.groups === 1 || (g.groups === g.inChannels && g.outChannels % g.groups === 0);
  }

  convScratch(): number {
    return 0;
  }

  conv(
    kind: ConvKind,
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    g: ConvGeometry,
  ): void {
    const rc = this.#lib.symbols.reid_onednn_conv(
      KIND_CODE[kind],
      x,
      w,
      y,
      packGeometry(g, this.#geometry),
    );
    this.#check(rc, `convolution (${kind})`);
  }

  batchNormScratch(): number {
    return 0;
  }

  batchNormForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    s: BatchNormShape,
    epsilon: number,
  ): void {
    const rc = this.#lib.symbols.reid_onednn_bn_forward(
      x,
      gamma,
      beta,
      y,
      mean,
      variance,
      s.batch,
      s.height,
      s.width,
      s.channels,
      epsilon,
    );
    this.#check(rc, "batch norm forward");
  }

  batchNormBackward(
    x: Float32Array,
    dy: Float32Array,
    gamma: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    s: BatchNormShape,
    epsilon: number,
  ): void {
    const rc = this.#lib.symbols.reid_onednn_bn_backward(
      x,
      dy,
      gamma,
      mean,
      variance,
      dx,
      dgamma,
      dbeta,
      s.batch,
      s.height,
      s.width,
      s.channels,
      epsilon,
    );
    this.#check(rc, "batch norm backward");
  }

  threads(): number {
    return this.#lib.symbols.reid_onednn_threads();
  }

  /** oneDNN's name for the implementation it chose for a cached shape (e.g. "jit:avx2"). */
  implementation(kind: ConvKind, g: ConvGeometry): string {
    return cString(
      this.#lib.symbols.reid_onednn_impl(KIND_CODE[kind], packGeometry(g, new Int32Array(16))),
    );
  }
}

/** The oneDNN provider, or why this machine cannot have it. */
export type OneDnnResult = { ok: true; kernels: KernelProvider & OneDnnInfo } | {
  ok: false;
  reason: string;
};

/** What the oneDNN provider tells beyond the interface. */
export interface OneDnnInfo {
  implementation(kind: ConvKind, g: ConvGeometry): string;
}

/**
 * Loads oneDNN: checks the platform and the FFI permission, builds the shim when missing
 * (lib/runtime/native/build.ts) and opens it. OpenMP's spin-waiting is turned off first
 * (`OMP_WAIT_POLICY=PASSIVE`, read once when libgomp loads): with the other core busy a
 * spinning thread made calls take up to a second in the prototype.
 */
export async function loadOneDnn(threads = requestedThreads()): Promise<OneDnnResult> {
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    return { ok: false, reason: `built for x86-64 Linux only (this is ${Deno.build.target})` };
  }
  const ffi = await Deno.permissions.query({ name: "ffi" });
  if (ffi.state !== "granted") return { ok: false, reason: "no --allow-ffi permission" };
  const built = await buildNative("onednn");
  if (!built.ok) return { ok: false, reason: built.reason };
  try {
    if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
  } catch {
    // No --allow-env: OpenMP keeps its default policy; one thread does not spin anyway.
  }
  let lib: Library;
  try {
    lib = Deno.dlopen(built.path, SYMBOLS);
  } catch (error) {
    const message = (error as Error).message.split("\n")[0];
    return { ok: false, reason: `cannot load the oneDNN shim: ${message}` };
  }
  return { ok: true, kernels: new OneDnnKernels(lib, threads) };
}
