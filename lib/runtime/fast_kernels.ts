/**
 * The wasm backend's training kernels at native speed: convolutions (forward, both gradients,
 * depthwise gradients) and training batch norm run by a {@link KernelProvider} on views of the
 * wasm heap, chosen once at start-up in this order (lib/runtime/native/README.md):
 *
 * 1. `onednn`: oneDNN through Deno FFI (lib/runtime/onednn.ts);
 * 2. `wasm-simd`: the project's wasm SIMD module (lib/runtime/wasm_simd.ts);
 * 3. `composed`: the gradient kernels of lib/runtime/wasm_kernels.ts, built from tfjs ops.
 *
 * The kernels are registered before the backend starts (tfjs binds each kernel's setup then)
 * and consult the provider on every call, so a geometry or dtype a provider does not cover
 * goes to the kernel registered before (the composed or tfjs's own one). `REID_KERNELS`
 * forces a path.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  type ConvGeometry,
  convGeometry,
  type ConvKind,
  type KernelProvider,
} from "./kernel_provider.ts";
import { loadOneDnn } from "./onednn.ts";
import { readEnv } from "./env.ts";
import { loadWasmSimdKernels, type ProviderLoad, wasmBackendMemory } from "./wasm_simd.ts";

/** The kernel paths, fastest first. */
export type KernelPath = "onednn" | "wasm-simd" | "composed";

/** The environment variable that forces a kernel path. */
export const KERNELS_ENV = "REID_KERNELS";

/** Which path the wasm backend's kernels took and why. */
export interface KernelPathInfo {
  path: KernelPath;
  /** e.g. "oneDNN 2.6.3, 1 thread". */
  detail: string;
  reason: string;
  /** The faster paths that were not taken, each with why. */
  skipped: string[];
}

/** The part of tfjs-backend-wasm 4.22's backend object these kernels use. */
export interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
  disposeData(dataId: tf.DataId): boolean;
  incRef(dataId: tf.DataId): void;
}

let provider: KernelProvider | null = null;
let chosen: KernelPathInfo | null = null;

/** The provider in use, or null on the composed path (and before {@link chooseKernelPath}). */
export function kernelProvider(): KernelProvider | null {
  return provider;
}

/** What {@link chooseKernelPath} chose, or null before it ran. */
export function kernelPathInfo(): KernelPathInfo | null {
  return chosen;
}

function parseForced(): KernelPath | undefined {
  const value = readEnv(KERNELS_ENV);
  if (value === undefined || value === "" || value === "auto") return undefined;
  if (value !== "onednn" && value !== "wasm-simd" && value !== "composed") {
    throw new Error(
      `${KERNELS_ENV}: unknown kernel path "${value}"; expected onednn, wasm-simd, composed or auto`,
    );
  }
  return value;
}

function threadText(n: number): string {
  return `${n} thread${n === 1 ? "" : "s"}`;
}

/**
 * Picks the kernel path once the wasm backend runs (the wasm SIMD module needs its memory).
 * A forced path that cannot be had is an error naming why; otherwise each path that fails
 * is listed in `skipped` and the next one is tried.
 */
export async function chooseKernelPath(): Promise<KernelPathInfo> {
  if (chosen) return chosen;
  const forced = parseForced();
  const skipped: string[] = [];
  const take = (p: KernelProvider | null, path: KernelPath, reason: string) => {
    provider = p;
    const detail = p ? `${p.detail}, ${threadText(p.threads())}` : "tfjs ops";
    chosen = { path, detail, reason, skipped };
    return chosen;
  };
  if (forced === "composed") return take(null, "composed", `forced by ${KERNELS_ENV}`);
  if (forced === undefined || forced === "onednn") {
    const result = await loadOneDnn();
    if (result.ok) {
      return take(
        result.kernels,
        "onednn",
        forced ? `forced by ${KERNELS_ENV}` : "oneDNN loaded through FFI",
      );
    }
    if (forced) throw new Error(`${KERNELS_ENV}=onednn, but ${result.reason}`);
    skipped.push(`onednn: ${result.reason}`);
  }
  const memory = wasmBackendMemory(tf.backend());
  const simd: ProviderLoad = memory instanceof WebAssembly.Memory
    ? await loadWasmSimdKernels(memory)
    : memory;
  if ("conv" in simd) {
    return take(
      simd,
      "wasm-simd",
      forced ? `forced by ${KERNELS_ENV}` : "oneDNN unavailable; the wasm SIMD module loaded",
    );
  }
  if (forced) throw new Error(`${KERNELS_ENV}=wasm-simd, but ${simd.reason}`);
  skipped.push(`wasm-simd: ${simd.reason}`);
  return take(null, "composed", "no native kernels available (slowest path)");
}

/**
 * Replaces the provider for the rest of the process: null runs the composed kernels. For
 * tests and benchmarks that compare paths in one process; a run keeps its start-up choice.
 */
export function useKernelProvider(p: KernelProvider | null, reason = "chosen by the caller"): void {
  provider = p;
  chosen = {
    path: p ? (p.name as KernelPath) : "composed",
    detail: p ? `${p.detail}, ${threadText(p.threads())}` : "tfjs ops",
    reason,
    skipped: [],
  };
}

/**
 * Runs one convolution kind on the provider: allocates the output (and scratch), then makes
 * every view, since an allocation can grow the heap and detach views made before it.
 */
function runConv(
  p: KernelProvider,
  heap: WasmHeap,
  kind: ConvKind,
  g: ConvGeometry,
  inputs: { x?: tf.TensorInfo; w?: tf.TensorInfo; y?: tf.TensorInfo },
  outShape: number[],
): tf.TensorInfo {
  const out = heap.makeOutput(outShape, "float32");
  const scratchSize = p.convScratch(kind, g);
  const scratch = scratchSize > 0 ? heap.makeOutput([scratchSize], "float32") : null;
  try {
    const view = (t: tf.TensorInfo | undefined) =>
      heap.typedArrayFromHeap(t === undefined ? out : t) as Float32Array;
    p.conv(
      kind,
      view(inputs.x),
      view(inputs.w),
      view(inputs.y),
      g,
      scratch ? view(scratch) : null,
    );
  } catch (error) {
    heap.disposeData(out.dataId);
    throw error;
  } finally {
    if (scratch) heap.disposeData(scratch.dataId);
  }
  return out;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

function isNhwcFloat(attrs: { dataFormat?: string }, ...tensors: tf.TensorInfo[]): boolean {
  return attrs.dataFormat !== "NCHW" && tensors.every((t) => t.dtype === "float32");
}

/** The kernels replaced here, with a function per kernel that returns null to fall back. */
const FAST: Record<string, (args: KernelArgs, p: KernelProvider) => tf.TensorInfo | null> = {
  Conv2D: ({ inputs, attrs, backend }, p) => {
    const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const a = attrs as unknown as tf.Conv2DAttrs;
    if (!isNhwcFloat(a, x, filter)) return null;
    const g = convGeometry(x.shape, filter.shape, a, false);
    if (!p.supportsConv("forward", g)) return null;
    return runConv(p, backend as unknown as WasmHeap, "forward", g, { x, w: filter }, [
      g.batch,
      g.outHeight,
      g.outWidth,
      g.outChannels,
    ]);
  },
  FusedConv2D: (args, p) => {
    // Only the plain case (no bias, linear activation): the rest keeps XNNPACK's fused kernel.
    const { bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo>;
    const a = args.attrs as unknown as tf.FusedConv2DAttrs;
    const plain = !bias && !preluActivationWeights &&
      (a.activation === undefined || a.activation === "linear");
    return plain ? FAST.Conv2D(args, p) : null;
  },
  Conv2DBackpropInput: ({ inputs, attrs, backend }, p) => {
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const a = attrs as unknown as tf.Conv2DBackpropInputAttrs & {
      dilations?: number | [number, number];
    };
    if (!isNhwcFloat(a, dy, filter)) return null;
    const g = convGeometry(a.inputShape, filter.shape, a, false);
    if (!p.supportsConv("inputGradient", g)) return null;
    return runConv(p, backend as unknown as WasmHeap, "inputGradient", g, {
      w: filter,
      y: dy,
    }, [...a.inputShape]);
  },
  Conv2DBackpropFilter: ({ inputs, attrs, backend }, p) => {
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs & {
      dilations?: number | [number, number];
    };
    if (!isNhwcFloat(a, x, dy)) return null;
    const g = convGeometry(x.shape, a.filterShape, a, false);
    if (!p.supportsConv("filterGradient", g)) return null;
    return runConv(p, backend as unknown as WasmHeap, "filterGradient", g, { x, y: dy }, [
      ...a.filterShape,
    ]);
  },
  DepthwiseConv2dNativeBackpropInput: ({ inputs, attrs, backend }, p) => {
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
    if (!isNhwcFloat({}, dy, filter)) return null;
    const g = convGeometry(a.inputShape, filter.shape, a, true);
    if (!p.supportsConv("inputGradient", g)) return null;
    return runConv(p, backend as unknown as WasmHeap, "inputGradient", g, {
      w: filter,
      y: dy,
    }, [...a.inputShape]);
  },
  DepthwiseConv2dNativeBackpropFilter: ({ inputs, attrs, backend }, p) => {
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
    if (!isNhwcFloat({}, x, dy)) return null;
    const g = convGeometry(x.shape, a.filterShape, a, true);
    if (!p.supportsConv("filterGradient", g)) return null;
    return runConv(p, backend as unknown as WasmHeap, "filterGradient", g, { x, y: dy }, [
      ...a.filterShape,
    ]);
  },
};

/**
 * A slice as copies of contiguous runs: the run is the innermost sliced axis times every
 * full axis inside it. wasm copies one innermost row at a time, so the pad gradient of a
 * ZeroPadding2D ([64, 66, 34, 16] → [64, 64, 32, 16]) made 131,072 copies of 16 floats
 * (~17 ms each in the benchmarked step) where this makes 4,096 of 512.
 */
function runSlice(
  heap: WasmHeap,
  x: tf.TensorInfo,
  begin: number[],
  size: number[],
): tf.TensorInfo {
  const out = heap.makeOutput(size, x.dtype);
  const src = heap.typedArrayFromHeap(x);
  const dst = heap.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  let k = rank - 1; // the axes after k are taken whole
  while (k > 0 && begin[k] === 0 && size[k] === x.shape[k]) k--;
  const run = k === rank - 1 ? size[k] : size[k] * strides[k];
  const outer = size.slice(0, k);
  const count = outer.reduce((a, b) => a * b, 1);
  const index = new Array<number>(k).fill(0);
  let at = 0;
  for (let n = 0; n < count; n++) {
    let offset = begin[k] * (k === rank - 1 ? 1 : strides[k]);
    for (let a = 0; a < k; a++) offset += (begin[a] + index[a]) * strides[a];
    dst.set(src.subarray(offset, offset + run), at);
    at += run;
    for (let a = k - 1; a >= 0; a--) {
      if (++index[a] < outer[a]) break;
      index[a] = 0;
    }
  }
  return out;
}

/** Kernels that need no provider: they run on every path. */
const ALWAYS: Record<string, (args: KernelArgs) => tf.TensorInfo | null> = {};

ALWAYS.Slice = ({ inputs, attrs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  if (x.dtype === "string" || x.shape.length === 0) return null;
  const a = attrs as unknown as tf.SliceAttrs;
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, a.begin, a.size);
  if (size.some((d) => d === 0)) return null;
  return runSlice(backend as unknown as WasmHeap, x, begin, size);
};

/** Names of the kernels {@link registerFastKernels} wraps. */
export const FAST_KERNELS = [...Object.keys(FAST), ...Object.keys(ALWAYS), "Identity"] as const;

let registered = false;

/**
 * Wraps the wasm kernels of {@link FAST_KERNELS}: each asks the provider first and falls back
 * to the kernel registered before it (so call this after lib/runtime/wasm_kernels.ts's
 * registration and before the backend starts). `Slice` copies contiguous runs (on every path).
 * `Identity` shares its input's buffer as the
 * `cpu` backend does, where wasm's copies it (tfjs-layers clones tensors often; 39 ms of a
 * 1.2 s step in the prototype's profile). Idempotent.
 */
export function registerFastKernels(): void {
  if (registered) return;
  registered = true;
  for (const [name, fast] of Object.entries(FAST)) {
    const previous = tf.getKernel(name, "wasm");
    if (!previous) continue; // nothing to fall back to: leave the op as tfjs has it
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({
      ...previous,
      kernelFunc: (args) => {
        const p = provider;
        return (p ? fast(args, p) : null) ?? previous.kernelFunc(args);
      },
    });
  }
  for (const [name, fast] of Object.entries(ALWAYS)) {
    const previous = tf.getKernel(name, "wasm");
    if (!previous) continue;
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({
      ...previous,
      kernelFunc: (args) => fast(args) ?? previous.kernelFunc(args),
    });
  }
  const identity = tf.getKernel("Identity", "wasm");
  if (identity) {
    tf.unregisterKernel("Identity", "wasm");
    tf.registerKernel({
      ...identity,
      kernelFunc: (args) => {
        const { x } = args.inputs as { x: tf.TensorInfo };
        if (x.dtype === "string") return identity.kernelFunc(args);
        (args.backend as unknown as WasmHeap).incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      },
    });
  }
}
