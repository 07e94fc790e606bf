/**
 * Learning-rate schedules as pure functions of the step (or epoch) index, and a helper
 * that applies one to a player's optimizer before each update.
 *
 * The papers use: constant rates (AAIPR, TJ-AIDL, cmGAN), multi-step decay (SAL's
 * MultiStepLR with γ = 0.5), and linear warm-up followed by steps (the BoT / AGW recipe
 * PAENet's code follows: lr·(e+1)/10 for e < 10, then ×0.1 at 20 and ×0.01 at 50).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { setLearningRate } from "./players.ts";

/** A learning rate for each step index (0-based). */
export type Schedule = (step: number) => number;

function checkRate(lr: number, what: string): void {
  if (!Number.isFinite(lr) || lr < 0) throw new Error(`${what}: base lr must be ≥ 0, got ${lr}`);
}

function checkMilestones(milestones: readonly number[], what: string): void {
  for (let i = 0; i < milestones.length; i++) {
    const m = milestones[i];
    if (!Number.isInteger(m) || m < 0 || (i > 0 && m <= milestones[i - 1])) {
      throw new Error(
        `${what}: milestones must be increasing non-negative integers, got [${milestones}]`,
      );
    }
  }
}

/** The same rate at every step. */
export function constant(lr: number): Schedule {
  checkRate(lr, "constant");
  return () => lr;
}

/** `lr · gamma^⌊step / every⌋` (PyTorch StepLR). */
export function stepDecay(lr: number, every: number, gamma: number): Schedule {
  checkRate(lr, "stepDecay");
  if (!Number.isInteger(every) || every <= 0) {
    throw new Error(`stepDecay: every must be a positive integer, got ${every}`);
  }
  return (step) => lr * gamma ** Math.floor(Math.max(0, step) / every);
}

/**
 * `lr · gamma^k` where k is the number of milestones ≤ step (PyTorch MultiStepLR, e.g.
 * SAL's milestones 20, 40, … with γ = 0.5).
 */
export function multiStep(lr: number, milestones: readonly number[], gamma: number): Schedule {
  checkRate(lr, "multiStep");
  checkMilestones(milestones, "multiStep");
  const ms = [...milestones];
  return (step) => lr * gamma ** ms.filter((m) => step >= m).length;
}

/**
 * Piecewise-constant factors: `lr · factors[k]` where k is the number of milestones ≤ step
 * (`factors.length` = milestones + 1). Expresses schedules like PAENet's 1, 0.1, 0.01.
 */
export function piecewise(
  lr: number,
  milestones: readonly number[],
  factors: readonly number[],
): Schedule {
  checkRate(lr, "piecewise");
  checkMilestones(milestones, "piecewise");
  if (factors.length !== milestones.length + 1) {
    throw new Error(
      `piecewise: need ${milestones.length + 1} factors for ${milestones.length} milestones, ` +
        `got ${factors.length}`,
    );
  }
  const ms = [...milestones];
  const fs = [...factors];
  return (step) => lr * fs[ms.filter((m) => step >= m).length];
}

/**
 * Linear warm-up over the first `warmup` steps — `after(warmup) · (step + 1) / warmup`,
 * the BoT/AGW form — then `after(step)`.
 */
export function warmup(warmupSteps: number, after: Schedule): Schedule {
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new Error(`warmup: steps must be a non-negative integer, got ${warmupSteps}`);
  }
  return (step) => step < warmupSteps ? after(warmupSteps) * (step + 1) / warmupSteps : after(step);
}

/** A serialisable description of a schedule, for configs. */
export type ScheduleSpec =
  | { kind: "constant"; lr: number }
  | { kind: "step"; lr: number; every: number; gamma: number }
  | { kind: "multistep"; lr: number; milestones: number[]; gamma: number; warmup?: number }
  | { kind: "piecewise"; lr: number; milestones: number[]; factors: number[]; warmup?: number };

/** Builds a schedule from its config description. */
export function scheduleFrom(spec: ScheduleSpec): Schedule {
  switch (spec.kind) {
    case "constant":
      return constant(spec.lr);
    case "step":
      return stepDecay(spec.lr, spec.every, spec.gamma);
    case "multistep": {
      const base = multiStep(spec.lr, spec.milestones, spec.gamma);
      return spec.warmup ? warmup(spec.warmup, base) : base;
    }
    case "piecewise": {
      const base = piecewise(spec.lr, spec.milestones, spec.factors);
      return spec.warmup ? warmup(spec.warmup, base) : base;
    }
    default:
      throw new Error(
        `unknown schedule kind "${(spec as { kind: string }).kind}"; ` +
          "expected constant, step, multistep or piecewise",
      );
  }
}

/** Sets the optimizer's rate to `schedule(step)` and returns it (call before each update). */
export function applySchedule(optimizer: tf.Optimizer, schedule: Schedule, step: number): number {
  const lr = schedule(step);
  setLearningRate(optimizer, lr);
  return lr;
}
