/**
 * The difficulty calibration of README 'Synthetic world': the baseline row (a) only, scored
 * on the validation identities only (the test split is never evaluated), each attempt
 * appended to results/paenet/calibration.json with its delta and numbers; the chosen world is
 * then frozen in `config.ts:CPU_WORLD`.
 *
 * ```
 * deno run -A lib/papers/paenet/calibrate.ts --name <attempt> --delta '<json delta over row a>' [--seeds 2]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { canonicalJson, deepMerge, resolveConfig } from "../../experiments/config.ts";
import type { Config } from "../../experiments/spec.ts";
import { initBackend } from "../../runtime/backend.ts";
import { repoPath } from "../../runtime/paths.ts";
import { hashString, Rng } from "../../runtime/random.ts";
import type { PaenetConfig } from "./config.ts";
import { attributeStats, loadPaenetData } from "./data.ts";
import { disposeRun, runPaenet } from "./run.ts";
import { spec } from "./spec.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      name: { type: "string" },
      delta: { type: "string", default: "{}" },
      seeds: { type: "string", default: "2" },
      log: { type: "string", default: "results/paenet/calibration.json" },
    },
  });
  if (!values.name) throw new Error("calibrate: --name is required");
  await initBackend({ announce: true });
  const { config: base } = await resolveConfig(spec, "cpu", "a", { quick: false });
  const delta = JSON.parse(values.delta!) as Config;
  const merged = deepMerge(base as unknown as Config, delta) as unknown as PaenetConfig;
  // Each world its own folder, so attempts never re-render the grid's world under it.
  const worldKey = hashString(canonicalJson(merged.data.world)).toString(16);
  const config = { ...merged, data: { ...merged.data, root: `data/paenet-cal/${worldKey}` } };
  const data = await loadPaenetData(config.data, console.log);
  const seeds = Number(values.seeds);
  const runs: Record<string, number>[] = [];
  const t0 = performance.now();
  for (let seed = 0; seed < seeds; seed++) {
    const run = await runPaenet(config, data, new Rng(seed), {
      validationOnly: true,
      progress: "silent",
      log: console.log,
    });
    disposeRun(run.trained);
    runs.push(run.metrics);
    console.log(
      `seed ${seed}: val all r1 ${run.metrics.val_all_r1.toFixed(1)} mAP ${
        run.metrics.val_all_mAP.toFixed(1)
      }`,
    );
  }
  const mean = (k: string) => runs.reduce((a, m) => a + m[k], 0) / runs.length;
  const attempt = {
    name: values.name,
    at: new Date().toISOString(),
    row: "a",
    split: "validation",
    delta,
    seeds,
    steps: config.train.steps,
    world: config.data.world,
    valStats: attributeStats(data.val!),
    val_all_r1: mean("val_all_r1"),
    val_all_mAP: mean("val_all_mAP"),
    val_indoor_r1: mean("val_indoor_r1"),
    seconds_per_step_under_load: mean("seconds_per_step"),
    wallSeconds: (performance.now() - t0) / 1000,
  };
  const path = repoPath(values.log!);
  let log: { attempts: unknown[] } = { attempts: [] };
  try {
    log = JSON.parse(await Deno.readTextFile(path));
  } catch { /* first attempt */ }
  log.attempts.push(attempt);
  await Deno.mkdir(repoPath("results/paenet"), { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(log, null, 2) + "\n");
  console.log(JSON.stringify(attempt));
}
