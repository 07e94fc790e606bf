/**
 * Gradient kernels for the `wasm` backend of `@tensorflow/tfjs-backend-wasm`
 * 4.22, composed from kernels it runs fast, and registered for `wasm` only
 * (the `tensorflow` and `cpu` backends keep their own).
 *
 * wasm lacks `Conv2DBackpropFilter`, the depthwise backprops and
 * `UnsortedSegmentSum`, so a training step through a convolution fails there
 * with "Kernel 'Conv2DBackpropFilter' not registered"; and it ships
 * `Conv2DBackpropInput` as a scalar loop ~10× slower than a forward
 * convolution. Both convolution gradients are rewritten as forward
 * convolutions, which wasm runs on XNNPACK with SIMD.
 *
 * The kernels are plain tfjs ops run inside the kernel function: the engine
 * does not record nested ops on the gradient tape (its kernel depth is above
 * zero) and accepts a Tensor as a kernel's output, so intermediate tensors are
 * freed by `tf.tidy`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type ConvGeometry, convGeometry } from "./kernel_provider.ts";

type Pad = "valid" | "same" | number | tf.backend_util.ExplicitPadding;

/** The forward convolution's settings, as the gradient kernels receive them. */
export interface ConvGradientOptions {
  strides: number | [number, number];
  pad: Pad;
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/**
 * The input rows/columns read by filter tap (kh, kw) for every output
 * position: a strided window of the zero-padded input, shape [N, OH, OW, C].
 */
function tapWindow(xPadded: tf.Tensor4D, g: ConvGeometry, kh: number, kw: number): tf.Tensor4D {
  const top = kh * g.dilationHeight;
  const left = kw * g.dilationWidth;
  return tf.stridedSlice(
    xPadded,
    [0, top, left, 0],
    [
      g.batch,
      top + (g.outHeight - 1) * g.strideHeight + 1,
      left + (g.outWidth - 1) * g.strideWidth + 1,
      g.inChannels,
    ],
    [1, g.strideHeight, g.strideWidth, 1],
  ) as tf.Tensor4D;
}

/**
 * Zero-pads the input so every tap window lies inside it. "same" padding can
 * ask for fewer rows at the bottom than the last window reads when strides do
 * not divide evenly, and a negative amount means rows are never read: pad or
 * crop to exactly what the windows need.
 */
function padForTaps(x: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const needHeight = (g.outHeight - 1) * g.strideHeight +
    (g.filterHeight - 1) * g.dilationHeight + 1;
  const needWidth = (g.outWidth - 1) * g.strideWidth + (g.filterWidth - 1) * g.dilationWidth + 1;
  const bottom = needHeight - g.padTop - g.inHeight;
  const right = needWidth - g.padLeft - g.inWidth;
  return padOrCrop(x, g.padTop, bottom, g.padLeft, right);
}

/**
 * ∂L/∂W of an NHWC convolution: W has shape `filterShape` [KH, KW, C, O], `x`
 * is the convolution's input and `dy` the gradient of its output.
 *
 * dW[kh, kw, c, o] = Σ_{n, oh, ow} x_pad[n, oh·s + kh·d, ow·s + kw·d, c] · dy[n, oh, ow, o]
 * is itself a convolution: of the input with batch and channels swapped
 * ([C, H, W, N]) by the output gradient used as a filter ([OH, OW, N, O]),
 * where the forward stride s becomes the dilation and the forward dilation d
 * the stride. That runs on XNNPACK's convolution, about 6× faster here than
 * per-tap matrix products (wasm's transposed matmul and strided slices are slow)
 * and faster than an im2col product.
 */
export function conv2dFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  options: ConvGradientOptions,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = convGeometry(x.shape, filterShape, options, false);
    const inputByChannel = tf.transpose(padForTaps(x, g), [3, 1, 2, 0]) as tf.Tensor4D;
    const gradAsFilter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const grad = tf.conv2d(
      inputByChannel,
      gradAsFilter,
      [g.dilationHeight, g.dilationWidth],
      "valid",
      "NHWC",
      [g.strideHeight, g.strideWidth],
    );
    return tf.transpose(grad, [1, 2, 0, 3]);
  });
}

/**
 * ∂L/∂x of an NHWC convolution with input shape `inputShape` and filter W
 * [KH, KW, C, O]: the output gradient spread back onto the stride grid,
 * zero-padded by (K−1)·d − pad, and convolved with W flipped in space and with
 * its channel axes swapped. wasm ships this kernel as a plain loop, ~10×
 * slower than the equivalent forward convolution through XNNPACK.
 */
export function conv2dInputGradient(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  options: ConvGradientOptions,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = convGeometry(inputShape, filter.shape, options, false);
    if (g.strideHeight > 1 || g.strideWidth > 1) return stridedInputGradient(dy, filter, g);
    const reachHeight = (g.filterHeight - 1) * g.dilationHeight;
    const reachWidth = (g.filterWidth - 1) * g.dilationWidth;
    const top = reachHeight - g.padTop;
    const left = reachWidth - g.padLeft;
    const bottom = g.inHeight + reachHeight - top - g.outHeight;
    const right = g.inWidth + reachWidth - left - g.outWidth;
    const framed = padOrCrop(dy, top, bottom, left, right);
    return tf.conv2d(framed, flipFilter(filter), 1, "valid", "NHWC", [
      g.dilationHeight,
      g.dilationWidth,
    ]);
  });
}

/** W [KH, KW, C, O] flipped in space with its channel axes swapped: [KH, KW, O, C]. */
function flipFilter(filter: tf.Tensor4D): tf.Tensor4D {
  return tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
}

/**
 * The input gradient of a strided convolution by phases. Padded input row
 * t = i + padTop receives gradient from the taps k ≡ t (mod s) only, so each
 * phase (t mod s_h, t mod s_w) is a stride-1 correlation of dy with the
 * sub-filter W[r::s] flipped; the phases are then interleaved. That costs the
 * forward convolution's arithmetic, where spreading dy onto the stride grid
 * first would multiply s_h·s_w times as many zeros. (Dilation is 1 here:
 * tfjs allows strides or dilations above 1, not both.)
 */
function stridedInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const [sh, sw] = [g.strideHeight, g.strideWidth];
  const [kh, kw, inC] = filter.shape;
  const rowsNeeded = Math.ceil((g.padTop + g.inHeight) / sh);
  const colsNeeded = Math.ceil((g.padLeft + g.inWidth) / sw);
  const phaseRows: tf.Tensor[] = [];
  for (let rh = 0; rh < sh; rh++) {
    const phaseCols: tf.Tensor[] = [];
    for (let rw = 0; rw < sw; rw++) {
      const tapsH = Math.max(0, Math.ceil((kh - rh) / sh));
      const tapsW = Math.max(0, Math.ceil((kw - rw) / sw));
      if (tapsH === 0 || tapsW === 0) {
        phaseCols.push(tf.zeros([g.batch, rowsNeeded, colsNeeded, inC]));
        continue;
      }
      const sub = tf.stridedSlice(filter, [rh, rw, 0, 0], filter.shape, [sh, sw, 1, 1]);
      const framed = padOrCrop(
        dy,
        tapsH - 1,
        rowsNeeded - g.outHeight,
        tapsW - 1,
        colsNeeded - g.outWidth,
      );
      phaseCols.push(tf.conv2d(framed, flipFilter(sub as tf.Tensor4D), 1, "valid"));
    }
    phaseRows.push(tf.stack(phaseCols, 3)); // [N, rows, cols, sw, C]
  }
  const interleaved = tf.reshape(tf.stack(phaseRows, 2), [
    g.batch,
    rowsNeeded * sh,
    colsNeeded * sw,
    inC,
  ]);
  return tf.slice(interleaved as tf.Tensor4D, [0, g.padTop, g.padLeft, 0], [
    g.batch,
    g.inHeight,
    g.inWidth,
    inC,
  ]);
}

/** Pads (positive amounts) or crops (negative amounts) the two spatial axes. */
function padOrCrop(
  t: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
): tf.Tensor4D {
  const [n, h, w, c] = t.shape;
  let out = t;
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    out = tf.pad(out, [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [
      Math.max(left, 0),
      Math.max(right, 0),
    ], [0, 0]]);
  }
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const cropTop = Math.max(-top, 0);
    const cropLeft = Math.max(-left, 0);
    out = tf.slice(out, [0, cropTop, cropLeft, 0], [
      n,
      h + top + bottom,
      w + left + right,
      c,
    ]);
  }
  return out;
}

/**
 * ∂L/∂W of a depthwise convolution, W of shape [KH, KW, C, M] (M = channel
 * multiplier): per tap, the input window times the output gradient, summed
 * over batch and positions.
 */
export function depthwiseFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  options: ConvGradientOptions,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = convGeometry(x.shape, filterShape, options, true);
    const [kh, kw, inC, mult] = filterShape;
    const rows = g.batch * g.outHeight * g.outWidth;
    const dyByChannel = tf.reshape(dy, [rows, inC, mult]);
    const padded = padForTaps(x, g);
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const window = tf.reshape(tapWindow(padded, g, i, j), [rows, inC, 1]);
        taps.push(tf.sum(tf.mul(window, dyByChannel), 0));
      }
    }
    return tf.reshape(tf.stack(taps), filterShape);
  });
}

/**
 * Spreads `values` [N, OH, OW, C] onto a grid with `stride` spacing: the
 * transpose of a strided read, built by interleaving zeros through a reshape.
 */
function spread(values: tf.Tensor4D, strideHeight: number, strideWidth: number): tf.Tensor4D {
  const [n, h, w, c] = values.shape;
  if (strideHeight === 1 && strideWidth === 1) return values;
  const grid = tf.pad(tf.reshape(values, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, strideHeight - 1],
    [0, 0],
    [0, strideWidth - 1],
    [0, 0],
  ]);
  return tf.reshape(grid, [n, h * strideHeight, w * strideWidth, c]);
}

/**
 * ∂L/∂x of a depthwise convolution with input shape `inputShape` and filter W
 * [KH, KW, C, M]: every tap sends its weighted output gradient back to the
 * input positions it read.
 */
export function depthwiseInputGradient(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  options: ConvGradientOptions,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = convGeometry(inputShape, filter.shape, options, true);
    const [kh, kw, inC, mult] = filter.shape;
    const dyByChannel = tf.reshape(dy, [g.batch, g.outHeight, g.outWidth, inC, mult]);
    const spreadHeight = g.outHeight * g.strideHeight;
    const spreadWidth = g.outWidth * g.strideWidth;
    // The padded input frame all taps write into, large enough for every window.
    const frameHeight = Math.max(
      g.padTop + g.inHeight,
      (kh - 1) * g.dilationHeight + spreadHeight,
    );
    const frameWidth = Math.max(g.padLeft + g.inWidth, (kw - 1) * g.dilationWidth + spreadWidth);
    let frame: tf.Tensor4D | null = null;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const weights = tf.reshape(tf.slice(filter, [i, j, 0, 0], [1, 1, inC, mult]), [inC, mult]);
        const contribution = tf.sum(tf.mul(dyByChannel, weights), 4) as tf.Tensor4D;
        const top = i * g.dilationHeight;
        const left = j * g.dilationWidth;
        const placed = tf.pad(spread(contribution, g.strideHeight, g.strideWidth), [
          [0, 0],
          [top, frameHeight - top - spreadHeight],
          [left, frameWidth - left - spreadWidth],
          [0, 0],
        ]);
        frame = frame === null ? placed : tf.add(frame, placed);
      }
    }
    return tf.slice(frame!, [0, g.padTop, g.padLeft, 0], [
      g.batch,
      g.inHeight,
      g.inWidth,
      inC,
    ]);
  });
}

/**
 * Sums the rows of `x` that share a segment id: out[s] = Σ_{i: ids[i] = s} x[i].
 * Ids outside [0, numSegments) are dropped, as TensorFlow does. Built as a
 * one-hot matrix product, which wasm runs on XNNPACK.
 */
export function unsortedSegmentSum(
  x: tf.Tensor,
  segmentIds: tf.Tensor,
  numSegments: number,
): tf.Tensor {
  return tf.tidy(() => {
    const count = segmentIds.size;
    const rest = x.shape.slice(segmentIds.rank);
    const width = rest.reduce((a, b) => a * b, 1);
    const ids = tf.reshape(tf.cast(segmentIds, "int32"), [count]);
    // tf.oneHot needs depth ≥ 2, so compare against the segment range instead.
    const oneHot = tf.cast(
      tf.equal(tf.expandDims(ids, 1), tf.expandDims(tf.range(0, numSegments, 1, "int32"), 0)),
      "float32",
    );
    const rows = tf.reshape(tf.cast(x, "float32"), [count, width]);
    const summed = tf.reshape(tf.matMul(oneHot, rows, true, false), [numSegments, ...rest]);
    return x.dtype === "float32" ? summed : tf.cast(summed, x.dtype);
  });
}

/**
 * The gradient of `FusedBatchNorm` (tf.batchNorm) with the same derivatives as
 * tfjs-core's, minus one thing: core tiles 1/√(σ²+ε) to the full input shape
 * before multiplying, where broadcasting gives the same products. On wasm that
 * tile was the most expensive op of a BN ResNet's training step. Gradients are
 * global in tfjs, so this one defers to core's own on every other backend.
 */
function installBatchNormGradient(): void {
  const core = tf.getGradient("FusedBatchNorm");
  if (!core) return;
  tf.registerGradient({
    kernelName: "FusedBatchNorm",
    inputsToSave: core.inputsToSave,
    gradFunc: (dy, saved, attrs) => {
      const coreGrads = core.gradFunc(dy, saved, attrs);
      if (tf.getBackend() !== "wasm") return coreGrads;
      const [, , variance, scale] = saved;
      const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
      const dyTensor = dy as tf.Tensor;
      return {
        ...coreGrads,
        x: () => {
          const rsqrt = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
          const scaled = tf.mul(dyTensor, rsqrt);
          return scale == null ? scaled : tf.mul(scaled, scale);
        },
      };
    },
  });
}

/**
 * Sum or mean of an NHWC tensor over batch and space (per-channel statistics:
 * BN's moments and its gradient). wasm reduces only innermost axes natively,
 * so for these it first transposes the whole activation; XNNPACK's average
 * pooling over the full H×W window, then a small reduction over the batch,
 * took less than half the time here. (A product with a row of ones was slower:
 * XNNPACK repacks the activation as weights on every call.) Other reductions
 * go to wasm's own kernel.
 */
function channelReduction(original: tf.KernelFunc, mean: boolean): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.Tensor };
    const { axis, keepDims } = args.attrs as unknown as {
      axis: number | number[];
      keepDims: boolean;
    };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const perChannel = x.rank === 4 && axes.length === 3 && axes.every((a, i) => a === i);
    if (!perChannel || x.dtype !== "float32") return original(args);
    return tf.tidy(() => {
      const [n, h, w, c] = x.shape;
      const pooled = tf.reshape(tf.avgPool(x as tf.Tensor4D, [h, w], 1, "valid"), [n, c]);
      const out = mean ? tf.mean(pooled, 0) : tf.mul(tf.sum(pooled, 0), tf.scalar(h * w));
      return keepDims ? tf.reshape(out, [1, 1, 1, c]) : out;
    });
  };
}

/** What a kernel function receives from the wasm backend (the part used here). */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

/**
 * The gradient of a 2-D max-pool, as the `cpu` backend and TensorFlow define it: each
 * output's gradient goes to the first maximum of its window in row-major order (padding
 * never wins). wasm 4.22's own `MaxPoolGrad` drops or misplaces it whenever a window's
 * maximum is not positive (all-negative windows), so a max-pool over features that can be
 * negative trained wrongly there; and it breaks ties between equal maxima (common on the
 * synthetic images' flat regions) unlike TensorFlow. A plain loop over the wasm heap: no
 * copy in or out, and 2–3× faster than the original on cmGAN's shapes.
 */
export function maxPoolGradient(
  backend: WasmHeapBackend,
  dy: tf.TensorInfo,
  x: tf.TensorInfo,
  attrs: tf.MaxPoolGradAttrs,
): tf.TensorInfo {
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const out = backend.makeOutput([...x.shape], "float32");
  // Views after the output's allocation: growing the heap would detach earlier ones.
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  const rowStride = inWidth * c;
  const imageStride = inHeight * rowStride;
  if (
    fh === 2 && fw === 2 && strideHeight === 2 && strideWidth === 2 && top === 0 && left === 0 &&
    2 * outHeight <= inHeight && 2 * outWidth <= inWidth
  ) {
    // The 2×2, stride-2 windows that never touch padding (every plain-net pool): the same
    // first-maximum rule, unrolled in row-major window order (identical gradients, ≈ 5× faster).
    maxPoolGradient2x2(xs, g, dx, batchSize, outHeight, outWidth, c, rowStride, imageStride);
    return out;
  }
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    const base = b * imageStride;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = Math.max(0, oy * strideHeight - top);
      const y1 = Math.min(inHeight, oy * strideHeight - top + fh);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = Math.max(0, ox * strideWidth - left);
        const x1 = Math.min(inWidth, ox * strideWidth - left + fw);
        for (let ch = 0; ch < c; ch++, o++) {
          let best = -Infinity;
          let at = -1;
          for (let yy = y0; yy < y1; yy++) {
            for (let xx = x0, i = base + yy * rowStride + x0 * c + ch; xx < x1; xx++, i += c) {
              if (xs[i] > best) {
                best = xs[i];
                at = i;
              }
            }
          }
          if (at >= 0) dx[at] += g[o];
        }
      }
    }
  }
  return out;
}

/**
 * {@link maxPoolGradient} for 2×2 windows at stride 2 lying wholly inside the input: each
 * output's gradient goes to the first maximum of (top-left, top-right, bottom-left,
 * bottom-right) by the same strict comparison from −∞ (a window of NaNs gets none).
 */
function maxPoolGradient2x2(
  xs: Float32Array,
  g: Float32Array,
  dx: Float32Array,
  batchSize: number,
  outHeight: number,
  outWidth: number,
  c: number,
  rowStride: number,
  imageStride: number,
): void {
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const row = b * imageStride + 2 * oy * rowStride;
      for (let ox = 0; ox < outWidth; ox++) {
        const i00 = row + 2 * ox * c;
        for (let ch = 0; ch < c; ch++, o++) {
          const a = i00 + ch;
          let best = -Infinity;
          let at = -1;
          if (xs[a] > best) (best = xs[a]), (at = a);
          if (xs[a + c] > best) (best = xs[a + c]), (at = a + c);
          const d = a + rowStride;
          if (xs[d] > best) (best = xs[d]), (at = d);
          if (xs[d + c] > best) at = d + c;
          if (at >= 0) dx[at] += g[o];
        }
      }
    }
  }
}

/** Names of the kernels this module registers for wasm (adding or replacing). */
export const WASM_GRADIENT_KERNELS = [
  "Conv2DBackpropFilter",
  "Conv2DBackpropInput",
  "DepthwiseConv2dNativeBackpropFilter",
  "DepthwiseConv2dNativeBackpropInput",
  "UnsortedSegmentSum",
  "Sum",
  "Mean",
  "MaxPoolGrad",
] as const;

let registered = false;

/**
 * Registers the kernels of {@link WASM_GRADIENT_KERNELS} for the `wasm`
 * backend. Idempotent. A kernel wasm already has (a future tfjs) is left
 * alone, except `Conv2DBackpropInput`, `Sum` and `Mean` (replaced for speed) and
 * `MaxPoolGrad` (replaced for correctness).
 */
export function registerWasmGradientKernels(): void {
  if (registered) return;
  registered = true;
  installBatchNormGradient();
  const have = new Set(tf.getKernelsForBackend("wasm").map((k) => k.kernelName));
  // wasm ships Conv2DBackpropInput as a scalar loop, and reduces leading axes by transposing
  // first: those are replaced by XNNPACK compositions. Its MaxPoolGrad is wrong for windows
  // whose maximum is not positive: replaced by a correct loop.
  const replace = new Set(["Conv2DBackpropInput", "Sum", "Mean", "MaxPoolGrad"]);
  const add = (
    kernelName: string,
    kernelFunc: tf.KernelFunc,
    setupFunc?: tf.KernelConfig["setupFunc"],
  ) => {
    if (have.has(kernelName) && !replace.has(kernelName)) return;
    if (have.has(kernelName)) tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc, setupFunc });
  };
  add("Conv2DBackpropFilter", ({ inputs, attrs }) => {
    const { x, dy } = inputs as { x: tf.Tensor4D; dy: tf.Tensor4D };
    const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs & {
      dilations?: number | [number, number];
    };
    if (a.dataFormat === "NCHW") {
      throw new Error("Conv2DBackpropFilter on wasm supports NHWC only (got NCHW)");
    }
    return conv2dFilterGradient(x, dy, a.filterShape, {
      strides: a.strides,
      pad: a.pad,
      dilations: a.dilations,
      dimRoundingMode: a.dimRoundingMode,
    });
  });
  add("Conv2DBackpropInput", ({ inputs, attrs }) => {
    const { dy, filter } = inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
    const a = attrs as unknown as tf.Conv2DBackpropInputAttrs & {
      dilations?: number | [number, number];
    };
    if (a.dataFormat === "NCHW") {
      throw new Error("Conv2DBackpropInput on wasm supports NHWC only (got NCHW)");
    }
    return conv2dInputGradient(dy, filter, a.inputShape, a);
  });
  add("DepthwiseConv2dNativeBackpropFilter", ({ inputs, attrs }) => {
    const { x, dy } = inputs as { x: tf.Tensor4D; dy: tf.Tensor4D };
    const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
    return depthwiseFilterGradient(x, dy, a.filterShape, a);
  });
  add("DepthwiseConv2dNativeBackpropInput", ({ inputs, attrs }) => {
    const { dy, filter } = inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
    const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
    return depthwiseInputGradient(dy, filter, a.inputShape, a);
  });
  for (const [name, mean] of [["Sum", false], ["Mean", true]] as const) {
    const original = tf.getKernel(name, "wasm");
    // The original's setup binds its wasm exports when the backend starts: keep it.
    if (original) add(name, channelReduction(original.kernelFunc, mean), original.setupFunc);
  }
  add("MaxPoolGrad", ({ inputs, attrs, backend }) => {
    const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    return maxPoolGradient(
      backend as unknown as WasmHeapBackend,
      dy,
      input,
      attrs as unknown as tf.MaxPoolGradAttrs,
    );
  });
  add("UnsortedSegmentSum", ({ inputs, attrs }) => {
    const { x, segmentIds } = inputs as { x: tf.Tensor; segmentIds: tf.Tensor };
    return unsortedSegmentSum(x, segmentIds, (attrs as { numSegments: number }).numSegments);
  });
}
