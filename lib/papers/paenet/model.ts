/**
 * PAENet's networks (README, 'Architecture'): a two-stream backbone giving the final map F,
 * and after it, functionally over explicit variables, the MMD-ReID heads (GeM, BNNeck, ID
 * classifier), the progressive attribute embedding (Embedding-I cross-attention, Embedding-II
 * spatial attention, Embedding-III channel gates), the W2 gating of the identity path, the
 * attribute-based auxiliary learning (AAL) branch, a detached attribute probe (the
 * `predicted` test attributes) and the Table 6 baselines' heads (agw-lite, hct-lite).
 *
 * Every variable belongs to one module group (backbone, heads, pae, aal, probe), and each
 * group is one player with its own optimizer (`train.ts`).
 *
 * @see notebooks/paenet.ipynb §2
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { convBn } from "../../nn/backbones/blocks.ts";
import { resNet50Stages } from "../../nn/backbones/resnet50.ts";
import type { StagedBackbone } from "../../nn/backbones/staged.ts";
import { twoStream } from "../../nn/backbones/two_stream.ts";
import { matMulPlainGrad, stopGradient } from "../../nn/ops.ts";
import { gem3 } from "./losses.ts";
import type { Rng } from "../../runtime/random.ts";
import type { PaenetConfig } from "./config.ts";
import { NUM_ATTRIBUTES } from "./data.ts";

/** Module groups; each is one player (README, 'Players'). */
export type Group = "backbone" | "heads" | "pae" | "aal" | "probe";

/**
 * The small two-stream backbone of README 'Architecture' as stages: conv3×3 + BN + ReLU
 * each, average pooling after the stem, stage 1 and stage 3, no down-sampling at the end
 * ("last stride 1"): 64×32 → F of 8×4×C.
 */
export function smallPaenetStages(
  widths: number[],
  inputShape: [number, number, number],
): StagedBackbone {
  if (widths.length !== 5) {
    throw new Error(`PAENet small backbone: expected 5 widths, got [${widths}]`);
  }
  const pooled = [true, true, false, true, false];
  return {
    inputShape,
    pooling: "none",
    stages: widths.map((filters, i) => ({
      name: i === 0 ? "stem" : `stage${i}`,
      build: (x, prefix, rng) => {
        let y = convBn(x, {
          filters,
          kernel: 3,
          conv: `${prefix}s${i}_conv`,
          bn: `${prefix}s${i}_bn`,
          rng,
        });
        if (pooled[i]) {
          y = new AvgPool2({ name: `${prefix}s${i}_pool` }).apply(y) as tf.SymbolicTensor;
        }
        return y;
      },
    })),
  };
}

/**
 * 2×2 average pooling, stride 2, whose gradient is the upsampled dy / 4 (nearest-neighbour resize)
 * instead of wasm's AvgPoolGrad kernel, which took a fifth of a step's kernel time (README,
 * 'Speed and budget'). The windows do not overlap, so the values are the same.
 */
export const avgPool2 = tf.customGrad(
  ((x: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const [, h, w] = x.shape;
    if (h % 2 !== 0 || w % 2 !== 0) {
      throw new Error(`PAENet avgPool2: ${h}×${w} is not divisible by 2`);
    }
    save([]);
    return {
      value: tf.avgPool(x, 2, 2, "valid"),
      gradFunc: (dy: tf.Tensor) =>
        tf.image.resizeNearestNeighbor(dy as tf.Tensor4D, [h, w]).mul(0.25),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
) as unknown as (x: tf.Tensor4D) => tf.Tensor4D;

/** {@link avgPool2} as a layer of the backbone model. */
class AvgPool2 extends tf.layers.Layer {
  static className = "PaenetAvgPool2";
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = shape as tf.Shape;
    return [s[0], (s[1] as number) / 2, (s[2] as number) / 2, s[3]];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return avgPool2(x);
  }
}

let netCounter = 0;

/** A batch norm over explicit variables, with running statistics updated in training mode. */
class Norm {
  readonly mean: tf.Variable;
  readonly variance: tf.Variable;
  readonly gamma: tf.Variable | null;
  readonly beta: tf.Variable | null;
  constructor(
    readonly net: PaenetNet,
    readonly name: string,
    readonly group: Group,
    readonly size: number,
    readonly options: { scale: boolean; shift: boolean; gammaInit?: Float32Array },
  ) {
    this.mean = net.stat(`${name}/mean`, tf.zeros([size]));
    this.variance = net.stat(`${name}/var`, tf.ones([size]));
    this.gamma = options.scale
      ? net.param(group, `${name}/gamma`, options.gammaInit ?? new Float32Array(size).fill(1), [
        size,
      ])
      : null;
    this.beta = options.shift
      ? net.param(group, `${name}/beta`, new Float32Array(size), [size])
      : null;
  }

  /** Normalises over every axis but the last (batch statistics in training, running at eval). */
  apply<T extends tf.Tensor>(x: T, training: boolean): T {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    let mean: tf.Tensor, variance: tf.Tensor;
    if (training) {
      const m = tf.moments(x, axes);
      mean = m.mean;
      variance = m.variance;
      // PyTorch's momentum 0.1 (README, 'Architecture'); outside the gradient.
      const sm = stopGradient(mean), sv = stopGradient(variance);
      this.mean.assign(tf.tidy(() => this.mean.mul(0.9).add(sm.mul(0.1))));
      this.variance.assign(tf.tidy(() => this.variance.mul(0.9).add(sv.mul(0.1))));
    } else {
      mean = this.mean;
      variance = this.variance;
    }
    let y = x.sub(mean).div(variance.add(1e-5).sqrt());
    if (this.gamma) y = y.mul(this.gamma);
    if (this.beta) y = y.add(this.beta);
    return y as T;
  }
}

/** What one forward pass of the heads returns. */
export interface HeadOutput {
  /** Pooled identity feature f_pool (HcTri, MMD, WRT); [N, C]. */
  fPool: tf.Tensor2D;
  /** The test feature before L2 normalisation: BN(f_pool), or hct-lite's stripe concatenation. */
  fTest: tf.Tensor2D;
  /** ID logits (one per stripe for hct-lite). */
  logits: tf.Tensor2D[];
  /** hct-lite's stripe features (HcTri per stripe), else empty. */
  stripes: tf.Tensor2D[];
  /** AAL's attribute logits [N, 8], or null without AAL. */
  atrLogits: tf.Tensor2D | null;
  /** The detached probe's attribute logits [N, 8], or null without PAE. */
  probeLogits: tf.Tensor2D | null;
  /** W2 of the identity path [N, h, w, C], or null without PAE (Fig. 6's heat maps). */
  w2: tf.Tensor4D | null;
}

/** Options of {@link PaenetNet.heads}. */
export interface HeadOptions {
  training: boolean;
  /** Modules in eval mode and not updated (Table 4's freezing). */
  frozen?: ReadonlySet<"PAE" | "AAL">;
  /** Seed of this pass's dropout masks. */
  seed?: number;
}

function gelu(x: tf.Tensor): tf.Tensor {
  return x.mul(0.5).mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));
}

function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, [1], true);
  return x.sub(mean).div(variance.add(1e-5).sqrt()).mul(gamma).add(beta) as tf.Tensor2D;
}

function l2rows(x: tf.Tensor, axis = -1): tf.Tensor {
  return x.div(x.norm("euclidean", axis, true).add(1e-12));
}

/** 1×1 convolution of an NHWC map as a matrix product on the channel axis. */
/**
 * x·W with the gradient that transposes explicitly (lib/nn/ops.ts): on wasm a product with a
 * transposed operand, what tfjs's own matMul gradient asks for, is several times slower
 * (README, 'Speed and budget').
 */
function mm(x: tf.Tensor, w: tf.Tensor): tf.Tensor2D {
  return matMulPlainGrad(x, w);
}

function conv1x1(x: tf.Tensor4D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor4D {
  const [n, h, wd, c] = x.shape;
  return mm(x.reshape([n * h * wd, c]), w).add(b).reshape([n, h, wd, w.shape[1]]);
}

/** The PAENet networks of one config. */
export class PaenetNet {
  readonly config: PaenetConfig;
  readonly numClasses: number;
  readonly backbone: tf.LayersModel;
  /** Channels of F. */
  readonly C: number;
  readonly groups: Record<Group, tf.Variable[]> = {
    backbone: [],
    heads: [],
    pae: [],
    aal: [],
    probe: [],
  };
  /** Running statistics (not trained). */
  readonly stats: tf.Variable[] = [];
  readonly #prefix: string;
  readonly #rng: Rng;
  readonly #v = new Map<string, tf.Variable>();
  readonly #norms = new Map<string, Norm>();

  constructor(config: PaenetConfig, numClasses: number, rng: Rng) {
    this.config = config;
    this.numClasses = numClasses;
    this.#rng = rng;
    this.#prefix = `paenet${netCounter++}`;
    const inputShape: [number, number, number] = [config.data.height, config.data.width, 3];
    const staged = config.model.backbone === "small"
      ? smallPaenetStages(config.model.widths, inputShape)
      : resNet50Stages({ inputShape, lastStride: 1, pooling: "none" });
    this.backbone = twoStream(staged, {
      sharedFrom: config.model.sharedFrom,
      seed: rng.fork("backbone"),
      name: "paenet_bb",
    });
    this.groups.backbone = this.backbone.trainableWeights.map((w) => w.read() as tf.Variable);
    this.C = this.backbone.outputs[0].shape[3] as number;
    this.#build();
  }

  /** A trainable variable of `group` with the given initial values. */
  param(group: Group, name: string, values: Float32Array, shape: number[]): tf.Variable {
    const init = tf.tensor(values, shape);
    const v = tf.variable(init, true, `${this.#prefix}/${name}`);
    init.dispose();
    this.groups[group].push(v);
    this.#v.set(name, v);
    return v;
  }

  /** A non-trainable statistic. */
  stat(name: string, init: tf.Tensor): tf.Variable {
    const v = tf.variable(init, false, `${this.#prefix}/${name}`);
    init.dispose();
    this.stats.push(v);
    return v;
  }

  #linear(group: Group, name: string, fanIn: number, fanOut: number, bias = true, std?: number) {
    const r = this.#rng.fork(name);
    const bound = 1 / Math.sqrt(fanIn);
    const w = std === undefined
      ? r.uniformArray(fanIn * fanOut, -bound, bound)
      : r.normalArray(fanIn * fanOut, 0, std);
    this.param(group, `${name}/w`, w, [fanIn, fanOut]);
    if (bias) this.param(group, `${name}/b`, r.uniformArray(fanOut, -bound, bound), [fanOut]);
  }

  #norm(
    name: string,
    group: Group,
    size: number,
    scale = true,
    shift = true,
    gammaInit?: Float32Array,
  ) {
    this.#norms.set(name, new Norm(this, name, group, size, { scale, shift, gammaInit }));
  }

  #w(name: string): tf.Variable {
    const v = this.#v.get(name);
    if (!v) throw new Error(`PAENet: no variable "${name}" in this config`);
    return v;
  }

  #n(name: string): Norm {
    return this.#norms.get(name)!;
  }

  /** Gates of the AAL branch (n copies: the paper's n = 8 gates or copies of one). */
  get nAal(): number {
    return Math.max(1, this.config.pae.nGates);
  }

  #build(): void {
    const { pae, aal, model } = this.config;
    const C = this.C, A = NUM_ATTRIBUTES;
    // BNNeck: no shift, weight N(1, 0.01); classifier N(0, 0.001), no bias (README, 'Architecture').
    if (model.baseline !== "hct") {
      this.#norm("neck", "heads", C, true, false, this.#rng.fork("neck").normalArray(C, 1, 0.01));
      this.#linear("heads", "cls", C, this.numClasses, false, 0.001);
    }
    if (model.baseline === "agw") {
      for (const k of ["theta", "phi", "g"]) this.#linear("heads", `nl_${k}`, C, 1);
      this.#linear("heads", "nl_w", 1, C);
      this.#norm("nl_bn", "heads", C, true, true, new Float32Array(C));
    }
    if (model.baseline === "hct") {
      for (let s = 0; s < 4; s++) {
        this.#linear("heads", `stripe${s}`, C, 32);
        this.#norm(`stripe${s}_bn`, "heads", 32);
        this.#linear("heads", `stripe${s}_cls`, 32, this.numClasses, true, 0.001);
      }
    }
    if (pae.on) {
      if (pae.emb1) {
        this.param("pae", "e1/ln1/g", new Float32Array(C).fill(1), [C]);
        this.param("pae", "e1/ln1/b", new Float32Array(C), [C]);
        this.param("pae", "e1/sn/g", new Float32Array(A).fill(1), [A]);
        this.param("pae", "e1/sn/b", new Float32Array(A), [A]);
        this.param("pae", "e1/sn/mw", new Float32Array(2).fill(1), [2]);
        this.param("pae", "e1/sn/vw", new Float32Array(2).fill(1), [2]);
        this.#norm("e1/sn_bn", "pae", A, false, false);
        this.#linear("pae", "e1/q", C, C, false);
        this.#linear("pae", "e1/kv", C + A, 2 * (C + A), false);
        this.#linear("pae", "e1/proj", C, C);
        this.param("pae", "e1/ln2/g", new Float32Array(C).fill(1), [C]);
        this.param("pae", "e1/ln2/b", new Float32Array(C), [C]);
        this.#linear("pae", "e1/mlp1", C, C);
        this.#linear("pae", "e1/mlp2", C, C);
      }
      if (pae.emb2 && pae.emb2Mode === "spatial") {
        this.#linear("pae", "e2/p1", C, C);
        this.#linear("pae", "e2/att", A, C, false);
        this.#linear("pae", "e2/s", C, C);
      }
      if (pae.emb3) {
        this.#linear("pae", "e3/att", A, C, false);
        this.#linear("pae", "e3/fc1", 2 * C, C);
        this.#linear("pae", "e3/gates", C, C * Math.max(1, pae.nGates));
      }
      // W2 = sigmoid(BN2d(M)) with the BN's weight 1 and bias 0 (not trained).
      this.#norm("region", "heads", C, false, false);
      this.#linear("probe", "probe", C, A);
    }
    if (aal.on) {
      if (aal.input === "fatr") {
        const n = this.nAal;
        this.#norm("aal/bn_w1", "aal", n * C, true, false);
        this.#linear("aal", "aal/fc", n * C, C);
        this.#norm("aal/bn_fatr", "aal", C);
      }
      this.#linear("aal", "aal/heads", C, A, false, 0.001);
    }
  }

  /** The backbone's map F [N_rgb + N_ir, h, w, C] (RGB rows first). */
  features(rgb: tf.Tensor4D, ir: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return this.backbone.apply([rgb, ir], { training }) as tf.Tensor4D;
  }

  /** SwitchNorm1d over the attribute vector: LN and BN statistics mixed by learned weights. */
  #switchNorm(a: tf.Tensor2D, training: boolean): tf.Tensor2D {
    const ln = tf.moments(a, [1], true);
    const bn = this.#n("e1/sn_bn");
    let bm: tf.Tensor, bv: tf.Tensor;
    if (training) {
      const m = tf.moments(a, [0], true);
      bm = m.mean;
      bv = m.variance;
      bn.apply(a, true).dispose();
    } else {
      bm = bn.mean;
      bv = bn.variance;
    }
    const mw = tf.softmax(this.#w("e1/sn/mw"));
    const vw = tf.softmax(this.#w("e1/sn/vw"));
    const at = (t: tf.Tensor, i: number) => t.slice([i], [1]);
    const mean = ln.mean.mul(at(mw, 0)).add(bm.mul(at(mw, 1)));
    const variance = ln.variance.mul(at(vw, 0)).add(bv.mul(at(vw, 1)));
    return a.sub(mean).div(variance.add(1e-5).sqrt()).mul(this.#w("e1/sn/g"))
      .add(this.#w("e1/sn/b")) as tf.Tensor2D;
  }

  /** Embedding-I: channel-token cross-attention between f̄ and [f̄; attributes] (d = 1). */
  #emb1(x: tf.Tensor2D, a: tf.Tensor2D, training: boolean, seed: number): tf.Tensor2D {
    const C = this.C;
    const drop = (t: tf.Tensor, rate: number, k: number) =>
      training && rate > 0 ? tf.dropout(t, rate, undefined, seed * 8 + k) : t;
    const xn = layerNorm(x, this.#w("e1/ln1/g"), this.#w("e1/ln1/b"));
    const c = this.#switchNorm(a, training);
    const q = mm(xn, this.#w("e1/q/w")); // [N, C]: C query tokens of size 1
    const kv = mm(tf.concat([xn, c], 1), this.#w("e1/kv/w"))
      .reshape([-1, C + NUM_ATTRIBUTES, 2]);
    const k = kv.slice([0, 0, 0], [-1, -1, 1]).reshape([-1, 1, C + NUM_ATTRIBUTES]);
    const v = kv.slice([0, 0, 1], [-1, -1, 1]).reshape([-1, 1, C + NUM_ATTRIBUTES]);
    const att = drop(tf.softmax(q.expandDims(2).mul(k)), 0.1, 0); // [N, C, C + 8]
    const o = att.mul(v).sum(2); // [N, C]
    const h = drop(
      mm(o.add(xn), this.#w("e1/proj/w")).add(this.#w("e1/proj/b")),
      0.1,
      1,
    );
    const x1 = xn.add(drop(h, 0.3, 2));
    const z = layerNorm(x1 as tf.Tensor2D, this.#w("e1/ln2/g"), this.#w("e1/ln2/b"));
    const m1 = drop(
      gelu(mm(z, this.#w("e1/mlp1/w")).add(this.#w("e1/mlp1/b"))),
      0.3,
      3,
    );
    const m2 = drop(
      mm(m1, this.#w("e1/mlp2/w")).add(this.#w("e1/mlp2/b")),
      0.3,
      4,
    );
    return x1.add(drop(m2, 0.1, 5)) as tf.Tensor2D;
  }

  /**
   * Embedding-II. "code": the official one, an identity (its spatial softmax sees only
   * spatially constant inputs); "spatial": attention over G = F ⊙ e1 (README, 'Embedding-II').
   */
  #emb2(F: tf.Tensor4D, e1: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor2D {
    if (this.config.pae.emb2Mode === "code") return e1;
    const [n, h, w, c] = F.shape;
    const G = F.mul(e1.reshape([n, 1, 1, c])) as tf.Tensor4D;
    const p1 = tf.tanh(
      conv1x1(G, this.#w("e2/p1/w") as tf.Tensor2D, this.#w("e2/p1/b") as tf.Tensor1D),
    );
    const p2 = tf.tanh(mm(a, this.#w("e2/att/w"))).reshape([n, 1, 1, c]);
    const s = tf.tanh(
      conv1x1(
        p1.mul(p2) as tf.Tensor4D,
        this.#w("e2/s/w") as tf.Tensor2D,
        this.#w("e2/s/b") as tf.Tensor1D,
      ),
    );
    const att = tf.softmax(s.reshape([n, h * w, c]).transpose([0, 2, 1])).transpose([0, 2, 1]);
    return att.mul(G.reshape([n, h * w, c])).sum(1) as tf.Tensor2D;
  }

  /** Embedding-III's gates [N, n, C] from e2 and the attributes. */
  #emb3(e2: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor3D {
    const { nGates, l2normGate } = this.config.pae;
    const fa = tf.relu(mm(a, this.#w("e3/att/w")));
    const hidden = tf.relu(
      mm(tf.concat([e2, fa], 1), this.#w("e3/fc1/w")).add(this.#w("e3/fc1/b")),
    );
    const g = tf.sigmoid(
      mm(hidden, this.#w("e3/gates/w")).add(this.#w("e3/gates/b")),
    ).reshape([-1, Math.max(1, nGates), this.C]);
    return (l2normGate ? l2rows(g) : g) as tf.Tensor3D;
  }

  /** The gates g_i [N, n, C] of the progressive embedding (a partial cascade gates with sigmoid(e_last)). */
  gates(
    F: tf.Tensor4D,
    fBar: tf.Tensor2D,
    a: tf.Tensor2D,
    training: boolean,
    seed: number,
  ): tf.Tensor3D {
    const { emb1, emb2, emb3, l2normGate } = this.config.pae;
    let e = fBar;
    if (emb1) e = this.#emb1(e, a, training, seed);
    if (emb2) e = this.#emb2(F, e, a);
    if (emb3) return this.#emb3(e, a);
    const g = tf.sigmoid(e).expandDims(1);
    return (l2normGate ? l2rows(g) : g) as tf.Tensor3D;
  }

  /** The agw-lite non-local block on F (θ, φ, g to one channel, affinity / N, zero-initialised W-BN). */
  #nonLocal(F: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const [n, h, w, c] = F.shape;
    const flat = F.reshape([n * h * w, c]);
    const proj = (k: string) =>
      mm(flat, this.#w(`nl_${k}/w`)).add(this.#w(`nl_${k}/b`)).reshape([
        n,
        h * w,
        1,
      ]) as tf.Tensor3D;
    const theta = proj("theta"), phi = proj("phi"), g = proj("g"); // [n, hw, 1]
    const aff = tf.matMul(theta, phi, false, true).div(h * w); // [n, hw, hw]
    const y = tf.matMul(aff, g); // [n, hw, 1]
    const z = mm(y.reshape([n * h * w, 1]), this.#w("nl_w/w")).add(
      this.#w("nl_w/b"),
    );
    return F.add(this.#n("nl_bn").apply(z, training).reshape([n, h, w, c])) as tf.Tensor4D;
  }

  /** Everything after the backbone (README, 'Architecture'); `a` is each row's attribute vector. */
  heads(Fin: tf.Tensor4D, a: tf.Tensor2D, options: HeadOptions): HeadOutput {
    const { pae, aal, model } = this.config;
    const training = options.training;
    const frozen = options.frozen ?? new Set();
    const paeTraining = training && !frozen.has("PAE");
    const aalTraining = training && !frozen.has("AAL");
    const seed = options.seed ?? 0;
    const F = model.baseline === "agw" ? this.#nonLocal(Fin, training) : Fin;
    const [n, h, , c] = F.shape;
    const f = gem3(F);
    const fBar = model.baseline === "hct" ? f : this.#n("neck").apply(f, training);
    let gates: tf.Tensor3D | null = null;
    let idMap = F;
    let w2: tf.Tensor4D | null = null;
    let probeLogits: tf.Tensor2D | null = null;
    if (pae.on) {
      gates = this.gates(F, fBar, a, paeTraining, seed);
      const mean = gates.mean(1).reshape([n, 1, 1, c]);
      w2 = tf.sigmoid(this.#n("region").apply(F.mul(mean) as tf.Tensor4D, training));
      idMap = F.mul(w2) as tf.Tensor4D;
      if (pae.doubleSigmoid) idMap = tf.sigmoid(idMap);
      probeLogits = mm(stopGradient(f), this.#w("probe/w"))
        .add(this.#w("probe/b")) as tf.Tensor2D;
    }
    let fPool: tf.Tensor2D, fTest: tf.Tensor2D;
    const logits: tf.Tensor2D[] = [];
    const stripes: tf.Tensor2D[] = [];
    if (model.baseline === "hct") {
      const rows = h / 4;
      if (!Number.isInteger(rows)) {
        throw new Error(`hct-lite: map height ${h} is not a multiple of 4`);
      }
      for (let s = 0; s < 4; s++) {
        const part = idMap.slice([0, s * rows, 0, 0], [-1, rows, -1, -1]) as tf.Tensor4D;
        const p = tf.relu(
          this.#n(`stripe${s}_bn`).apply(
            mm(gem3(part), this.#w(`stripe${s}/w`)).add(this.#w(`stripe${s}/b`)),
            training,
          ),
        ) as tf.Tensor2D;
        stripes.push(p);
        logits.push(
          mm(p, this.#w(`stripe${s}_cls/w`)).add(
            this.#w(`stripe${s}_cls/b`),
          ) as tf.Tensor2D,
        );
      }
      fPool = tf.concat(stripes, 1);
      fTest = fPool;
    } else {
      fPool = pae.on ? gem3(idMap) : f;
      fTest = this.#n("neck").apply(fPool, training);
      logits.push(mm(fTest, this.#w("cls/w")) as tf.Tensor2D);
    }
    let atrLogits: tf.Tensor2D | null = null;
    if (aal.on) {
      let input: tf.Tensor2D;
      if (aal.input === "gate") {
        // The code's heads read the (L2-normalised) gate, a function of the input attributes.
        input = gates ? gates.mean(1) as tf.Tensor2D : f;
      } else {
        const k = this.nAal;
        const g = gates
          ? (gates.shape[1] === k ? gates : gates.tile([1, k, 1]))
          : tf.ones([n, k, c]);
        const s = g.mul(f.expandDims(1)).reshape([n, k * c]);
        const w1 = tf.sigmoid(this.#n("aal/bn_w1").apply(s, aalTraining));
        const u = w1.mul(f.tile([1, k]));
        input = this.#n("aal/bn_fatr").apply(
          mm(u, this.#w("aal/fc/w")).add(this.#w("aal/fc/b")) as tf.Tensor2D,
          aalTraining,
        );
      }
      atrLogits = mm(input, this.#w("aal/heads/w")) as tf.Tensor2D;
    }
    return { fPool, fTest, logits, stripes, atrLogits, probeLogits, w2 };
  }

  /** Every variable (weights and statistics), e.g. for disposal. */
  allVariables(): tf.Variable[] {
    return [...Object.values(this.groups).flat(), ...this.stats];
  }

  /** Frees the backbone and every head variable. */
  dispose(): void {
    this.backbone.dispose();
    for (const g of ["heads", "pae", "aal", "probe"] as const) tf.dispose(this.groups[g]);
    tf.dispose(this.stats);
  }
}
