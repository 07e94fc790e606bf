/**
 * The one training loop every paper runs on, in the shape of fast-reid's `TrainerBase`
 * (`run_step` + hooks) and torchreid's engine: a paper supplies a **step function** — its
 * players (each with its own variables and optimizer, see `lib/train/players.ts`) take
 * one update on one batch and resolve to the step's numbers — and a **batch source**; the
 * loop iterates epochs and steps and calls, in registration order,
 *
 * ```
 * hook.beforeTrain()                       (after a resume has restored the state)
 * for each epoch e:   hook.beforeEpoch(e)
 *   for each step:    hook.beforeStep(ctx); values = step(ctx); hook.afterStep(ctx, values)
 *                     hook.afterEpoch(e)
 * hook.afterTrain()                        (always, also when a step threw: timers stop)
 * ```
 *
 * The features every run needs are hooks themselves, registered before the paper's own
 * ({@link builtinHooks}): non-finite-loss detection ({@link FiniteGuard}), the loss
 * history, the memory monitor, learning-rate schedules per player, the tensor-count
 * guard, progress (terminal, log lines or a notebook bar, with an ETA) and checkpoints.
 * Periodic validation is {@link every} around a function. Resume is the loop's own job
 * (it must happen before any hook sees the state): with `checkpoint.dir` holding a
 * checkpoint, weights, optimizer slots, learning rates, history and the caller's extra
 * state are restored, the batch source replays the randomness of the steps already done
 * ({@link BatchSource.skip}) and training continues at the next step, so the resumed run
 * ends exactly where an uninterrupted one with the same seed ends (a test checks it).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { FiniteGuard } from "../train/finite.ts";
import { LossHistory } from "../train/history.ts";
import type { Player } from "../train/players.ts";
import { Progress, type ProgressSink } from "../train/progress.ts";
import { applySchedule, type Schedule } from "../train/schedule.ts";
import {
  type CheckpointState,
  loadCheckpoint,
  saveCheckpoint,
  type VariableSet,
} from "../train/checkpoint.ts";
import { formatPeaks, MemoryMonitor, type MemoryPeaks, TensorCountGuard } from "./memory.ts";

/** What a step function and the hooks see of the step being run. */
export interface StepContext<B> {
  /** The step's number as histories, guards and logs show it (`firstStep` + index). */
  step: number;
  /** 0-based position of the step in the whole run (schedules by step read this). */
  index: number;
  /** 0-based epoch. */
  epoch: number;
  /** 0-based position of the step in its epoch. */
  indexInEpoch: number;
  /** The batch the source built for this step. */
  batch: B;
  /** The loop (history, total steps, …). */
  loop: TrainLoop<B>;
}

/**
 * One training step: the paper's players update on `ctx.batch`; resolves to the step's
 * named numbers (losses, accuracies), read back asynchronously. Every tensor it makes must
 * be disposed (the tensor-count guard checks it).
 */
export type StepFn<B> = (ctx: StepContext<B>) => Promise<Record<string, number>>;

/**
 * Where batches come from. The number of steps of every epoch is known up front (the
 * progress bar's ETA needs the total); batches are built in order, one per step.
 */
export interface BatchSource<B> {
  /** Number of epochs (1 for a step-counted run). */
  readonly epochs: number;
  /** Steps of epoch `epoch`. */
  stepsIn(epoch: number): number;
  /** Builds the batch of step `index` of `epoch` (called in order). */
  batch(epoch: number, index: number): B | Promise<B>;
  /**
   * On resume, stands in for building a batch already trained on: must consume the same
   * randomness as {@link BatchSource.batch} without making tensors. Default: nothing
   * (a source whose batches are fixed up front).
   */
  skip?(epoch: number, index: number): void;
  /** Frees a batch after its step (also when the step threw). */
  release?(batch: B): void;
}

/**
 * A source of one epoch of `steps` batches made by `make(index)` (step-counted runs such
 * as cmGAN's Alg. 1 and the pretraining).
 */
export function stepSource<B>(
  steps: number,
  make: (index: number) => B | Promise<B>,
  options: { release?: (batch: B) => void; skip?: (index: number) => void } = {},
): BatchSource<B> {
  return {
    epochs: 1,
    stepsIn: () => steps,
    batch: (_e, i) => make(i),
    skip: options.skip ? (_e, i) => options.skip!(i) : undefined,
    release: options.release,
  };
}

/** The loop as hooks see it. */
export interface TrainLoop<B> {
  readonly history: LossHistory;
  readonly source: BatchSource<B>;
  /** Steps of the whole run. */
  readonly totalSteps: number;
  /** Number given to the first step (0 or 1). */
  readonly firstStep: number;
  /** Index of the first step this run executes (> 0 after a resume). */
  readonly startIndex: number;
  /** Steps completed so far (resumed ones included). */
  readonly completed: number;
  /** True once a step or hook has thrown (seen by `afterTrain`). */
  readonly failed: boolean;
  /** Seconds per step so far, batch building and step function only (hooks excluded). */
  readonly secondsPerStep: number;
}

/** A hook: any subset of the six moments; called in registration order. */
export interface Hook<B = unknown> {
  /** A name for messages. */
  name?: string;
  beforeTrain?(loop: TrainLoop<B>): void | Promise<void>;
  beforeEpoch?(loop: TrainLoop<B>, epoch: number): void | Promise<void>;
  beforeStep?(ctx: StepContext<B>): void | Promise<void>;
  afterStep?(ctx: StepContext<B>, values: Record<string, number>): void | Promise<void>;
  afterEpoch?(loop: TrainLoop<B>, epoch: number): void | Promise<void>;
  /** Called even when training failed (`loop.failed`): release timers and state here. */
  afterTrain?(loop: TrainLoop<B>): void | Promise<void>;
}

/** What makes a checkpoint and what a resume restores. */
export interface CheckpointOptions {
  /** Folder of the run's checkpoints (resumed from when it holds one). */
  dir: string;
  /** Save after every `every` steps (and after the last); 0: only after the last. */
  every: number;
  models: Record<string, tf.LayersModel | VariableSet>;
  players: readonly Player[];
  /** Caller state beyond weights and optimizers (JSON), saved and restored with them. */
  state?: { save(): unknown; load(json: unknown): void };
  /** Checkpoints kept (default 2). */
  keep?: number;
}

/** A learning-rate schedule for one player, applied per epoch or per step. */
export interface ScheduleOptions {
  player: Player;
  schedule: Schedule;
  /** "epoch": set before each epoch from its index; "step": before each step. */
  unit: "epoch" | "step";
}

/** Options of {@link runTraining}. */
export interface TrainLoopOptions<B> {
  source: BatchSource<B>;
  step: StepFn<B>;
  /** The paper's hooks, called after the built-in ones in this order. */
  hooks?: Hook<B>[];
  /** Losses are recorded here (a new history when absent). */
  history?: LossHistory;
  /** Number of the first step in histories and messages (default 0). */
  firstStep?: 0 | 1;
  /** Name in progress and log lines (default "train"). */
  label?: string;
  schedules?: ScheduleOptions[];
  /** Progress output (default "auto"). */
  progress?: ProgressSink;
  /**
   * When the tensor-count guard samples: "epoch" (end of every epoch, the default) or
   * every N steps (step-counted runs); the first sample is the reference.
   */
  guard?: "epoch" | number | false;
  /** Stop on a non-finite or exploded value (default: a fresh {@link FiniteGuard}). */
  finite?: FiniteGuard | false;
  /** Checkpoints and resume (default none). */
  checkpoint?: CheckpointOptions;
  /** Summary line at the end (default: none). */
  log?: (line: string) => void;
}

/** What a run did. */
export interface TrainLoopReport {
  epochs: number;
  /** Steps completed (resumed ones included). */
  steps: number;
  /** Steps this call executed. */
  stepsRun: number;
  /** Wall seconds of the whole call. */
  seconds: number;
  /** Seconds spent building batches and in step functions (hooks excluded), per step. */
  secondsPerStep: number;
  /** Live tensors at each guard sample (flat after the first, or the run throws). */
  tensorCounts: number[];
  tensorCountsFlat: boolean;
  memory: MemoryPeaks;
  history: LossHistory;
  /** Learning rate of each schedule application, per player name. */
  learningRates: Record<string, number[]>;
  /** The step resumed from (0: a fresh run). */
  resumedFrom: number;
}

/**
 * A hook calling `fn` after every `period`-th step (counted from the run's first step) and,
 * unless `atEnd` is false, after the last; the numbers it returns are recorded in the
 * history at that step (validation mAP, say). `null` records nothing.
 */
export function every<B>(
  period: number,
  fn: (
    ctx: StepContext<B>,
  ) => Promise<Record<string, number> | null> | Record<string, number> | null,
  options: { atEnd?: boolean; name?: string } = {},
): Hook<B> {
  if (!Number.isInteger(period) || period < 1) {
    throw new Error(`every: period must be a positive integer, got ${period}`);
  }
  const atEnd = options.atEnd ?? true;
  return {
    name: options.name ?? `every ${period}`,
    async afterStep(ctx) {
      const n = ctx.index + 1;
      if (n % period !== 0 && !(atEnd && n === ctx.loop.totalSteps)) return;
      const values = await fn(ctx);
      if (values) ctx.loop.history.record(ctx.step, values);
    },
  };
}

class Loop<B> implements TrainLoop<B> {
  history: LossHistory;
  source: BatchSource<B>;
  totalSteps: number;
  firstStep: number;
  startIndex = 0;
  completed = 0;
  failed = false;
  stepSeconds = 0;
  get secondsPerStep(): number {
    const run = this.completed - this.startIndex;
    return run > 0 ? this.stepSeconds / run : 0;
  }
  constructor(source: BatchSource<B>, history: LossHistory, firstStep: number) {
    this.source = source;
    this.history = history;
    this.firstStep = firstStep;
    this.totalSteps = 0;
    for (let e = 0; e < source.epochs; e++) this.totalSteps += source.stepsIn(e);
  }
}

/** The state the built-in hooks leave for the report. */
interface Builtins<B> {
  hooks: Hook<B>[];
  monitor: MemoryMonitor;
  guard: TensorCountGuard | null;
  rates: Record<string, number[]>;
  progress: { done(): Promise<void> } | null;
}

/**
 * The built-in hooks, in the order they run: finite check (a diverged step is never
 * recorded), history, memory sample, schedules, tensor guard, progress, checkpoints.
 */
function builtinHooks<B>(options: TrainLoopOptions<B>, label: string): Builtins<B> {
  const hooks: Hook<B>[] = [];
  const finite = options.finite === undefined ? new FiniteGuard() : options.finite;
  if (finite) hooks.push({ name: "finite", afterStep: (ctx, v) => finite.check(ctx.step, v) });
  hooks.push({ name: "history", afterStep: (ctx, v) => ctx.loop.history.record(ctx.step, v) });
  // Created in beforeTrain, so a run that fails to start leaves no timer behind.
  let monitor: MemoryMonitor | null = null;
  const monitorHook: Hook<B> = {
    name: "memory",
    beforeTrain() {
      monitor = new MemoryMonitor();
    },
    afterStep() {
      monitor!.sample();
    },
    afterTrain() {
      monitor?.stop();
    },
  };
  hooks.push(monitorHook);
  const rates: Record<string, number[]> = {};
  for (const s of options.schedules ?? []) {
    const list = (rates[s.player.name] ??= []);
    hooks.push(
      s.unit === "epoch"
        ? {
          name: `lr ${s.player.name}`,
          beforeEpoch: (_l, e) => void list.push(applySchedule(s.player.optimizer, s.schedule, e)),
        }
        : {
          name: `lr ${s.player.name}`,
          beforeStep: (ctx) =>
            void list.push(applySchedule(s.player.optimizer, s.schedule, ctx.index)),
        },
    );
  }
  const guardMode = options.guard ?? "epoch";
  const guard = guardMode === false ? null : new TensorCountGuard(label);
  if (guard && guardMode === "epoch") {
    hooks.push({ name: "tensor guard", afterEpoch: () => guard.endEpoch() });
  } else if (guard && typeof guardMode === "number") {
    const check = () => {
      guard.endEpoch();
      return null;
    };
    hooks.push(every(guardMode, check, { name: "tensor guard" }));
  }
  let progress: Progress | null = null;
  const sink = options.progress ?? "auto";
  if (sink !== "silent") {
    hooks.push({
      name: "progress",
      beforeTrain(loop) {
        if (loop.totalSteps > 0) progress = new Progress({ total: loop.totalSteps, label, sink });
      },
      afterStep: (ctx, v) => progress?.update(ctx.index + 1, v),
    });
  }
  const ck = options.checkpoint;
  if (ck) {
    if (!Number.isInteger(ck.every) || ck.every < 0) {
      throw new Error(`checkpoint.every must be an integer ≥ 0, got ${ck.every}`);
    }
    hooks.push({
      name: "checkpoint",
      async afterStep(ctx) {
        const n = ctx.index + 1;
        if ((ck.every > 0 && n % ck.every === 0) || n === ctx.loop.totalSteps) {
          const state: CheckpointState = {
            step: n,
            models: ck.models,
            players: ck.players,
            history: ctx.loop.history,
            extra: ck.state?.save() ?? null,
          };
          await saveCheckpoint(ck.dir, state, { keep: ck.keep });
        }
      },
    });
  }
  return {
    hooks,
    get monitor() {
      return monitor!;
    },
    guard,
    rates,
    get progress() {
      return progress;
    },
  } as Builtins<B>;
}

/** Replaces `into`'s (empty) series with `from`'s, so listeners see nothing of the replay. */
function restoreHistory(into: LossHistory, from: LossHistory): void {
  if (into.names().length > 0) {
    throw new Error("resume: the history passed in already has series; pass an empty one");
  }
  for (const [name, s] of Object.entries(from.toJSON().series)) {
    s.steps.forEach((step, i) => into.record(step, { [name]: s.values[i] ?? NaN }));
  }
}

/**
 * Calls every hook's `afterTrain`, each even when an earlier one throws (fast-reid does the
 * same), and returns the first error, or null.
 */
async function afterTrain<B>(hooks: Hook<B>[], loop: TrainLoop<B>): Promise<unknown> {
  let first: unknown = null;
  for (const h of hooks) {
    try {
      await h.afterTrain?.(loop);
    } catch (error) {
      first ??= error;
    }
  }
  return first;
}

/**
 * Runs a training loop (see the module documentation): built-in hooks first, then
 * `options.hooks` in order. Throws what a step or hook throws ({@link NonFiniteLossError}
 * on divergence, the guard's error on a leak) after every `afterTrain` has run.
 *
 * @see lib/engine/README.md (how a paper uses the loop)
 */
export async function runTraining<B>(options: TrainLoopOptions<B>): Promise<TrainLoopReport> {
  const label = options.label ?? "train";
  const history = options.history ?? new LossHistory();
  const loop = new Loop(options.source, history, options.firstStep ?? 0);
  const builtins = builtinHooks(options, label);
  const hooks = [...builtins.hooks, ...(options.hooks ?? [])];
  const t0 = performance.now();
  let resumedFrom = 0;

  const ck = options.checkpoint;
  if (ck) {
    const loaded = await loadCheckpoint(ck.dir, { models: ck.models, players: ck.players });
    if (loaded) {
      if (loaded.step > loop.totalSteps) {
        throw new Error(
          `${loaded.path}: checkpoint at step ${loaded.step}, but the run has ${loop.totalSteps}`,
        );
      }
      if (loaded.history) restoreHistory(history, loaded.history);
      if (loaded.extra !== undefined && loaded.extra !== null) ck.state?.load(loaded.extra);
      resumedFrom = loop.startIndex = loop.completed = loaded.step;
    }
  }

  let started = false;
  try {
    for (const h of hooks) await h.beforeTrain?.(loop);
    started = true;
    let index = 0;
    for (let epoch = 0; epoch < loop.source.epochs; epoch++) {
      const n = loop.source.stepsIn(epoch);
      if (index + n <= loop.startIndex) {
        for (let i = 0; i < n; i++) loop.source.skip?.(epoch, i);
        index += n;
        continue;
      }
      for (const h of hooks) await h.beforeEpoch?.(loop, epoch);
      for (let i = 0; i < n; i++, index++) {
        if (index < loop.startIndex) {
          loop.source.skip?.(epoch, i);
          continue;
        }
        const s0 = performance.now();
        const batch = await loop.source.batch(epoch, i);
        const built = performance.now();
        const ctx: StepContext<B> = {
          step: index + loop.firstStep,
          index,
          epoch,
          indexInEpoch: i,
          batch,
          loop,
        };
        let values: Record<string, number>;
        try {
          for (const h of hooks) await h.beforeStep?.(ctx);
          const s1 = performance.now();
          values = await options.step(ctx);
          // Batch building counts; the before-step hooks do not.
          loop.stepSeconds += (built - s0 + performance.now() - s1) / 1000;
        } finally {
          loop.source.release?.(batch);
        }
        loop.completed = index + 1;
        for (const h of hooks) await h.afterStep?.(ctx, values);
      }
      for (const h of hooks) await h.afterEpoch?.(loop, epoch);
    }
  } catch (error) {
    loop.failed = true;
    await afterTrain(started ? hooks : builtins.hooks, loop);
    throw error;
  }
  // A failing afterTrain of a finished run is an error of the run.
  const failure = await afterTrain(hooks, loop);
  if (failure !== null) throw failure;
  await builtins.progress?.done();
  const seconds = (performance.now() - t0) / 1000;
  const stepsRun = loop.completed - loop.startIndex;
  const guard = builtins.guard;
  const report: TrainLoopReport = {
    epochs: loop.source.epochs,
    steps: loop.completed,
    stepsRun,
    seconds,
    secondsPerStep: loop.secondsPerStep,
    tensorCounts: guard ? [...guard.counts] : [],
    tensorCountsFlat: guard ? guard.flat : true,
    memory: builtins.monitor.peaks,
    history,
    learningRates: builtins.rates,
    resumedFrom,
  };
  options.log?.(
    `[${label}] ${report.steps} steps${resumedFrom ? ` (resumed at ${resumedFrom})` : ""} in ` +
      `${seconds.toFixed(1)} s (${report.secondsPerStep.toFixed(3)} s/step, ${tf.getBackend()}); ` +
      `live tensors ${report.tensorCounts.join(", ")}; ${formatPeaks(report.memory)}`,
  );
  return report;
}
