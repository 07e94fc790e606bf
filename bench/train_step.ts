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
  run(n: number): number;
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
    run(n: number): number {
      let last = NaN;
      for (let i = 0; i < n; i++) {
        const value = optimizer.minimize(loss, true, variables)!;
        last = value.dataSync()[0];
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
