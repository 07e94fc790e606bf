/**
 * The synthetic worlds' difficulty, set on the **Embed** row alone and scored on the PETA-like
 * **validation** categories (never the test split), before any run of the method (README.md,
 * 'Synthetic worlds'). Each call trains Embed (stages 1–2 and its stage 3) for some seeds on a
 * world with the given knobs and appends the attempt to the log; the chosen knobs are then
 * frozen in `config.ts` by hand.
 *
 * ```
 * deno run -A lib/papers/sal/calibrate.ts --name base --world '{"occluder":0.2}' [--seeds 2]
 *   [--log results/sal/calibration.json]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolveConfig } from "../../experiments/config.ts";
import { initBackend } from "../../runtime/backend.ts";
import { positiveInt } from "../../runtime/cli.ts";
import { repoPath } from "../../runtime/paths.ts";
import { Rng } from "../../runtime/random.ts";
import type { SalConfig, WorldKnobs } from "./config.ts";
import { describeData, loadSalData } from "./data.ts";
import { disposeRun, runSal } from "./run.ts";
import { spec } from "./spec.ts";

/** One calibration attempt as logged. */
export interface CalibrationAttempt {
  name: string;
  at: string;
  world: WorldKnobs;
  /** The schedule the attempt trained with. */
  train: SalConfig["train"];
  row: string;
  split: "val";
  seeds: number[];
  val_mAP: number[];
  val_R1: number[];
  mean_val_mAP: number;
  data: Record<string, number>;
  seconds: number;
}

/** Trains the Embed row on a world with `world` knobs and scores it on the validation split. */
export async function calibrationAttempt(
  name: string,
  world: Partial<WorldKnobs>,
  seeds: number[],
  log: (line: string) => void = console.error,
): Promise<CalibrationAttempt> {
  const { config: resolved } = await resolveConfig(spec, "cpu", "embed", {});
  const base = resolved as SalConfig;
  const config: SalConfig = {
    ...base,
    data: {
      ...base.data,
      // Each attempt renders its own world, so the default folder is never replaced.
      root: `data/sal-calibration/${name}`,
      world: { ...base.data.world, ...world },
    },
    eval: { split: "val" },
  };
  const t0 = performance.now();
  const data = await loadSalData(config.data, log);
  const mAP: number[] = [];
  const r1: number[] = [];
  for (const seed of seeds) {
    const run = await runSal(config, data, new Rng(seed), { seed, log, progress: "lines" });
    mAP.push(run.metrics.mAP);
    r1.push(run.metrics.R1);
    log(`${name} seed ${seed}: validation mAP ${run.metrics.mAP.toFixed(1)}`);
    disposeRun(run);
  }
  return {
    name,
    at: new Date().toISOString(),
    world: config.data.world,
    train: config.train,
    row: "embed",
    split: "val",
    seeds,
    val_mAP: mAP,
    val_R1: r1,
    mean_val_mAP: mAP.reduce((a, b) => a + b, 0) / mAP.length,
    data: describeData(data),
    seconds: (performance.now() - t0) / 1000,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      name: { type: "string" },
      world: { type: "string", default: "{}" },
      seeds: { type: "string", default: "2" },
      log: { type: "string", default: "results/sal/calibration.json" },
    },
  });
  if (!values.name) throw new Error("calibrate: --name is required");
  await initBackend();
  const n = positiveInt("--seeds", values.seeds);
  const attempt = await calibrationAttempt(
    values.name,
    JSON.parse(values.world),
    Array.from({ length: n }, (_, i) => 100 + i),
  );
  const path = repoPath(values.log);
  let logged: { attempts: CalibrationAttempt[] } = { attempts: [] };
  try {
    logged = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  logged.attempts.push(attempt);
  await Deno.mkdir(repoPath("results/sal"), { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(logged, null, 2) + "\n");
  console.log(JSON.stringify(attempt));
}
