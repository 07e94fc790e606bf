/**
 * `deno run -A bench/wasm_simd_kernels.ts [--batch 64] [--reps 7]`: milliseconds of the wasm
 * SIMD module's kernels (lib/runtime/wasm_simd.ts) beside what the wasm backend runs without
 * them, on every conv and batch norm of the small ResNet (64×32 input), printed, never asserted.
 *
 * - conv: the composed gradients of lib/runtime/wasm_kernels.ts (conv2dFilterGradient,
 *   conv2dInputGradient: XNNPACK convolutions plus transposes/pads) vs the module's direct
 *   kernels on views of the same heap; tfjs's XNNPACK forward convolution for scale.
 * - batch norm: tf.moments + tf.batchNorm and its tf.grads on wasm vs the module's forward
 *   and backward (the backward's forward part is included in "composed fwd+bwd").
 *
 * The wasm backend is started directly (not through initBackend), so no fast kernel is
 * registered and "composed" is what the plain backend runs. Figures are the fastest of `reps`
 * calls after two warm-up calls, in CPU time of this process (single-threaded wasm runs a
 * kernel synchronously on this thread; on a machine shared with other jobs wall time varied
 * ±30 % where CPU time varied ±2 %).
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { type ConvGeometry, convGeometry } from "../lib/runtime/kernel_provider.ts";
import { wasmBinaryDir } from "../lib/runtime/backend.ts";
import { conv2dFilterGradient, conv2dInputGradient } from "../lib/runtime/wasm_kernels.ts";
import { loadWasmSimdKernels, wasmBackendMemory } from "../lib/runtime/wasm_simd.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    batch: { type: "string", default: "64" },
    reps: { type: "string", default: "7" },
  },
});
const batch = Number(values.batch);
const reps = Number(values.reps);

setWasmPaths(wasmBinaryDir());
if (!(await tf.setBackend("wasm"))) throw new Error("the wasm backend did not start");
// deno-lint-ignore no-explicit-any
const backend = tf.backend() as any;
const memory = wasmBackendMemory(backend);
if (!(memory instanceof WebAssembly.Memory)) throw new Error(memory.reason);
const kernels = await loadWasmSimdKernels(memory);
if ("reason" in kernels) throw new Error(kernels.reason);

/** CPU time of this process in ms: unlike wall time, not inflated by other processes. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * The fastest of `reps` calls after two warm-up calls. The minimum, not the median: on a
 * shared machine the other jobs only ever add time (cache and SMT sibling contention inflate
 * even CPU time), so the least disturbed call is the best estimate of the kernel's own cost.
 */
function fastest(fn: () => void): number {
  for (let i = 0; i < 2; i++) fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = cpuMs();
    fn();
    best = Math.min(best, cpuMs() - t0);
  }
  return best;
}

const view = (t: tf.Tensor) => backend.typedArrayFromHeap(t) as Float32Array;
const output = (shape: number[]) =>
  tf.engine().makeTensorFromTensorInfo(backend.makeOutput(shape, "float32"));

interface Layer {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: "same" | "valid";
  /** How many convs of the network have this shape. */
  count: number;
}

const LAYERS: Layer[] = [
  {
    name: "stem 3→16",
    x: [batch, 64, 32, 3],
    filter: [3, 3, 3, 16],
    strides: 1,
    pad: "same",
    count: 1,
  },
  {
    name: "s1 16→16",
    x: [batch, 64, 32, 16],
    filter: [3, 3, 16, 16],
    strides: 1,
    pad: "same",
    count: 2,
  },
  {
    name: "s2 conv1 s2",
    x: [batch, 66, 34, 16],
    filter: [3, 3, 16, 32],
    strides: 2,
    pad: "valid",
    count: 1,
  },
  {
    name: "s2 conv2",
    x: [batch, 32, 16, 32],
    filter: [3, 3, 32, 32],
    strides: 1,
    pad: "same",
    count: 1,
  },
  {
    name: "s2 1×1 s2",
    x: [batch, 64, 32, 16],
    filter: [1, 1, 16, 32],
    strides: 2,
    pad: "same",
    count: 1,
  },
  {
    name: "s3 conv1 s2",
    x: [batch, 34, 18, 32],
    filter: [3, 3, 32, 64],
    strides: 2,
    pad: "valid",
    count: 1,
  },
  {
    name: "s3 conv2",
    x: [batch, 16, 8, 64],
    filter: [3, 3, 64, 64],
    strides: 1,
    pad: "same",
    count: 1,
  },
  {
    name: "s3 1×1 s2",
    x: [batch, 32, 16, 32],
    filter: [1, 1, 32, 64],
    strides: 2,
    pad: "same",
    count: 1,
  },
  {
    name: "s4 conv1 s2",
    x: [batch, 18, 10, 64],
    filter: [3, 3, 64, 128],
    strides: 2,
    pad: "valid",
    count: 1,
  },
  {
    name: "s4 conv2",
    x: [batch, 8, 4, 128],
    filter: [3, 3, 128, 128],
    strides: 1,
    pad: "same",
    count: 1,
  },
  {
    name: "s4 1×1 s2",
    x: [batch, 16, 8, 64],
    filter: [1, 1, 64, 128],
    strides: 2,
    pad: "same",
    count: 1,
  },
];

function geometryOf(l: Layer): ConvGeometry {
  return convGeometry(l.x, l.filter, { strides: l.strides, pad: l.pad }, false);
}

const fmt = (v: number) => v.toFixed(1).padStart(8);
console.log(`wasm SIMD module vs composed kernels, batch ${batch}, fastest of ${reps}, CPU ms`);
console.log(
  "layer".padEnd(14) + "   fwd(XNN)" + "   dW comp" + "   dW simd" + "   dX comp" + "   dX simd",
);
const totals = [0, 0, 0, 0, 0];
for (const l of LAYERS) {
  const g = geometryOf(l);
  const yShape: [number, number, number, number] = [
    g.batch,
    g.outHeight,
    g.outWidth,
    g.outChannels,
  ];
  const x = tf.randomNormal(l.x) as tf.Tensor4D;
  const w = tf.randomNormal(l.filter) as tf.Tensor4D;
  const dy = tf.randomNormal(yShape) as tf.Tensor4D;
  const dx = output(l.x), dw = output(l.filter);
  const scratch = output([Math.max(1, kernels.convScratch("inputGradient", g))]);
  const options = { strides: l.strides, pad: l.pad };
  const times = [
    fastest(() => tf.conv2d(x, w, l.strides, l.pad).dispose()),
    fastest(() => conv2dFilterGradient(x, dy, l.filter, options).dispose()),
    fastest(() => kernels.conv("filterGradient", view(x), view(dw), view(dy), g, null)),
    fastest(() => conv2dInputGradient(dy, w, l.x, options).dispose()),
    fastest(() => kernels.conv("inputGradient", view(dx), view(w), view(dy), g, view(scratch))),
  ];
  times.forEach((t, i) => totals[i] += t * l.count);
  console.log(`${l.name.padEnd(14)}${times.map((t) => fmt(t) + "  ").join("")}×${l.count}`);
  tf.dispose([x, w, dy, dx, dw, scratch]);
}
console.log(`${"network".padEnd(14)}${totals.map((t) => fmt(t) + "  ").join("")}`);

console.log("\nbatch norm (training), ms");
console.log(
  "shape".padEnd(18) + "  fwd comp" + "  fwd simd" + "  f+b comp" + "  f+b simd",
);
const BN = [
  { shape: [batch, 64, 32, 16], count: 3 },
  { shape: [batch, 32, 16, 32], count: 3 },
  { shape: [batch, 16, 8, 64], count: 3 },
  { shape: [batch, 8, 4, 128], count: 3 },
];
const bnTotals = [0, 0, 0, 0];
const epsilon = 1e-5;
for (const { shape, count } of BN) {
  const c = shape[3];
  const bnShape = { batch: shape[0], height: shape[1], width: shape[2], channels: c };
  const x = tf.randomNormal(shape), dy = tf.randomNormal(shape);
  const gamma = tf.ones([c]), beta = tf.zeros([c]);
  const y = output(shape), dx = output(shape), mean = output([c]), variance = output([c]);
  const dgamma = output([c]), dbeta = output([c]);
  const scratch = output([kernels.batchNormScratch(c)]);
  const composed = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const m = tf.moments(a, [0, 1, 2]);
    return tf.batchNorm(a, m.mean, m.variance, b, g, epsilon);
  };
  const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(composed(a, g, b), dy))
  );
  const forward = () =>
    kernels.batchNormForward(
      view(x),
      view(gamma),
      view(beta),
      view(y),
      view(mean),
      view(variance),
      bnShape,
      epsilon,
      view(scratch),
    );
  const times = [
    fastest(() => tf.tidy(() => composed(x, gamma, beta)).dispose()),
    fastest(forward),
    fastest(() => tf.dispose(grads([x, gamma, beta]))),
    fastest(() => {
      forward();
      kernels.batchNormBackward(
        view(x),
        view(dy),
        view(gamma),
        view(mean),
        view(variance),
        view(dx),
        view(dgamma),
        view(dbeta),
        bnShape,
        epsilon,
        view(scratch),
      );
    }),
  ];
  times.forEach((t, i) => bnTotals[i] += t * count);
  console.log(`${shape.join("×").padEnd(18)}${times.map((t) => fmt(t) + "  ").join("")}×${count}`);
  tf.dispose([x, dy, gamma, beta, y, dx, mean, variance, dgamma, dbeta, scratch]);
}
console.log(`${"network".padEnd(18)}${bnTotals.map((t) => fmt(t) + "  ").join("")}`);
