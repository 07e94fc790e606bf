/**
 * SAL's training steps (README.md, 'Losses' and 'Schedule'): the two pretraining stages (the
 * image branch alone, then both branches: the Embed model) and the per-iteration steps ①–⑥
 * of stage 3, each player differentiating only its own variables with its own Adam
 * optimizer (`lib/train/players.ts`). What a row switches off is left out of the sums; the
 * weights are the official code's (ρ_l, ρ_u, λ, λ_s, r).
 *
 * @see notebooks/sal.ipynb §3
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { salGanLoss } from "../../nn/losses/adversarial.ts";
import { attributeBce } from "../../nn/losses/attribute.ts";
import { crossEntropy } from "../../nn/losses/classification.ts";
import type { Rng } from "../../runtime/random.ts";
import { forward } from "../../train/modes.ts";
import { Player, trainableVariables } from "../../train/players.ts";
import type { SalConfig } from "./config.ts";
import { type SalNetworks, sampleNoise } from "./model.ts";

/** One batch: B real pairs and (when the row samples them) U unseen attribute vectors. */
export interface SalBatch {
  /** Images [B, H, W, 3] (when F_I trains), or null. */
  images: tf.Tensor4D | null;
  /** Cached f_v [B, featureDim] (when F_I is frozen in stage 3), or null. */
  features: tf.Tensor2D | null;
  /** Attribute vectors a [B, d]. */
  attributes: tf.Tensor2D;
  /** Training category y of each pair. */
  categories: number[];
  /** Sampled unseen vectors a^u [U, d], or null. */
  unseen: tf.Tensor2D | null;
}

/** Which steps of stage 3 run: all (symbiotic), ①② (stage-wise phase A) or ③–⑥ (phase B). */
export type Stage3Phase = "all" | "synthesis" | "alignment";

/**
 * SAL's GAN criterion on a discriminator output p ∈ (0, 1): the official code's (BCE with
 * logits on p, smoothed targets 1.0 / 0.1) or the paper's log-loss (README.md, 'Losses').
 */
export function ganLoss(
  p: tf.Tensor,
  target: "real" | "fake",
  form: SalConfig["loss"]["ganLoss"],
): tf.Scalar {
  if (form === "official") return salGanLoss(p, target);
  return tf.tidy(() => {
    const q = target === "real" ? p : tf.sub(1, p);
    return tf.log(tf.clipByValue(q, 1e-7, 1)).mean().neg() as tf.Scalar;
  });
}

/** Mean squared error over all entries (the code's `nn.MSELoss`, its "L2"). */
export function mse(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.squaredDifference(a, b).mean() as tf.Scalar);
}

const sum = (terms: (tf.Scalar | null | false)[]): tf.Scalar =>
  (terms.filter((t): t is tf.Scalar => t instanceof tf.Tensor)).reduce((a, b) =>
    a.add(b) as tf.Scalar
  );

/** The players and steps of every stage. */
export class SalTrainer {
  readonly nets: SalNetworks;
  readonly config: SalConfig;
  #rng: Rng;
  /** Stage-3 players, made by {@link SalTrainer.beginStage3}. */
  players: Record<string, Player> = {};

  constructor(nets: SalNetworks, config: SalConfig, rng: Rng) {
    this.nets = nets;
    this.config = config;
    this.#rng = rng;
  }

  #player(name: string, lr: number, ...modules: tf.LayersModel[]): Player {
    return new Player({
      name,
      variables: trainableVariables(...modules),
      optimizer: tf.train.adam(lr, 0.9, 0.999, 1e-8),
      weightDecay: this.config.train.weightDecay,
    });
  }

  #dropPlayers(): void {
    for (const p of Object.values(this.players)) p.dispose();
    this.players = {};
  }

  /** Stage 1: the image branch alone (F_I, E_V and both classifiers). */
  beginStage1(): void {
    this.#dropPlayers();
    const n = this.nets;
    this.players = {
      image: this.#player(
        "image",
        this.config.train.lrStage1,
        n.imageExtractor,
        n.encoderV,
        n.attributeClassifier,
        n.categoryClassifier,
      ),
    };
  }

  /** Stage 2 (Embed): the image branch and the attribute branch, each its own optimizer. */
  beginStage2(): void {
    this.#dropPlayers();
    const n = this.nets;
    const t = this.config.train;
    this.players = {
      image: this.#player(
        "image",
        t.lrImage,
        n.imageExtractor,
        n.encoderV,
        n.attributeClassifier,
        n.categoryClassifier,
      ),
      attribute: this.#player(
        "attribute",
        t.lrAttribute,
        n.attributeExtractor,
        n.encoderA,
        n.attributeClassifier,
        n.categoryClassifier,
      ),
    };
  }

  /**
   * Stage 3: X (F_I unless frozen, E_V, classifiers), A (F_A, E_A, classifiers), DS (D_2),
   * ES (E_A as the alignment GAN's generator G_C), GC (G_V, G_A), DC (D_1).
   */
  beginStage3(): void {
    this.#dropPlayers();
    const n = this.nets;
    const t = this.config.train;
    const imageModules = t.imageNetStage3 === "train" ? [n.imageExtractor] : [];
    this.players = {
      X: this.#player(
        "X",
        t.lrAlign,
        ...imageModules,
        n.encoderV,
        n.attributeClassifier,
        n.categoryClassifier,
      ),
      A: this.#player(
        "A",
        t.lrAlign,
        n.attributeExtractor,
        n.encoderA,
        n.attributeClassifier,
        n.categoryClassifier,
      ),
      DS: this.#player("DS", t.lrAlign, n.discriminator2),
      ES: this.#player("ES", t.lrAlign, n.encoderA),
      GC: this.#player("GC", t.lrGen, n.generatorV, n.generatorA),
      DC: this.#player("DC", t.lrDisc, n.discriminator1),
    };
  }

  #bce(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
    return attributeBce(logits as tf.Tensor2D, targets as tf.Tensor2D, {
      labelSmoothing: this.config.loss.labelSmoothing,
      reduction: "sumOverAttributes",
    });
  }

  #ce(logits: tf.Tensor, y: number[]): tf.Scalar {
    return crossEntropy(logits as tf.Tensor2D, y, {
      labelSmoothing: this.config.loss.labelSmoothing,
    });
  }

  #gan(p: tf.Tensor, target: "real" | "fake"): tf.Scalar {
    return ganLoss(p, target, this.config.loss.ganLoss);
  }

  /** f_v of a batch: F_I on its images in `mode`, or its cached features. */
  imageFeatures(batch: SalBatch, mode: "train" | "eval"): tf.Tensor2D {
    if (batch.features) return batch.features.clone();
    if (!batch.images) throw new Error("SAL batch has neither images nor cached features");
    return forward(this.nets.imageExtractor, batch.images, mode) as tf.Tensor2D;
  }

  /** The branch loss of stages 1–2: (2 − λ_s)·BCE_att + λ_s·CE_cat on embeddings `e`. */
  #embedLoss(e: tf.Tensor, batch: SalBatch): tf.Scalar {
    const ls = this.config.loss.lambdaSem;
    const n = this.nets;
    return sum([
      this.#bce(forward(n.attributeClassifier, e, "train"), batch.attributes).mul(2 - ls),
      this.#ce(forward(n.categoryClassifier, e, "train"), batch.categories).mul(ls),
    ]);
  }

  /** One step of stage 1 (image branch) or stage 2 (image step, then attribute step). */
  async pretrainStep(batch: SalBatch, stage: 1 | 2): Promise<Record<string, number>> {
    const n = this.nets;
    const image = this.players.image.step(() =>
      this.#embedLoss(forward(n.encoderV, this.imageFeatures(batch, "train"), "train"), batch)
    );
    if (stage === 1) return { l_image: (await image)! };
    const attribute = this.players.attribute.step(() =>
      this.#embedLoss(
        forward(n.encoderA, forward(n.attributeExtractor, batch.attributes, "train"), "train"),
        batch,
      )
    );
    return { l_image: (await image)!, l_attribute: (await attribute)! };
  }

  /**
   * One iteration of stage 3 (README.md, 'Losses', steps ①–⑥). Middle-level features are
   * constants of the GAN steps; the synthetic features of steps ③–⑥ are those made before
   * the generators' update, held constant. Leaves no tensor behind.
   */
  async stage3Step(batch: SalBatch, phase: Stage3Phase = "all"): Promise<Record<string, number>> {
    const sw = this.config.switches;
    const { lambda: lam, lambdaSem: ls, unseenRatio: r } = this.config.loss;
    const n = this.nets;
    const B = batch.categories.length;
    const unseen = sw.unseen && batch.unseen !== null;
    const U = unseen ? batch.unseen!.shape[0] : 0;
    const rl = unseen ? B / (B + U) : 1;
    const ru = unseen ? U / (B + U) : 0;
    const noiseDim = this.config.model.noiseDim;
    const synth = sw.synthGAN;
    const aug = synth && sw.aug;
    const made: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor>(t: T): T => (made.push(t), t);
    const out: Record<string, Promise<number | null>> = {};
    try {
      const fv = keep(tf.tidy(() => this.imageFeatures(batch, "train")));
      const fa = keep(tf.tidy(() => forward(n.attributeExtractor, batch.attributes, "train")));
      const fau = unseen
        ? keep(tf.tidy(() => forward(n.attributeExtractor, batch.unseen!, "train")))
        : null;
      let fvt: tf.Tensor | null = null;
      let fvut: tf.Tensor | null = null;
      let fat: tf.Tensor | null = null;
      if (synth) {
        const z = keep(sampleNoise(this.#rng, B, noiseDim));
        const zu = unseen ? keep(sampleNoise(this.#rng, U, noiseDim)) : null;
        // Phase B of the stage-wise schedule uses the frozen generators as fixed maps.
        const gMode = phase === "alignment" ? "eval" : "train";
        fvt = keep(tf.tidy(() => forward(n.generatorV, [fa, z], gMode)));
        fvut = unseen ? keep(tf.tidy(() => forward(n.generatorV, [fau!, zu!], gMode))) : null;
        fat = keep(tf.tidy(() => forward(n.generatorA, fv, gMode)));
        if (phase !== "alignment") {
          const d1 = (a: tf.Tensor, v: tf.Tensor) => forward(n.discriminator1, [a, v], "train");
          // ① D_1: real pairs against the three kinds of synthetic pairs.
          out.l_D1 = this.players.DC.step(() =>
            sum([
              this.#gan(d1(fa, fv), "real"),
              this.#gan(d1(fa, fvt!), "fake").mul(rl),
              unseen && this.#gan(d1(fau!, fvut!), "fake").mul(ru),
              this.#gan(d1(fat!, fv), "fake"),
            ])
          );
          // ② G_V, G_A: fool D_1, stay consistent in the common space (encoders as fixed
          // maps in eval mode), and close the semantic → visual → semantic cycle.
          const enc = (m: tf.LayersModel, x: tf.Tensor) => forward(m, x, "eval");
          const eaFa = keep(tf.tidy(() => enc(n.encoderA, fa)));
          const evFv = keep(tf.tidy(() => enc(n.encoderV, fv)));
          const eaFau = unseen ? keep(tf.tidy(() => enc(n.encoderA, fau!))) : null;
          const parts: Record<string, tf.Scalar> = {};
          out.l_G = this.players.GC.step(() => {
            const gv = forward(n.generatorV, [fa, z], "train");
            const ga = forward(n.generatorA, fv, "train");
            const gvu = unseen ? forward(n.generatorV, [fau!, zu!], "train") : null;
            // Eval-mode encoders are fixed maps: each input is encoded once.
            const evGv = sw.consis ? enc(n.encoderV, gv) : null;
            const eaGa = sw.consis ? enc(n.encoderA, ga) : null;
            const lGV = sum([
              this.#gan(d1(fa, gv), "real").mul(rl),
              sw.consis && mse(evGv!, eaFa).mul(rl),
              sw.consis && mse(evGv!, evFv),
              unseen && this.#gan(d1(fau!, gvu!), "real").mul(ru * r),
              unseen && sw.consis && mse(enc(n.encoderV, gvu!), eaFau!).mul(ru * r),
            ]);
            const lGA = sum([
              this.#gan(d1(ga, fv), "real"),
              sw.consis && mse(eaGa!, evFv),
              sw.consis && mse(eaGa!, eaFa),
            ]);
            const lCyc = sum([
              mse(forward(n.generatorA, gv, "train"), fa).mul(rl),
              unseen && mse(forward(n.generatorA, gvu!, "train"), fau!).mul(ru * r),
            ]);
            parts.l_GV = tf.keep(lGV.clone());
            parts.l_GA = tf.keep(lGA.clone());
            parts.l_cyc = tf.keep(lCyc.clone());
            return lGV.add(lGA).add(lCyc) as tf.Scalar;
          });
          made.push(...Object.values(parts));
          for (const [k, v] of Object.entries(parts)) out[k] = v.data().then((d) => d[0]);
        }
      }
      if (phase !== "synthesis") {
        if (sw.alignGAN) {
          // ③ D_2: visual embeddings are "real", attribute embeddings "fake"; the encoder
          // outputs are constants here (encoders in train mode, as the code).
          const e = (m: tf.LayersModel, x: tf.Tensor) =>
            keep(tf.tidy(() => forward(m, x, "train")));
          const eaFa = e(n.encoderA, fa);
          const evFv = e(n.encoderV, fv);
          const eaFat = aug ? e(n.encoderA, fat!) : null;
          const evFvt = aug ? e(n.encoderV, fvt!) : null;
          const eaFau = unseen ? e(n.encoderA, fau!) : null;
          const evFvut = unseen && aug ? e(n.encoderV, fvut!) : null;
          const d2 = (x: tf.Tensor) => forward(n.discriminator2, x, "train");
          out.l_D2 = this.players.DS.step(() =>
            sum([
              this.#gan(d2(eaFa), "fake").mul(unseen ? ru : 1),
              this.#gan(d2(evFv), "real"),
              aug && this.#gan(d2(eaFat!), "fake").mul(lam),
              aug && this.#gan(d2(evFvt!), "real").mul(lam * (unseen ? ru : 1)),
              unseen && this.#gan(d2(eaFau!), "fake").mul(ru * r),
              unseen && aug && this.#gan(d2(evFvut!), "real").mul(ru * r),
            ])
          );
          // ④ E_A (= G_C) makes its embeddings look visual to D_2.
          out.l_E = this.players.ES.step(() =>
            sum([
              this.#gan(d2(forward(n.encoderA, fa, "train")), "real").mul(rl),
              aug && this.#gan(d2(forward(n.encoderA, fat!, "train")), "real").mul(lam),
              unseen && this.#gan(d2(forward(n.encoderA, fau!, "train")), "real").mul(ru * r),
            ])
          );
        }
        const wAtt = (2 - ls) / 2;
        const wCat = ls / 2;
        // ⑤ Image branch: L_embed on real images plus L_aug2 on the synthetic f̃_v.
        out.l_X = this.players.X.step(() => {
          const ev = forward(n.encoderV, this.imageFeatures(batch, "train"), "train");
          const evt = aug ? forward(n.encoderV, fvt!, "train") : null;
          return sum([
            this.#bce(forward(n.attributeClassifier, ev, "train"), batch.attributes).mul(wAtt),
            aug &&
            this.#bce(forward(n.attributeClassifier, evt!, "train"), batch.attributes).mul(
              wAtt * lam,
            ),
            this.#ce(forward(n.categoryClassifier, ev, "train"), batch.categories).mul(wCat),
            aug &&
            this.#ce(forward(n.categoryClassifier, evt!, "train"), batch.categories).mul(
              wCat * lam,
            ),
          ]);
        });
        // ⑥ Attribute branch: L_embed, L_aug2 on f̃_a, and attribute BCE on the unseen vectors.
        out.l_A = this.players.A.step(() => {
          const ea = forward(
            n.encoderA,
            forward(n.attributeExtractor, batch.attributes, "train"),
            "train",
          );
          const eat = aug ? forward(n.encoderA, fat!, "train") : null;
          const eau = unseen
            ? forward(n.encoderA, forward(n.attributeExtractor, batch.unseen!, "train"), "train")
            : null;
          return sum([
            this.#bce(forward(n.attributeClassifier, ea, "train"), batch.attributes).mul(wAtt * rl),
            aug &&
            this.#bce(forward(n.attributeClassifier, eat!, "train"), batch.attributes).mul(
              wAtt * lam,
            ),
            unseen &&
            this.#bce(forward(n.attributeClassifier, eau!, "train"), batch.unseen!).mul(wAtt * ru),
            this.#ce(forward(n.categoryClassifier, ea, "train"), batch.categories).mul(wCat),
            aug &&
            this.#ce(forward(n.categoryClassifier, eat!, "train"), batch.categories).mul(
              wCat * lam,
            ),
          ]);
        });
      }
      const values: Record<string, number> = {};
      for (const [k, p] of Object.entries(out)) {
        const v = await p;
        if (v !== null) values[k] = v;
      }
      return values;
    } finally {
      tf.dispose(made);
    }
  }

  /** Frees the optimizers (the networks belong to the caller). */
  dispose(): void {
    this.#dropPlayers();
  }
}
