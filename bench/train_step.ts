/**
 * One training step (forward, backward, Adam) of the CPU-scale backbone with
 * an identity classifier, as the benchmarks and the PyTorch comparison run it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { smallResNet } from "../lib/nn/backbones/small_resnet.ts";
import { Rng } from "../lib/runtime/random.ts";

/** A ready-to-run training step and what it needs to be disposed. */
export interface TrainStepFixture {
  /** Runs `n` steps and returns the last loss. */
  run(n: number): Promise<number>;
  dispose(): void;
}

/**
 * The benchmarked step: small ResNet (64×32 input) + bias-free linear
 * classifier over 100 identities, softmax cross-entropy, Adam(3e-4), batch
 * `batch` of fixed random images — the same as bench/peer/small_resnet_torch.py.
 */
export function trainStepFixture(batch = 64, seed = 0): TrainStepFixture {
  const rng = new Rng(seed);
  const backbone = smallResNet({ seed: rng.fork("backbone") });
  const classifier = tf.variable(
    tf.tensor2d(rng.fork("classifier").normalArray(128 * 100, 0, 0.01), [128, 100]),
  );
  const data = rng.fork("data");
  const x = tf.tensor4d(data.normalArray(batch * 64 * 32 * 3), [batch, 64, 32, 3]);
  const labels = tf.oneHot(
    tf.tensor1d(Array.from({ length: batch }, () => data.int(100)), "int32"),
    100,
  );
  const variables = [
    ...backbone.trainableWeights.map((w) => w.read() as tf.Variable),
    classifier,
  ];
  const optimizer = tf.train.adam(3e-4);
  const loss = () =>
    tf.tidy(() => {
      const features = backbone.apply(x, { training: true }) as tf.Tensor2D;
      return tf.losses.softmaxCrossEntropy(labels, tf.matMul(features, classifier)) as tf.Scalar;
    });
  return {
    async run(n: number): Promise<number> {
      let last = NaN;
      for (let i = 0; i < n; i++) {
        const value = optimizer.minimize(loss, true, variables)!;
        last = (await value.data())[0]; // the readback also waits for the step to finish
        value.dispose();
      }
      return last;
    },
    dispose() {
      optimizer.dispose();
      backbone.dispose();
      tf.dispose([classifier, x, labels]);
    },
  };
}

/**
 * Where one step's time goes: `tf.profile` of one step, kernel times summed by kernel name
 * (native kernels are single calls, so nothing is counted twice), largest first.
 */
export async function kernelBreakdown(fixture: TrainStepFixture, batch: number): Promise<string[]> {
  const profile = await tf.profile(() => fixture.run(1));
  const byName = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of profile.kernels) {
    const ms = await k.kernelTimeMs as number;
    const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += ms;
    entry.calls += 1;
    byName.set(k.name, entry);
    total += ms;
  }
  const rows = [...byName].sort((a, b) => b[1].ms - a[1].ms);
  const lines = [`  one step (batch ${batch}) by kernel, ${total.toFixed(0)} ms in kernels:`];
  for (const [name, { ms, calls }] of rows.slice(0, 12)) {
    lines.push(`    ${ms.toFixed(1).padStart(7)} ms  ${String(calls).padStart(3)}×  ${name}`);
  }
  return lines;
}
