/**
 * PAENet's step (README, 'Losses', 'Players'): one backward pass of
 * L_id + 2·L_HcTri + 0.25·L_MMD + λ·L_atr (or the Table 6 baseline's own losses), each module
 * group a {@link Player} with its own SGD (Nesterov momentum, coupled weight decay) applying
 * only its own share; Table 4's frozen modules are players that no longer step.
 *
 * @see notebooks/paenet.ipynb §3
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { crossEntropy } from "../../nn/losses/classification.ts";
import { Player, stepTogether } from "../../train/players.ts";
import type { PaenetConfig } from "./config.ts";
import {
  heteroCenterTripletBlocks,
  marginMmdBlocks,
  weightedRegularizedTriplet,
} from "./losses.ts";
import { type Group, type HeadOutput, PaenetNet } from "./model.ts";

/** One batch: P identities × K RGB then the same P × K in IR (the code's layout). */
export interface PaenetBatch {
  rgb: tf.Tensor4D;
  ir: tf.Tensor4D;
  /** Class of each of the P·K RGB rows (the IR rows have the same). */
  labels: number[];
  /** Attribute vectors [2PK, 8] (RGB rows then IR rows), each image's camera's labels. */
  attributes: tf.Tensor2D;
}

/** The numbers of one step. */
export interface StepValues {
  l_total: number;
  l_id: number;
  l_tri: number;
  l_mmd: number;
  l_atr: number;
  /** BCE of the detached attribute probe (Fig. 5's L_atr for rows without AAL). */
  l_probe: number;
}

const PLAYER_GROUPS: Group[] = ["backbone", "heads", "pae", "aal", "probe"];

/** The players of one net and the step. */
export class PaenetTrainer {
  readonly net: PaenetNet;
  readonly config: PaenetConfig;
  readonly players: Player[];
  /** Modules frozen now (Table 4). */
  frozen = new Set<"PAE" | "AAL">();
  #step = 0;

  constructor(net: PaenetNet, config: PaenetConfig) {
    this.net = net;
    this.config = config;
    const { lr, momentum, weightDecay } = config.train;
    this.players = PLAYER_GROUPS.filter((g) => net.groups[g].length > 0).map((g) =>
      new Player({
        name: g,
        variables: net.groups[g],
        optimizer: tf.train.momentum(lr, momentum, true),
        weightDecay: g === "probe" ? 0 : weightDecay,
      })
    );
  }

  /** The player of a module group, or undefined when the config has none. */
  player(group: Group): Player | undefined {
    return this.players.find((p) => p.name === group);
  }

  /** Stops updating a module (and runs it in eval mode) from now on. */
  freeze(module: "PAE" | "AAL"): void {
    this.frozen.add(module);
    const p = this.player(module === "PAE" ? "pae" : "aal");
    if (p) p.trainable = false;
  }

  /** The losses of one forward pass (README, 'Losses'). */
  losses(out: HeadOutput, batch: PaenetBatch) {
    const { loss, model } = this.config;
    const pk = batch.labels.length;
    const labels = [...batch.labels, ...batch.labels];
    const split = (t: tf.Tensor2D) => [
      t.slice([0, 0], [pk, -1]) as tf.Tensor2D,
      t.slice([pk, 0], [pk, -1]) as tf.Tensor2D,
    ];
    const zero = () => tf.scalar(0);
    const id = tf.addN(out.logits.map((l) => crossEntropy(l, labels))).div(out.logits.length);
    let tri: tf.Tensor = zero(), mmd: tf.Tensor = zero();
    if (model.baseline === "agw") {
      tri = weightedRegularizedTriplet(out.fPool, labels);
    } else if (model.baseline === "hct") {
      const hc = (t: tf.Tensor2D) => {
        const [v, i] = split(t);
        return heteroCenterTripletBlocks(
          v,
          i,
          batch.labels,
          this.config.train.K,
          loss.centerMargin,
        );
      };
      // Per stripe with the code's weight, plus once on the concatenation.
      tri = tf.addN(out.stripes.map(hc)).div(out.stripes.length).mul(loss.wCenter).add(
        hc(out.fPool),
      );
    } else {
      const [v, i] = split(out.fPool);
      const k = this.config.train.K;
      tri = heteroCenterTripletBlocks(v, i, batch.labels, k, loss.centerMargin).mul(loss.wCenter);
      mmd = marginMmdBlocks(v, i, batch.labels, k, loss.mmdMargin).mul(loss.wMmd);
    }
    const bce = (logits: tf.Tensor2D | null) =>
      logits ? tf.losses.sigmoidCrossEntropy(batch.attributes, logits) : zero();
    const atr = bce(out.atrLogits);
    const probe = bce(out.probeLogits);
    const total = id.add(tri).add(mmd).add(atr.mul(loss.lambdaAtr));
    return { total, id, tri, mmd, atr, probe };
  }

  /** One step on `batch`; resolves to its numbers. Leaves no tensor behind. */
  async step(batch: PaenetBatch): Promise<StepValues> {
    const seed = ++this.#step;
    const kept: tf.Tensor[] = [];
    try {
      await stepTogether(this.players, () => {
        const F = this.net.features(batch.rgb, batch.ir, true);
        const out = this.net.heads(F, batch.attributes, {
          training: true,
          frozen: this.frozen,
          seed,
        });
        const l = this.losses(out, batch);
        // The probe's input is detached, so its loss moves the probe alone.
        kept.push(tf.keep(tf.stack([l.total, l.id, l.tri, l.mmd, l.atr, l.probe])));
        return l.total.add(l.probe) as tf.Scalar;
      });
      const v = await kept[0].data();
      return { l_total: v[0], l_id: v[1], l_tri: v[2], l_mmd: v[3], l_atr: v[4], l_probe: v[5] };
    } finally {
      tf.dispose(kept);
    }
  }

  /** Frees the optimizers (the net belongs to the caller). */
  dispose(): void {
    for (const p of this.players) {
      // tfjs' MomentumOptimizer.dispose skips SGD's learning-rate scalar `c`: free it here.
      (p.optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
      p.dispose();
    }
  }
}
