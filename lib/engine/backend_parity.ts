/**
 * One training step and one evaluation of the CPU-scale network (small ResNet + identity
 * classifier, 64×32 input) on one backend, reported as JSON. A process holds one backend,
 * so `backend_parity_test.ts` runs this once per backend and compares the reports
 * (webgpu against the `cpu` reference).
 *
 * Run: `deno run -A lib/engine/backend_parity.ts --backend webgpu [--batch 4]`; the
 * report is the last line of stdout.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import type { ReidDataset } from "../data/types.ts";
import type { ReidSplit } from "../data/split.ts";
import { buildReidNet, evaluateReid } from "./reid_engine.ts";
import { market1501 } from "../eval/protocols.ts";
import { crossEntropy } from "../nn/losses/classification.ts";
import { Player, trainableVariables } from "../train/players.ts";
import { type BackendInfo, initBackend } from "../runtime/backend.ts";
import { Rng } from "../runtime/random.ts";

/** What {@link runParity} measures on one backend. */
export interface ParityReport {
  backend: BackendInfo;
  /** The loss of the training step (before its update). */
  loss: number;
  /** Names of the trainable variables (the same on every backend: same build order). */
  variables: string[];
  /** Each trainable variable before the step, its gradient, and its value after the step. */
  before: number[][];
  grads: number[][];
  after: number[][];
  /** The Adam learning rate of the step. */
  learningRate: number;
  /** BN moving means and variances after the step (they see the training batch). */
  movingStats: { name: string; values: number[] }[];
  /** Query and gallery features (eval mode, the network as initialised), row-major. */
  queryFeatures: number[];
  galleryFeatures: number[];
  /** Query × gallery squared Euclidean distances, row-major, and their [rows, cols]. */
  dist: number[];
  distShape: [number, number];
  /** R1/R5/R10/mAP/mINP of the Market-style evaluation. */
  metrics: Record<string, number>;
  /** Live tensors before the network was built and after everything was freed. */
  tensors: { before: number; after: number };
  seconds: { eval: number; step: number };
}

/** Sizes of the check. */
export interface ParityOptions {
  /** Images in the training batch. Default 4. */
  batch?: number;
  /** Identities (classifier width; also the number of queries). Default 6. */
  identities?: number;
  seed?: number;
}

const SIZE = { height: 64, width: 32 };
const PER = SIZE.height * SIZE.width * 3;

function split(name: string, pixels: Uint8Array, pids: number[], camid: number): ReidSplit {
  const dataset: ReidDataset = {
    name,
    root: "",
    images: [],
    attributeNames: [],
    attributeGroups: {},
  };
  const indices = pids.map((_, i) => i);
  return {
    name,
    dataset,
    indices,
    rowOf: new Map(indices.map((i) => [i, i])),
    pixels,
    size: SIZE,
    items: pids.map((pid) => ({ pid, camid })),
    labels: Int32Array.from(pids),
    numClasses: new Set(pids).size,
  };
}

/**
 * Builds the network from `seed`, evaluates it through `evaluateReid` (feature
 * extraction, distances, Market-style CMC/mAP) and then runs one Adam step of identity
 * cross-entropy (as `trainReid` does, through a {@link Player}), on the backend already
 * initialised. Every readback is asynchronous.
 *
 * The evaluation comes first so that it sees identical weights on every backend: after
 * an Adam step, a weight whose gradient is ~0 moves by up to ±lr depending on the sign
 * of its rounding error, so post-step weights legitimately differ between backends.
 */
export async function runParity(
  backend: BackendInfo,
  options: ParityOptions = {},
): Promise<ParityReport> {
  const batch = options.batch ?? 4;
  const ids = options.identities ?? 6;
  const rng = new Rng(options.seed ?? 0);
  const before = tf.memory().numTensors;
  const net = buildReidNet(
    { backbone: "small_resnet", widths: null, lastStride: 1, neck: false },
    { numClasses: ids, inputShape: [SIZE.height, SIZE.width, 3], seed: rng.fork("net") },
  );
  const variables = trainableVariables(net.backbone, net.classifier);
  const read = (ts: readonly tf.Tensor[]) => Promise.all(ts.map(async (t) => [...await t.data()]));
  const initial = await read(variables);

  // Gallery: two noisy views of each query's image (std 70 of 255: hard enough that
  // the ranking is not perfect, so the metrics check more than "all 100").
  let t0 = performance.now();
  const images = rng.fork("images");
  const queryPixels = Uint8Array.from({ length: ids * PER }, () => images.int(256));
  const galleryPixels = new Uint8Array(2 * ids * PER);
  for (let view = 0; view < 2; view++) {
    for (let i = 0; i < ids * PER; i++) {
      const noisy = queryPixels[i] + Math.round(images.normal() * 70);
      galleryPixels[view * ids * PER + i] = Math.max(0, Math.min(255, noisy));
    }
  }
  const pids = Array.from({ length: ids }, (_, i) => i);
  const evaluation = await evaluateReid(
    net,
    split("query", queryPixels, pids, 1),
    split("gallery", galleryPixels, [...pids, ...pids], 2),
    market1501(),
  );
  const evalSeconds = (performance.now() - t0) / 1000;

  // The step, with its gradients kept for the comparison (Player.step would free them).
  t0 = performance.now();
  const learningRate = 3.5e-4;
  const player = new Player({ name: "parity", variables, optimizer: tf.train.adam(learningRate) });
  const data = rng.fork("data");
  const x = tf.tensor4d(data.normalArray(batch * PER), [batch, SIZE.height, SIZE.width, 3]);
  const labels = Array.from({ length: batch }, (_, i) => i % ids);
  const { value, grads } = tf.variableGrads(() => {
    const features = net.backbone.apply(x, { training: true }) as tf.Tensor2D;
    const logits = net.classifier.apply(features, { training: true }) as tf.Tensor2D;
    return crossEntropy(logits, labels);
  }, variables);
  player.applyGradients(grads);
  const loss = (await value.data())[0];
  const gradValues = await read(variables.map((v) => grads[v.name]));
  tf.dispose([value, x]);
  tf.dispose(grads);
  const after = await read(variables);
  const stats = net.backbone.nonTrainableWeights;
  const statValues = await read(stats.map((w) => w.read()));
  const stepSeconds = (performance.now() - t0) / 1000;
  player.dispose();
  net.dispose();
  return {
    backend,
    loss,
    variables: variables.map((v) => v.name),
    before: initial,
    grads: gradValues,
    after,
    learningRate,
    movingStats: stats.map((w, i) => ({ name: w.originalName, values: statValues[i] })),
    queryFeatures: [...evaluation.queryFeatures.data],
    galleryFeatures: [...evaluation.galleryFeatures.data],
    dist: [...evaluation.dist.data],
    distShape: [evaluation.dist.rows, evaluation.dist.cols],
    metrics: evaluation.metrics,
    tensors: { before, after: tf.memory().numTensors },
    seconds: { eval: evalSeconds, step: stepSeconds },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { backend: { type: "string" }, batch: { type: "string" } },
  });
  const backend = await initBackend({ backend: values.backend as BackendInfo["name"] });
  const report = await runParity(backend, { batch: Number(values.batch ?? 4) });
  console.log(JSON.stringify(report));
}
