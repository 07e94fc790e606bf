/**
 * Calibration of the synthetic domains' difficulty (lib/papers/tjaidl/README.md, 'Calibration'):
 * trains only the baseline row — source-only ID-only — in both directions with some world
 * knobs and scores it on the **target validation** split (never the test split), appending
 * each attempt to results/tjaidl/calibration.json. The aim is a validation rank-1 in 15–40 %
 * in both directions; the chosen knobs are then frozen in `CPU_WORLD` (config.ts).
 *
 * Usage: `deno run -A lib/papers/tjaidl/calibrate.ts '<knobs JSON>' [note]`
 *
 * @module
 */
import { resolveConfig } from "../../experiments/config.ts";
import { initBackend } from "../../runtime/backend.ts";
import { repoPath } from "../../runtime/paths.ts";
import { Rng } from "../../runtime/random.ts";
import { LossHistory } from "../../train/history.ts";
import type { TjaidlConfig, WorldKnobs } from "./config.ts";
import { loadTjaidlData } from "./data.ts";
import { runTjaidlCell } from "./run.ts";
import { spec } from "./spec.ts";

/** One logged attempt. */
export interface CalibrationAttempt {
  at: string;
  knobs: WorldKnobs;
  note: string;
  seed: number;
  /** Target validation R1 / mAP of ID-only per direction (the only numbers that decide). */
  val: Record<string, { R1: number; mAP: number }>;
  seconds: number;
}

/** Runs the ID-only baseline of both directions on the world `knobs` (seed 0). */
export async function calibrate(
  knobs: Partial<WorldKnobs>,
  note: string,
): Promise<CalibrationAttempt> {
  const t0 = performance.now();
  const val: CalibrationAttempt["val"] = {};
  let world: WorldKnobs | null = null;
  for (const row of ["AB.idOnly", "BA.idOnly"]) {
    const resolved = await resolveConfig(spec, "cpu", row, {});
    const base = resolved.config as TjaidlConfig;
    const config: TjaidlConfig = {
      ...base,
      data: { ...base.data, root: "data/tjaidl-calib", world: { ...base.data.world, ...knobs } },
    };
    world = config.data.world;
    const data = await loadTjaidlData(config.data, console.error);
    const dir = await Deno.makeTempDir({ prefix: "tjaidl-calib-" });
    try {
      const out = await runTjaidlCell(config, data, new Rng(0), 0, {
        dir,
        lookIn: [],
        history: new LossHistory(),
        log: () => {},
        note: () => {},
        progress: "lines",
      });
      // Only the validation numbers are read.
      val[row] = { R1: out.metrics.val_R1, mAP: out.metrics.val_mAP };
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  return {
    at: new Date().toISOString(),
    knobs: world!,
    note,
    seed: 0,
    val,
    seconds: (performance.now() - t0) / 1000,
  };
}

if (import.meta.main) {
  await initBackend({ announce: false });
  const knobs = JSON.parse(Deno.args[0] ?? "{}");
  const attempt = await calibrate(knobs, Deno.args[1] ?? "");
  const file = repoPath("results", "tjaidl", "calibration.json");
  let log: { attempts: CalibrationAttempt[] } = { attempts: [] };
  try {
    log = JSON.parse(await Deno.readTextFile(file));
  } catch {
    // first attempt
  }
  log.attempts.push(attempt);
  await Deno.writeTextFile(file, JSON.stringify(log, null, 1) + "\n");
  console.log(JSON.stringify(attempt.val));
}
