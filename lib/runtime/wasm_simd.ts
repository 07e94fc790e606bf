/**
 * The wasm SIMD kernel provider: the project's own WebAssembly module
 * (lib/runtime/native/wasm_kernels.c, built by lib/runtime/native/build.ts) for the
 * convolution gradients and training batch norm, where oneDNN through FFI is not available.
 *
 * The module imports the tfjs wasm backend's `WebAssembly.Memory`, so its kernels read and
 * write tensors where they lie on the heap: a call passes the byte offsets of the caller's
 * `Float32Array` views (lib/runtime/kernel_provider.ts). Views must be made after the call's
 * last heap allocation (growing the heap replaces `memory.buffer`); every call checks that
 * each view is of the memory's current buffer and has the length its shape implies, because
 * a wrong offset here corrupts tfjs's heap silently.
 *
 * What it computes (see {@link WasmSimdKernels.supportsConv}): input and filter gradients of
 * any NHWC/HWIO convolution with groups = 1 (any strides, dilations, padding, channel counts,
 * batch) and of depthwise ones (groups = C, any multiplier); not the forward convolution, which
 * tfjs runs on XNNPACK already at least as fast.
 *
 * @module
 */
import type { BatchNormShape, ConvGeometry, ConvKind, KernelProvider } from "./kernel_provider.ts";
import { buildNative } from "./native/build.ts";

/** A kernel provider, or why there is none. */
export type ProviderLoad = KernelProvider | { reason: string };

type Kernel = (...args: number[]) => void;

interface Exports {
  conv2d_filter_grad: Kernel;
  conv2d_input_grad: Kernel;
  depthwise_filter_grad: Kernel;
  depthwise_input_grad: Kernel;
  batch_norm_forward: Kernel;
  batch_norm_backward: Kernel;
}

const EXPORT_NAMES: (keyof Exports)[] = [
  "conv2d_filter_grad",
  "conv2d_input_grad",
  "depthwise_filter_grad",
  "depthwise_input_grad",
  "batch_norm_forward",
  "batch_norm_backward",
];

/** wasm32 addresses are below 4 GiB: element counts stay below 2³⁰ so byte offsets fit. */
const MAX_ELEMENTS = 2 ** 30;

/**
 * The tfjs wasm backend's heap memory, from the backend object (`tf.backend()` while `wasm` is
 * active). tfjs-backend-wasm 4.22's single-threaded build under Deno exposes it as
 * `backend.wasm.asm.memory`; emscripten builds of other versions (and the threaded glue) keep
 * it as `backend.wasm.wasmMemory`. The one whose buffer is the heap (`HEAPU8.buffer`) is taken.
 */
export function wasmBackendMemory(backend: unknown): WebAssembly.Memory | { reason: string } {
  const wasm = (backend as { wasm?: Record<string, unknown> } | null)?.wasm;
  const heap = wasm?.HEAPU8 as Uint8Array | undefined;
  if (!wasm || !(heap instanceof Uint8Array)) {
    return { reason: "not the tfjs wasm backend (no wasm module with a HEAPU8 heap)" };
  }
  const asm = wasm.asm as { memory?: unknown } | undefined;
  const candidates = [wasm.wasmMemory, asm?.memory].filter(
    (m): m is WebAssembly.Memory => m instanceof WebAssembly.Memory,
  );
  const same = candidates.find((m) => m.buffer === heap.buffer);
  if (same) return same;
  // A shared memory grown by another thread hands out a new SharedArrayBuffer before
  // emscripten refreshes HEAPU8; the Memory object is still the heap's.
  const shared = candidates.find((m) => m.buffer instanceof SharedArrayBuffer);
  if (shared) return shared;
  return {
    reason: "the tfjs wasm backend exposes no WebAssembly.Memory for its heap " +
      "(looked at wasm.wasmMemory and wasm.asm.memory)",
  };
}

/** Why a geometry is outside the module's kernels, or null when a kernel covers it. */
function unsupported(kind: ConvKind, g: ConvGeometry): string | null {
  if (kind === "forward") return "forward convolution is left to tfjs's XNNPACK";
  const positive = [
    g.batch,
    g.inHeight,
    g.inWidth,
    g.inChannels,
    g.outHeight,
    g.outWidth,
    g.outChannels,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.dilationHeight,
    g.dilationWidth,
    g.groups,
  ];
  if (!positive.every((v) => Number.isInteger(v) && v >= 1)) return "a size is not an integer ≥ 1";
  if (!Number.isInteger(g.padTop) || !Number.isInteger(g.padLeft)) return "padding not integral";
  if (g.groups !== 1 && !isDepthwise(g)) return `groups = ${g.groups} (only 1 or C)`;
  const sizes = [
    g.batch * g.inHeight * g.inWidth * g.inChannels,
    g.batch * g.outHeight * g.outWidth * g.outChannels,
    g.filterHeight * g.filterWidth * g.inChannels * g.outChannels,
  ];
  if (sizes.some((s) => s >= MAX_ELEMENTS)) return "a tensor has 2³⁰ elements or more";
  return null;
}

/** groups = C with O a multiple of C (the filter is [KH, KW, C, O/C]). */
function isDepthwise(g: ConvGeometry): boolean {
  return g.groups === g.inChannels && g.groups > 1 && g.outChannels % g.inChannels === 0;
}

/** Floats of scratch the kernel for (kind, g) needs: the input gradient's transposed filter. */
function scratchFloats(kind: ConvKind, g: ConvGeometry): number {
  if (kind !== "inputGradient" || isDepthwise(g)) return 0;
  // The filter transposed to [KH, KW, O, ⌈C/4⌉·4], then one row of O zeros; 3 more floats
  // let the kernel start them on a 16-byte boundary whatever the scratch's alignment.
  return g.filterHeight * g.filterWidth * g.outChannels * (Math.ceil(g.inChannels / 4) * 4) +
    g.outChannels + 3;
}

function describe(g: ConvGeometry): string {
  return `${g.batch}×${g.inHeight}×${g.inWidth}×${g.inChannels} → ` +
    `${g.outHeight}×${g.outWidth}×${g.outChannels}, filter ${g.filterHeight}×${g.filterWidth}, ` +
    `strides ${g.strideHeight},${g.strideWidth}, dilations ${g.dilationHeight},` +
    `${g.dilationWidth}, pad ${g.padTop},${g.padLeft}, groups ${g.groups}`;
}

/**
 * Checks that a view lies on the module's memory as it is now, with `length` floats, and
 * returns its byte offset.
 */
function offsetOf(
  memory: WebAssembly.Memory,
  view: Float32Array,
  length: number,
  name: string,
): number {
  const buffer = memory.buffer;
  const sameBuffer = view.buffer === buffer ||
    // A SharedArrayBuffer object from before another thread's growth still maps the same
    // memory (shared memory never detaches); its bounds are then the old length.
    (buffer instanceof SharedArrayBuffer && view.buffer instanceof SharedArrayBuffer &&
      view.byteOffset + view.byteLength <= buffer.byteLength);
  if (!sameBuffer) {
    throw new Error(
      `wasm-simd: ${name} is not a view of the kernel module's memory as it is now ` +
        "(made before the heap grew, or of another buffer)",
    );
  }
  if (view.length !== length) {
    throw new Error(`wasm-simd: ${name} has ${view.length} floats, the shape needs ${length}`);
  }
  return view.byteOffset;
}

/** The provider over one instance of the module; see {@link loadWasmSimdKernels}. */
export class WasmSimdKernels implements KernelProvider {
  /** Always "wasm-simd". */
  readonly name = "wasm-simd";
  /** The start-up line. */
  readonly detail: string;
  /** Training batch norm is provided. */
  readonly batchNorm = true;
  readonly #memory: WebAssembly.Memory;
  readonly #k: Exports;

  /** Wraps an instance of the module made on `memory` (use {@link loadWasmSimdKernels}). */
  constructor(memory: WebAssembly.Memory, exports: Exports, detail: string) {
    this.#memory = memory;
    this.#k = exports;
    this.detail = detail;
  }

  /** The memory the kernels run on (the tfjs heap, or a test's own). */
  get memory(): WebAssembly.Memory {
    return this.#memory;
  }

  /**
   * True for the input and filter gradients of groups = 1 and depthwise (groups = C)
   * convolutions of any strides, dilations, padding, sizes and channel counts; false for the
   * forward convolution and grouped convolutions with 1 < groups < C.
   */
  supportsConv(kind: ConvKind, g: ConvGeometry): boolean {
    return unsupported(kind, g) === null;
  }

  /**
   * KH·KW·O·⌈C/4⌉·4 + O + 3 floats for a groups = 1 input gradient (the transposed filter, a
   * row of zeros, alignment slack; any 4-byte alignment of the scratch will do), else 0.
   */
  convScratch(kind: ConvKind, g: ConvGeometry): number {
    return scratchFloats(kind, g);
  }

  /** Runs one gradient kernel; throws for an unsupported geometry or a bad view. */
  conv(
    kind: ConvKind,
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    g: ConvGeometry,
    scratch: Float32Array | null,
  ): void {
    const why = unsupported(kind, g);
    if (why) throw new Error(`wasm-simd: no ${kind} kernel for ${describe(g)}: ${why}`);
    const m = this.#memory;
    const depthwise = isDepthwise(g);
    const xOff = offsetOf(m, x, g.batch * g.inHeight * g.inWidth * g.inChannels, "x");
    const wOff = offsetOf(
      m,
      w,
      g.filterHeight * g.filterWidth * g.inChannels *
        (depthwise ? g.outChannels / g.inChannels : g.outChannels),
      "filter",
    );
    const yOff = offsetOf(m, y, g.batch * g.outHeight * g.outWidth * g.outChannels, "y");
    const dims = [
      g.batch,
      g.inHeight,
      g.inWidth,
      g.inChannels,
      g.outHeight,
      g.outWidth,
      depthwise ? g.outChannels / g.inChannels : g.outChannels,
      g.filterHeight,
      g.filterWidth,
      g.strideHeight,
      g.strideWidth,
      g.dilationHeight,
      g.dilationWidth,
      g.padTop,
      g.padLeft,
    ];
    if (kind === "filterGradient") {
      const run = depthwise ? this.#k.depthwise_filter_grad : this.#k.conv2d_filter_grad;
      run(xOff, yOff, wOff, ...dims);
    } else if (depthwise) {
      this.#k.depthwise_input_grad(yOff, wOff, xOff, ...dims);
    } else {
      const need = scratchFloats(kind, g);
      if (!scratch || scratch.length < need) {
        throw new Error(`wasm-simd: the input gradient needs ${need} floats of scratch`);
      }
      const sOff = offsetOf(m, scratch, scratch.length, "scratch");
      this.#k.conv2d_input_grad(yOff, wOff, xOff, sOff, ...dims);
    }
  }

  /** 7·C + 2 floats (double sums and per-channel factors; no alignment required). */
  batchNormScratch(channels: number): number {
    return 7 * channels + 2;
  }

  /** Training batch norm forward: writes y, the batch mean and the biased variance. */
  batchNormForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    shape: BatchNormShape,
    epsilon: number,
    scratch: Float32Array | null,
  ): void {
    const m = this.#memory;
    const { rows, channels: c } = bnSize(shape);
    const s = this.#bnScratch(scratch, c);
    this.#k.batch_norm_forward(
      offsetOf(m, x, rows * c, "x"),
      offsetOf(m, gamma, c, "gamma"),
      offsetOf(m, beta, c, "beta"),
      offsetOf(m, y, rows * c, "y"),
      offsetOf(m, mean, c, "mean"),
      offsetOf(m, variance, c, "variance"),
      s,
      rows,
      c,
      epsilon,
    );
  }

  /** Training batch norm backward: writes dx, dγ and dβ. */
  batchNormBackward(
    x: Float32Array,
    dy: Float32Array,
    gamma: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    shape: BatchNormShape,
    epsilon: number,
    scratch: Float32Array | null,
  ): void {
    const m = this.#memory;
    const { rows, channels: c } = bnSize(shape);
    const s = this.#bnScratch(scratch, c);
    this.#k.batch_norm_backward(
      offsetOf(m, x, rows * c, "x"),
      offsetOf(m, dy, rows * c, "dy"),
      offsetOf(m, gamma, c, "gamma"),
      offsetOf(m, mean, c, "mean"),
      offsetOf(m, variance, c, "variance"),
      offsetOf(m, dx, rows * c, "dx"),
      offsetOf(m, dgamma, c, "dgamma"),
      offsetOf(m, dbeta, c, "dbeta"),
      s,
      rows,
      c,
      epsilon,
    );
  }

  /** Single-threaded: the module runs on the calling thread. */
  threads(): number {
    return 1;
  }

  #bnScratch(scratch: Float32Array | null, channels: number): number {
    const need = this.batchNormScratch(channels);
    if (!scratch || scratch.length < need) {
      throw new Error(`wasm-simd: batch norm needs ${need} floats of scratch`);
    }
    return offsetOf(this.#memory, scratch, scratch.length, "scratch");
  }
}

function bnSize(shape: BatchNormShape): { rows: number; channels: number } {
  const rows = shape.batch * shape.height * shape.width;
  const dims = [shape.batch, shape.height, shape.width, shape.channels];
  if (!dims.every((v) => Number.isInteger(v) && v >= 1) || rows * shape.channels >= MAX_ELEMENTS) {
    throw new Error(`wasm-simd: bad batch-norm shape ${dims.join("×")}`);
  }
  return { rows, channels: shape.channels };
}

/**
 * The module's bytes with its memory import marked shared (limits flag 3, maximum 65536
 * pages), for the threaded tfjs build whose heap is a shared memory: an import must match the
 * memory's sharedness, and the kernels need no atomics (they run on one thread).
 */
export function withSharedMemoryImport(bytes: Uint8Array): Uint8Array {
  let pos = 8;
  const leb = (at: number): [number, number] => {
    let value = 0, shift = 0, i = at;
    for (;;) {
      const b = bytes[i++];
      value += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return [value, i];
      shift += 7;
    }
  };
  const encode = (value: number): number[] => {
    const out: number[] = [];
    do {
      let b = value % 128;
      value = Math.floor(value / 128);
      if (value) b |= 0x80;
      out.push(b);
    } while (value);
    return out;
  };
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, start] = leb(pos + 1);
    const end = start + size;
    if (id === 2) {
      let [count, p] = leb(start);
      for (; count > 0; count--) {
        for (let name = 0; name < 2; name++) {
          const [len, after] = leb(p);
          p = after + len;
        }
        const kind = bytes[p++];
        if (kind === 2) {
          const flags = bytes[p];
          const [min, afterMin] = leb(p + 1);
          const limitsEnd = flags & 1 ? leb(afterMin)[1] : afterMin;
          const limits = [3, ...encode(min), ...encode(65536)];
          const payload = [
            ...bytes.subarray(start, p),
            ...limits,
            ...bytes.subarray(limitsEnd, end),
          ];
          return new Uint8Array([
            ...bytes.subarray(0, pos),
            2,
            ...encode(payload.length),
            ...payload,
            ...bytes.subarray(end),
          ]);
        }
        if (kind === 0) p = leb(p)[1];
        else if (kind === 1) {
          const flags = bytes[p + 1];
          const [, afterMin] = leb(p + 2);
          p = flags & 1 ? leb(afterMin)[1] : afterMin;
        } else p += 2; // global: value type, mutability
      }
    }
    pos = end;
  }
  throw new Error("wasm-simd: the module imports no memory");
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/**
 * Builds (or finds in `.cache/native/`) the module and instantiates it on `memory`, the tfjs
 * wasm backend's heap (see {@link wasmBackendMemory}) or any memory of the caller's.
 * Resolves to the provider, or to why there is none (no clang/lld, building forbidden, an
 * engine without SIMD).
 */
export async function loadWasmSimdKernels(
  memory: WebAssembly.Memory,
  options: { allowBuild?: boolean } = {},
): Promise<ProviderLoad> {
  const built = await buildNative("wasm", { allowBuild: options.allowBuild });
  if (!built.ok) return { reason: built.reason };
  const shared = memory.buffer instanceof SharedArrayBuffer;
  const key = `${built.path}${shared ? " shared" : ""}`;
  let module = compiled.get(key);
  if (!module) {
    module = Deno.readFile(built.path).then((bytes) =>
      WebAssembly.compile((shared ? withSharedMemoryImport(bytes) : bytes) as BufferSource)
    );
    compiled.set(key, module);
  }
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(await module, { env: { memory } });
  } catch (error) {
    compiled.delete(key);
    return { reason: `the wasm SIMD module did not load: ${(error as Error).message}` };
  }
  const exports = instance.exports as unknown as Exports;
  const missing = EXPORT_NAMES.filter((n) => typeof exports[n] !== "function");
  if (missing.length) return { reason: `the wasm SIMD module lacks ${missing.join(", ")}` };
  const detail = `project wasm SIMD module (wasm_kernels.c, SIMD128${
    shared ? ", shared heap" : ""
  })`;
  return new WasmSimdKernels(memory, exports, detail);
}
