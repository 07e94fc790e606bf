/**
 * Arithmetic of the benchmarked training step and this machine's fp32 peak, for the share of
 * peak `deno task bench` reports.
 *
 * @module
 */
import { smallResNet } from "../lib/nn/backbones/small_resnet.ts";

/**
 * Floating-point operations of the small ResNet's convolutions in one training step at
 * `batch`: 2 per multiply-add, for the forward pass, the filter gradient and the input
 * gradient, except the stem's (the image is not differentiated). Batch norm, ReLU and the
 * optimizer are memory-bound and left out.
 */
export function trainStepFlops(batch: number): number {
  const model = smallResNet({ seed: 0 });
  let flops = 0;
  let first = true;
  for (const layer of model.layers) {
    if (layer.getClassName() !== "Conv2D") continue;
    const out = (layer.output as { shape: number[] }).shape;
    const [kh, kw, c] = layer.getWeights()[0].shape;
    const macs = batch * out[1] * out[2] * out[3] * kh * kw * c;
    flops += 2 * macs * (first ? 2 : 3);
    first = false;
  }
  model.dispose();
  return flops;
}

/**
 * One core's fp32 peak from /proc/cpuinfo: the reported clock times 32 flops a cycle with
 * AVX2 + FMA (two 8-wide FMA units: Zen 2 and later, Haswell and later), 64 with AVX-512,
 * 16 otherwise. The clock read is the current one, not a turbo maximum.
 */
export function fp32PeakPerCore(): { flops: number; how: string } {
  let text = "";
  try {
    text = Deno.readTextFileSync("/proc/cpuinfo");
  } catch {
    return { flops: NaN, how: "no /proc/cpuinfo" };
  }
  const mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(text)?.[1] ?? NaN);
  const flags = /flags\s*:(.*)/.exec(text)?.[1] ?? "";
  const perCycle = /\bavx512f\b/.test(flags)
    ? 64
    : /\bavx2\b/.test(flags) && /\bfma\b/.test(flags)
    ? 32
    : 16;
  return {
    flops: mhz * 1e6 * perCycle,
    how: `${(mhz / 1000).toFixed(2)} GHz × ${perCycle} flop/cycle`,
  };
}
