import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../runtime/backend.ts";
import { Rng } from "../runtime/random.ts";
import { NonFiniteLossError } from "../train/finite.ts";
import { LossHistory } from "../train/history.ts";
import { getLearningRate, Player } from "../train/players.ts";
import { multiStep } from "../train/schedule.ts";
import {
  type BatchSource,
  every,
  type Hook,
  runTraining,
  stepSource,
  type TrainLoopOptions,
} from "./train_loop.ts";

await initBackend({ announce: false });

/** A linear regression y = x·w on batches drawn from a seeded stream (the source's randomness). */
function tinyProblem(seed: number, epochs = 3, perEpoch = 4) {
  const zeros = tf.zeros([3, 1]);
  const w = tf.variable(zeros, true, `w${crypto.randomUUID().slice(0, 6)}`);
  zeros.dispose();
  const player = new Player({ name: "reg", variables: [w], optimizer: tf.train.adam(0.1) });
  const rng = new Rng(seed);
  const target = [1, -2, 0.5];
  const draw = () => {
    const xs = rng.normalArray(8 * 3);
    const ys = Array.from({ length: 8 }, (_, i) => {
      return target.reduce((s, t, j) => s + t * xs[i * 3 + j], 0);
    });
    return { xs, ys };
  };
  const source: BatchSource<{ x: tf.Tensor2D; y: tf.Tensor2D }> = {
    epochs,
    stepsIn: () => perEpoch,
    batch() {
      const { xs, ys } = draw();
      return { x: tf.tensor2d(xs, [8, 3]), y: tf.tensor2d(ys, [8, 1]) };
    },
    skip: () => void draw(),
    release: (b) => tf.dispose([b.x, b.y]),
  };
  const step: TrainLoopOptions<{ x: tf.Tensor2D; y: tf.Tensor2D }>["step"] = async ({ batch }) => {
    const loss = await player.step(() => tf.losses.meanSquaredError(batch.y, batch.x.matMul(w)));
    return { loss: loss! };
  };
  const dispose = () => {
    player.dispose();
    w.dispose();
  };
  return { w, player, source, step, dispose };
}

Deno.test("hooks run in registration order around every step, built-ins first", async () => {
  const p = tinyProblem(1, 2, 2);
  const calls: string[] = [];
  type Batch = { x: tf.Tensor2D; y: tf.Tensor2D };
  const hook = (name: string): Hook<Batch> => ({
    beforeTrain: () => void calls.push(`${name}.beforeTrain`),
    beforeEpoch: (_l, e) => void calls.push(`${name}.beforeEpoch${e}`),
    beforeStep: (c) => void calls.push(`${name}.beforeStep${c.step}`),
    afterStep: (c, v) => void calls.push(`${name}.afterStep${c.step}:${"loss" in v}`),
    afterEpoch: (_l, e) => void calls.push(`${name}.afterEpoch${e}`),
    afterTrain: (l) => void calls.push(`${name}.afterTrain:${l.failed}`),
  });
  const seen: number[] = [];
  const report = await runTraining({
    source: p.source,
    step: (ctx) => {
      calls.push(`step${ctx.step}`);
      // The history hook (a built-in) has not recorded this step yet.
      seen.push(ctx.loop.history.series("loss").steps.length);
      return p.step(ctx);
    },
    hooks: [hook("a"), hook("b")],
    firstStep: 1,
    progress: "silent",
  });
  const step = (s: number) => [
    `a.beforeStep${s}`,
    `b.beforeStep${s}`,
    `step${s}`,
    `a.afterStep${s}:true`,
    `b.afterStep${s}:true`,
  ];
  assert.deepEqual(calls, [
    "a.beforeTrain",
    "b.beforeTrain",
    "a.beforeEpoch0",
    "b.beforeEpoch0",
    ...step(1),
    ...step(2),
    "a.afterEpoch0",
    "b.afterEpoch0",
    "a.beforeEpoch1",
    "b.beforeEpoch1",
    ...step(3),
    ...step(4),
    "a.afterEpoch1",
    "b.afterEpoch1",
    "a.afterTrain:false",
    "b.afterTrain:false",
  ]);
  assert.deepEqual(seen, [0, 1, 2, 3]);
  assert.deepEqual(report.history.series("loss").steps, [1, 2, 3, 4]);
  assert.equal(report.steps, 4);
  assert.deepEqual(report.tensorCounts.length, 2, "one guard sample per epoch");
  p.dispose();
});

Deno.test("schedules set each player's rate per epoch or per step", async () => {
  const p = tinyProblem(2, 3, 2);
  const rates: number[] = [];
  const report = await runTraining({
    source: p.source,
    step: p.step,
    schedules: [{ player: p.player, schedule: multiStep(0.1, [1, 2], 0.5), unit: "epoch" }],
    hooks: [{ beforeStep: () => void rates.push(getLearningRate(p.player.optimizer)) }],
    progress: "silent",
  });
  assert.deepEqual(report.learningRates.reg, [0.1, 0.05, 0.025]);
  assert.deepEqual(rates, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
  p.dispose();

  const q = tinyProblem(2, 1, 4);
  const byStep = await runTraining({
    source: q.source,
    step: q.step,
    schedules: [{ player: q.player, schedule: (s) => 0.01 * (s + 1), unit: "step" }],
    progress: "silent",
  });
  assert.deepEqual(byStep.learningRates.reg, [0, 1, 2, 3].map((s) => 0.01 * (s + 1)));
  q.dispose();
});

Deno.test("every: validation after each period and after the last step, recorded in the history", async () => {
  const p = tinyProblem(3, 1, 7);
  const at: number[] = [];
  const report = await runTraining({
    source: p.source,
    step: p.step,
    firstStep: 1,
    hooks: [every(3, (ctx) => (at.push(ctx.step), { val: ctx.step * 10 }))],
    progress: "silent",
  });
  assert.deepEqual(at, [3, 6, 7]);
  assert.deepEqual(report.history.series("val"), { steps: [3, 6, 7], values: [30, 60, 70] });
  p.dispose();
});

Deno.test("the tensor guard stops a step that leaks, and after-train hooks still run", async () => {
  const p = tinyProblem(4, 3, 2);
  const leaked: tf.Tensor[] = [];
  let cleaned = false;
  await assert.rejects(
    runTraining({
      source: p.source,
      step: async (ctx) => {
        leaked.push(tf.ones([2])); // never disposed by the step
        return await p.step(ctx);
      },
      hooks: [{ afterTrain: (l) => void (cleaned = l.failed) }],
      progress: "silent",
    }),
    /leaks tensors: \d+ live after epoch 1, \d+ after epoch 2/,
  );
  assert.ok(cleaned, "afterTrain saw the failure");
  tf.dispose(leaked);
  p.dispose();
});

Deno.test("a non-finite loss stops the run with NonFiniteLossError naming the step", async () => {
  const p = tinyProblem(5, 1, 5);
  const recorded = new LossHistory();
  const error = await runTraining({
    source: p.source,
    step: async (ctx) => {
      const v = await p.step(ctx);
      return ctx.step === 3 ? { ...v, bad: NaN } : v;
    },
    history: recorded,
    firstStep: 1,
    progress: "silent",
  }).then(() => null, (e) => e);
  assert.ok(error instanceof NonFiniteLossError, String(error));
  assert.equal(error.step, 3);
  assert.equal(error.loss, "bad");
  assert.deepEqual(recorded.series("loss").steps, [1, 2], "the diverged step is not recorded");
  p.dispose();
});

Deno.test("checkpoint + resume ends exactly where the uninterrupted run ends", async () => {
  const dir = await Deno.makeTempDir({ prefix: "train_loop_" });
  try {
    const before = tf.memory().numTensors;
    const full = tinyProblem(6, 3, 4);
    const fullReport = await runTraining({
      source: full.source,
      step: full.step,
      schedules: [{ player: full.player, schedule: multiStep(0.1, [1, 2], 0.5), unit: "epoch" }],
      progress: "silent",
    });
    const expected = Array.from(await full.w.data());
    full.dispose();
    assert.equal(tf.memory().numTensors, before, "the loop leaves no tensor behind");

    // Interrupted after step 6 (mid-epoch 1), with a checkpoint every 3 steps.
    const extra = { calls: 0 };
    const a = tinyProblem(6, 3, 4);
    const checkpoint = (t: typeof a) => ({
      dir,
      every: 3,
      models: { reg: { w: t.w } },
      players: [t.player],
      state: {
        save: () => ({ calls: extra.calls }),
        load: (j: unknown) => void (extra.calls = (j as typeof extra).calls),
      },
    });
    await assert.rejects(
      runTraining({
        source: a.source,
        step: (ctx) => {
          if (ctx.index === 7) throw new Error("interrupted");
          extra.calls++;
          return a.step(ctx);
        },
        schedules: [{ player: a.player, schedule: multiStep(0.1, [1, 2], 0.5), unit: "epoch" }],
        checkpoint: checkpoint(a),
        progress: "silent",
      }),
      /interrupted/,
    );
    a.dispose();
    extra.calls = -1;

    // A fresh process would rebuild everything from the same seed, then resume.
    const b = tinyProblem(6, 3, 4);
    const resumed = await runTraining({
      source: b.source,
      step: (ctx) => {
        extra.calls++;
        return b.step(ctx);
      },
      schedules: [{ player: b.player, schedule: multiStep(0.1, [1, 2], 0.5), unit: "epoch" }],
      checkpoint: checkpoint(b),
      progress: "silent",
    });
    assert.equal(resumed.resumedFrom, 6);
    assert.equal(resumed.stepsRun, 6);
    assert.equal(extra.calls, 12, "the caller's state came back with the checkpoint");
    assert.deepEqual(Array.from(await b.w.data()), expected, "same final weights");
    assert.deepEqual(resumed.history.toJSON(), fullReport.history.toJSON(), "same loss history");
    b.dispose();
    assert.equal(tf.memory().numTensors, before, "interrupted and resumed runs free everything");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("progress: a line per update with the values and an ETA, and a final line", async () => {
  const p = tinyProblem(7, 1, 3);
  const lines: string[] = [];
  // The loop builds its Progress itself; "lines" mode writes to stderr, so capture it there.
  const write = Deno.stderr.writeSync;
  Deno.stderr.writeSync = (bytes: Uint8Array) => {
    lines.push(new TextDecoder().decode(bytes));
    return bytes.length;
  };
  try {
    await runTraining({ source: p.source, step: p.step, progress: "lines", label: "tiny" });
  } finally {
    Deno.stderr.writeSync = write;
  }
  assert.ok(lines.length >= 2, lines.join(""));
  assert.match(lines[0], /^tiny \[#+-*\] 1\/3 33% · loss [\d.]+ · .*ETA \d+:\d\d/);
  assert.match(lines[lines.length - 1], /3\/3 100% .* total/);
  p.dispose();
});

Deno.test("stepSource: one epoch of n batches", async () => {
  const made: number[] = [];
  const report = await runTraining({
    source: stepSource(3, (i) => (made.push(i), i)),
    step: ({ batch }) => Promise.resolve({ loss: batch }),
    progress: "silent",
    guard: 2,
  });
  assert.deepEqual(made, [0, 1, 2]);
  assert.deepEqual(report.history.series("loss").values, [0, 1, 2]);
  assert.equal(report.tensorCounts.length, 2, "guard samples at steps 2 and 3 (the last)");
});
