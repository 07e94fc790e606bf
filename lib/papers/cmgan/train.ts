/**
 * cmGAN's alternating training (Alg. 1, Eqs. 5–8; lib/papers/cmgan/README.md, 'Schedule'):
 * two players with their own
 * variables and their own Adam optimizers.
 *
 * - Generator step (K−1 of every K steps): θ1 ∪ θ_ide minimise
 *   l_gen − γ·l_dis = α·l_triplet + β·l_ide − γ·l_dis; θ_D does not move.
 * - Discriminator step (every K-th step): θ_D minimises η·γ·l_dis on the generator's
 *   features, held constant (the −η·l_gen term of Alg. 1 line 13 has no gradient with
 *   respect to θ_D); θ1 and θ_ide do not move.
 *
 * The public re-implementations back-propagate one total loss into all parameters with
 * one optimizer, so the backbone ascends l_gen in D-steps (README, 'Schedule'); here each
 * {@link Player} differentiates only its own variable list.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { confusionLoss } from "../../nn/losses/adversarial.ts";
import { crossEntropy } from "../../nn/losses/classification.ts";
import { crossModalTriplet } from "../../nn/losses/triplet.ts";
import { Rng, type RngState } from "../../runtime/random.ts";
import { FiniteGuard } from "../../train/finite.ts";
import { Player, trainableVariables } from "../../train/players.ts";
import type { CmganConfig } from "./config.ts";
import type { CmganNetworks } from "./model.ts";

/** One batch of P cross-modal pairs: `rgb[j]` and `ir[j]` show identity `classes[j]`. */
export interface PairBatch {
  /** RGB images [P, H, W, 3] in [−1, 1]. */
  rgb: tf.Tensor4D;
  /** IR images [P, H, W, 3] (the single channel replicated ×3). */
  ir: tf.Tensor4D;
  /** Training class index of each pair (distinct within a batch). */
  classes: number[];
}

/** The numbers one step produces (all losses evaluated on the step's batch). */
export interface StepLosses {
  /** "G" or "D": which player moved. */
  player: "G" | "D";
  l_triplet: number;
  l_ide: number;
  l_gen: number;
  l_dis: number;
  /** The generator's objective l_gen − γ·l_dis (Fig. 5's "total loss"). */
  l_total: number;
  /** Discriminator accuracy on the batch's 2P features. */
  d_acc: number;
}

/** Which player moves at 1-based step `s` (Alg. 1 line 10, with `e` read as the step). */
export function playerAt(s: number, K: number, kMode: "algorithm" | "text"): "G" | "D" {
  if (kMode === "algorithm") return s % K !== 0 ? "G" : "D";
  // K generator steps, then one discriminator step.
  return s % (K + 1) !== 0 ? "G" : "D";
}

/** The two players of cmGAN over a set of networks. */
/** {@link CmganTrainer.saveState}: JSON. */
export interface TrainerState {
  steps: number;
  mining: RngState;
}

export class CmganTrainer {
  readonly nets: CmganNetworks;
  readonly config: CmganConfig;
  /** θ1 ∪ θ_ide. */
  readonly generator: Player;
  /** θ_D. */
  readonly discriminator: Player;
  #rng: Rng;
  #step = 0;
  /** Stops a diverging run at the step that diverged (issue 12). */
  #finite = new FiniteGuard();

  constructor(nets: CmganNetworks, config: CmganConfig, rng: Rng) {
    this.nets = nets;
    this.config = config;
    this.#rng = rng;
    const t = config.train;
    this.generator = new Player({
      name: "generator",
      variables: trainableVariables(nets.generator, nets.idHead),
      optimizer: tf.train.adam(t.lrG, t.beta1, 0.999),
    });
    this.discriminator = new Player({
      name: "discriminator",
      variables: trainableVariables(nets.discriminator),
      optimizer: tf.train.adam(t.lrD, t.beta1, 0.999),
    });
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.#step;
  }

  /** What a checkpoint must hold to continue this trainer exactly: the step, the mining stream. */
  saveState(): TrainerState {
    return { steps: this.#step, mining: this.#rng.state() };
  }

  /**
   * Continues a resumed run: Alg. 1's schedule of G and D steps reads the step count, and
   * "randomOne" mining continues its stream where the checkpoint left it.
   */
  loadState(state: TrainerState): void {
    if (!Number.isInteger(state?.steps) || state.steps < 0) {
      throw new Error(`CmganTrainer.loadState: steps must be an integer ≥ 0, got ${state?.steps}`);
    }
    this.#step = state.steps;
    this.#rng = Rng.fromState(state.mining);
  }

  /**
   * Every loss of Eqs. 1–6 on a batch, from features `f` = [V; I] (2P × d): the triplet
   * over cross-modal pairs, ID cross-entropy and modality cross-entropy, each a mean over
   * the batch's images (lib/papers/cmgan/README.md, 'Losses'), and the discriminator's accuracy.
   */
  losses(f: tf.Tensor2D, classes: number[]) {
    const { loss } = this.config;
    const p = classes.length;
    const v = f.slice([0, 0], [p, -1]) as tf.Tensor2D;
    const i = f.slice([p, 0], [p, -1]) as tf.Tensor2D;
    const triplet = crossModalTriplet(v, classes, i, classes, {
      margin: loss.margin,
      mining: loss.mining,
      normalize: loss.tripletNormalize,
      reduction: loss.tripletReduction,
      squared: true,
      rng: this.#rng,
    });
    const ide = crossEntropy(
      this.nets.idHead.apply(f) as tf.Tensor2D,
      [...classes, ...classes],
    );
    const modality = [...Array(p).fill(0), ...Array(p).fill(1)];
    const dLogits = this.nets.discriminator.apply(f) as tf.Tensor2D;
    const dis = crossEntropy(dLogits, modality);
    const acc = tf.tidy(() =>
      tf.mean(tf.equal(tf.argMax(dLogits, 1), tf.tensor1d(modality, "int32")).toFloat())
    ) as tf.Scalar;
    return { triplet, ide, dis, dLogits, acc };
  }

  #features(batch: PairBatch): tf.Tensor2D {
    const x = tf.concat([batch.rgb, batch.ir], 0);
    return this.nets.generator.apply(x, { training: true }) as tf.Tensor2D;
  }

  /**
   * One step of Alg. 1: a generator step or a discriminator step as {@link playerAt}
   * says. Leaves no tensor behind (the batch stays the caller's). The losses are read
   * back asynchronously (a synchronous readback throws under Deno's WebGPU); the update is
   * queued before the promise is returned.
   */
  async step(batch: PairBatch): Promise<StepLosses> {
    this.#step++;
    const { alpha, beta, gamma, eta, advMode } = this.config.loss;
    const who = playerAt(this.#step, this.config.train.K, this.config.train.kMode);
    const kept: Record<string, tf.Scalar> = {};
    const keep = (name: string, t: tf.Scalar) => {
      kept[name] = tf.keep(t.clone());
    };
    try {
      if (who === "G") {
        await this.generator.step(() => {
          const f = this.#features(batch);
          const l = this.losses(f, batch.classes);
          const gen = l.triplet.mul(alpha).add(l.ide.mul(beta));
          const adv = advMode === "faithful"
            ? l.dis.mul(-gamma)
            : confusionLoss(l.dLogits).mul(gamma);
          keep("l_triplet", l.triplet);
          keep("l_ide", l.ide);
          keep("l_dis", l.dis);
          keep("l_gen", gen as tf.Scalar);
          keep("d_acc", l.acc);
          return gen.add(adv) as tf.Scalar;
        });
      } else {
        // The generator's features are constants of the discriminator's step.
        const f = tf.tidy(() => this.#features(batch));
        try {
          // With γ = 0 (the no-adversary run) D is still trained, for monitoring only.
          const scale = eta * (gamma > 0 ? gamma : 1);
          await this.discriminator.step(() => {
            const l = this.losses(f, batch.classes);
            keep("l_triplet", l.triplet);
            keep("l_ide", l.ide);
            keep("l_dis", l.dis);
            keep("l_gen", l.triplet.mul(alpha).add(l.ide.mul(beta)) as tf.Scalar);
            keep("d_acc", l.acc);
            return l.dis.mul(scale) as tf.Scalar;
          });
        } finally {
          f.dispose();
        }
      }
      // One readback for all five: on a GPU each readback waits for the queue to drain.
      const names = ["l_triplet", "l_ide", "l_gen", "l_dis", "d_acc"];
      const stacked = tf.stack(names.map((name) => kept[name]));
      let values: Float32Array;
      try {
        values = (await stacked.data()) as Float32Array;
      } finally {
        stacked.dispose();
      }
      const [l_triplet, l_ide, l_gen, l_dis, d_acc] = values;
      const out = { player: who, l_triplet, l_ide, l_gen, l_dis, l_total: 0, d_acc };
      out.l_total = out.l_gen - gamma * out.l_dis;
      this.#finite.check(this.#step, { l_triplet, l_ide, l_gen, l_dis, l_total: out.l_total });
      return out;
    } finally {
      tf.dispose(Object.values(kept));
    }
  }

  /** Embeddings of images [N, H, W, 3] in evaluation mode (BN moving statistics). */
  embed(x: tf.Tensor4D): tf.Tensor2D {
    return this.nets.generator.apply(x, { training: false }) as tf.Tensor2D;
  }

  /** Frees both optimizers (the networks belong to the caller). */
  dispose(): void {
    this.generator.dispose();
    this.discriminator.dispose();
  }
}
