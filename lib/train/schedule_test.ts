import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../runtime/backend.ts";
import { getLearningRate } from "./players.ts";
import {
  applySchedule,
  constant,
  multiStep,
  piecewise,
  scheduleFrom,
  stepDecay,
  warmup,
} from "./schedule.ts";

await initBackend({ backend: "cpu", announce: false });

const close = (a: number, b: number) => Math.abs(a - b) < 1e-12 * Math.max(1, Math.abs(b));

Deno.test("constant, step and multi-step schedules", () => {
  assert.equal(constant(0.3)(1000), 0.3);
  const s = stepDecay(1, 10, 0.5);
  assert.deepEqual([0, 9, 10, 19, 20, 35].map(s), [1, 1, 0.5, 0.5, 0.25, 0.125]);
  // SAL's MultiStepLR: γ = 0.5 at epochs 20, 30, 40, 50.
  const m = multiStep(1e-4, [20, 30, 40, 50], 0.5);
  const got = [0, 19, 20, 29, 30, 45, 50, 60].map(m);
  const want = [1e-4, 1e-4, 5e-5, 5e-5, 2.5e-5, 1.25e-5, 6.25e-6, 6.25e-6];
  got.forEach((g, i) => assert.ok(close(g, want[i]), `step ${i}: ${g} vs ${want[i]}`));
  assert.throws(() => multiStep(1, [10, 5], 0.1), /increasing/);
  assert.throws(() => constant(-1), /≥ 0/);
});

Deno.test("warm-up then steps matches the BoT/AGW schedule PAENet's code uses", () => {
  // lr·(e+1)/10 for e < 10; lr until 20; 0.1·lr until 50; 0.01·lr after.
  const s = warmup(10, piecewise(0.1, [20, 50], [1, 0.1, 0.01]));
  const want = (e: number) => e < 10 ? 0.1 * (e + 1) / 10 : e < 20 ? 0.1 : e < 50 ? 0.01 : 0.001;
  for (const e of [0, 1, 5, 9, 10, 19, 20, 49, 50, 60]) {
    assert.ok(close(s(e), want(e)), `epoch ${e}: ${s(e)} vs ${want(e)}`);
  }
  const fromSpec = scheduleFrom({
    kind: "piecewise",
    lr: 0.1,
    milestones: [20, 50],
    factors: [1, 0.1, 0.01],
    warmup: 10,
  });
  for (let e = 0; e < 70; e++) assert.equal(fromSpec(e), s(e));
  assert.throws(() => piecewise(1, [5], [1]), /need 2 factors/);
  assert.throws(() => scheduleFrom({ kind: "cosine" } as never), /unknown schedule kind "cosine"/);
});

Deno.test("applySchedule sets the optimizer's rate", () => {
  const opt = tf.train.adam(1);
  const s = multiStep(0.01, [2], 0.1);
  assert.equal(applySchedule(opt, s, 0), 0.01);
  assert.equal(getLearningRate(opt), 0.01);
  applySchedule(opt, s, 5);
  assert.ok(close(getLearningRate(opt), 0.001));
  opt.dispose();
});
