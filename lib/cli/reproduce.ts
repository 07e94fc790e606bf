/**
 * `deno task reproduce`: trains every registered paper's grid (or those named), writes the
 * summaries and executes the notebooks; with `--emit slurm`, writes a Slurm job array of the
 * pending cells instead (lib/experiments/slurm.ts); with `--verify`, retrains stored cells into a
 * scratch folder and compares their metrics (lib/experiments/verify.ts). The entry point sits above the papers so that the
 * experiment engine below them need not import them (lib/layers_test.ts).
 *
 * @module
 */
import { relative } from "node:path";
import { parseReproduceArgs, reproduce, USAGE } from "../experiments/reproduce.ts";
import { emitSlurm } from "../experiments/slurm.ts";
import { verifyStored } from "../experiments/verify.ts";
import { EXTRA_NOTEBOOKS, PAPERS } from "../papers/registry.ts";
import { UsageError } from "../runtime/cli.ts";

async function main(): Promise<number> {
  let options;
  try {
    options = parseReproduceArgs(Deno.args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`reproduce: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const { help: _help, emit, partition, maxParallel, verify, tolerance, ...rest } = options;
  if (verify) {
    const { papers, scale, seeds, quick, worldSeed, workers, backend, results } = rest;
    const out = await verifyStored({
      papers,
      scale,
      seeds,
      quick,
      worldSeed,
      workers,
      backend,
      results,
      tolerance,
      registry: PAPERS,
    });
    return out.ok ? 0 : 1;
  }
  if (emit === "slurm") {
    const out = await emitSlurm({ ...rest, registry: PAPERS, partition, maxParallel });
    const rel = (p: string) => (p.startsWith(Deno.cwd() + "/") ? relative(Deno.cwd(), p) : p);
    console.log(
      `wrote ${rel(out.dir)}/: ${out.pending.length} pending cell(s) in ${out.levels.length} ` +
        `array(s) (${out.reused} already stored, skipped)\n` +
        `  ${rel(out.arrayScript)}   one task per cell (deno task cell …)\n` +
        out.levels.map((l) => `  ${rel(l.file)}   ${l.cells.length} cells\n`).join("") +
        `  ${rel(out.finishScript)}  after the array(s): summaries and notebooks\n` +
        `submit from a login node that shares this folder with the compute nodes:\n` +
        `  bash ${rel(out.submitScript)}`,
    );
    return 0;
  }
  const report = await reproduce({ ...rest, registry: PAPERS, extraNotebooks: EXTRA_NOTEBOOKS });
  return report.ok ? 0 : 1;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(`reproduce: ${(error as Error).message}`);
    Deno.exit(2);
  }
}
