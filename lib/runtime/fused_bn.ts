/**
 * Training batch norm as one kernel forward and one backward on the wasm backend's native
 * provider (lib/runtime/fast_kernels.ts), where tfjs-layers runs `tf.moments`, `tf.batchNorm`
 * and their gradients: about fifteen full-size elementwise ops per layer and step (~130 ms of
 * the prototype's 1.2 s step). The moving averages are updated as tfjs-layers does.
 *
 * The two kernels exist for `wasm` only; {@link fusedBatchNormAvailable} says whether they can
 * run now. lib/runtime/layer_patches.ts routes tfjs-layers' BatchNormalization through
 * {@link fusedBatchNormTraining} when it can.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BatchNormShape, KernelProvider } from "./kernel_provider.ts";
import { kernelProvider, type WasmHeap } from "./fast_kernels.ts";

const FORWARD = "ReidBatchNormTraining";
const BACKWARD = "ReidBatchNormTrainingGrad";

interface Attrs {
  epsilon: number;
}

function bnShape(shape: readonly number[]): BatchNormShape {
  const channels = shape[shape.length - 1];
  if (shape.length === 4) {
    return { batch: shape[0], height: shape[1], width: shape[2], channels };
  }
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return { batch: rows, height: 1, width: 1, channels };
}

function requireProvider(): KernelProvider {
  const p = kernelProvider();
  if (!p?.batchNorm) throw new Error(`${FORWARD}: no native batch-norm kernel is active`);
  return p;
}

/** Allocates every output and the scratch first, then hands views of all to `body`. */
function withViews(
  heap: WasmHeap,
  inputs: tf.TensorInfo[],
  outShapes: number[][],
  scratchFloats: number,
  body: (views: Float32Array[], scratch: Float32Array | null) => void,
): tf.TensorInfo[] {
  const outs = outShapes.map((s) => heap.makeOutput(s, "float32"));
  const scratch = scratchFloats > 0 ? heap.makeOutput([scratchFloats], "float32") : null;
  try {
    const view = (t: tf.TensorInfo) => heap.typedArrayFromHeap(t) as Float32Array;
    body([...inputs, ...outs].map(view), scratch ? view(scratch) : null);
  } catch (error) {
    for (const o of outs) heap.disposeData(o.dataId);
    throw error;
  } finally {
    if (scratch) heap.disposeData(scratch.dataId);
  }
  return outs;
}

let registered = false;

/** Registers the two kernels for wasm and the forward kernel's gradient. Idempotent. */
export function registerFusedBatchNorm(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: FORWARD,
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, scale, offset } = inputs as Record<string, tf.TensorInfo>;
      const { epsilon } = attrs as unknown as Attrs;
      const p = requireProvider();
      const s = bnShape(x.shape);
      const c = s.channels;
      return withViews(
        backend as unknown as WasmHeap,
        [x, scale, offset],
        [[...x.shape], [c], [c]],
        p.batchNormScratch(c),
        ([xv, gv, bv, yv, mv, vv], scratch) =>
          p.batchNormForward(xv, gv, bv, yv, mv, vv, s, epsilon, scratch),
      );
    },
  });
  tf.registerKernel({
    kernelName: BACKWARD,
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, dy, scale, mean, variance } = inputs as Record<string, tf.TensorInfo>;
      const { epsilon } = attrs as unknown as Attrs;
      const p = requireProvider();
      const s = bnShape(x.shape);
      const c = s.channels;
      return withViews(
        backend as unknown as WasmHeap,
        [x, dy, scale, mean, variance],
        [[...x.shape], [c], [c]],
        p.batchNormScratch(c),
        ([xv, dyv, gv, mv, vv, dxv, dgv, dbv], scratch) =>
          p.batchNormBackward(xv, dyv, gv, mv, vv, dxv, dgv, dbv, s, epsilon, scratch),
      );
    },
  });
  tf.registerGradient({
    kernelName: FORWARD,
    inputsToSave: ["x", "scale"],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      // The batch statistics feed only the moving averages (variable writes, off the tape),
      // so their incoming gradients are zeros and ignored.
      const dy = Array.isArray(dys) ? dys[0] : dys;
      const [x, scale, mean, variance] = saved;
      // One kernel call gives all three, computed here rather than in the thunks: the tape
      // wraps each thunk in its own tidy (which would dispose the other two), while this
      // function runs in the backward pass's tidy, which disposes whatever no thunk took.
      const [dx, dscale, doffset] = tf.engine().runKernel(
        BACKWARD,
        { x, dy, scale, mean, variance },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
      return { x: () => dx, scale: () => dscale, offset: () => doffset };
    },
  });
}

/** Whether {@link fusedBatchNormTraining} can run on the current backend now. */
export function fusedBatchNormAvailable(): boolean {
  return registered && tf.getBackend() === "wasm" && kernelProvider()?.batchNorm === true;
}

/**
 * Training-mode batch norm over the last axis: the normalised output and the batch's mean
 * and biased variance (as `tf.moments`), for the caller's moving averages.
 */
export function fusedBatchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const [y, mean, variance] = tf.engine().runKernel(
    FORWARD,
    { x, scale: gamma, offset: beta },
    { epsilon } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor[];
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
