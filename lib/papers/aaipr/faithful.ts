/**
 * The faithful-mode confirmation of Table 3's orderings (lib/papers/aaipr/README.md, 'Fast and
 * faithful mode'): the Duke-like `woadv`, `a2img`, `img2a` and `both` rows with the conv trunk
 * trained in stage 2 on augmented images, for a few seeds, outside the 5-seed grid (which runs in
 * fast mode). Results go to results/aaipr/faithful.json with the seed-paired differences.
 *
 * ```
 * deno run -A lib/papers/aaipr/faithful.ts 3      # seeds 0, 1, 2
 * ```
 *
 * @module
 */
import { stats } from "../../experiments/claims.ts";
import { deepMerge } from "../../experiments/config.ts";
import { initBackend } from "../../runtime/backend.ts";
import { repoPath } from "../../runtime/paths.ts";
import { Rng } from "../../runtime/random.ts";
import { type AaiprConfig, CPU_BASE, FAITHFUL_ROWS } from "./config.ts";
import { loadAaiprData } from "./data.ts";
import { runAaipr } from "./run.ts";

if (import.meta.main) {
  await initBackend({});
  const seeds = Number(Deno.args[0] ?? 3);
  const out: Record<string, Record<number, Record<string, number>>> = {};
  for (const row of FAITHFUL_ROWS) {
    const config = deepMerge(CPU_BASE, row.delta) as AaiprConfig;
    const data = await loadAaiprData(config.data, console.error);
    out[row.id] = {};
    for (let seed = 0; seed < seeds; seed++) {
      const run = await runAaipr(config, data, seed, new Rng(seed), { progress: "lines" });
      out[row.id][seed] = run.metrics;
      console.error(`${row.id} seed ${seed}: r1 ${run.metrics.r1.toFixed(1)}`);
    }
  }
  const diff = (a: string, b: string) => {
    const values = [...Array(seeds).keys()].map((s) => out[a][s].r1 - out[b][s].r1);
    return { values, ...stats(values) };
  };
  const report = {
    seeds,
    rows: out,
    paired: {
      "a2img − woadv": diff("duke-a2img-faithful", "duke-woadv-faithful"),
      "img2a − woadv": diff("duke-img2a-faithful", "duke-woadv-faithful"),
      "a2img − both": diff("duke-a2img-faithful", "duke-both-faithful"),
    },
  };
  await Deno.writeTextFile(
    repoPath("results", "aaipr", "faithful.json"),
    JSON.stringify(report, null, 1) + "\n",
  );
  console.log(JSON.stringify(report.paired));
}
