/**
 * `deno task cell --paper P --row R --seed S [--scale cpu|paper] [--quick] [--world-seed N]
 * [--force] [--results DIR] [--work DIR] [--backend NAME]`: trains and stores one grid cell,
 * the unit a Slurm array task runs (`reproduce --emit slurm`). Idempotent: a cell stored for
 * the current definition is reused; two processes racing on one cell train it once (the
 * second waits on the cell's lock, then reuses). The last stdout line is a JSON report;
 * exit code 0 when the cell is done or reused, 1 when it failed, 2 on a usage mistake.
 *
 * @module
 */
import { runCellCli } from "../experiments/cell_runner.ts";
import { selectPapers } from "../experiments/papers.ts";
import { PAPERS } from "../papers/registry.ts";

/** `--paper P` (or `--paper=P`) out of `args`, and the rest. */
export function splitPaper(args: readonly string[]): { paper: string | null; rest: string[] } {
  const rest: string[] = [];
  let paper: string | null = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--paper") paper = args[++i] ?? "";
    else if (args[i].startsWith("--paper=")) paper = args[i].slice("--paper=".length);
    else rest.push(args[i]);
  }
  return { paper, rest };
}

if (import.meta.main) {
  const { paper, rest } = splitPaper(Deno.args);
  if (!paper || rest.includes("--spec")) {
    console.error(
      "usage: deno task cell --paper P --row R --seed S [--scale cpu|paper] [--quick]\n" +
        "                      [--world-seed N] [--force] [--results DIR] [--work DIR] [--backend NAME]",
    );
    Deno.exit(2);
  }
  let module: string;
  try {
    module = selectPapers([paper], PAPERS)[0].module;
  } catch (error) {
    console.error(`cell: ${(error as Error).message}`);
    Deno.exit(2);
  }
  Deno.exit(await runCellCli([...rest, "--spec", module]));
}
