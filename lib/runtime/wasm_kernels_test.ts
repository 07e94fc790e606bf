import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "./backend.ts";
import { Rng } from "./random.ts";
import { relativeError, valuesOn } from "./testing.ts";
import { checkNoLeak } from "./leak.ts";
import { useKernelProvider } from "./fast_kernels.ts";

await initBackend({ backend: "wasm", announce: false });
// These tests are of the composed kernels, the last fallback: no native provider in front of
// them (lib/runtime/fast_kernels_test.ts tests the native paths).
useKernelProvider(null, "the composed kernels under test");

const TOLERANCE = 1e-4;
type Pad = "same" | "valid" | tf.backend_util.ExplicitPadding;

function randomTensor(rng: Rng, shape: number[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.normalArray(size), shape);
}

function randomPad(rng: Rng): Pad {
  const choice = rng.int(3);
  if (choice === 0) return "same";
  if (choice === 1) return "valid";
  return [[0, 0], [rng.int(3), rng.int(3)], [rng.int(3), rng.int(3)], [0, 0]];
}

interface ConvCase {
  x: number[];
  filter: number[];
  strides: number;
  dilations: number;
  pad: Pad;
}

/** Random NHWC convolution geometries whose output is not empty. */
function* convCases(seed: number, count: number, depthwise: boolean): Generator<ConvCase> {
  const rng = new Rng(seed);
  let made = 0;
  while (made < count) {
    const k = 1 + rng.int(3);
    const strides = 1 + rng.int(2);
    // tfjs's conv2d and depthwiseConv2d require strides or dilations to be 1.
    const dilations = strides > 1 ? 1 : 1 + rng.int(2);
    const c = 1 + rng.int(4);
    const x = [1 + rng.int(3), 3 + rng.int(7), 3 + rng.int(7), c];
    const filter = [k, k, c, 1 + rng.int(3)];
    const pad = randomPad(rng);
    const info = tf.backend_util.computeConv2DInfo(
      x as [number, number, number, number],
      filter as [number, number, number, number],
      strides,
      dilations,
      pad,
      undefined,
      depthwise,
    );
    if (info.outHeight <= 0 || info.outWidth <= 0) continue;
    made++;
    yield { x, filter, strides, dilations, pad };
  }
}

/** Spreads a [K, K, C, O] filter to its dilated [K', K', C, O] equivalent with zeros between taps. */
async function dilateFilter(filter: tf.Tensor4D, d: number): Promise<tf.Tensor4D> {
  if (d === 1) return filter;
  const [kh, kw, c, o] = filter.shape;
  const grid = tf.buffer([(kh - 1) * d + 1, (kw - 1) * d + 1, c, o]);
  const values = await filter.array();
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let a = 0; a < c; a++) {
        for (let b = 0; b < o; b++) grid.set(values[i][j][a][b], i * d, j * d, a, b);
      }
    }
  }
  return grid.toTensor() as tf.Tensor4D;
}

Deno.test("conv2d filter and input gradients on wasm match cpu on random geometries", async () => {
  const data = new Rng(101);
  for (const c of convCases(11, 40, false)) {
    const x = randomTensor(data, c.x) as tf.Tensor4D;
    const w = randomTensor(data, c.filter) as tf.Tensor4D;
    const probe = tf.conv2d(x, w, c.strides, c.pad, "NHWC", c.dilations);
    // A random output gradient, so every filter tap gets a distinct signal.
    const dy = randomTensor(data, probe.shape) as tf.Tensor4D;
    probe.dispose();
    // The cpu kernels ignore dilation: the reference is the undilated problem with the
    // zero-dilated filter (its filter gradient read back at the taps).
    const wide = await dilateFilter(w, c.dilations);
    const attrs = (extra: Record<string, unknown>) =>
      ({
        strides: c.strides,
        pad: c.pad,
        dataFormat: "NHWC",
        ...extra,
      }) as unknown as tf.NamedAttrMap;
    const kernel = (name: string, inputs: tf.NamedTensorMap, a: tf.NamedAttrMap) =>
      tf.engine().runKernel(name, inputs, a) as tf.Tensor;
    const filterExpected = await valuesOn("cpu", () => {
      const grad = kernel("Conv2DBackpropFilter", { x, dy }, attrs({ filterShape: wide.shape }));
      return tf.stridedSlice(grad, [0, 0, 0, 0], grad.shape, [c.dilations, c.dilations, 1, 1]);
    });
    const inputExpected = await valuesOn(
      "cpu",
      () => kernel("Conv2DBackpropInput", { dy, filter: wide }, attrs({ inputShape: c.x })),
    );
    const [filterActual, inputActual] = c.dilations > 1
      // tfjs's conv2d gradient refuses dilation, so dilated cases call the kernels directly.
      ? [
        await valuesOn(
          "wasm",
          () =>
            kernel(
              "Conv2DBackpropFilter",
              { x, dy },
              attrs({ filterShape: c.filter, dilations: c.dilations }),
            ),
        ),
        await valuesOn(
          "wasm",
          () =>
            kernel(
              "Conv2DBackpropInput",
              { dy, filter: w },
              attrs({ inputShape: c.x, dilations: c.dilations }),
            ),
        ),
      ]
      // Undilated: through autodiff, the way training reaches the kernels.
      : [
        await valuesOn(
          "wasm",
          () =>
            tf.grad((ww: tf.Tensor) =>
              tf.sum(tf.mul(tf.conv2d(x, ww as tf.Tensor4D, c.strides, c.pad), dy))
            )(w),
        ),
        await valuesOn(
          "wasm",
          () =>
            tf.grad((xx: tf.Tensor) =>
              tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, w, c.strides, c.pad), dy))
            )(x),
        ),
      ];
    const filterErr = relativeError(filterActual, filterExpected);
    const inputErr = relativeError(inputActual, inputExpected);
    assert.ok(filterErr < TOLERANCE, `filter gradient error ${filterErr} for ${JSON.stringify(c)}`);
    assert.ok(inputErr < TOLERANCE, `input gradient error ${inputErr} for ${JSON.stringify(c)}`);
    tf.dispose([x, w, wide, dy]);
  }
});

Deno.test("depthwise backprop kernels on wasm match cpu on random geometries", async () => {
  const data = new Rng(202);
  for (const c of convCases(23, 30, true)) {
    const x = randomTensor(data, c.x) as tf.Tensor4D;
    const w = randomTensor(data, c.filter) as tf.Tensor4D;
    const y = tf.depthwiseConv2d(x, w, c.strides, c.pad, "NHWC", c.dilations);
    const dy = randomTensor(data, y.shape);
    y.dispose();
    const filterAttrs = {
      strides: c.strides,
      dilations: c.dilations,
      pad: c.pad,
      filterShape: c.filter,
    } as unknown as tf.NamedAttrMap;
    const inputAttrs = {
      strides: c.strides,
      dilations: c.dilations,
      pad: c.pad,
      inputShape: c.x,
    } as unknown as tf.NamedAttrMap;
    // The cpu depthwise backprops ignore dilation, so the reference is the undilated
    // problem with the zero-dilated filter, read back at the taps.
    const wide = await dilateFilter(w, c.dilations);
    const wideAttrs = (extra: Record<string, unknown>) =>
      ({ strides: c.strides, dilations: 1, pad: c.pad, ...extra }) as unknown as tf.NamedAttrMap;
    const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap) => () =>
      tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor;
    const filterExpected = await valuesOn("cpu", () => {
      const grad = run(
        "DepthwiseConv2dNativeBackpropFilter",
        { x, dy },
        wideAttrs({ filterShape: wide.shape }),
      )();
      return tf.stridedSlice(grad, [0, 0, 0, 0], grad.shape, [c.dilations, c.dilations, 1, 1]);
    });
    const filterActual = await valuesOn(
      "wasm",
      run("DepthwiseConv2dNativeBackpropFilter", { x, dy }, filterAttrs),
    );
    const inputExpected = await valuesOn(
      "cpu",
      run(
        "DepthwiseConv2dNativeBackpropInput",
        { dy, filter: wide },
        wideAttrs({ inputShape: c.x }),
      ),
    );
    const inputActual = await valuesOn(
      "wasm",
      run("DepthwiseConv2dNativeBackpropInput", { dy, filter: w }, inputAttrs),
    );
    const filterErr = relativeError(filterActual, filterExpected);
    const inputErr = relativeError(inputActual, inputExpected);
    assert.ok(filterErr < TOLERANCE, `filter gradient error ${filterErr} for ${JSON.stringify(c)}`);
    assert.ok(inputErr < TOLERANCE, `input gradient error ${inputErr} for ${JSON.stringify(c)}`);
    tf.dispose([x, w, wide, dy]);
  }
});

Deno.test("UnsortedSegmentSum on wasm matches cpu, including dropped ids", async () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 10; trial++) {
    const segments = 1 + rng.int(6);
    // 1-D ids, as tf.unsortedSegmentSum takes (the cpu kernel sums only the first axis of others).
    const idShape = [2 + rng.int(8)];
    const count = idShape.reduce((a, b) => a * b, 1);
    // -1 and `segments` are out of range and must be dropped.
    const ids = tf.tensor(
      Array.from({ length: count }, () => rng.int(segments + 2) - 1),
      idShape,
      "int32",
    );
    const x = randomTensor(rng, [...idShape, 1 + rng.int(3), 2]);
    const expected = await valuesOn(
      "cpu",
      () => tf.unsortedSegmentSum(x, ids as tf.Tensor1D, segments),
    );
    const actual = await valuesOn(
      "wasm",
      () => tf.unsortedSegmentSum(x, ids as tf.Tensor1D, segments),
    );
    assert.ok(relativeError(actual, expected) < TOLERANCE, `trial ${trial}`);
    tf.dispose([ids, x]);
  }
});

Deno.test("max-pool gradient on wasm matches cpu, with negative windows, ties and padding", async () => {
  const rng = new Rng(4);
  // [input shape, window, stride, padding]: all-negative windows are what wasm 4.22's own
  // kernel got wrong; ReLU'd inputs give ties at 0, coarse ones at positive values (where
  // it also broke ties unlike TensorFlow); 3×3 / 2 overlaps (ResNet's stem).
  const cases: [number[], number, number, "valid" | "same"][] = [
    [[2, 4, 4, 1], 2, 2, "valid"],
    [[3, 8, 6, 5], 2, 2, "valid"],
    [[2, 9, 9, 4], 3, 2, "same"],
    [[2, 7, 5, 3], 3, 1, "same"],
    [[1, 33, 17, 2], 2, 2, "same"],
    // The unrolled 2×2 / 2 path: even sizes, and odd ones whose last row / column no window uses.
    [[4, 16, 8, 6], 2, 2, "same"],
    [[2, 7, 5, 3], 2, 2, "valid"],
  ];
  for (const [shape, window, stride, pad] of cases) {
    for (const kind of ["raw", "relu", "coarse"] as const) {
      const x0 = randomTensor(rng, shape);
      // "coarse": few distinct values, so positive ties (flat image regions) are common and
      // the first maximum in row-major order must be the one that gets the gradient.
      const x = kind === "relu"
        ? tf.relu(x0)
        : kind === "coarse"
        ? tf.round(tf.mul(tf.relu(x0), 2))
        : x0.clone();
      const yShape = tf.maxPool(x as tf.Tensor4D, window, stride, pad).shape;
      const w = randomTensor(rng, yShape);
      const grad = () =>
        tf.grad((v: tf.Tensor) =>
          tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, window, stride, pad), w))
        )(
          x,
        );
      const expected = await valuesOn("cpu", grad);
      const before = tf.memory().numTensors;
      const actual = await valuesOn("wasm", grad);
      assert.equal(tf.memory().numTensors, before, "no tensor left behind");
      const label = `${JSON.stringify(shape)} ${window}/${stride} ${pad} ${kind}`;
      // Overlapping windows add in another order: float rounding only.
      assert.ok(relativeError(actual, expected) < 1e-6, label);
      // Windows that do not overlap add nothing: the gradient is exactly cpu's.
      if (window === stride) assert.deepEqual(Array.from(actual), Array.from(expected), label);
      // Every output's gradient lands exactly once: the sums agree.
      const sum = (a: ArrayLike<number>) => Array.from(a).reduce((p, q) => p + q, 0);
      assert.ok(Math.abs(sum(actual) - sum(expected)) < 1e-4, label);
      tf.dispose([x0, x, w]);
    }
  }
});

Deno.test("gather's gradient (an embedding lookup) trains on wasm", async () => {
  const table = tf.variable(tf.tensor2d([[1, 2], [3, 4], [5, 6]]));
  const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, tf.tensor1d([0, 2, 2], "int32"))))(
    table,
  );
  assert.deepEqual(Array.from(await grad.data()), [1, 1, 0, 0, 2, 2]);
  tf.dispose([table, grad]);
});

Deno.test("a small conv net trains on wasm with optimizer.minimize: loss falls, no tensor leaks", async () => {
  const rng = new Rng(7);
  const init = (shape: number[], fanIn: number) =>
    tf.variable(
      tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1), 0, Math.sqrt(2 / fanIn)), shape),
    );
  const w1 = init([3, 3, 3, 8], 27);
  const w2 = init([3, 3, 8, 8], 72);
  const wd = init([3, 3, 8, 1], 9);
  const dense = init([8, 4], 8);
  const x = tf.tensor4d(rng.normalArray(16 * 16 * 8 * 3), [16, 16, 8, 3]);
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 4), "int32"), 4);
  const optimizer = tf.train.adam(0.01);
  const lossOf = () =>
    tf.tidy(() => {
      let h = tf.relu(tf.conv2d(x, w1 as tf.Tensor4D, 1, "same"));
      h = tf.relu(tf.conv2d(h, w2 as tf.Tensor4D, 2, "same"));
      h = tf.relu(tf.depthwiseConv2d(h, wd as tf.Tensor4D, 1, "same"));
      const logits = tf.matMul(tf.mean(h, [1, 2]), dense);
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    });
  const losses: number[] = [];
  const step = async () => {
    const loss = optimizer.minimize(lossOf, true, [w1, w2, wd, dense])!;
    losses.push((await loss.data())[0]);
    loss.dispose();
  };
  await checkNoLeak(step, { burnIn: 2, steps: 3, label: "conv training step" });
  for (let i = 0; i < 25; i++) await step();
  assert.ok(
    losses[losses.length - 1] < 0.5 * losses[0],
    `loss should fall by half: ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}`,
  );
  optimizer.dispose();
  tf.dispose([w1, w2, wd, dense, x, labels]);
});

Deno.test("batch-norm gradients on wasm (tile-free) equal cpu's through moments", async () => {
  const rng = new Rng(9);
  const x = randomTensor(rng, [4, 5, 3, 6]);
  const gamma = randomTensor(rng, [6]);
  const beta = randomTensor(rng, [6]);
  const dy = randomTensor(rng, [4, 5, 3, 6]);
  const grads = (backend: string, which: number) =>
    valuesOn(backend, () => {
      const all = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(xx, [0, 1, 2]);
        return tf.sum(tf.mul(tf.batchNorm(xx, mean, variance, b, g, 1e-5), dy));
      })([x, gamma, beta]);
      const keep = all[which];
      tf.dispose(all.filter((_, i) => i !== which));
      return keep;
    });
  for (const [which, name] of [[0, "x"], [1, "gamma"], [2, "beta"]] as const) {
    const err = relativeError(await grads("wasm", which), await grads("cpu", which));
    assert.ok(err < TOLERANCE, `∂/∂${name}: relative error ${err}`);
  }
  tf.dispose([x, gamma, beta, dy]);
});

Deno.test("Sum and Mean on wasm match cpu, per-channel (replaced) and otherwise (wasm's own)", async () => {
  const rng = new Rng(12);
  const x = randomTensor(rng, [3, 4, 5, 6]);
  const cases: [number | number[], boolean][] = [
    [[0, 1, 2], false],
    [[2, 0, 1], true],
    [[-4, -3, -2], false],
    [[1, 2], false],
    [3, true],
    [[0, 1, 2, 3], false],
  ];
  for (const [axis, keepDims] of cases) {
    for (const op of [tf.sum, tf.mean]) {
      const expected = await valuesOn("cpu", () => op(x, axis, keepDims));
      const actual = await valuesOn("wasm", () => op(x, axis, keepDims));
      const shapeCpu = await valuesOn("cpu", () => tf.tensor1d(op(x, axis, keepDims).shape));
      const shapeWasm = await valuesOn("wasm", () => tf.tensor1d(op(x, axis, keepDims).shape));
      assert.deepEqual(shapeWasm, shapeCpu, `${op.name} shape for axis ${axis}`);
      const err = relativeError(actual, expected);
      assert.ok(err < TOLERANCE, `${op.name}(axis ${axis}, keepDims ${keepDims}): error ${err}`);
    }
  }
  x.dispose();
});
