/**
 * The contract between the wasm backend's fast kernels (lib/runtime/fast_kernels.ts) and the
 * code that computes them: oneDNN through Deno FFI (lib/runtime/onednn.ts) or the project's
 * own wasm SIMD module (lib/runtime/wasm_simd.ts). See lib/runtime/native/README.md for why
 * there are two and which one a machine gets.
 *
 * Every array is a `Float32Array` view of the wasm backend's heap, in TensorFlow.js's layouts
 * (activations NHWC, filters HWIO [KH, KW, C, O], depthwise filters [KH, KW, C, M]), so no
 * data is copied. Views are made after every allocation of the call: growing the heap detaches
 * earlier views.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** What a convolution call computes. */
export type ConvKind = "forward" | "inputGradient" | "filterGradient";

/** One 2-D convolution's geometry (dilations ≥ 1; groups = C for depthwise, else 1). */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
  /** Padding after the last row/column, as tfjs computes it (rows a stride leaves unread are not padding). */
  padBottom: number;
  padRight: number;
  groups: number;
}

/** The geometry of a convolution from tfjs's own arithmetic (padding, rounding, 'same'). */
export function convGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: {
    strides: number | [number, number];
    pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
    dilations?: number | [number, number];
    dimRoundingMode?: "floor" | "round" | "ceil";
  },
  depthwise: boolean,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    padBottom: info.padInfo.bottom,
    padRight: info.padInfo.right,
    groups: depthwise ? info.inChannels : 1,
  };
}

/** Shape of a batch-norm input seen as [N, H, W, C] (a batch of vectors is [M, 1, 1, C]). */
export interface BatchNormShape {
  batch: number;
  height: number;
  width: number;
  channels: number;
}

/** A set of native kernels on the wasm heap. */
export interface KernelProvider {
  /** "onednn" or "wasm-simd". */
  readonly name: string;
  /** One line for the start-up message, e.g. the library version. */
  readonly detail: string;
  /** Whether {@link conv} computes this kind for this geometry (else the caller falls back). */
  supportsConv(kind: ConvKind, g: ConvGeometry): boolean;
  /** Floats of heap scratch {@link conv} needs for this call (0 for none). */
  convScratch(kind: ConvKind, g: ConvGeometry): number;
  /**
   * Runs one convolution. Arguments are always (x, w, y) as the forward pass names them; the
   * kind says which one is written: `forward` writes y, `inputGradient` writes x (the input
   * gradient, from y = the output gradient), `filterGradient` writes w.
   */
  conv(
    kind: ConvKind,
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    g: ConvGeometry,
    scratch: Float32Array | null,
  ): void;
  /** Whether the provider has training batch norm. */
  readonly batchNorm: boolean;
  /** Floats of heap scratch the batch-norm calls need for `channels` channels. */
  batchNormScratch(channels: number): number;
  /** y = γ(x − μ)/√(σ² + ε) + β with the batch's μ and biased σ², which it also writes. */
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
  ): void;
  /** dx, dγ, dβ of {@link batchNormForward} from x, dy and its μ, σ². */
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
  ): void;
  /** Threads the provider computes with (1 unless asked otherwise). */
  threads(): number;
}
