import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "./backend.ts";
import {
  type BatchNormShape,
  type ConvGeometry,
  convGeometry,
  type KernelProvider,
} from "./kernel_provider.ts";
import { buildNative } from "./native/build.ts";
import { Rng } from "./random.ts";
import { relativeError } from "./testing.ts";
import { loadWasmSimdKernels, wasmBackendMemory, withSharedMemoryImport } from "./wasm_simd.ts";

await initBackend({ backend: "wasm", announce: false });

/*
 * Tolerances, as max |ours − ref| / max |ref| (relativeError). The JS references sum in
 * float64; the kernels sum K float32 products (K = N·OH·OW ≤ 4096 terms per filter-gradient
 * element here, KH·KW·O ≤ 1152 per input-gradient element), whose rounding error grows like
 * √K·2⁻²⁴ ≈ 4e-6 of the terms' scale for K = 4096, below the sum's max: 1e-5 holds with margin
 * (measured: ≤ 1.2e-6). The tfjs cpu backend's own float32 sums differ from ours by the same
 * order, so the same bound applies to it. Batch norm: statistics summed in double, outputs
 * within a few float32 roundings (measured ≤ 4e-7); dx of a batch norm has a cancellation
 * (dy − mean(dy) − …), so it is compared at 1e-5 as well.
 */
const CONV_TOLERANCE = 1e-5;
const BN_TOLERANCE = 1e-5;

type Pad = "same" | "valid" | tf.backend_util.ExplicitPadding;

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides?: number | [number, number];
  dilations?: number;
  pad: Pad;
  depthwise?: boolean;
}

function geometryOf(c: ConvCase): ConvGeometry {
  return convGeometry(
    c.x,
    c.filter,
    { strides: c.strides ?? 1, pad: c.pad, dilations: c.dilations ?? 1 },
    c.depthwise ?? false,
  );
}

/** Every conv of the default small ResNet (64×32×3 input, widths 16-32-64-128), batch 2. */
const RESNET_CASES: ConvCase[] = [
  { name: "stem 3→16", x: [2, 64, 32, 3], filter: [3, 3, 3, 16], pad: "same" },
  { name: "stage1 16→16", x: [2, 64, 32, 16], filter: [3, 3, 16, 16], pad: "same" },
  { name: "stage2 conv1 s2", x: [2, 66, 34, 16], filter: [3, 3, 16, 32], strides: 2, pad: "valid" },
  { name: "stage2 conv2", x: [2, 32, 16, 32], filter: [3, 3, 32, 32], pad: "same" },
  { name: "stage2 1×1 s2", x: [2, 64, 32, 16], filter: [1, 1, 16, 32], strides: 2, pad: "same" },
  { name: "stage3 conv1 s2", x: [2, 34, 18, 32], filter: [3, 3, 32, 64], strides: 2, pad: "valid" },
  { name: "stage3 conv2", x: [2, 16, 8, 64], filter: [3, 3, 64, 64], pad: "same" },
  { name: "stage3 1×1 s2", x: [2, 32, 16, 32], filter: [1, 1, 32, 64], strides: 2, pad: "same" },
  {
    name: "stage4 conv1 s2",
    x: [2, 18, 10, 64],
    filter: [3, 3, 64, 128],
    strides: 2,
    pad: "valid",
  },
  { name: "stage4 conv2", x: [2, 8, 4, 128], filter: [3, 3, 128, 128], pad: "same" },
  { name: "stage4 1×1 s2", x: [2, 16, 8, 64], filter: [1, 1, 64, 128], strides: 2, pad: "same" },
];

/** Geometries off the vector widths and the symmetric grid. */
const ODD_CASES: ConvCase[] = [
  { name: "batch 1, 7×5, 3→5", x: [1, 7, 5, 3], filter: [3, 3, 3, 5], pad: "same" },
  { name: "13→5 s2 same 7×5", x: [3, 7, 5, 13], filter: [3, 3, 13, 5], strides: 2, pad: "same" },
  // 'same' with stride 2 here pads (1 before, 2 after) and, on 8×6, (0, 1): asymmetric.
  { name: "5→13 s2 same k4 7×5", x: [2, 7, 5, 5], filter: [4, 4, 5, 13], strides: 2, pad: "same" },
  { name: "5→6 s2 same k3 8×6", x: [2, 8, 6, 5], filter: [3, 3, 5, 6], strides: 2, pad: "same" },
  { name: "13→7 1×1 s2 7×5", x: [2, 7, 5, 13], filter: [1, 1, 13, 7], strides: 2, pad: "same" },
  {
    name: "explicit pad (2,0),(0,1), strides 1×2",
    x: [2, 6, 7, 9],
    filter: [3, 2, 9, 11],
    strides: [1, 2],
    pad: [[0, 0], [2, 0], [0, 1], [0, 0]],
  },
  { name: "stride 3 > kernel 2", x: [1, 8, 7, 6], filter: [2, 2, 6, 10], strides: 3, pad: "valid" },
  { name: "1 output channel", x: [2, 5, 5, 4], filter: [3, 3, 4, 1], pad: "valid" },
  { name: "20→38 (8 + 4 + scalar)", x: [2, 6, 5, 20], filter: [3, 3, 20, 38], pad: "same" },
  // Taps that lie wholly outside the input (kernel wider than input and padding).
  { name: "2×1 input, 3×3 same", x: [2, 2, 1, 6], filter: [3, 3, 6, 9], pad: "same" },
  { name: "1×2 input, 5×5 same", x: [1, 1, 2, 4], filter: [5, 5, 4, 4], pad: "same" },
  {
    name: "3×1 input, 3×3 s2 same",
    x: [2, 3, 1, 5],
    filter: [3, 3, 5, 6],
    strides: 2,
    pad: "same",
  },
];

/** Dilation: tfjs's conv2d gradients refuse dilation > 1, so no cpu comparison. */
const DILATED_CASES: ConvCase[] = [
  { name: "dilation 2, 5→13", x: [2, 9, 7, 5], filter: [3, 3, 5, 13], dilations: 2, pad: "same" },
  {
    name: "dilation 2 valid 16→16",
    x: [1, 10, 8, 16],
    filter: [3, 2, 16, 16],
    dilations: 2,
    pad: "valid",
  },
  {
    name: "dilation 2, 3×2 input",
    x: [1, 3, 2, 5],
    filter: [3, 3, 5, 4],
    dilations: 2,
    pad: "same",
  },
];

const DEPTHWISE_CASES: ConvCase[] = [
  { name: "dw 3×3 C=6", x: [2, 7, 5, 6], filter: [3, 3, 6, 1], pad: "same", depthwise: true },
  {
    name: "dw 3×3 s2 C=13",
    x: [2, 9, 8, 13],
    filter: [3, 3, 13, 1],
    strides: 2,
    pad: "same",
    depthwise: true,
  },
  {
    name: "dw M=2 s2 C=5",
    x: [1, 7, 6, 5],
    filter: [3, 3, 5, 2],
    strides: 2,
    pad: "same",
    depthwise: true,
  },
  {
    name: "dw C=32 (8-wide)",
    x: [2, 8, 6, 32],
    filter: [3, 3, 32, 1],
    pad: "same",
    depthwise: true,
  },
  { name: "dw 1×2 input", x: [2, 1, 2, 7], filter: [3, 3, 7, 1], pad: "same", depthwise: true },
];

/** Float64 reference of both gradients of <dy, conv(x, w)>, straight from the definition. */
function referenceGradients(
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
  g: ConvGeometry,
): { dx: Float64Array; dw: Float64Array } {
  const depthwise = g.groups > 1;
  const C = g.inChannels, O = g.outChannels, M = depthwise ? O / C : 0;
  const wPerTap = depthwise ? C * M : C * O;
  const dx = new Float64Array(x.length), dw = new Float64Array(w.length);
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++) {
        const gBase = ((n * g.outHeight + oh) * g.outWidth + ow) * O;
        for (let kh = 0; kh < g.filterHeight; kh++) {
          const ih = oh * g.strideHeight + kh * g.dilationHeight - g.padTop;
          if (ih < 0 || ih >= g.inHeight) continue;
          for (let kw = 0; kw < g.filterWidth; kw++) {
            const iw = ow * g.strideWidth + kw * g.dilationWidth - g.padLeft;
            if (iw < 0 || iw >= g.inWidth) continue;
            const xBase = ((n * g.inHeight + ih) * g.inWidth + iw) * C;
            const wBase = (kh * g.filterWidth + kw) * wPerTap;
            for (let c = 0; c < C; c++) {
              const xv = x[xBase + c];
              let sum = 0;
              if (depthwise) {
                for (let m = 0; m < M; m++) {
                  const gv = dy[gBase + c * M + m];
                  dw[wBase + c * M + m] += xv * gv;
                  sum += gv * w[wBase + c * M + m];
                }
              } else {
                const wRow = wBase + c * O;
                for (let o = 0; o < O; o++) {
                  const gv = dy[gBase + o];
                  dw[wRow + o] += xv * gv;
                  sum += gv * w[wRow + o];
                }
              }
              dx[xBase + c] += sum;
            }
          }
        }
      }
    }
  }
  return { dx, dw };
}

/** Runs `fn` on the cpu backend and returns the values of the tensors it makes. */
async function onCpu(fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  const previous = tf.getBackend();
  await tf.setBackend("cpu");
  try {
    const outs = tf.tidy(fn);
    const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
    tf.dispose(outs);
    return values;
  } finally {
    await tf.setBackend(previous);
  }
}

/** tfjs cpu's gradients of <dy, conv(x, w)> with respect to x and w. */
function cpuGradients(
  c: ConvCase,
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
  g: ConvGeometry,
): Promise<Float32Array[]> {
  return onCpu(() => {
    const dyT = tf.tensor4d(dy, [g.batch, g.outHeight, g.outWidth, g.outChannels]);
    const f = (xt: tf.Tensor, wt: tf.Tensor) => {
      const y = c.depthwise
        ? tf.depthwiseConv2d(xt as tf.Tensor4D, wt as tf.Tensor4D, c.strides ?? 1, c.pad as "same")
        : tf.conv2d(xt as tf.Tensor4D, wt as tf.Tensor4D, c.strides ?? 1, c.pad);
      return tf.sum(tf.mul(y, dyT));
    };
    return tf.grads(f)([tf.tensor4d(x, c.x), tf.tensor4d(w, c.filter)]);
  });
}

/** <dy, conv(x, w)> by tfjs cpu's forward convolution (dilation allowed there). */
async function cpuInnerProduct(
  c: ConvCase,
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
  g: ConvGeometry,
): Promise<number> {
  const [v] = await onCpu(() => {
    const y = tf.conv2d(
      tf.tensor4d(x, c.x),
      tf.tensor4d(w, c.filter),
      c.strides ?? 1,
      c.pad,
      "NHWC",
      c.dilations ?? 1,
    );
    return [tf.sum(tf.mul(y, tf.tensor4d(dy, [g.batch, g.outHeight, g.outWidth, g.outChannels])))];
  });
  return v[0];
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

const CANARY = 1234.5;
const GUARD = 8;

/**
 * Bump allocation on a test's own memory: each array starts 0–3 floats off a 16-byte boundary
 * (the kernels' vector loads must not need alignment) and is followed by GUARD canaries.
 */
class Arena {
  #next = 256;
  readonly #guards: Float32Array[] = [];
  #shift = 0;
  constructor(readonly memory: WebAssembly.Memory) {}

  alloc(n: number, fill: number | Float32Array = Number.NaN): Float32Array {
    const start = this.#next + 4 * (this.#shift++ % 4);
    const bytes = start + 4 * (n + GUARD);
    if (bytes > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((bytes - this.memory.buffer.byteLength) / 65536));
      throw new Error("arena grew: make the memory larger"); // earlier views are detached
    }
    const view = new Float32Array(this.memory.buffer, start, n);
    if (typeof fill === "number") view.fill(fill);
    else view.set(fill);
    const guard = new Float32Array(this.memory.buffer, start + 4 * n, GUARD).fill(CANARY);
    this.#guards.push(guard);
    this.#next = (bytes + 15) & ~15;
    return view;
  }

  /** Asserts no kernel wrote past the end of an array. */
  checkGuards(label: string): void {
    for (const guard of this.#guards) {
      assert.ok(guard.every((v) => v === CANARY), `${label}: a kernel wrote past an array`);
    }
  }

  reset(): void {
    this.#next = 256;
    this.#guards.length = 0;
  }
}

const ownMemory = new WebAssembly.Memory({ initial: 256 }); // 16 MiB: every case fits
const loaded = await loadWasmSimdKernels(ownMemory);
if ("reason" in loaded) throw new Error(`the wasm SIMD kernels did not load: ${loaded.reason}`);
const kernels: KernelProvider = loaded;
const arena = new Arena(ownMemory);

interface ConvResult {
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  g: ConvGeometry;
}

/** Random x, w, dy for the case and both gradients from the module (copied out). */
function runConv(c: ConvCase, seed: number): ConvResult {
  const g = geometryOf(c);
  const rng = new Rng(seed);
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const ySize = g.batch * g.outHeight * g.outWidth * g.outChannels;
  arena.reset();
  const x = arena.alloc(size(c.x), rng.normalArray(size(c.x)));
  const w = arena.alloc(size(c.filter), rng.normalArray(size(c.filter)));
  const dy = arena.alloc(ySize, rng.normalArray(ySize));
  const dx = arena.alloc(size(c.x));
  const dw = arena.alloc(size(c.filter));
  const need = kernels.convScratch("inputGradient", g);
  const scratch = need > 0 ? arena.alloc(need) : null;
  assert.ok(kernels.supportsConv("filterGradient", g), `${c.name}: filter gradient supported`);
  assert.ok(kernels.supportsConv("inputGradient", g), `${c.name}: input gradient supported`);
  kernels.conv("filterGradient", x, dw, dy, g, null);
  kernels.conv("inputGradient", dx, w, dy, g, scratch);
  arena.checkGuards(c.name);
  return {
    x: x.slice(),
    w: w.slice(),
    dy: dy.slice(),
    dx: dx.slice(),
    dw: dw.slice(),
    g,
  };
}

let worstConv = 0;

/**
 * Checks each case against the float64 reference; then against tfjs cpu's gradients ("cpu",
 * on the same data; "cpu batch 1": on a batch-1 run of the same layer, since tfjs cpu takes
 * seconds per large layer and batch 2 adds nothing the reference has not checked), or for
 * dilations, which tfjs cannot differentiate, against the adjoint identity.
 */
async function checkConvCases(
  cases: ConvCase[],
  against: "cpu" | "cpu batch 1" | "adjoint",
): Promise<void> {
  for (const [i, c] of cases.entries()) {
    const r = runConv(c, 1000 + i);
    const ref = referenceGradients(r.x, r.w, r.dy, r.g);
    const errDx = relativeError(r.dx, ref.dx);
    const errDw = relativeError(r.dw, ref.dw);
    worstConv = Math.max(worstConv, errDx, errDw);
    assert.ok(errDx < CONV_TOLERANCE, `${c.name}: input gradient vs reference ${errDx}`);
    assert.ok(errDw < CONV_TOLERANCE, `${c.name}: filter gradient vs reference ${errDw}`);
    if (against !== "adjoint") {
      const one = against === "cpu" ? c : { ...c, x: [1, c.x[1], c.x[2], c.x[3]] as typeof c.x };
      const r1 = against === "cpu" ? r : runConv(one, 3000 + i);
      const [cpuDx, cpuDw] = await cpuGradients(one, r1.x, r1.w, r1.dy, r1.g);
      const cDx = relativeError(r1.dx, cpuDx), cDw = relativeError(r1.dw, cpuDw);
      worstConv = Math.max(worstConv, cDx, cDw);
      assert.ok(cDx < CONV_TOLERANCE, `${c.name}: input gradient vs tfjs cpu ${cDx}`);
      assert.ok(cDw < CONV_TOLERANCE, `${c.name}: filter gradient vs tfjs cpu ${cDw}`);
    } else {
      // Independent of the reference: <dy, conv(x, w)> = <dx, x> = <dw, w> (bilinearity).
      const l = await cpuInnerProduct(c, r.x, r.w, r.dy, r.g);
      const scale = Math.max(1, Math.abs(l));
      assert.ok(Math.abs(dot(r.dx, r.x) - l) < 1e-4 * scale, `${c.name}: <dx, x> ≠ <dy, y>`);
      assert.ok(Math.abs(dot(r.dw, r.w) - l) < 1e-4 * scale, `${c.name}: <dw, w> ≠ <dy, y>`);
    }
  }
}

Deno.test("wasm_kernels.c compiles to code without a stack frame", async () => {
  const built = await buildNative("wasm");
  assert.ok(built.ok, built.ok ? "" : built.reason);
  let listing: string;
  try {
    const out = await new Deno.Command("llvm-objdump", { args: ["-d", built.path] }).output();
    assert.ok(out.success, "llvm-objdump failed");
    listing = new TextDecoder().decode(out.stdout);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      console.log("llvm-objdump not installed: stack check skipped (a frame would trap anyway)");
      return;
    }
    throw error;
  }
  // The module's only global is __stack_pointer; code that reads it has a stack frame.
  assert.ok(listing.includes("conv2d_input_grad"), "disassembly has the kernels");
  assert.ok(!listing.includes("global.get"), "a kernel uses the C stack (on tfjs's heap)");
});

Deno.test("conv gradients: every conv of the small ResNet (batch 2) vs reference, tfjs cpu (batch 1)", async () => {
  await checkConvCases(RESNET_CASES, "cpu batch 1");
});

Deno.test("conv gradients: odd sizes, channels and asymmetric padding", async () => {
  await checkConvCases(ODD_CASES, "cpu");
});

Deno.test("conv gradients: dilation 2 vs reference and the adjoint identity", async () => {
  await checkConvCases(DILATED_CASES, "adjoint");
});

Deno.test("conv gradients: depthwise vs reference and tfjs cpu", async () => {
  await checkConvCases(DEPTHWISE_CASES, "cpu");
  console.log(`worst conv relative error so far: ${worstConv.toExponential(2)}`);
});

Deno.test("supportsConv, scratch sizes and view checks", () => {
  const g = geometryOf(ODD_CASES[1]);
  assert.equal(kernels.supportsConv("forward", g), false);
  assert.equal(kernels.convScratch("inputGradient", g), 3 * 3 * 5 * 16 + 5 + 3);
  assert.equal(kernels.convScratch("filterGradient", g), 0);
  assert.equal(kernels.supportsConv("inputGradient", { ...g, groups: 13 }), false); // O=5
  assert.equal(kernels.supportsConv("inputGradient", { ...g, inChannels: 12, groups: 4 }), false);
  assert.equal(kernels.supportsConv("filterGradient", { ...g, strideHeight: 0 }), false);
  assert.equal(kernels.batchNormScratch(13), 93);
  arena.reset();
  const x = arena.alloc(3 * 7 * 5 * 13), w = arena.alloc(3 * 3 * 13 * 5);
  const dy = arena.alloc(3 * 4 * 3 * 5 + 1); // one float too many
  assert.throws(() => kernels.conv("filterGradient", x, w, dy, g, null), /shape needs/);
  const foreign = new Float32Array(3 * 4 * 3 * 5);
  assert.throws(() => kernels.conv("filterGradient", x, w, foreign, g, null), /not a view/);
  const dyOk = arena.alloc(3 * 4 * 3 * 5);
  assert.throws(() => kernels.conv("inputGradient", x, w, dyOk, g, null), /scratch/);
  assert.throws(() => kernels.conv("forward", x, w, dyOk, g, null), /no forward kernel/);
});

interface BnCase {
  shape: BatchNormShape;
  offset: number;
}

const BN_CASES: BnCase[] = [
  { shape: { batch: 2, height: 8, width: 6, channels: 16 }, offset: 0 },
  { shape: { batch: 3, height: 5, width: 7, channels: 13 }, offset: 3 }, // 4-wide + scalar tail
  { shape: { batch: 4, height: 16, width: 8, channels: 64 }, offset: -2 },
  { shape: { batch: 2, height: 4, width: 4, channels: 128 }, offset: 0.5 },
  { shape: { batch: 5, height: 1, width: 1, channels: 3 }, offset: 1 }, // a batch of vectors
  { shape: { batch: 1, height: 3, width: 50, channels: 20 }, offset: 0 }, // rows > one chunk
];

function referenceBatchNorm(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  dy: Float32Array,
  rows: number,
  channels: number,
  epsilon: number,
) {
  const mean = new Float64Array(channels), variance = new Float64Array(channels);
  for (let i = 0; i < rows * channels; i++) mean[i % channels] += x[i] / rows;
  for (let i = 0; i < rows * channels; i++) {
    variance[i % channels] += (x[i] - mean[i % channels]) ** 2 / rows;
  }
  const y = new Float64Array(x.length), dx = new Float64Array(x.length);
  const dgamma = new Float64Array(channels), dbeta = new Float64Array(channels);
  for (let i = 0; i < rows * channels; i++) {
    const c = i % channels, istd = 1 / Math.sqrt(variance[c] + epsilon);
    y[i] = (x[i] - mean[c]) * istd * gamma[c] + beta[c];
    dbeta[c] += dy[i];
    dgamma[c] += dy[i] * (x[i] - mean[c]) * istd;
  }
  for (let i = 0; i < rows * channels; i++) {
    const c = i % channels, istd = 1 / Math.sqrt(variance[c] + epsilon);
    const xhat = (x[i] - mean[c]) * istd;
    dx[i] = gamma[c] * istd * (dy[i] - dbeta[c] / rows - xhat * dgamma[c] / rows);
  }
  return { y, mean, variance, dx, dgamma, dbeta };
}

Deno.test("batch norm forward and backward vs reference and tfjs cpu", async () => {
  const epsilon = 1e-5;
  let worst = 0;
  for (const [i, bc] of BN_CASES.entries()) {
    const { batch, height, width, channels: c } = bc.shape;
    const rows = batch * height * width;
    const rng = new Rng(2000 + i);
    const xs = rng.normalArray(rows * c).map((v) => bc.offset + 0.7 * v);
    const gs = rng.normalArray(c).map((v) => 1 + 0.3 * v);
    const bs = rng.normalArray(c);
    const dys = rng.normalArray(rows * c);
    arena.reset();
    const x = arena.alloc(rows * c, xs), gamma = arena.alloc(c, gs), beta = arena.alloc(c, bs);
    const dy = arena.alloc(rows * c, dys);
    const y = arena.alloc(rows * c), mean = arena.alloc(c), variance = arena.alloc(c);
    const dx = arena.alloc(rows * c), dgamma = arena.alloc(c), dbeta = arena.alloc(c);
    const scratch = arena.alloc(kernels.batchNormScratch(c));
    kernels.batchNormForward(x, gamma, beta, y, mean, variance, bc.shape, epsilon, scratch);
    kernels.batchNormBackward(
      x,
      dy,
      gamma,
      mean,
      variance,
      dx,
      dgamma,
      dbeta,
      bc.shape,
      epsilon,
      scratch,
    );
    arena.checkGuards(`bn ${i}`);
    const ref = referenceBatchNorm(xs, gs, bs, dys, rows, c, epsilon);
    const shape = [batch, height, width, c];
    const cpu = await onCpu(() => {
      const xt = tf.tensor(xs, shape), gt = tf.tensor(gs), bt = tf.tensor(bs);
      const dyt = tf.tensor(dys, shape);
      const forward = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const m = tf.moments(a, [0, 1, 2]);
        return tf.batchNorm(a, m.mean, m.variance, b, g, epsilon);
      };
      const m = tf.moments(xt, [0, 1, 2]);
      const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(forward(a, g, b), dyt))
      )([xt, gt, bt]);
      return [forward(xt, gt, bt), m.mean, m.variance, ...grads];
    });
    const ours = [y, mean, variance, dx, dgamma, dbeta];
    const refs = [ref.y, ref.mean, ref.variance, ref.dx, ref.dgamma, ref.dbeta];
    const names = ["y", "mean", "variance", "dx", "dgamma", "dbeta"];
    for (let k = 0; k < ours.length; k++) {
      const eRef = relativeError(ours[k], refs[k]), eCpu = relativeError(ours[k], cpu[k]);
      worst = Math.max(worst, eRef);
      assert.ok(eRef < BN_TOLERANCE, `bn ${i} ${names[k]} vs reference: ${eRef}`);
      assert.ok(eCpu < BN_TOLERANCE, `bn ${i} ${names[k]} vs tfjs cpu: ${eCpu}`);
    }
  }
  console.log(`worst batch-norm relative error vs float64: ${worst.toExponential(2)}`);
});

Deno.test("a shared memory (threaded tfjs build) gets a module with a shared import", async () => {
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 1024, shared: true });
  const shared = await loadWasmSimdKernels(memory);
  if ("reason" in shared) throw new Error(shared.reason);
  assert.match(shared.detail, /shared heap/);
  const c = ODD_CASES[0], g = geometryOf(c);
  const rng = new Rng(5);
  let at = 1024;
  const take = (n: number, values?: Float32Array) => {
    const v = new Float32Array(memory.buffer, at, n);
    if (values) v.set(values);
    at += 4 * n + 16;
    return v;
  };
  const x = take(105, rng.normalArray(105)), dy = take(175, rng.normalArray(175));
  const dw = take(135);
  shared.conv("filterGradient", x, dw, dy, g, null);
  const ref = referenceGradients(x, new Float32Array(135), dy, g);
  assert.ok(relativeError(dw, ref.dw) < CONV_TOLERANCE);
  const built = await buildNative("wasm");
  assert.ok(built.ok);
  const patched = withSharedMemoryImport(await Deno.readFile(built.path));
  assert.ok(WebAssembly.validate(patched as BufferSource));
});

Deno.test("on the tfjs wasm heap, across a heap growth, without leaking tensors", async () => {
  assert.equal(tf.getBackend(), "wasm");
  // deno-lint-ignore no-explicit-any
  const backend = tf.backend() as any;
  const memory = wasmBackendMemory(backend);
  if (!(memory instanceof WebAssembly.Memory)) throw new Error(memory.reason);
  assert.equal(memory.buffer, backend.wasm.HEAPU8.buffer);
  assert.ok("reason" in wasmBackendMemory(tf.engine().findBackend("cpu")));
  const provider = await loadWasmSimdKernels(memory);
  if ("reason" in provider) throw new Error(provider.reason);
  assert.equal(provider.name, "wasm-simd");

  const before = tf.memory().numTensors;
  const c = ODD_CASES[1], g = geometryOf(c);
  const rng = new Rng(77);
  const xs = rng.normalArray(c.x.reduce((a, b) => a * b, 1));
  const ws = rng.normalArray(c.filter.reduce((a, b) => a * b, 1));
  const ySize = g.batch * g.outHeight * g.outWidth * g.outChannels;
  const dys = rng.normalArray(ySize);
  const ref = referenceGradients(xs, ws, dys, g);
  const output = (shape: number[]) =>
    tf.engine().makeTensorFromTensorInfo(backend.makeOutput(shape, "float32"));
  const x = tf.tensor4d(xs, c.x), w = tf.tensor4d(ws, c.filter);
  const dy = tf.tensor4d(dys, [g.batch, g.outHeight, g.outWidth, g.outChannels]);
  const dx = output(c.x), dw = output(c.filter);
  const scratch = output([provider.convScratch("inputGradient", g)]);
  const view = (t: tf.Tensor) => backend.typedArrayFromHeap(t) as Float32Array;
  const stale = [x, w, dy, dx, dw, scratch].map(view);

  // Grow the heap past its size: the views above now belong to a detached buffer.
  const oldBuffer = memory.buffer;
  const big = tf.zeros([memory.buffer.byteLength / 4 + (1 << 20)]);
  assert.notEqual(memory.buffer, oldBuffer, "the heap grew");
  assert.throws(
    () => provider.conv("filterGradient", stale[0], stale[4], stale[2], g, null),
    /not a view/,
  );
  const [vx, vw, vdy, vdx, vdw, vs] = [x, w, dy, dx, dw, scratch].map(view);
  provider.conv("filterGradient", vx, vdw, vdy, g, null);
  provider.conv("inputGradient", vdx, vw, vdy, g, vs);
  assert.ok(relativeError(await dw.data() as Float32Array, ref.dw) < CONV_TOLERANCE);
  assert.ok(relativeError(await dx.data() as Float32Array, ref.dx) < CONV_TOLERANCE);

  // Batch norm once on the heap as well.
  const shape = { batch: 3, height: 7, width: 5, channels: 13 };
  const gamma = tf.ones([13]), beta = tf.zeros([13]);
  const y = output(c.x), mean = output([13]), variance = output([13]);
  const bnScratch = output([provider.batchNormScratch(13)]);
  provider.batchNormForward(
    view(x),
    view(gamma),
    view(beta),
    view(y),
    view(mean),
    view(variance),
    shape,
    1e-5,
    view(bnScratch),
  );
  const bnRef = referenceBatchNorm(
    xs,
    new Float32Array(13).fill(1),
    new Float32Array(13),
    xs,
    105,
    13,
    1e-5,
  );
  assert.ok(relativeError(await y.data() as Float32Array, bnRef.y) < BN_TOLERANCE);

  tf.dispose([x, w, dy, dx, dw, scratch, big, gamma, beta, y, mean, variance, bnScratch]);
  assert.equal(tf.memory().numTensors, before, "no tensors leak");
});
