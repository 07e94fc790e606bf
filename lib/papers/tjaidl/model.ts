/**
 * TJ-AIDL's networks (lib/papers/tjaidl/README.md, 'Architecture'): two separate branch trunks
 * (identity and attribute; MobileNet-v1 at paper scale, a small patch-conv net at CPU scale),
 * an identity classifier on the first, an attribute classifier on the second, and the
 * Identity Inferred Attribute (IIA) auto-encoder between them. Also the single-branch nets of
 * the baselines (ID only, Attribute only, Joint). Every module is a player's variable set.
 *
 * @see notebooks/tjaidl.ipynb §1
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { seededInit } from "../../nn/init.ts";
import { mlp } from "../../nn/mlp.ts";
import { mobileNetV1 } from "../../nn/backbones/mobilenet.ts";
import { fromPretrained } from "../../nn/io.ts";
import { Rng } from "../../runtime/random.ts";
import { repoPath } from "../../runtime/paths.ts";
import type { TjaidlConfig } from "./config.ts";
import { disposeModules } from "../../nn/gan.ts";

function toRng(seed: number | Rng): Rng {
  return seed instanceof Rng ? seed : new Rng(seed);
}

/** TJ-AIDL's heads and its Identity Inferred Attribute (IIA) auto-encoder. */
export interface TjaidlModules {
  /** FC feature → identity logits. */
  idClassifier: tf.LayersModel;
  /** FC feature → attribute logits p̃_att. */
  attributeClassifier: tf.LayersModel;
  /** IIA encoder: feature → 512 → 128 → m (ReLU, ReLU, linear e_IIA). */
  iiaEncoder: tf.LayersModel;
  /** IIA decoder (mirror): m → 128 → 512 → feature (ReLU, ReLU, linear). */
  iiaDecoder: tf.LayersModel;
}

/**
 * Builds TJ-AIDL's fully connected parts (README.md, 'Architecture'): paper scale feature 1024
 * and IIA widths (512, 128); CPU scale `featureDim: 128, iiaWidths: [64, 32]`. The trunks are
 * separate backbones ({@link branchTrunk}).
 */
export function tjaidlModules(options: {
  numIds: number;
  numAttributes: number;
  featureDim?: number;
  iiaWidths?: number[];
  seed: number | Rng;
}): TjaidlModules {
  const rng = toRng(options.seed);
  const f = options.featureDim ?? 1024;
  const widths = options.iiaWidths ?? [512, 128];
  const m = options.numAttributes;
  const fc = (name: string, inputDim: number, units: number[]) =>
    mlp({ name, inputDims: [inputDim], units, init: "glorot", seed: rng.fork(name) });
  return {
    idClassifier: fc("tjaidl_id", f, [options.numIds]),
    attributeClassifier: fc("tjaidl_att", f, [m]),
    iiaEncoder: fc("tjaidl_iia_enc", f, [...widths, m]),
    iiaDecoder: fc("tjaidl_iia_dec", m, [...widths.slice().reverse(), f]),
  };
}

/**
 * The CPU-scale branch trunk (README.md, 'Architecture'): 2×2 stride-2 convolutions ("patch
 * convolutions") with ReLU6, He-normal init, no batch norm, then global average pooling:
 * 64×32 → 32×16 → 16×8 → 8×4 → 4×2 → D = last width. ReLU6 bounds the identity features
 * the IIA reconstructs, as MobileNet's do.
 */
export function patchConvNet(options: {
  inputShape: [number, number, number];
  widths: number[];
  name: string;
  seed: number | Rng;
}): tf.LayersModel {
  const rng = toRng(options.seed);
  if (options.widths.length === 0) throw new Error("patchConvNet: widths is empty");
  const p = options.name;
  const input = tf.input({ shape: options.inputShape, name: `${p}_input` });
  let x: tf.SymbolicTensor = input;
  options.widths.forEach((filters, i) => {
    x = tf.layers.conv2d({
      filters,
      kernelSize: 2,
      strides: 2,
      padding: "valid",
      kernelInitializer: seededInit("heNormal", rng.fork(`conv${i + 1}`)),
      name: `${p}_conv${i + 1}`,
    }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ maxValue: 6, name: `${p}_relu${i + 1}` }).apply(x) as tf.SymbolicTensor;
  });
  const out = tf.layers.globalAveragePooling2d({ name: `${p}_gap` }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: p });
}

/** A branch trunk of the config's backbone, named `name` (weights seeded by `rng`). */
export async function branchTrunk(
  model: TjaidlConfig["model"],
  inputShape: [number, number, number],
  name: string,
  rng: Rng,
): Promise<tf.LayersModel> {
  if (model.backbone === "patch") {
    return patchConvNet({ inputShape, widths: model.widths, name, seed: rng });
  }
  const build = () => mobileNetV1({ inputShape, seed: rng, name, layerPrefix: `${name}_` });
  // The paper's branches start from ImageNet weights (README.md, 'Architecture').
  return model.pretrained === null
    ? build()
    : await fromPretrained(repoPath(model.pretrained), build, {
      rename: (
        w,
      ) => (w.startsWith("conv_preds") || w.startsWith("predictions") ? null : `${name}_${w}`),
    });
}

/** The feature size of a trunk (its pooled output). */
export function featureDim(trunk: tf.LayersModel): number {
  const shape = trunk.outputs[0].shape;
  return shape[shape.length - 1] as number;
}

/** The full TJ-AIDL network: both branches, both heads and the IIA. */
export interface TjaidlNet {
  idTrunk: tf.LayersModel;
  attTrunk: tf.LayersModel;
  modules: TjaidlModules;
  /** Feature size D (both trunks). */
  dim: number;
  numAttributes: number;
}

/**
 * Builds TJ-AIDL from the cell's random source. Each part draws from its own fork
 * ("idTrunk", "idClassifier", "attTrunk", "attClassifier", "iia"), so the identity branch
 * starts from the same weights as the ID-only baseline's net of the same seed (claim C10).
 */
export async function buildTjaidl(
  config: TjaidlConfig,
  numIds: number,
  numAttributes: number,
  rng: Rng,
): Promise<TjaidlNet> {
  const shape: [number, number, number] = [config.data.height, config.data.width, 3];
  const idTrunk = await branchTrunk(config.model, shape, "tj_idnet", rng.fork("idTrunk"));
  const attTrunk = await branchTrunk(config.model, shape, "tj_attnet", rng.fork("attTrunk"));
  const dim = featureDim(idTrunk);
  const heads = tjaidlModules({
    numIds,
    numAttributes,
    featureDim: dim,
    iiaWidths: config.model.iiaWidths,
    seed: rng.fork("heads"),
  });
  return { idTrunk, attTrunk, modules: heads, dim, numAttributes };
}

/** Frees a TJ-AIDL net. */
export function disposeTjaidl(net: TjaidlNet): void {
  net.idTrunk.dispose();
  net.attTrunk.dispose();
  disposeModules(net.modules);
}

/**
 * A single-branch net of the baselines (README.md, 'Rows'): one trunk with an identity head
 * and/or an attribute head. "id" reuses TJ-AIDL's identity-branch forks, "attr" its
 * attribute-branch forks, so ID-only ≡ TJ-AIDL's identity branch, and Attr-only ≡ its
 * attribute branch under λ2 = 0, for the same seed and batches.
 */
export interface SingleNet {
  trunk: tf.LayersModel;
  idHead: tf.LayersModel | null;
  attHead: tf.LayersModel | null;
  dim: number;
}

/** Builds a single-branch net: "id" / "attr" (one head) or "joint" (both on one trunk). */
export async function buildSingle(
  config: TjaidlConfig,
  kind: "id" | "attr" | "joint",
  numIds: number,
  numAttributes: number,
  rng: Rng,
): Promise<SingleNet> {
  const shape: [number, number, number] = [config.data.height, config.data.width, 3];
  const trunkName = kind === "attr" ? "tj_attnet" : "tj_idnet";
  const trunkFork = kind === "attr" ? "attTrunk" : kind === "id" ? "idTrunk" : "jointTrunk";
  const trunk = await branchTrunk(config.model, shape, trunkName, rng.fork(trunkFork));
  const dim = featureDim(trunk);
  const heads = tjaidlModules({
    numIds,
    numAttributes,
    featureDim: dim,
    iiaWidths: config.model.iiaWidths,
    seed: rng.fork("heads"),
  });
  const idHead = kind === "attr" ? null : heads.idClassifier;
  const attHead = kind === "id" ? null : heads.attributeClassifier;
  for (const [name, m] of Object.entries(heads)) {
    if (m !== idHead && m !== attHead) {
      (heads as unknown as Record<string, tf.LayersModel>)[name].dispose();
    }
  }
  return { trunk, idHead, attHead, dim };
}

/** Frees a single-branch net. */
export function disposeSingle(net: SingleNet): void {
  net.trunk.dispose();
  net.idHead?.dispose();
  net.attHead?.dispose();
}
