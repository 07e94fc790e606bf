/**
 * Adversarial losses: the standard (non-saturating) GAN loss on logits, least
 * squares, SAL's official variant, and the modality-classifier losses of cmGAN.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { softTargetCrossEntropy } from "./classification.ts";

/**
 * Binary GAN loss on discriminator logits s [N] or [N, 1], mean over the batch:
 * −log σ(s) = softplus(−s) for the "real" target, −log(1 − σ(s)) = softplus(s) for
 * "fake". The discriminator uses real/fake as they are; the generator's
 * non-saturating loss is this loss with target "real" on generated samples
 * (AAIPR's l^G_adv = −log D(C^A)).
 */
export function ganBceLoss(logits: tf.Tensor, target: "real" | "fake"): tf.Scalar {
  return tf.tidy(() => tf.softplus(target === "real" ? logits.neg() : logits).mean() as tf.Scalar);
}

/**
 * Least-squares GAN loss (Mao et al. 2017), mean over the batch of (D(x) − target)²,
 * with targets 1 for real and 0 for fake by default (as PyTorch's `MSELoss` in
 * CycleGAN-style code; halve it for Mao et al.'s ½ factor).
 */
export function lsganLoss(
  outputs: tf.Tensor,
  target: "real" | "fake",
  values: { real: number; fake: number } = { real: 1, fake: 0 },
): tf.Scalar {
  const t = target === "real" ? values.real : values.fake;
  return tf.tidy(() => outputs.sub(t).square().mean() as tf.Scalar);
}

/**
 * SAL's official GAN criterion (`BCELoss(num_classes=1)` with label smoothing ε = 0.1
 * applied to a discriminator output that is already a sigmoid): with s = D(·) ∈ (0, 1)
 * treated as a logit and the smoothed target t' = 0.9·t + 0.1 (real 1.0, fake 0.1),
 * loss = mean_i [softplus(s_i) − s_i·t'_i]. This double sigmoid bounds the
 * adversarial gradient (|∂/∂h| ≤ 0.125 on the pre-sigmoid h); kept for faithfulness.
 */
export function salGanLoss(probabilities: tf.Tensor, target: "real" | "fake"): tf.Scalar {
  const t = target === "real" ? 1 : 0;
  const smoothed = 0.9 * t + 0.1;
  return tf.tidy(() =>
    tf.softplus(probabilities).sub(probabilities.mul(smoothed)).mean() as tf.Scalar
  );
}

/**
 * Confusion loss for a k-way modality classifier: cross-entropy of its logits [N, k]
 * against the uniform distribution, minimised by a generator that makes the
 * classifier uncertain (cmGAN's `advMode: 'confusion'`, lib/papers/cmgan/README.md, 'Losses').
 */
export function confusionLoss(logits: tf.Tensor2D): tf.Scalar {
  const k = logits.shape[1];
  return tf.tidy(() => softTargetCrossEntropy(logits, tf.fill(logits.shape, 1 / k)));
}
