/**
 * A toy paper spec for the experiment engine's tests: a tiny dense classifier on seeded
 * random data, so a cell trains in well under a second. Row "fails" throws on purpose;
 * row "finetune" starts from the file row "wide" leaves in its scratch folder; row
 * "after-fails" needs the failing row, so the grid must skip it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { readScalar } from "../../runtime/testing.ts";
import { Player, trainableVariables } from "../../train/players.ts";
import { gt } from "../claims.ts";
import type { PaperSpec } from "../spec.ts";

/** The toy's config. */
export type ToyConfig = {
  model: { hidden: number };
  train: { steps: number; lr: number };
  data: { n: number; dim: number };
  fail: boolean;
};

const base: ToyConfig = {
  model: { hidden: 2 },
  train: { steps: 40, lr: 0.05 },
  data: { n: 64, dim: 4 },
  fail: false,
};

/** The toy spec. */
export const spec: PaperSpec<ToyConfig> = {
  paper: "toy",
  title: "A toy paper",
  version: "1",
  base: { cpu: base, paper: { ...base, data: { n: 256, dim: 4 } } },
  quick: { train: { steps: 5 } },
  metrics: ["acc", "loss"],
  rows: [
    { id: "narrow", label: "Narrow", table: "Table 1", delta: {}, paper: { acc: 60 } },
    {
      id: "wide",
      label: "Wide",
      table: "Table 1",
      delta: { model: { hidden: 16 } },
      paper: { acc: 80 },
    },
    {
      id: "finetune",
      label: "Wide, fine-tuned",
      delta: { model: { hidden: 16 } },
      needs: ["wide"],
    },
    { id: "fails", label: "Broken", delta: { fail: true }, scales: ["cpu"] },
    { id: "after-fails", label: "After broken", delta: {}, needs: ["fails"], scales: ["cpu"] },
  ],
  claims: [{ id: "C1", text: "Wide beats narrow", parts: [gt("wide", "narrow", "acc")] }],
  async runCell(config, seed, context) {
    if (config.fail) throw new Error("this row fails on purpose");
    if (context.row === "finetune") {
      // Proves the needed cell ran first and shares the seed.
      const note = JSON.parse(await Deno.readTextFile(`${context.dirOf("wide")}/done.json`));
      if (note.seed !== seed) throw new Error("finetune saw another seed's artifacts");
    }
    const rng = context.rng.fork("data");
    const { n, dim } = config.data;
    const x = tf.tensor2d(rng.normalArray(n * dim), [n, dim]);
    // Labels from a fixed nonlinear rule, so width matters.
    const xs = await x.array();
    const y = tf.tensor1d(xs.map((r) => (r[0] * r[1] > 0 ? 1 : 0)), "float32");
    const init = context.rng.fork("init");
    const model = tf.sequential();
    model.add(
      tf.layers.dense({ inputShape: [dim], units: config.model.hidden, activation: "tanh" }),
    );
    model.add(tf.layers.dense({ units: 1 }));
    model.setWeights(
      model.getWeights().map((w) => tf.tensor(init.normalArray(w.size, 0, 0.7), w.shape)),
    );
    const player = new Player({
      name: "net",
      variables: trainableVariables(model),
      optimizer: tf.train.adam(config.train.lr),
    });
    const logits = () => tf.squeeze(model.apply(x) as tf.Tensor, [1]);
    const lossFn = () => tf.losses.sigmoidCrossEntropy(y, logits()) as tf.Scalar;
    for (let step = 0; step < config.train.steps; step++) {
      context.history.record(step, { loss: (await player.step(lossFn))! });
    }
    const acc = await readScalar(() => tf.mean(tf.equal(tf.greater(logits(), 0).toFloat(), y)));
    const loss = await readScalar(lossFn);
    player.dispose();
    model.dispose();
    tf.dispose([x, y]);
    context.note("steps", config.train.steps);
    await Deno.writeTextFile(`${context.dir}/done.json`, JSON.stringify({ seed }));
    return { acc: 100 * acc, loss };
  },
};
