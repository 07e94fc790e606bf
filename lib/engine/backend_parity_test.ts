/**
 * The webgpu backend against the `cpu` reference: one evaluation and one training step
 * of the CPU-scale network (lib/engine/backend_parity.ts), each backend in its own
 * process. On a machine without a GPU this runs on a software adapter (Debian's
 * mesa-vulkan-drivers, lavapipe); `.ci/run` installs it, so the test runs in CI.
 *
 * Tolerances, all relative to the largest magnitude of the compared tensor:
 * - loss 1e-5: a forward pass and a mean over the batch in float32 (measured: equal).
 * - gradients 1e-3 per variable: float32 sums over up to 2·64·32 = 4,096 positions in a
 *   different order, through BN's backward (which subtracts means) and 10 conv layers;
 *   the prototype saw conv gradients within 1.8e-4 on this adapter, and a GPU's reduction
 *   order differs again. Measured here: 2.6e-6. A wrong kernel is off by O(1).
 * - features, distances, BN moving statistics 1e-3: forward only; distances are
 *   ‖q‖² + ‖g‖² − 2q·g, which cancels (measured 1.4e-5 of the largest distance).
 * - Adam's update is checked on each backend against its definition with that backend's
 *   own gradient, not across backends: for a gradient near 0, Adam's first step moves a
 *   weight by ±lr on the sign of the rounding error, so post-step weights may differ.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ParityReport } from "./backend_parity.ts";

const SCRIPT = new URL("./backend_parity.ts", import.meta.url).pathname;
// Two images: the cpu backend's conv backward dominates the test's time (~35 s at 4).
const BATCH = 2;

async function report(backend: string): Promise<ParityReport> {
  const env: Record<string, string> = { REID_BACKEND: "" };
  // libwayland (loaded by Mesa's Vulkan driver) prints an error when this is unset;
  // any private folder silences it and changes nothing else.
  if (!Deno.env.get("XDG_RUNTIME_DIR")) env.XDG_RUNTIME_DIR = await Deno.makeTempDir();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, "--backend", backend, "--batch", String(BATCH)],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (env.XDG_RUNTIME_DIR) await Deno.remove(env.XDG_RUNTIME_DIR, { recursive: true });
  assert.ok(out.success, `${backend} run failed:\n${stderr}`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/** max |a − b| / max |b|, the error measure of the tolerances above. */
function relative(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
  }
  return diff / Math.max(maxAbs(expected), 1e-30);
}

/** The worst variable (name, error) of `relative` over two aligned lists. */
function worst(names: string[], actual: number[][], expected: number[][]): [string, number] {
  let out: [string, number] = ["", 0];
  names.forEach((name, i) => {
    const e = relative(actual[i], expected[i]);
    if (!(e <= out[1])) out = [name, e]; // NaN counts as worst
  });
  return out;
}

/**
 * Adam's first step from zero moments is w − lr·g/(|g| + ε) (bias corrections cancel);
 * returns the largest deviation from it in units of lr, beyond float32 rounding of w.
 */
function adamDeviation(r: ParityReport): number {
  const epsilon = 1e-7; // tfjs' default for float32 backends
  let dev = 0;
  r.variables.forEach((_, v) => {
    const [w0, g, w1] = [r.before[v], r.grads[v], r.after[v]];
    for (let i = 0; i < w0.length; i++) {
      const expected = w0[i] - r.learningRate * g[i] / (Math.abs(g[i]) + epsilon);
      const rounding = 4 * 2 ** -24 * Math.max(Math.abs(w0[i]), Math.abs(w1[i]));
      dev = Math.max(dev, Math.max(0, Math.abs(w1[i] - expected) - rounding) / r.learningRate);
    }
  });
  return dev;
}

Deno.test("webgpu matches cpu on one evaluation and one training step of the small ResNet", async () => {
  const [gpu, cpu] = await Promise.all([report("webgpu"), report("cpu")]);
  assert.equal(gpu.backend.name, "webgpu");
  assert.equal(cpu.backend.name, "cpu");
  assert.ok(gpu.backend.adapter, "the webgpu report names its adapter");
  const timing = (r: ParityReport) =>
    `eval ${r.seconds.eval.toFixed(1)} s, step ${r.seconds.step.toFixed(1)} s`;
  console.log(
    `webgpu on ${gpu.backend.adapter.description}: ${timing(gpu)}; cpu: ${timing(cpu)}`,
  );

  // Evaluation (the network as initialised, identical weights on both).
  assert.ok(relative(gpu.queryFeatures, cpu.queryFeatures) <= 1e-3, "query features differ");
  assert.ok(relative(gpu.galleryFeatures, cpu.galleryFeatures) <= 1e-3, "gallery features");
  const distError = relative(gpu.dist, cpu.dist);
  assert.ok(distError <= 1e-3, `distances differ by ${distError} of the largest`);
  // Ranks must agree wherever rounding cannot decide them: two gallery items further apart
  // (on cpu) than twice the largest distance difference seen keep their order on webgpu.
  // With no closer pair, the metrics must then be equal to the last bit.
  const [numQuery, numGallery] = cpu.distShape;
  let delta = 0;
  cpu.dist.forEach((d, i) => delta = Math.max(delta, Math.abs(gpu.dist[i] - d)));
  let nearTies = 0;
  for (let q = 0; q < numQuery; q++) {
    const at = (d: number[], g: number) => d[q * numGallery + g];
    for (let a = 0; a < numGallery; a++) {
      for (let b = 0; b < numGallery; b++) {
        const gap = at(cpu.dist, b) - at(cpu.dist, a);
        if (gap > 2 * delta) {
          assert.ok(at(gpu.dist, a) < at(gpu.dist, b), `query ${q}: items ${a}, ${b} swapped`);
        } else if (gap > 0) nearTies++;
      }
    }
  }
  if (nearTies === 0) assert.deepEqual(gpu.metrics, cpu.metrics);
  assert.ok(cpu.metrics.R1 < 100 && cpu.metrics.mAP > 0, "the ranking is neither perfect nor void");

  // The training step.
  assert.deepEqual(gpu.variables, cpu.variables);
  assert.ok(
    Math.abs(gpu.loss - cpu.loss) <= 1e-5 * Math.abs(cpu.loss),
    `loss ${gpu.loss} vs ${cpu.loss}`,
  );
  for (const [i, g] of cpu.grads.entries()) {
    assert.ok(maxAbs(g) > 0, `${cpu.variables[i]}: zero gradient, the check would be empty`);
  }
  const [name, gradError] = worst(cpu.variables, gpu.grads, cpu.grads);
  assert.ok(gradError <= 1e-3, `gradient of ${name} differs by ${gradError} (relative)`);
  const statNames = cpu.movingStats.map((s) => s.name);
  const [statName, statError] = worst(
    statNames,
    gpu.movingStats.map((s) => s.values),
    cpu.movingStats.map((s) => s.values),
  );
  assert.ok(statError <= 1e-3, `BN moving statistic ${statName} differs by ${statError}`);
  for (const r of [gpu, cpu]) {
    const dev = adamDeviation(r);
    assert.ok(dev <= 1e-3, `${r.backend.name}: Adam's update is off by ${dev}·lr`);
    assert.equal(r.tensors.after, r.tensors.before, `${r.backend.name} leaked tensors`);
  }
  console.log(
    `loss ${gpu.loss} vs ${cpu.loss}; worst gradient ${name} ${gradError.toExponential(2)}; ` +
      `distances ${distError.toExponential(2)} (${nearTies} pairs closer than 2×${
        delta.toExponential(1)
      }); moving statistics ${statError.toExponential(2)}`,
  );
});
