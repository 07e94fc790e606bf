/**
 * Difficulty calibration of the synthetic world on the **ID-only baseline only** (lib/papers/cmgan/README.md,
 * 'Synthetic world'; docs/design.md, 'Synthetic world'): trains the `idOnly` row with a candidate delta over the CPU
 * config (world knobs, and the budget-bound training settings), scores it on the **validation**
 * identities (16 people of their own, disjoint from training and test; the test split is never
 * looked at), and appends the attempt to `results/cmgan/calibration.json`. The full model is never
 * run here. (The first 28 attempts of that log were scored on the test split; they are kept, marked
 * `"split": "test"`, and the world was re-checked on validation: notebooks/cmgan.ipynb, Appendix A.)
 *
 * ```
 * deno run -A lib/papers/cmgan/calibrate.ts --name easier-ir \
 *   --delta '{"data":{"world":{"irBlur":[0.4,0.6]}}}' [--seed 0] [--log results/cmgan/calibration.json]
 * ```
 *
 * With `--diagnostic ROW` it instead trains any row once, after the grid, to explain a
 * result (e.g. a longer run); such runs go to `results/cmgan/diagnostics.json` and are never
 * used to choose a setting.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { deepMerge, resolveConfig } from "../../experiments/config.ts";
import { writeFileAtomic } from "../../runtime/fs.ts";
import type { Delta } from "../../experiments/spec.ts";
import { initBackend } from "../../runtime/backend.ts";
import { Rng } from "../../runtime/random.ts";
import type { CmganConfig } from "./config.ts";
import { loadCmganData } from "./data.ts";
import { sysuDistances, sysuMetrics } from "../../eval/sysu.ts";
import type { CmganData } from "./data.ts";
import { testFeatures } from "./evaluate.ts";
import type { CmganTrainer } from "./train.ts";
import { disposeTrained, runCmgan, trainCmgan } from "./run.ts";
import { spec } from "./spec.ts";

/** One calibration attempt as recorded. */
export interface CalibrationAttempt {
  name: string;
  seed: number;
  delta: Delta<CmganConfig>;
  row: string;
  /** Which identities scored it: `validation` (since issue 13), `test` (the first attempts). */
  split: "validation" | "test";
  metrics: Record<string, number>;
  seconds: number;
  at: string;
}

/**
 * The SYSU-MM01 numbers of a trained generator on the validation identities (IR queries, RGB
 * gallery, the same protocol and gallery draws as the test metrics).
 */
export async function validationMetrics(
  trainer: CmganTrainer,
  data: CmganData,
  config: CmganConfig,
): Promise<Record<string, number>> {
  if (data.val.indices.length === 0) {
    throw new Error("calibration: the world has no validation identities (data.world.valIds = 0)");
  }
  const features = await testFeatures(trainer, data.val, config.eval.normalize);
  return sysuMetrics(await sysuDistances(features, data.val.items), config.eval).metrics;
}

/**
 * Trains the ID-only row under `delta` and scores it on the validation split; the world goes
 * to its own folder. (`--diagnostic` runs of other rows after the grid are scored on test, as
 * the grid is: they explain results and never choose a setting.)
 */
export async function calibrateIdOnly(
  name: string,
  delta: Delta<CmganConfig>,
  seed: number,
  log: (line: string) => void = console.error,
  row = "idOnly",
): Promise<CalibrationAttempt> {
  const { config: base } = await resolveConfig(spec, "cpu", row);
  const config = deepMerge<CmganConfig>(base, delta, `calibration ${name}`);
  if (row === "idOnly" && (config.loss.alpha !== 0 || config.loss.beta !== 1)) {
    throw new Error(`calibration ${name}: only the ID-only row may be calibrated on`);
  }
  // A delta that leaves the world alone reuses the grid's rendered copy.
  if (delta.data?.world !== undefined) config.data.root = `data/cmgan-calib/${name}`;
  const t0 = performance.now();
  const data = await loadCmganData(config.data, log);
  let metrics: Record<string, number>;
  if (row === "idOnly") {
    const trained = await trainCmgan(config, data, new Rng(seed), { log });
    try {
      metrics = await validationMetrics(trained.trainer, data, config);
    } finally {
      disposeTrained(trained);
    }
  } else {
    const run = await runCmgan(config, data, new Rng(seed), { log });
    disposeTrained(run.trained);
    metrics = run.metrics;
  }
  return {
    name,
    seed,
    delta,
    row,
    split: row === "idOnly" ? "validation" : "test",
    metrics,
    seconds: (performance.now() - t0) / 1000,
    at: new Date().toISOString(),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      name: { type: "string" },
      delta: { type: "string", default: "{}" },
      seed: { type: "string", default: "0" },
      log: { type: "string" },
      diagnostic: { type: "string" },
    },
  });
  if (!values.name || !/^[\w.-]+$/.test(values.name)) {
    console.error("calibrate: --name (letters, digits, . _ -) is required");
    Deno.exit(2);
  }
  await initBackend();
  const attempt = await calibrateIdOnly(
    values.name,
    JSON.parse(values.delta!) as Delta<CmganConfig>,
    Number(values.seed),
    console.error,
    values.diagnostic ?? "idOnly",
  );
  const logPath = values.log ??
    (values.diagnostic ? "results/cmgan/diagnostics.json" : "results/cmgan/calibration.json");
  const m = attempt.metrics;
  console.log(
    `${attempt.name}: all-search SS r1 ${m.all_ss_r1.toFixed(1)} mAP ${m.all_ss_mAP.toFixed(1)}, ` +
      `indoor SS r1 ${m.indoor_ss_r1.toFixed(1)} (${attempt.seconds.toFixed(0)} s)`,
  );
  // Appends under a lock-free read-modify-write: calibrations run one after another.
  let attempts: CalibrationAttempt[] = [];
  try {
    attempts = JSON.parse(await Deno.readTextFile(logPath));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  attempts.push(attempt);
  await writeFileAtomic(logPath, JSON.stringify(attempts, null, 1) + "\n");
}
