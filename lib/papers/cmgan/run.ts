/**
 * One cmGAN run end to end: data → networks → alternating training (with the loss series
 * of Figs. 4–5 and periodic validation mAP) → features of the test identities → the SYSU
 * protocol's 16 numbers (all/indoor × single/multi-shot × r1/r10/r20/mAP, 10 gallery
 * trials each). Used by the grid cell and by the notebook.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { crossModalBatches } from "../../data/samplers.ts";
import { splitBatch } from "../../data/split.ts";
import type { DenseMatrix } from "../../eval/distance.ts";
import { pixelFeatures } from "../../eval/features.ts";
import type { EvalResult } from "../../eval/evaluate.ts";
import type { EvalItem } from "../../eval/protocols.ts";
import { sysuDistances, sysuMetrics, type SysuSplit } from "../../eval/sysu.ts";
import type { Rng } from "../../runtime/random.ts";
import { LossHistory } from "../../train/history.ts";
import type { ProgressSink } from "../../train/progress.ts";
import { every, runTraining, stepSource, type TrainLoopReport } from "../../engine/train_loop.ts";
import type { CmganConfig } from "./config.ts";
import { type CmganData, INPUT_NORMALIZATION } from "./data.ts";
import { scoreTrained, validationMap } from "./evaluate.ts";
import { buildNetworks, type CmganNetworks, disposeNetworks } from "./model.ts";
import { withPretrainedWeights } from "./pretrain.ts";
import { CmganTrainer, type PairBatch, type StepLosses, type TrainerState } from "./train.ts";

/** Options of {@link trainCmgan}. */
export interface TrainOptions {
  history?: LossHistory;
  log?: (line: string) => void;
  /** Called after every step (live plots). */
  onStep?: (step: number, losses: StepLosses) => void | Promise<void>;
  /** Progress output (default "auto": notebook bar, terminal bar or log lines). */
  progress?: ProgressSink;
  /**
   * Checkpoints every `every` steps under `dir`, and resume from the latest one there
   * (exactly: the trainer's step count and mining stream are part of the checkpoint).
   */
  checkpoint?: { dir: string; every: number; keep?: number };
}

/** A trained model and what its training recorded. */
export interface TrainedCmgan {
  nets: CmganNetworks;
  trainer: CmganTrainer;
  history: LossHistory;
  /** Wall seconds per training step (data included, validation excluded). */
  secondsPerStep: number;
}

/** Trains cmGAN on `data` with `config`; every random draw comes from `rng`. */
export async function trainCmgan(
  config: CmganConfig,
  data: CmganData,
  rng: Rng,
  options: TrainOptions = {},
): Promise<TrainedCmgan> {
  const history = options.history ?? new LossHistory();
  const log = options.log ?? (() => {});
  const nets = await buildNetworks(
    await withPretrainedWeights(config, log),
    data.numClasses,
    rng.fork("init"),
  );
  const trainer = new CmganTrainer(nets, config, rng.fork("mining"));
  const { steps, pairs, evalEvery } = config.train;
  const batches = crossModalBatches(
    data.dataset,
    { p: pairs, k: 1, batches: steps },
    rng.fork("batches"),
    data.train.indices,
  );
  const validate = every<PairBatch>(
    evalEvery > 0 ? evalEvery : 1,
    () =>
      validationMap(trainer, data.val, config).then((mAP) =>
        mAP === null ? null : { val_mAP: mAP }
      ),
    { name: "validation" },
  );
  const source = stepSource(steps, (i): PairBatch => {
    const b = batches[i];
    return {
      rgb: splitBatch(data.train, b.rgb.map((j) => data.train.rowOf.get(j)!), INPUT_NORMALIZATION),
      ir: splitBatch(data.train, b.ir.map((j) => data.train.rowOf.get(j)!), INPUT_NORMALIZATION),
      classes: b.pids.map((pid) => data.classOf.get(pid)!),
    };
  }, { release: (b) => tf.dispose([b.rgb, b.ir]) });
  // The player of each step, for the hooks after it (the step function returns numbers only).
  let last: StepLosses | null = null;
  let report: TrainLoopReport;
  try {
    report = await runTraining({
      source,
      label: "cmgan",
      history,
      // Alg. 1 counts steps from 1: its "every K-th step" and the history both use that count.
      firstStep: 1,
      progress: options.progress ?? "auto",
      // Sampled every 50 steps: by then both players have stepped and made their Adam slots.
      guard: 50,
      hooks: [
        ...(evalEvery > 0 && data.val.indices.length > 0 ? [validate] : []),
        {
          name: "log",
          afterStep({ step, loop }) {
            if (step % 50 !== 0 && step !== steps) return;
            const v = last!;
            log(
              `step ${step}/${steps}: l_gen ${v.l_gen.toFixed(3)} l_dis ${v.l_dis.toFixed(3)} ` +
                `(${loop.secondsPerStep.toFixed(3)} s/step)`,
            );
          },
        },
        { name: "onStep", afterStep: ({ step }) => options.onStep?.(step, last!) },
      ],
      checkpoint: options.checkpoint && {
        ...options.checkpoint,
        models: {
          generator: nets.generator,
          idHead: nets.idHead,
          discriminator: nets.discriminator,
        },
        players: [trainer.generator, trainer.discriminator],
        state: {
          save: () => ({ ...trainer.saveState() }),
          load: (json) => trainer.loadState(json as unknown as TrainerState),
        },
      },
      async step({ batch }) {
        last = await trainer.step(batch);
        const { player, ...values } = last;
        return { ...values, [`${player === "G" ? "g" : "d"}_step_l_dis`]: values.l_dis };
      },
    });
  } catch (error) {
    // A failed run frees what it built: the caller only owns a trained model.
    trainer.dispose();
    disposeNetworks(nets);
    throw error;
  }
  return { nets, trainer, history, secondsPerStep: report.secondsPerStep };
}

/** What {@link runCmgan} returns. */
export interface CmganRun {
  metrics: Record<string, number>;
  results: Record<string, EvalResult>;
  split: SysuSplit;
  features: DenseMatrix;
  testItems: EvalItem[];
  trained: TrainedCmgan | null;
}

/**
 * Trains (unless the config is the pixel baseline, or the pretrained generator evaluated as
 * it is) and evaluates one cell. The caller owns `trained` and must free it with
 * {@link disposeTrained}.
 */
export async function runCmgan(
  config: CmganConfig,
  data: CmganData,
  rng: Rng,
  options: TrainOptions = {},
): Promise<CmganRun> {
  const testItems = data.test.items;
  if (config.baseline === "pixels") {
    const features = pixelFeatures(data.test);
    const split = await sysuDistances(features, testItems);
    return { ...sysuMetrics(split, config.eval), split, features, testItems, trained: null };
  }
  let trainConfig = config;
  if (config.baseline === "pretrained") {
    if (config.model.pretrain === null && config.model.pretrained === null) {
      throw new Error(
        'cmGAN config: baseline "pretrained" needs model.pretrain or model.pretrained',
      );
    }
    // The starting weights as they are: what cmGAN's training adds is measured against them.
    trainConfig = { ...config, train: { ...config.train, steps: 0 } };
  }
  const trained = await trainCmgan(trainConfig, data, rng, options);
  const { trainer } = trained;
  const { metrics, results, split, features } = await scoreTrained(
    trainer,
    data,
    config,
    trained.history,
  );
  metrics.seconds_per_step = trained.secondsPerStep;
  return { metrics, results, split, features, testItems, trained };
}

/** Frees a trained model. */
export function disposeTrained(trained: TrainedCmgan | null): void {
  if (!trained) return;
  trained.trainer.dispose();
  disposeNetworks(trained.nets);
}
