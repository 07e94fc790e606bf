/**
 * AAIPR's joint training step (lib/papers/aaipr/README.md, 'Losses' and 'Players'): three
 * players, each with its own variables and its own Adam optimizer.
 *
 * - Discriminator D: minimises λ_D·l^D_adv on concepts held constant (Eq. 6), first.
 * - Image player Φ_I (+ Ψ): minimises l_I (+ l_A for Ψ, which both branches share), and
 *   λ_G·l^G_adv of its own concepts in Img2A / Both.
 * - Attribute player Φ_A: minimises l_A + λ_G·l^G_adv (A2Img / Both, Eq. 7), or
 *   l_A + λ_align·(MMD | CORAL)(sg(C^I), C^A).
 *
 * The image and attribute players take one backward pass of the summed loss and each applies
 * only its own share (`stepTogether`); every term reaches only the parameters it depends on, so
 * this equals separate minimisations of each player's own terms.
 *
 * @see notebooks/aaipr.ipynb §1, §4
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { crossEntropy } from "../../nn/losses/classification.ts";
import { coralLoss, linearMmd } from "../../nn/losses/mmd.ts";
import { stopGradient } from "../../nn/ops.ts";
import { Player, stepTogether, trainableVariables } from "../../train/players.ts";
import type { AaiprConfig, AdvDirection } from "./config.ts";
import type { AaiprNetworks } from "./model.ts";

/**
 * λ_D's term before weighting (Eq. 6), batch means of the per-sample sums, from D's logits on
 * the image concepts `sI` and the attribute concepts `sA`: −log D(real) − log(1 − D(fake)) with
 * −log σ(s) = softplus(−s). A2Img: images real; Img2A: attributes real; Both (one shared D):
 * the sum of the two.
 */
export function discriminatorLoss(
  sI: tf.Tensor,
  sA: tf.Tensor,
  direction: AdvDirection,
): tf.Scalar {
  return tf.tidy(() => {
    const a2img = tf.softplus(tf.neg(sI)).mean().add(tf.softplus(sA).mean());
    const img2a = tf.softplus(tf.neg(sA)).mean().add(tf.softplus(sI).mean());
    return (direction === "A2Img"
      ? a2img
      : direction === "Img2A"
      ? img2a
      : a2img.add(img2a)) as tf.Scalar;
  });
}

/**
 * λ_G's term before weighting (Eq. 7, non-saturating): the generator's concepts should look
 * real to D: −log D(C^A) in A2Img, −log D(C^I) in Img2A, both in Both.
 */
export function generatorLoss(sI: tf.Tensor, sA: tf.Tensor, direction: AdvDirection): tf.Scalar {
  return tf.tidy(() => {
    const fromA = tf.softplus(tf.neg(sA)).mean();
    const fromI = tf.softplus(tf.neg(sI)).mean();
    return (direction === "A2Img"
      ? fromA
      : direction === "Img2A"
      ? fromI
      : fromA.add(fromI)) as tf.Scalar;
  });
}

/** One batch of stage 2: image inputs (cached trunk features or images), attributes, SIDs. */
export interface JointBatch {
  /** Fast mode: trunk features [B, F]; faithful mode: images [B, H, W, 3]. */
  input: tf.Tensor2D | tf.Tensor4D;
  /** Attribute vectors paired with the images [B, attrDim]. */
  attributes: tf.Tensor2D;
  /** Training semantic ID of each pair. */
  sids: number[];
}

/** The numbers of one step (losses on the step's batch, before the update). */
export interface JointStepValues {
  l_I: number;
  l_A: number;
  /** λ_G's unweighted term (0 without the adversary). */
  l_G: number;
  /** λ_D's unweighted term (0 without the adversary). */
  l_D: number;
  /** MMD or CORAL, unweighted (0 otherwise). */
  l_align: number;
  /** D's accuracy at telling image concepts (→ 1) from attribute concepts (→ 0). */
  d_acc: number;
}

/** The players of AAIPR's stage 2 over a cell's networks. */
export class AaiprTrainer {
  readonly nets: AaiprNetworks;
  readonly config: AaiprConfig;
  /** Φ_I's head (and its trunk in faithful mode) and Ψ. */
  readonly image: Player;
  /** Φ_A. */
  readonly attribute: Player;
  /** D (only with the adversarial alignment). */
  readonly discriminator: Player | null;

  constructor(nets: AaiprNetworks, config: AaiprConfig) {
    this.nets = nets;
    this.config = config;
    const t = config.train;
    const adam = (lr: number) => tf.train.adam(lr, t.beta1, 0.999, 1e-8);
    const imageModels = t.mode === "faithful"
      ? [nets.trunk, nets.imageHead, nets.modules.classifier]
      : [nets.imageHead, nets.modules.classifier];
    this.image = new Player({
      name: "image",
      variables: trainableVariables(...imageModels),
      optimizer: adam(t.lrImage),
      weightDecay: t.weightDecay,
    });
    this.attribute = new Player({
      name: "attribute",
      variables: trainableVariables(nets.modules.attributeBranch),
      optimizer: adam(t.lrAttribute),
      weightDecay: t.weightDecay,
    });
    this.discriminator = config.loss.align === "adv"
      ? new Player({
        name: "discriminator",
        variables: trainableVariables(nets.modules.discriminator),
        optimizer: adam(t.lrD),
        weightDecay: t.weightDecay,
      })
      : null;
  }

  /** Image concepts C^I of a batch input (features in fast mode, images in faithful mode). */
  imageConcepts(input: tf.Tensor, mode: "train" | "eval"): tf.Tensor2D {
    const features = input.rank === 4
      ? this.nets.trunk.apply(input, { training: mode === "train" }) as tf.Tensor2D
      : input as tf.Tensor2D;
    return this.nets.ops.imageHead.apply(features, mode);
  }

  /** Attribute concepts C^A. */
  attributeConcepts(attributes: tf.Tensor2D, mode: "train" | "eval"): tf.Tensor2D {
    return this.nets.ops.attribute.apply(attributes, mode);
  }

  /** One stage-2 step: the discriminator's update, then the two branches' update. */
  async step(batch: JointBatch): Promise<JointStepValues> {
    const { loss } = this.config;
    const kept: Record<string, tf.Scalar> = {};
    const keep = (name: string, t: tf.Scalar) => {
      kept[name] = tf.keep(tf.clone(t));
    };
    const ops = this.nets.ops;
    try {
      if (this.discriminator) {
        // The concepts are constants of D's step (computed outside its gradient tape).
        const [cI, cA] = tf.tidy(() => [
          this.imageConcepts(batch.input, "train"),
          this.attributeConcepts(batch.attributes, "train"),
        ]);
        ops.attribute.commit();
        try {
          await this.discriminator.step(() => {
            const sI = ops.discriminator.apply(cI, "train");
            const sA = ops.discriminator.apply(cA, "train");
            const lD = discriminatorLoss(sI, sA, loss.advDirection);
            keep("l_D", lD);
            keep(
              "d_acc",
              tf.tidy(() =>
                tf.greater(sI, 0).toFloat().mean().add(tf.less(sA, 0).toFloat().mean()).div(2)
              ) as tf.Scalar,
            );
            return lD.mul(loss.lambdaD) as tf.Scalar;
          });
        } finally {
          tf.dispose([cI, cA]);
        }
      }
      await stepTogether([this.image, this.attribute], () => {
        const cI = this.imageConcepts(batch.input, "train");
        const cA = this.attributeConcepts(batch.attributes, "train");
        const lI = crossEntropy(ops.classifier.apply(cI, "train"), batch.sids);
        const lA = crossEntropy(ops.classifier.apply(cA, "train"), batch.sids);
        keep("l_I", lI);
        keep("l_A", lA);
        let total = lI.add(lA);
        if (loss.align === "adv") {
          const lG = generatorLoss(
            ops.discriminator.apply(cI, "train"),
            ops.discriminator.apply(cA, "train"),
            loss.advDirection,
          );
          keep("l_G", lG);
          total = total.add(lG.mul(loss.lambdaG));
        } else if (loss.align === "mmd" || loss.align === "coral") {
          const target = stopGradient(cI);
          const lAlign = loss.align === "mmd"
            ? linearMmd(target, cA)
            : coralLoss(target, cA, { includeMean: loss.coralMean });
          keep("l_align", lAlign);
          total = total.add(lAlign.mul(loss.lambdaAlign));
        }
        return total as tf.Scalar;
      });
      ops.attribute.commit();
      ops.imageHead.commit();
      const names = ["l_I", "l_A", "l_G", "l_D", "l_align", "d_acc"] as const;
      const stacked = tf.tidy(() => tf.stack(names.map((n) => kept[n] ?? tf.scalar(0))));
      let values: Float32Array;
      try {
        values = (await stacked.data()) as Float32Array;
      } finally {
        stacked.dispose();
      }
      const out = Object.fromEntries(
        names.map((n, i) => [n, values[i]]),
      ) as unknown as JointStepValues;
      return out;
    } finally {
      tf.dispose(Object.values(kept));
    }
  }

  /** Frees the optimizers (the networks belong to the caller). */
  dispose(): void {
    this.image.dispose();
    this.attribute.dispose();
    this.discriminator?.dispose();
  }
}
